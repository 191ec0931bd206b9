"""Checkers for chapter 5, "ReduceLROnPlateau"."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from ..toy import train_toy
from ._common import (
    as_int,
    as_int_set,
    failed,
    first_difference,
    guarded,
    not_attempted,
    one_thread,
    passed,
    trace,
    wrong_form,
)

__all__ = ["check_05_1", "check_05_2", "check_05_4"]

LOSSES = (0.9, 0.8, 0.85, 0.8, 0.79, 0.82, 0.81, 0.8, 0.8, 0.78, 0.79, 0.8)
SETTINGS = {"patience": 2, "cooldown": 1, "threshold": 0.01}


def _cuts(metrics: Sequence[float], **kwargs: Any) -> list[int]:
    """The epochs after which ``ReduceLROnPlateau(**kwargs)`` cuts the rate, counted from 0."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = ReduceLROnPlateau(optimizer, **kwargs)
    cuts = []
    for epoch, metric in enumerate(metrics):
        before = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step(metric)
        if optimizer.param_groups[0]["lr"] < before:
            cuts.append(epoch)
    return cuts


FORM_05_1 = "a list of the epochs (from 0) after which the rate is cut"


@guarded
def check_05_1(answer: Any) -> bool:
    """Exercise ch05-predict. Answer: a list of whole numbers.

    The epochs, counted from 0 as in the chapter's tables, after which ``ReduceLROnPlateau(
    patience=2, cooldown=1, threshold=0.01)`` cuts the rate for the exercise's 12 losses; ``[]``
    if it never does. Exact.
    """
    if not_attempted(answer, FORM_05_1):
        return False
    got = as_int_set(answer)
    if got is None:
        return wrong_form("a list of epochs, e.g. [3, 9]", answer)
    want = _cuts(LOSSES, **SETTINGS)
    show = lambda cuts: str(sorted(cuts))  # noqa: E731
    if got == set(want):
        return passed(f"Cut after epoch(s) {show(want)}; the cooldown and the threshold prevent a second cut.")
    variants = [
        ({e + 1 for e in want}, "you counted epochs from 1, or gave the first epoch at the lower rate; "
                                "'after epoch e' counts from 0, as in the chapter's tables."),
        (set(_cuts(LOSSES, patience=3, cooldown=1, threshold=0.01)), "patience=2 means a cut on the third bad epoch "
                                                                      "in a row, not the fourth."),
        (set(_cuts(LOSSES, patience=1, cooldown=1, threshold=0.01)), "patience=2 tolerates 2 bad epochs: the cut "
                                                                      "comes on the third."),
        (set(_cuts(LOSSES, patience=2, cooldown=1, threshold=0.01, threshold_mode="abs")),
         "the threshold is relative (threshold_mode='rel' by default): better means below best × 0.99, "
         "not below best - 0.01."),
        (set(_cuts(LOSSES, mode="max", patience=2, cooldown=1, threshold=0.01)),
         "these are losses: lower is better (mode='min')."),
    ]
    hints = [h for cuts, h in variants if cuts == got and cuts != set(want)]
    hint = " Or: ".join(hints) or (
        "walk the epochs: an improvement must be below best × 0.99; count bad epochs, cut on the third, "
        "then skip one epoch of cooldown."
    )
    return failed(show(want), show(got), hint)


FORM_05_2 = "a function make(optimizer) returning the ReduceLROnPlateau"
ACCURACY = (60.0, 65.0, 68.0, 69.0, 69.1, 69.15, 69.2, 69.3, 69.3)
REFERENCE_05_2 = {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.2, "threshold_mode": "abs"}


def _probes() -> list[list[float]]:
    rng = random.Random(0)
    probes = [list(ACCURACY), [70.0, 70.1, 70.15, 70.19, 70.45, 70.5, 70.55, 70.6, 70.9, 70.9, 70.95, 71.0]]
    for _ in range(12):
        walk = [70.0]
        for _ in range(29):
            walk.append(round(walk[-1] + rng.choice([-0.3, -0.1, 0.0, 0.05, 0.1, 0.15, 0.25, 0.5]), 4))
        probes.append(walk)
    return probes


@guarded
def check_05_2(answer: Any) -> bool:
    """Exercise ch05-accuracy. Answer: a function ``make(optimizer) -> scheduler``.

    Stepped with an accuracy in percent after every epoch, the scheduler must halve the rate
    after 3 epochs in a row that gain no more than 0.2 points over the best, exactly as
    ``ReduceLROnPlateau(mode="max", factor=0.5, patience=2, threshold=0.2, threshold_mode="abs")``
    does, on the exercise's sequence and on a set of other accuracy curves.
    """
    if not_attempted(answer, FORM_05_2):
        return False
    expected = "the rates of ReduceLROnPlateau(mode='max', factor=0.5, patience=2, threshold=0.2, threshold_mode='abs')"
    for probe in _probes():
        want = trace(lambda opt: ReduceLROnPlateau(opt, **REFERENCE_05_2), len(probe), metrics=probe).first
        result = trace(answer, len(probe), metrics=probe)
        if result.error is not None or result.raised_at is not None:
            problem = result.error or f"{type(result.exception).__name__}: {result.exception}"
            return failed(expected, problem, "write `def make(optimizer): return ReduceLROnPlateau(optimizer, ...)`.")
        step = first_difference(result.first, want)
        if step is None:
            continue
        seen = ", ".join(f"{v:g}" for v in probe[max(0, step - 4) : step + 1])
        received = f"lr {result.first[step]:.4g} at epoch {step} (expected {want[step]:.4g}), after accuracies ...{seen}"
        return failed(expected, received, _plateau_hint(result.scheduler))
    return passed("mode='max', threshold 0.2 in points (threshold_mode='abs'), factor 0.5, patience 2.")


def _plateau_hint(scheduler: Any) -> str:
    if not isinstance(scheduler, ReduceLROnPlateau):
        return "build torch's ReduceLROnPlateau with the settings the exercise describes."
    if scheduler.mode != "max":
        return "higher accuracy is better: mode='max'."
    if scheduler.threshold_mode != "abs":
        return ("threshold_mode='rel' reads the threshold as a fraction of the best (0.2 = 20 %); "
                "a gain in percentage points is absolute: threshold_mode='abs'.")
    if abs(scheduler.threshold - 0.2) > 1e-12:
        return f"threshold={scheduler.threshold:g}: with threshold_mode='abs' it is in the metric's units, 0.2 points."
    if abs(scheduler.factor - 0.5) > 1e-12:
        return f"factor={scheduler.factor:g}: halving the rate is factor=0.5."
    if scheduler.patience == 3:
        return "patience counts the bad epochs tolerated; the cut comes on the next one: 3 bad epochs is patience=2."
    if scheduler.patience != 2:
        return f"patience={scheduler.patience}: a cut after 3 bad epochs in a row is patience=2."
    return "keep torch's other defaults (cooldown=0, min_lr=0, eps=1e-8)."


PATIENCES = (1, 3, 8)


@functools.lru_cache(maxsize=None)
def _live_cuts() -> dict[int, list[int]]:
    cuts = {}
    with one_thread():
        for patience in PATIENCES:
            def make(opt: Any, patience: int = patience) -> Any:
                return ReduceLROnPlateau(opt, factor=0.1, patience=patience, min_lr=1e-3)

            run = train_toy(1.0, 60, make_scheduler=make, scheduler_interval="metric", batch_size=32, noise=0.5)
            lrs = run.epoch_lr
            cuts[patience] = [e - 1 for e in range(1, 60) if lrs[e] < lrs[e - 1]]
    return cuts


FORM_05_4 = "a dict {patience: list of epochs cut after}, for patience 1, 3, 8"


@guarded
def check_05_4(answer: Any) -> bool:
    """Exercise ch05-live-patience. Answer: a dict ``{patience: [epochs]}`` for patience 1, 3 and 8.

    For each patience, the epochs (from 0) after which the rate of the chapter's live run (60
    epochs, ``factor=0.1``, ``min_lr=1e-3``) is cut, as the chapter computes them from
    ``run.epoch_lr``. The runs are computed here (some seconds the first time).
    """
    if not_attempted(answer, FORM_05_4):
        return False
    if not isinstance(answer, Mapping):
        return wrong_form("a dict such as {1: [4, 9], 3: [12], 8: []}", answer)
    got: dict[int, set[int]] = {}
    for key, value in answer.items():
        patience, cuts = as_int(key), as_int_set(value)
        if patience is None or cuts is None:
            return wrong_form("a dict such as {1: [4, 9], 3: [12], 8: []}", answer)
        got[patience] = cuts
    if set(got) != set(PATIENCES):
        return failed("keys 1, 3 and 8", str(sorted(got)), "give one entry per patience of the exercise: 1, 3 and 8.")
    want = _live_cuts()
    for patience in PATIENCES:
        if got[patience] == set(want[patience]):
            continue
        received = f"patience={patience}: {sorted(got[patience])}"
        other = next((p for p in PATIENCES if p != patience and got[patience] == set(want[p])), None)
        if other is not None:
            hint = (f"the patience keys are swapped: under key {patience} you gave the cuts of patience={other}. "
                    f"Key each list by the patience of its run: {{1: ..., 3: ..., 8: ...}}.")
        elif got[patience] == {e + 1 for e in want[patience]}:
            hint = ("those are the first epochs at the lower rate; the cut happens after the epoch before: "
                    "e - 1 where run.epoch_lr[e] < run.epoch_lr[e - 1].")
        else:
            hint = "read the cuts from run.epoch_lr of a 60-epoch run: e - 1 wherever epoch_lr[e] < epoch_lr[e - 1]."
        return failed(f"patience={patience}: {want[patience]}", received, hint)
    return passed("; ".join(f"patience {p}: cuts after {want[p]}" for p in PATIENCES) + ".")
