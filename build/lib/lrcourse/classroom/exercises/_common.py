"""What every checker shares: the verdict it prints, and running a student's scheduler safely.

A checker never raises on a student's answer. Whatever the answer does (raises, returns the
wrong type, builds its scheduler on another optimizer) becomes a printed verdict and ``False``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

NOT_ATTEMPTED = "not attempted yet"


def not_attempted(answer: Any, form: str) -> bool:
    """Print the "not attempted yet" verdict if ``answer`` is ``None``; return whether it was."""
    if answer is None:
        # Wrapped to fit the page's code column (about 80 characters).
        print(textwrap.fill(f"{NOT_ATTEMPTED}: replace `answer = None` by your answer ({form}), then run "
                            "this cell again.", width=78))
        return True
    return False


def guarded(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Make a checker print a verdict, never raise, whatever the answer does."""

    @functools.wraps(check)
    def wrapper(answer: Any) -> bool:
        try:
            return bool(check(answer))
        except Exception as error:  # noqa: BLE001 - a strange answer must not crash the cell
            return failed("an answer of the form the exercise describes", _describe(answer),
                          f"checking it raised {type(error).__name__}: {error}; see the form in "
                          f"help({check.__name__}).")

    return wrapper


def passed(message: str) -> bool:
    print(f"Correct. {message}")
    return True


def failed(expected: str, received: str, hint: str) -> bool:
    """Print what was expected, what was received and the likely mistake; return ``False``."""
    print(textwrap.fill(f"Not yet. Expected {expected}; received {received}.", width=78))
    print(textwrap.fill(f"Hint: {hint}", width=78))
    return False


def wrong_form(form: str, answer: Any) -> bool:
    return failed(form, f"{_describe(answer)}", f"give your answer as {form}.")


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (a {type(value).__name__})"


def show(value: Any) -> str:
    """A number as a student would print it: ints as they are, floats to 6 significant digits."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.6g}"


def show_lrs(values: Sequence[float], limit: int = 8) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def as_real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (a NumPy or one-element torch scalar too), else ``None``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if hasattr(value, "item") and not isinstance(value, numbers.Real):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def as_int(value: Any) -> int | None:
    """``value`` as an int if it is a whole number (``245`` or ``245.0``), else ``None``."""
    real = as_real(value)
    if real is None or real != int(real):
        return None
    return int(real)


def as_tuple(answer: Any, size: int) -> tuple[Any, ...] | None:
    """``answer`` as a tuple of ``size`` items if it is a list or tuple of that length, else ``None``."""
    if isinstance(answer, (list, tuple)) and len(answer) == size:
        return tuple(answer)
    return None


def as_numbers(answer: Any, size: int, convert: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """A tuple of ``size`` values each read by ``convert`` (``as_real``, ``as_int``), or ``None``."""
    items = as_tuple(answer, size)
    if items is None:
        return None
    values = tuple(convert(item) for item in items)
    return None if any(value is None for value in values) else values


def as_int_set(answer: Any) -> set[int] | None:
    """A collection of whole numbers (list, tuple, set, range) as a set, else ``None``."""
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        return None
    values = [as_int(v) for v in answer]
    if any(v is None for v in values):
        return None
    return set(values)  # type: ignore[arg-type]


def close(a: float, b: float, rel: float = 1e-9, abs_tol: float = 0.0) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def all_close(a: Sequence[float], b: Sequence[float], rel: float = 1e-9) -> bool:
    return len(a) == len(b) and all(close(x, y, rel, 1e-15) for x, y in zip(a, b))


def first_difference(a: Sequence[float], b: Sequence[float], rel: float = 1e-9) -> int | None:
    """The first index where ``a`` and ``b`` differ (or where one of them ends), ``None`` if equal."""
    for i, (x, y) in enumerate(zip(a, b)):
        if not close(x, y, rel, 1e-15):
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run a small reference computation on one CPU thread (restored afterwards).

    The toy networks are tiny: on a busy machine several threads only get in each other's way.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Trace:
    """The LRs a student's scheduler produced, and what went wrong if it did not run through."""

    lrs: list[list[float]] = field(default_factory=list)  # lrs[group][step]
    error: str | None = None  # the answer could not be used at all
    raised_at: int | None = None  # the step whose scheduler.step() raised
    exception: BaseException | None = None
    scheduler: Any = None

    @property
    def first(self) -> list[float]:
        return self.lrs[0] if self.lrs else []


def trace(
    make: Any,
    steps: int,
    base_lrs: Sequence[float] = (0.1,),
    metrics: Sequence[float] | None = None,
) -> Trace:
    """Run ``make(optimizer)`` on a throw-away SGD optimizer and record the LR of each step.

    Like :func:`lrcourse.preview`, but a scheduler that raises while stepping ends the trace with
    what it produced so far (OneCycleLR's "Tried to step X times" is an answer to explain, not
    a crash), and only the first ``scheduler.step()`` is preceded by ``optimizer.step()``, which
    is all torch checks, so long schedules are quick.
    """
    result = Trace()
    if not callable(make) or isinstance(make, type):
        result.error = f"{_describe(make)} is not a function of the optimizer"
        return result
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in base_lrs]
    optimizer = torch.optim.SGD(groups, lr=base_lrs[0], momentum=0.9)
    try:
        scheduler = make(optimizer)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        result.error = f"calling it with an optimizer raised {type(error).__name__}: {error}"
        result.exception = error
        return result
    result.scheduler = scheduler
    if getattr(scheduler, "optimizer", None) is not optimizer:
        result.error = (
            f"it returned {_describe(scheduler)}, not a scheduler built on the optimizer it was given "
            "(write e.g. `def make(optimizer): return StepLR(optimizer, step_size=10)`)"
        )
        return result
    result.lrs = [[] for _ in base_lrs]
    with warnings.catch_warnings():
        # Older torch's own SequentialLR (2.4 does; 2.12 does not) warns about step(epoch) at
        # every milestone: torch's doing, not the student's, and with warnings as errors it
        # would end the trace.
        warnings.filterwarnings("ignore", message=r"The epoch parameter in `scheduler\.step\(\)`")
        _run(scheduler, optimizer, steps, metrics, result)
    return result


def _run(scheduler: Any, optimizer: torch.optim.Optimizer, steps: int, metrics: Sequence[float] | None,
         result: Trace) -> None:
    for step in range(steps):
        for values, group in zip(result.lrs, optimizer.param_groups):
            values.append(float(group["lr"]))
        if step == 0:
            optimizer.step()
        try:
            if metrics is None:
                scheduler.step()
            else:
                scheduler.step(metrics[step])
        except Exception as error:  # noqa: BLE001
            result.raised_at = step
            result.exception = error
            break


def names_of(answer: Any) -> set[str] | None:
    """A collection of names or classes (``{"StepLR", LambdaLR}``) as a set of lower-case names."""
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        return None
    names = set()
    for item in answer:
        if isinstance(item, str):
            names.add(item.strip().lower())
        elif isinstance(item, type):
            names.add(item.__name__.lower())
        else:
            return None
    return names


def find_variant(answer: Any, variants: Iterable[tuple[Any, str]], same: Callable[[Any, Any], bool]) -> str | None:
    """The hint of the first known wrong answer that ``answer`` equals, if any."""
    for value, hint in variants:
        try:
            if same(answer, value):
                return hint
        except Exception:  # noqa: BLE001 - a comparison with a malformed answer is no match
            continue
    return None
