"""What every checker shares: the verdict it prints, and running a student's scheduler safely.

A checker never raises on a student's answer. Whatever the answer does (raises, returns the
wrong type, builds its scheduler on another optimizer) becomes a printed verdict and ``False``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import sys
import textwrap
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
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
    print(textwrap.fill(f"Correct. {message}", width=78, break_on_hyphens=False))
    return True


def failed(expected: str, received: str, hint: str) -> bool:
    """Print what was expected, what was received and the likely mistake; return ``False``."""
    # Not broken at hyphens: a file name such as cosine-seed0.json stays whole.
    print(textwrap.fill(f"Not yet. Expected {expected}; received {received}.", width=78, break_on_hyphens=False))
    print(textwrap.fill(f"Hint: {hint}", width=78, break_on_hyphens=False))
    return False


def wrong_form(form: str, answer: Any) -> bool:
    return failed(form, f"{_describe(answer)}", f"give your answer as {form}.")


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = type(value)
    # A NumPy or torch type is named with its module: np.False_ is "a numpy.bool", not "a bool".
    module = kind.__module__.split(".")[0]
    name = kind.__name__ if module == "builtins" else f"{module}.{kind.__name__}"
    return f"{text} ({'an' if name[0] in 'aeiou' else 'a'} {name})"


def show(value: Any) -> str:
    """A number as a student would print it: ints as they are, floats to 6 significant digits."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.6g}"


def show_both(expected: Any, received: Any) -> tuple[str, str]:
    """``expected`` and ``received`` as :func:`show` writes them, in full where they would look alike.

    A float32 0.05 is 0.05000000074505806: "expected 0.05; received 0.05" would be a riddle.
    """
    x, y = as_real(expected), as_real(received)
    a, b = show(expected if x is None else x), show(received if y is None else y)
    if a == b and x is not None and y is not None and x != y:
        a, b = repr(x), repr(y)
    return a, b


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


def is_ndarray(value: Any) -> bool:
    """Whether ``value`` is a NumPy array (NumPy is not imported for it: no NumPy, no arrays)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def as_bool(value: Any) -> bool | None:
    """``value`` as a bool if it is one: ``True``, ``np.True_``, a one-element bool tensor or array.

    Numbers (0, 1) and strings ("no") are not bools: ``None``.
    """
    if isinstance(value, bool):
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.bool_):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool and value.numel() == 1:
        return bool(value.item())
    if is_ndarray(value) and value.dtype == bool and value.size == 1:
        return bool(value.item())
    return None


def as_tuple(answer: Any, size: int) -> tuple[Any, ...] | None:
    """``answer`` as a tuple of ``size`` items, else ``None``.

    A list, a tuple, a 1-D NumPy array or a 1-D tensor of that length: its items are then NumPy
    scalars or 0-d tensors, which :func:`as_real` and :func:`as_int` read.
    """
    if isinstance(answer, (list, tuple)) and len(answer) == size:
        return tuple(answer)
    if (isinstance(answer, torch.Tensor) or is_ndarray(answer)) and answer.ndim == 1 and len(answer) == size:
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
    """A collection of whole numbers (list, tuple, set, range, 1-D array or tensor) as a set, else ``None``."""
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        return None
    if (isinstance(answer, torch.Tensor) or is_ndarray(answer)) and answer.ndim != 1:
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


def _namespaces(answer: Any) -> list[dict[str, Any]]:
    """The module globals the answer's code reads names from (its own, a partial's or a method's)."""
    items = (answer, getattr(answer, "func", None), getattr(answer, "__func__", None))
    found = {id(g): g for g in (getattr(item, "__globals__", None) for item in items) if isinstance(g, dict)}
    return list(found.values())


@contextlib.contextmanager
def wrapping_calls(answer: Any, module: ModuleType, names: Iterable[str],
                   wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """Replace ``module``'s functions ``names`` by ``wrap(name, function)`` while the block runs.

    However the answer calls them: ``module.name`` itself is patched, and so is every name in the
    answer's module globals bound to the same function (``from os import fsync as sync``). All are
    restored afterwards, whatever the block raises.
    """
    real = {name: getattr(module, name) for name in names if hasattr(module, name)}
    wrappers = {name: wrap(name, function) for name, function in real.items()}
    patched = [(namespace, key, value) for namespace in _namespaces(answer) for key, value in namespace.items()
               if any(value is function for function in real.values())]
    try:
        for namespace, key, value in patched:
            namespace[key] = next(wrappers[name] for name, function in real.items() if value is function)
        for name, wrapper in wrappers.items():
            setattr(module, name, wrapper)
        yield
    finally:
        for name, function in real.items():
            setattr(module, name, function)
        for namespace, key, value in patched:
            namespace[key] = value


@contextlib.contextmanager
def counting_calls(answer: Any, module: ModuleType, kinds: Mapping[str, str]) -> Iterator[Counter[str]]:
    """Count the calls of ``module``'s functions named in ``kinds`` (name -> what it counts as),
    however the answer calls them (:func:`wrapping_calls`)."""
    calls: Counter[str] = Counter()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[kinds[name]] += 1
            return function(*args, **kwargs)

        return wrapper

    with wrapping_calls(answer, module, kinds, counting):
        yield calls


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
