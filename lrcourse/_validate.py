"""Argument checks shared by every public function.

Each check raises an error that names the parameter, the value it got and what would be
valid, e.g. ``ValueError: lr must be a finite number >= 0 (got lr=nan)``. They return the
value (converted to ``float`` or ``int`` where that is lossless) so callers can write
``lr = check_lr(lr)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch


def _is_real(value: Any) -> bool:
    # bool is an int subclass; True as a learning rate is always a mistake.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_optimizer(optimizer: Any, name: str = "optimizer") -> torch.optim.Optimizer:
    """Return ``optimizer`` if it is a ``torch.optim.Optimizer``, else raise ``TypeError``."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"{name} must be a torch.optim.Optimizer (got {name} of type {type(optimizer).__name__})"
        )
    return optimizer


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number inside the given bounds."""
    lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
    hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
    valid = "a finite number" + (f" {lo}" if lo else "") + (" and" if lo and hi else "") + (f" {hi}" if hi else "")
    if not _is_real(value):
        raise TypeError(f"{name} must be {valid} (got {name}={value!r} of type {type(value).__name__})")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be {valid} (got {name}={value!r})")
    return value


def check_lr(value: Any, name: str = "lr") -> float:
    """A learning rate: a finite number >= 0."""
    return check_real(value, name, low=0.0)


def check_int(value: Any, name: str, *, low: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) and at least ``low``."""
    valid = "an integer" + (f" >= {low}" if low is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {valid} (got {name}={value!r} of type {type(value).__name__})")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be {valid} (got {name}={value})")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a ``bool``; ``0``/``1`` and other truthy objects are refused."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False (got {name}={value!r} of type {type(value).__name__})")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings in ``choices``."""
    valid = "one of " + ", ".join(repr(choice) for choice in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be {valid} (got {name}={value!r} of type {type(value).__name__})")
    if value not in choices:
        raise ValueError(f"{name} must be {valid} (got {name}={value!r})")
    return value


def check_not_greater(small: Any, small_name: str, large: Any, large_name: str) -> None:
    """Raise ``ValueError`` unless ``small <= large``; both are already checked numbers."""
    if small > large:
        raise ValueError(
            f"{small_name} must be <= {large_name} (got {small_name}={small!r}, {large_name}={large!r})"
        )
