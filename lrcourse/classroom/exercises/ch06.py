"""Checkers for chapter 6, "Pitfalls"."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim.lr_scheduler import OneCycleLR

from ...resume import resumed_lrs
from ...preview import preview
from ...factories import warmup_cosine
from ...steps import steps_per_epoch
from ._common import (
    as_numbers,
    as_int,
    as_int_set,
    as_real,
    failed,
    first_difference,
    guarded,
    not_attempted,
    passed,
    show_lrs,
    trace,
    wrong_form,
)

__all__ = ["check_06_1", "check_06_2", "check_06_3", "check_06_4"]

BATCHES, EPOCHS, ACCUM = 20, 3, 2
OPTIMIZER_STEPS = EPOCHS * steps_per_epoch(BATCHES, 1, grad_accum_steps=ACCUM)
FORM_06_1 = "the list of rates your fixed loop trained at, one per optimizer step"
REL = 1e-6  # the rates may come back as a float32 tensor


def _one_cycle(total: int, steps: int) -> list[float]:
    return trace(lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=total), steps).first


@guarded
def check_06_1(answer: Any) -> bool:
    """Exercise ch06-fix-loop. Answer: a list of floats (or a function returning it).

    The learning rate of each ``optimizer.step()`` of the fixed loop, in order (``used`` in the
    solution): 30 rates, those of ``OneCycleLR(max_lr=1.0)`` over 30 optimizer steps, within
    1e-6 relative (rates kept in a float32 tensor count), ending near zero.
    """
    if not_attempted(answer, FORM_06_1):
        return False
    if callable(answer):
        answer = answer()
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        return wrong_form("a list of rates, one per optimizer step", answer)
    got = [as_real(v) for v in answer]
    if any(v is None for v in got):
        return wrong_form("a list of rates (floats), one per optimizer step", answer)
    want = _one_cycle(OPTIMIZER_STEPS, OPTIMIZER_STEPS)
    expected = f"{OPTIMIZER_STEPS} rates {show_lrs(want, 3)} peaking at 1.0 and ending at {want[-1]:.1e}"
    received = f"{len(got)} rates {show_lrs(got, 3)}, last {got[-1]:.1e}" if got else "an empty list"
    if len(got) == EPOCHS * BATCHES:
        return failed(expected, received, "record the rate at each optimizer.step(), not at every micro-batch.")
    if len(got) != OPTIMIZER_STEPS:
        return failed(expected, received, f"the loop makes {OPTIMIZER_STEPS} optimizer steps (one every {ACCUM} batches).")
    if first_difference(got, want, REL) is None:
        return passed(f"{OPTIMIZER_STEPS} optimizer steps, peak 1.0, last rate {want[-1]:.1e}: the cycle completes.")
    long = _one_cycle(EPOCHS * BATCHES, EPOCHS * BATCHES)
    if first_difference(got, long[:OPTIMIZER_STEPS], REL) is None:
        hint = (f"total_steps counts batches ({EPOCHS * BATCHES}), but the scheduler should step with the optimizer, "
                f"{OPTIMIZER_STEPS} times: the cycle stops half-way.")
    elif first_difference(got, long[ACCUM - 1::ACCUM], REL) is None:
        hint = "the scheduler still steps on every micro-batch: step it right after each optimizer.step()."
    elif first_difference(got[:-1], want[1:], REL) is None:
        hint = ("your rates are shifted by one step, each the rate of the *next* optimizer step: record the "
                "rate just before optimizer.step() (the rate that step trains at), and step the scheduler after it.")
    elif first_difference(got[1:], want[:-1], REL) is None:
        hint = ("your rates are shifted by one step, each the rate of the *previous* optimizer step: record "
                "the rate of each optimizer step just before its optimizer.step() (the rate it trains at).")
    elif len({round(v, 12) for v in got}) <= EPOCHS:
        hint = "scheduler.step(epoch) pins the schedule to the epoch number: call scheduler.step() without an argument."
    else:
        step = first_difference(got, want, REL)
        hint = f"from optimizer step {step} your rates differ: build OneCycleLR with total_steps={OPTIMIZER_STEPS}."
    return failed(expected, received, hint)


CUTS = (0, 1, 9, 10, 11, 25, 49)
FORM_06_2 = "the cut points at which the wrong order changes the rates, e.g. [0, 1]"


@functools.lru_cache(maxsize=None)
def _broken_cuts() -> frozenset[int]:
    def make(opt: torch.optim.Optimizer) -> Any:
        return warmup_cosine(opt, warmup_steps=10, total_steps=50)

    right = preview(make, 50, [0.05, 0.5])
    return frozenset(cut for cut in CUTS if resumed_lrs(make, 50, cut, [0.05, 0.5], order="optimizer_first") != right)


@guarded
def check_06_2(answer: Any) -> bool:
    """Exercise ch06-cut-points. Answer: a collection of whole numbers.

    The cut points among 0, 1, 9, 10, 11, 25, 49 at which loading the optimizer state before
    building the scheduler changes the learning rates of ``warmup_cosine(opt, 10, 50)``.
    """
    if not_attempted(answer, FORM_06_2):
        return False
    got = as_int_set(answer)
    if got is None:
        return wrong_form("a list of cut points, e.g. [0, 25]", answer)
    want = _broken_cuts()
    show = lambda cuts: str(sorted(cuts))  # noqa: E731
    if got == want:
        return passed(f"{show(want)}: every cut but 0, where the rebuilt scheduler happens to write the right rate.")
    if got - set(CUTS):
        return failed(show(want), show(got), f"the exercise's cut points are {list(CUTS)}.")
    if got == set(CUTS) - want:
        hint = "those are the cuts where the wrong order stays exact; the question asks where it breaks."
    elif 0 in got - want:
        hint = "at cut 0 the rebuilt scheduler writes the rate of step 0, which is the right one: nothing changes."
    else:
        missed = sorted(want - got)
        hint = (f"the wrong order also breaks cut {missed[0]}: the first step after any resume uses the rate the "
                "rebuilt scheduler wrote, the rate of step 0.")
    return failed(show(want), show(got), hint)


FORM_06_3 = "a pair (total_steps, step() calls per micro-batch) of whole numbers"


@guarded
def check_06_3(answer: Any) -> bool:
    """Exercise ch06-accum-total. Answer: a pair ``(total_steps, micro_batch_calls)`` of whole numbers.

    The ``total_steps`` that ``OneCycleLR`` needs for 30 epochs of 50 000 images in micro-batches
    of 64 with 8 accumulated per optimizer step (the partial window stepped too), and the number
    of ``scheduler.step()`` calls a loop makes that steps on every micro-batch. Exact.
    """
    if not_attempted(answer, FORM_06_3):
        return False
    pair = as_numbers(answer, 2, as_int)
    if pair is None:
        return wrong_form("a pair of whole numbers (total_steps, calls), e.g. (1000, 8000)", answer)
    total, calls = pair
    want = (30 * steps_per_epoch(50_000, 64, grad_accum_steps=8), 30 * steps_per_epoch(50_000, 64))
    expected, received = f"({want[0]}, {want[1]})", f"({total}, {calls})"
    if (total, calls) == want:
        return passed(f"{want[0] // 30} optimizer steps per epoch, {want[1] // 30} micro-batches.")
    if (calls, total) == want:
        hint = "the two are swapped: total_steps (optimizer steps) is the smaller number."
    elif total == 30 * (steps_per_epoch(50_000, 64) // 8):
        hint = "the last partial window of each epoch is stepped too: 782 micro-batches make 98 optimizer steps."
    elif total in (30 * steps_per_epoch(50_000, 64) // 8, round(30 * 50_000 / 64 / 8)):
        hint = "accumulation windows do not run across epochs: count per epoch (ceil(782 / 8) = 98), then times 30."
    elif total != want[0]:
        hint = "total_steps counts optimizer steps: steps_per_epoch(50_000, 64, grad_accum_steps=8) per epoch, times 30."
    elif calls == 30 * (50_000 // 64):
        hint = "50 000 / 64 is 781 full micro-batches and a partial one: 782 per epoch."
    else:
        hint = "a loop stepping on every micro-batch calls step() once per micro-batch: 782 per epoch."
    return failed(expected, received, hint)


FORM_06_4 = "a function warm_up(optimizer, steps) applying the first steps of the warmup"
WARMUP = 5


def _optimizer(lrs: tuple[float, ...]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


@guarded
def check_06_4(answer: Any) -> bool:
    """Exercise ch06-manual-warmup. Answer: a function ``warm_up(optimizer, steps)``.

    Like the loop of section 9 (``for step in range(steps)``) over a warmup of 5 steps: step
    ``s`` sets every group to its own starting rate times ``(s + 1) / 5``, so after
    ``warm_up(optimizer, n)`` each group runs at ``n / 5`` of its starting rate. Checked for
    n = 1 .. 5 on optimizers with groups (0.01, 0.1) and (0.02, 0.3, 0.5), within 1e-9.
    """
    if not_attempted(answer, FORM_06_4):
        return False
    if not callable(answer):
        return wrong_form("a function warm_up(optimizer, steps)", answer)
    for targets in ((0.01, 0.1), (0.02, 0.3, 0.5)):
        for n in range(1, WARMUP + 1):
            optimizer = _optimizer(targets)
            try:
                answer(optimizer, n)
            except Exception as error:  # noqa: BLE001
                return failed(f"warm_up(optimizer, {n}) to run", f"{type(error).__name__}: {error}",
                              "it takes the optimizer and the number of steps to run, like range(steps).")
            got = [float(group["lr"]) for group in optimizer.param_groups]
            want = [t * n / WARMUP for t in targets]
            if first_difference(got, want) is None:
                continue
            expected = f"rates {show_lrs(want)} after {n} of {WARMUP} steps from {list(targets)}"
            if first_difference(got, [t * (n - 1) / WARMUP for t in targets]) is None:
                hint = "your LR at step 0 is 0.0: did you use step/5 where the warmup asks for (step+1)/5?"
            elif len({round(v, 12) for v in got}) == 1:
                hint = "every group gets the same rate: record each group's own starting rate and scale that."
            elif all(g < w for g, w in zip(got, want)) and n > 1:
                hint = ("you scale the current rate, which the previous step already changed: record the targets "
                        "before the first change (what initial_lr is for).")
            else:
                hint = "step s sets each group to target × (s + 1) / 5, with target its rate before the warmup."
            return failed(expected, show_lrs(got), hint)
    return passed("Each group warms up to its own rate; the ratio between groups holds at every step.")
