"""Checkers for chapter 4, "Warmup"."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterable
from typing import Any

from torch.optim.lr_scheduler import LambdaLR

from ...factories import inverse_sqrt, warmup_cosine
from ...schedulers import WarmupLR
from ...steps import epochs_to_steps, steps_per_epoch
from ..toy import train_toy
from ._common import (
    as_int,
    as_real,
    as_tuple,
    close,
    failed,
    first_difference,
    guarded,
    not_attempted,
    one_thread,
    passed,
    show,
    show_both,
    trace,
    wrong_form,
)

__all__ = ["check_04_1", "check_04_2", "check_04_3", "check_04_4", "check_04_5"]

FORM_04_1 = "a function make(optimizer) returning a LambdaLR"
W, GAMMA, STEPS, GROUPS = 8, 0.05, 30, (0.05, 0.5)


@guarded
def check_04_1(answer: Any) -> bool:
    """Exercise ch04-lambda-warmup. Answer: a function ``make(optimizer) -> LambdaLR``.

    The ``LambdaLR`` must give the rates of ``WarmupLR(optimizer, warmup_steps=8, gamma=0.05)``
    for 30 steps on two param groups (0.05 and 0.5), within 1e-12 relative, and its function
    must pickle (a module-level function with ``functools.partial``, not a lambda or a closure).
    """
    if not_attempted(answer, FORM_04_1):
        return False
    result = trace(answer, STEPS, GROUPS)
    want = trace(lambda opt: WarmupLR(opt, W, GAMMA), STEPS, GROUPS).lrs
    expected = "a LambdaLR with the rates of WarmupLR(optimizer, 8, 0.05)"
    if result.error is not None or result.raised_at is not None:
        problem = result.error or f"{type(result.exception).__name__} at step {result.raised_at}: {result.exception}"
        return failed(expected, problem, "write `def make(optimizer): return LambdaLR(optimizer, factor)`.")
    if not isinstance(result.scheduler, LambdaLR):
        return failed(expected, f"a {type(result.scheduler).__name__}",
                      "the exercise is to write WarmupLR's schedule yourself, as LambdaLR(optimizer, factor).")
    for group, (got, rates) in enumerate(zip(result.lrs, want)):
        step = first_difference(got, rates, rel=1e-12)
        if step is None:
            continue
        factor = got[step] / GROUPS[group]
        received = f"group {group} at step {step}: lr {got[step]:.6g} (expected {rates[step]:.6g})"
        if step == 0 and got[0] == 0:
            hint = "your LR at step 0 is 0.0: did you use t/W where the exercise asks for (t+1)/W?"
        elif step == W and close(factor, 1.0):
            hint = "the decay starts one step late: step W is already exp(-gamma), so use exp(-gamma * (t - W + 1))."
        elif step >= W and close(factor, GAMMA ** (step - W + 1)):
            hint = "gamma is a rate in exp(-gamma * n), not a factor per step: gamma ** n falls far too fast."
        elif _constant_ratio(got, rates):
            hint = ("every rate is off by the same factor: the function returns a factor that LambdaLR multiplies "
                    "each group's base rate by, not a rate.")
        elif group == 1 and first_difference(result.lrs[0], want[0], rel=1e-12) is None:
            hint = "the function must return a factor of each group's base rate, not a rate: the second group is off."
        else:
            hint = "while t < W the factor is (t + 1) / W, then exp(-gamma * (t - W + 1))."
        return failed(expected, received, hint)
    try:
        pickle.dumps(result.scheduler.lr_lambdas)
    except Exception as error:  # noqa: BLE001 - lambdas raise PicklingError, closures AttributeError
        return failed("a function that pickles", f"{type(error).__name__}: {error}",
                      "a lambda or nested function cannot be pickled: define the factor at module level and "
                      "bind warmup_steps and gamma with functools.partial.")
    return passed("Identical rates in both groups for 30 steps, and the schedule pickles.")


def _constant_ratio(got: list[float], want: list[float]) -> bool:
    ratios = [g / w for g, w in zip(got, want) if w]
    return bool(ratios) and not close(ratios[0], 1.0) and all(close(r, ratios[0], 1e-9) for r in ratios)


FORM_04_2 = "a triple (warmup_steps, first_lr, last_lr)"


def _goyal() -> tuple[int, float, float]:
    scaled = 0.1 * 1024 / 128
    steps = epochs_to_steps(5, steps_per_epoch(50_000, 1024))
    return steps, 0.1, scaled


@guarded
def check_04_2(answer: Any) -> bool:
    """Exercise ch04-linear-scaling. Answer: a triple ``(warmup_steps, first_lr, last_lr)``.

    The number of optimizer steps of the 5-epoch warmup at batch 1024 (exact), and the learning
    rates of its first and its last step (within 1e-4 relative, so 4 significant digits do).
    """
    if not_attempted(answer, FORM_04_2):
        return False
    triple = as_tuple(answer, 3)
    if triple is None or as_int(triple[0]) is None or None in (as_real(triple[1]), as_real(triple[2])):
        return wrong_form("a triple (warmup_steps, first_lr, last_lr), e.g. (100, 0.1, 0.5)", answer)
    steps, first, last = as_int(triple[0]), as_real(triple[1]), as_real(triple[2])
    want = _goyal()
    expected = f"({want[0]}, {show(want[1])}, {show(want[2])})"
    received = f"({steps}, {show(first)}, {show(last)})"
    if steps != want[0]:
        if steps == 5 * (50_000 // 1024):
            hint = "50 000 / 1024 is 48 full batches and a partial one: the partial batch is a step too (49 per epoch)."
        elif steps == 5 * steps_per_epoch(50_000, 128):
            hint = "that is batch 128; the scaled run takes batches of 1024, so fewer steps per epoch."
        elif steps == 5:
            hint = "count the warmup in optimizer steps, not epochs."
        else:
            hint = "warmup steps = 5 epochs × steps_per_epoch(50_000, 1024)."
        return failed(expected, received, hint)
    if not close(first, want[1], 1e-4):
        if close(first, 0.1 * want[2], 1e-4):
            hint = "start_factor multiplies the scaled rate 0.8: start_factor=0.1/0.8 starts at 0.1."
        else:
            hint = "the ramp starts at the reference rate, 0.1."
        return failed(expected, received, hint)
    if not close(last, want[2], 1e-4):
        short = want[1] + (want[2] - want[1]) * (want[0] - 1) / want[0]
        if close(last, short, 1e-4):
            hint = (
                "with total_iters=warmup_steps the ramp reaches 0.8 one step after the warmup; "
                "total_iters=warmup_steps - 1 makes the last warmup step run at 0.8."
            )
        else:
            hint = "the linear scaling rule: 8 times the batch, 8 times the rate, reached on the last warmup step."
        return failed(expected, received, hint)
    return passed(f"{want[0]} warmup steps (49 per epoch), from 0.1 up to {show(want[2])}.")


BETA2 = (0.9, 0.95, 0.98, 0.99, 0.999, 0.9999)
FORM_04_3 = "the β2 values for which int gives a step fewer, e.g. [0.9]"
FLOAT32_REL = 1e-6  # float32 keeps about 7 significant digits


@guarded
def check_04_3(answer: Any) -> bool:
    """Exercise ch04-untuned. Answer: a collection of β2 values (list, tuple or set of floats).

    The values among 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999 for which ``int(2 / (1 - b2))`` is
    one less than ``round(2 / (1 - b2))``. Values in float32 (a tensor, say) count.
    """
    if not_attempted(answer, FORM_04_3):
        return False
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        return wrong_form("a list of β2 values, e.g. [0.9, 0.99]", answer)
    values = [as_real(v) for v in answer]
    if any(v is None for v in values):
        return wrong_form("a list of β2 values, e.g. [0.9, 0.99]", answer)
    want = [b for b in BETA2 if int(2 / (1 - b)) != round(2 / (1 - b))]
    expected = "[" + ", ".join(f"{b:g}" for b in want) + "]"
    if any(v > 1 for v in values):
        return failed(expected, str(values), "give the β2 values themselves, not the warmup lengths.")
    got = []
    for v in values:
        match = [b for b in BETA2 if close(v, b, FLOAT32_REL)]  # a float32 0.95 is 0.949999988
        if not match:
            return failed(expected, str(values), f"{v!r} is not one of the β2 of the exercise {list(BETA2)}.")
        got.append(match[0])
    if set(got) == set(want):
        return passed(f"{expected}: there 1 - β2 is stored a hair large, the quotient lands just below an integer.")
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    if extra:
        b = extra[0]
        hint = f"2/(1 - {b:g}) = {2 / (1 - b)!r} lands at or above the integer, so int and round agree."
    else:
        b = missing[0]
        hint = f"2/(1 - {b:g}) = {2 / (1 - b)!r} is just below {round(2 / (1 - b))}: int truncates it."
    return failed(expected, "[" + ", ".join(f"{b:g}" for b in sorted(got)) + "]", hint)


LIVE_LRS, SEEDS = (0.02, 0.05, 0.1, 0.15), (0, 1, 2)


@functools.lru_cache(maxsize=None)
def _diverging_seeds(lr: float) -> int:
    """How many of the seeds diverge at ``lr`` without warmup (a diverging run stops early)."""
    total = 20 * steps_per_epoch(600, 120)

    def schedule(opt: Any) -> Any:
        return warmup_cosine(opt, warmup_steps=0, total_steps=total)

    with one_thread():
        return sum(
            train_toy(lr, 20, batch_size=120, optimizer="adam", width=256, depth=4, seed=seed,
                      make_scheduler=schedule).diverged
            for seed in SEEDS
        )


def _largest_safe() -> tuple[float, dict[float, int]]:
    """The largest rate at which no seed diverges, and the counts measured on the way down to it."""
    counts = {}
    for lr in sorted(LIVE_LRS, reverse=True):
        counts[lr] = _diverging_seeds(lr)
        if counts[lr] == 0:
            return lr, counts
    return min(LIVE_LRS), counts


FORM_04_4 = "a float: the largest lr of {0.02, 0.05, 0.1, 0.15} with no seed diverging"


@guarded
def check_04_4(answer: Any) -> bool:
    """Exercise ch04-largest-lr. Answer: a float, one of 0.02, 0.05, 0.1, 0.15.

    The largest of those rates at which none of the seeds 0, 1, 2 of the chapter's live setup
    (Adam, width 256, depth 4, batch 120, 20 epochs, cosine decay) diverges without warmup. The
    runs are computed here (some seconds the first time). Within 1e-6 relative, so a float32 0.05
    (``torch.tensor(0.05)``, its ``.item()``, ``np.float32(0.05)``) counts.
    """
    if not_attempted(answer, FORM_04_4):
        return False
    lr = as_real(answer)
    if lr is None:
        return wrong_form("a float, e.g. 0.1", answer)
    match = [r for r in LIVE_LRS if close(lr, r, FLOAT32_REL)]  # float32's 0.05 is 0.0500000007
    want, counts = _largest_safe()
    if not match:
        return failed(*show_both(want, lr), f"choose among {list(LIVE_LRS)}.")
    counts[match[0]] = _diverging_seeds(match[0])
    table = ", ".join(f"{r}: {counts[r]} of 3" for r in sorted(counts))
    if match[0] == want:
        return passed(f"Seeds that diverge without warmup: {table}. Warmup moves that edge outwards.")
    if counts[match[0]]:
        hint = f"at {match[0]} {counts[match[0]]} of the 3 seeds diverge: a rate counts only if none does ({table})."
    else:
        hint = f"{match[0]} is safe, but so is a larger rate ({table})."
    return failed(show(want), show(match[0]), hint)


FORM_04_5 = "a whole number: the step at which the rate is half its peak"


@guarded
def check_04_5(answer: Any) -> bool:
    """Exercise ch04-noam-half. Answer: a whole number, the step (counted from 0).

    The step of ``inverse_sqrt(optimizer, 100, d_model=64)`` whose rate is half the peak.
    """
    if not_attempted(answer, FORM_04_5):
        return False
    step = as_int(answer)
    if step is None:
        return wrong_form("a whole number, e.g. 250", answer)
    warmup = 100
    lrs = trace(lambda opt: inverse_sqrt(opt, warmup, d_model=64), 4 * warmup + 2, (1.0,)).first
    peak = max(lrs)
    want = next(t for t, lr in enumerate(lrs) if t > lrs.index(peak) and lr <= peak / 2 * (1 + 1e-12))
    if step == want:
        return passed(f"Step {want} = 4W - 1: after the peak the rate is d^-1/2 (t + 1)^-1/2, half at t + 1 = 4W.")
    if step == want + 1:
        hint = "steps are counted from 0 in lrcourse: n = t + 1 = 4W is step 4W - 1."
    elif step in (2 * warmup - 1, 2 * warmup):
        hint = "the rate falls as 1/sqrt(n): halving it takes 4 times the steps, not 2."
    elif step == lrs.index(peak):
        hint = "that is the peak; the question is when the rate has fallen to half of it."
    elif 0 <= step < lrs.index(peak):
        rising = next(t for t, lr in enumerate(lrs) if lr >= peak / 2 * (1 - 1e-12))
        hint = (f"step {step} is in the warmup, before the peak at step W - 1 = {lrs.index(peak)}. During the "
                f"warmup the rate also passes half its peak (at step {rising}, on the way up), but the exercise "
                "asks where the schedule *falls* to half its peak, after the peak.")
    else:
        hint = f"the rate at your step is {lrs[step] / peak:.3f} of the peak." if 0 <= step < len(lrs) else (
            "after the peak at step W - 1 the rate is proportional to (t + 1)^-1/2.")
    return failed(str(want), str(step), hint)
