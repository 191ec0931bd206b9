"""Checkers for chapter 3, "The built-in schedulers"."""

from __future__ import annotations

import functools
import math
import warnings
from bisect import bisect_right
from typing import Any

import torch
from torch.optim import lr_scheduler as sched

from ._common import (
    guarded,
    as_tuple,
    failed,
    find_variant,
    first_difference,
    names_of,
    not_attempted,
    passed,
    show_lrs,
    trace,
    wrong_form,
)

__all__ = ["check_03_1", "check_03_2", "check_03_3", "check_03_4"]

FORM_03_1 = "a function make(optimizer) returning the scheduler, stepped every batch"
MILESTONES, TOTAL = (32_000, 48_000), 64_000


def _traced_failure(result: Any, expected: str) -> bool:
    if result.error is not None:
        return failed(expected, result.error, "write it as `def make(optimizer): return SomeLR(optimizer, ...)`.")
    return failed(expected, f"{type(result.exception).__name__} at step {result.raised_at}: {result.exception}",
                  "the scheduler must survive one step() per optimizer step of the whole run.")


@guarded
def check_03_1(answer: Any) -> bool:
    """Exercise ch03-resnet. Answer: a function ``make(optimizer) -> scheduler``.

    Built on an optimizer at lr 0.1 and stepped once per batch, the scheduler must give 0.1 up to
    iteration 32 000, 0.01 up to 48 000 and 0.001 to the end of the 64 000 iterations, within 1e-9
    relative at every step. Any scheduler that does so is accepted.
    """
    if not_attempted(answer, FORM_03_1):
        return False
    result = trace(answer, TOTAL)
    expected_text = "0.1, then 0.01 from iteration 32000, 0.001 from 48000"
    if result.error is not None or result.raised_at is not None:
        return _traced_failure(result, expected_text)
    want = [0.1 * 0.1 ** bisect_right(MILESTONES, t) for t in range(TOTAL)]
    got = result.first
    step = first_difference(got, want)
    if step is None:
        return passed("MultiStepLR(optimizer, milestones=[32000, 48000], gamma=0.1), stepped every batch.")
    received = f"lr {got[step]:.4g} at iteration {step} (expected {want[step]:.4g})"
    drops = [t for t in range(1, TOTAL) if got[t] < got[t - 1]]
    if step == 0:
        hint = "the first iteration trains at the base rate 0.1: do not step the scheduler before training."
    elif drops and drops[0] < 1000:
        hint = (
            f"your rate drops at iteration {drops[0]}: milestones counted in epochs, while the scheduler "
            "steps every batch; give them in iterations."
        )
    elif any(t - m in (-1, 1) for t in drops[:2] for m in MILESTONES):
        hint = "a drop is one iteration off: MultiStepLR trains iteration m at the new rate for milestone m."
    elif step in MILESTONES and got[step] < got[step - 1]:
        hint = f"the rate drops at {step}, but to {got[step]:.4g}: gamma=0.1 divides it by 10."
    elif step == MILESTONES[1] and drops and drops[0] == MILESTONES[0]:
        hint = "the second drop is missing: StepLR drops every step_size; two drops need MultiStepLR and two milestones."
    else:
        hint = f"at iteration {step} the rate should be {want[step]:.4g}."
    return failed(expected_text, received, hint)


FORM_03_2 = "a function make(optimizer) returning the fixed OneCycleLR"
ONECYCLE_STEPS = 40  # 5 epochs x ceil(ceil(1000 / 32) / 4) optimizer steps


@guarded
def check_03_2(answer: Any) -> bool:
    """Exercise ch03-onecycle-accum. Answer: a function ``make(optimizer) -> scheduler``.

    Stepped once per optimizer step (5 epochs of 8 steps: 32 micro-batches, 4 per step), it must
    run all 40 steps without an error and give the rates of a full one-cycle schedule with
    ``max_lr=0.1`` over those 40 steps (torch's defaults otherwise), within 1e-9 relative.
    """
    if not_attempted(answer, FORM_03_2):
        return False
    reference = trace(lambda opt: sched.OneCycleLR(opt, max_lr=0.1, total_steps=ONECYCLE_STEPS), ONECYCLE_STEPS)
    result = trace(answer, ONECYCLE_STEPS)
    expected = f"{ONECYCLE_STEPS} steps rising to 0.1 and annealing to {reference.first[-1]:.1e}"
    if result.error is not None:
        return _traced_failure(result, expected)
    total = getattr(result.scheduler, "total_steps", None)
    if result.raised_at is not None:
        hint = f"your schedule runs out after {result.raised_at} steps, but the loop makes {ONECYCLE_STEPS}."
        if total == 35:
            hint += " Flooring 1000 / (32·4) drops the partial window: steps_per_epoch(1000, 32, grad_accum_steps=4) is 8."
        return failed(expected, f"{type(result.exception).__name__} at step {result.raised_at}", hint)
    step = first_difference(result.first, reference.first)
    if step is None:
        return passed(f"The cycle is built for the {ONECYCLE_STEPS} optimizer steps the loop takes, and completes.")
    received = f"rates {show_lrs(result.first[-3:])} at the last steps, peak {max(result.first):.4g}"
    if total == 160:
        hint = (
            "len(loader) counts micro-batches, but the scheduler steps once per optimizer step: with 4 "
            "micro-batches per step the schedule is four times too long and ends mid-warmup."
        )
    elif total is not None and total != ONECYCLE_STEPS:
        hint = f"your OneCycleLR is built for {total} steps; the loop takes {ONECYCLE_STEPS} optimizer steps (8 per epoch)."
    else:
        hint = f"the length is right but the rates differ from step {step}: keep max_lr=0.1 and torch's defaults."
    return failed(expected, received, hint)


CANDIDATES = {
    "steplr": lambda opt: sched.StepLR(opt, step_size=5),
    "exponentiallr": lambda opt: sched.ExponentialLR(opt, 0.9),
    "cosineannealinglr": lambda opt: sched.CosineAnnealingLR(opt, 20),
    "lambdalr": lambda opt: sched.LambdaLR(opt, _power),
    "cosineannealingwarmrestarts": lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=10),
}
NAMES = {
    "steplr": "StepLR",
    "exponentiallr": "ExponentialLR",
    "cosineannealinglr": "CosineAnnealingLR",
    "lambdalr": "LambdaLR",
    "cosineannealingwarmrestarts": "CosineAnnealingWarmRestarts",
}
WHY = {
    "steplr": "after 5 steps last_epoch is a multiple of step_size, so get_lr() applies the decay once more",
    "exponentiallr": "get_lr() multiplies the current rate by gamma again: it reports the next step's rate",
    "cosineannealinglr": "its get_lr() updates the current rate recursively, giving a number that belongs to no step",
    "lambdalr": "it computes the rate from base_lrs and the step, so asking again gives the same number",
    "cosineannealingwarmrestarts": "it computes the rate from base_lrs and the step, so asking again gives the same number",
}


def _power(step: int) -> float:
    return 0.9**step


@functools.lru_cache(maxsize=None)
def _same_after_five() -> frozenset[str]:
    same = set()
    for key, make in CANDIDATES.items():
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = make(optimizer)
        for _ in range(5):
            optimizer.step()
            scheduler.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # get_lr() outside step() warns, which is the point
            internal = scheduler.get_lr()[0]
        if math.isclose(internal, scheduler.get_last_lr()[0]):
            same.add(key)
    return frozenset(same)


FORM_03_3 = 'the names of the schedulers whose get_lr() matches, e.g. {"StepLR"}'


@guarded
def check_03_3(answer: Any) -> bool:
    """Exercise ch03-get-lr. Answer: a collection of scheduler names or classes.

    The schedulers among the five of the exercise whose ``get_lr()``, called outside ``step()``
    after 5 steps, equals ``get_last_lr()``: a list, tuple or set of names (any case) or classes,
    e.g. ``{"StepLR", sched.ExponentialLR}``.
    """
    if not_attempted(answer, FORM_03_3):
        return False
    names = names_of(answer)
    if names is None:
        return wrong_form('a set of names, e.g. {"StepLR", "ExponentialLR"}', answer)
    unknown = names - set(CANDIDATES)
    want = _same_after_five()
    show_set = lambda keys: "{" + ", ".join(NAMES[k] for k in sorted(keys)) + "}"  # noqa: E731
    if unknown:
        return failed(f"names among {', '.join(NAMES.values())}", ", ".join(sorted(unknown)),
                      "spell the class names as in torch.optim.lr_scheduler.")
    if names == want:
        return passed(f"{show_set(want)}: {WHY['lambdalr']}. The chainable ones apply one more update.")
    extra, missing = names - want, want - names
    key = sorted(extra or missing)[0]
    verb = "does not match" if key in extra else "matches"
    return failed(show_set(want), show_set(names) if names else "{}", f"{NAMES[key]} {verb}: {WHY[key]}.")


FORM_03_4 = "a pair (make_sequential, make_chained) of functions of the optimizer"
SHOWN = 20


def _warmup_then(kind: str, decay: str, milestone: int = 5) -> Any:
    def make(opt: torch.optim.Optimizer) -> Any:
        warm = sched.LinearLR(opt, start_factor=0.2, total_iters=5)
        after = sched.ExponentialLR(opt, gamma=0.9) if decay == "exp" else sched.LambdaLR(opt, _power)
        if kind == "sequential":
            return sched.SequentialLR(opt, [warm, after], milestones=[milestone])
        return sched.ChainedScheduler([warm, after])

    return make


@guarded
def check_03_4(answer: Any) -> bool:
    """Exercise ch03-chain-vs-seq. Answer: a pair ``(make_sequential, make_chained)``.

    Each a function ``make(optimizer) -> scheduler``: the warmup ``LinearLR(start_factor=0.2,
    total_iters=5)`` then ``ExponentialLR(gamma=0.9)``, once as ``SequentialLR(...,
    milestones=[5])`` and once as ``ChainedScheduler``. Their first 20 rates must match those two,
    within 1e-9 relative.
    """
    if not_attempted(answer, FORM_03_4):
        return False
    pair = as_tuple(answer, 2)
    if pair is None:
        return wrong_form("a pair (make_sequential, make_chained)", answer)
    want = {kind: trace(_warmup_then(kind, "exp"), SHOWN).first for kind in ("sequential", "chained")}
    variants = {
        "sequential": [
            (trace(_warmup_then("sequential", "exp", 4), SHOWN).first,
             "milestones=[4] starts the decay one step early: the 5 warmup steps are steps 0 to 4."),
            (trace(_warmup_then("sequential", "exp", 6), SHOWN).first,
             "milestones=[6] holds 0.1 one step too long: the decay starts at step 5."),
            (want["chained"], "that is what ChainedScheduler gives; SequentialLR runs one scheduler at a time."),
        ],
        "chained": [
            (trace(_warmup_then("chained", "lambda"), SHOWN).first,
             "with LambdaLR in the chain each step recomputes the rate from the base rate and the warmup "
             "is lost; use ExponentialLR, which multiplies the current rate."),
            (want["sequential"], "that is SequentialLR's schedule; ChainedScheduler applies both factors at every step."),
        ],
    }
    for (kind, rates), make in zip(want.items(), pair):
        result = trace(make, SHOWN)
        label = f"make_{kind}"
        if result.error is not None or result.raised_at is not None:
            return _traced_failure(result, f"{label} giving {show_lrs(rates)}")
        if first_difference(result.first, rates) is None:
            continue
        hint = find_variant(result.first, variants[kind], lambda a, b: first_difference(a, b) is None)
        step = first_difference(result.first, rates)
        return failed(f"{label} giving {show_lrs(rates)}", show_lrs(result.first),
                      hint or f"the rates differ from step {step} on: {result.first[step]:.4g} instead of {rates[step]:.4g}.")
    return passed(
        f"Sequential {show_lrs(want['sequential'])}; chained {show_lrs(want['chained'])}: chained, the decay "
        "eats into the warmup."
    )
