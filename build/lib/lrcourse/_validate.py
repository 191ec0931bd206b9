"""Argument checks shared by every public function.

Each check raises an error that names the parameter, the value it got and what would be
valid, e.g. ``ValueError: lr must be a finite number >= 0 (got lr=nan)``. They return the
value (converted to ``float`` or ``int`` where that is lossless) so callers can write
``lr = check_lr(lr)``.
"""

from __future__ import annotations

import decimal
import math
import numbers
from typing import Any

import torch

#: The largest step count (``total_steps``, ``last_epoch``...) accepted. Schedules are computed in
#: float64, which holds every integer up to 2**53 exactly; far above it (``10**400``) an integer
#: does not convert to a float at all, and a schedule would fail half-way through building.
MAX_STEPS = 2**53


def _show_number(value: Any) -> str:
    # An integer of a few hundred digits is shown as 1.000e+400: its repr would fill the screen,
    # and from 4300 digits on Python refuses to convert it to a string at all.
    if isinstance(value, numbers.Rational) and abs(value) > 10**20:  # ints, Fractions
        return format(decimal.Decimal(int(value.numerator)) / int(value.denominator), ".3e")
    return repr(value)


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
    try:
        value = float(value)
    except OverflowError:  # an int or Fraction beyond float64's range is no finite float
        raise ValueError(f"{name} must be {valid} (got {name}={_show_number(value)})") from None
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be {valid} (got {name}={value!r})")
    return value


def check_lr(value: Any, name: str = "lr") -> float:
    """A learning rate: a finite number >= 0."""
    return check_real(value, name, low=0.0)


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a bool), at least ``low`` and at most ``high``.

    The upper bound is named in the message only when it is exceeded, so the usual messages stay
    short: ``total_steps must be an integer >= 1 (got total_steps=0)``.
    """
    valid = "an integer" + (f" >= {low}" if low is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {valid} (got {name}={value!r} of type {type(value).__name__})")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be {valid} (got {name}={_show_number(value)})")
    if high is not None and value > high:
        bound = {MAX_STEPS: "2**53", MAX_STEPS - 1: "2**53 - 1"}.get(high, str(high))
        valid += (" and" if low is not None else "") + f" <= {bound}"
        raise ValueError(f"{name} must be {valid} (got {name}={_show_number(value)})")
    return value


def check_steps(value: Any, name: str, *, low: int = 0) -> int:
    """A count of optimizer steps: an integer from ``low`` to :data:`MAX_STEPS`."""
    return check_int(value, name, low=low, high=MAX_STEPS)


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


def check_scheduler_groups(scheduler: Any, name: str = "scheduler") -> None:
    """Raise ``RuntimeError`` if the optimizer has gained param groups since ``scheduler`` was built.

    A scheduler records one base LR per group when it is built. A group added later with
    ``optimizer.add_param_group()`` has none: schedulers that compute from ``base_lrs`` (the
    closed forms, ``LambdaLR``, ``OneCycleLR``...) then fail with ``zip() argument 2 is shorter``
    (torch >= 2.5) or silently leave the new group at its LR (torch 2.4). Schedulers without
    ``base_lrs`` (``ReduceLROnPlateau``) handle new groups themselves and are not checked.
    """
    base_lrs = getattr(scheduler, "base_lrs", None)
    optimizer = getattr(scheduler, "optimizer", None)
    if base_lrs is None or optimizer is None or len(base_lrs) == len(optimizer.param_groups):
        return
    raise RuntimeError(
        f"the optimizer has {len(optimizer.param_groups)} param groups but {name} "
        f"({type(scheduler).__name__}) was built for {len(base_lrs)}: a group added with "
        "optimizer.add_param_group() after the scheduler was built has no base LR and would not be "
        "scheduled. Add every param group before building the scheduler, or build a new scheduler "
        "after adding the group"
    )
