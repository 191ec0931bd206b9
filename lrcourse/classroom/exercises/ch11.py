"""Checkers for chapter 11, "A peer's experiment, re-run: d2l's schedules on Fashion-MNIST"."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._common import failed, guarded, not_attempted, passed, wrong_form

__all__ = ["check_11_1"]

FORM_11_1 = "a function trained_at(schedule, built_with, epochs) -> list of rates"


def _stairs(epoch: int) -> float:
    """A made-up schedule whose every value differs, so each mistake shows as its own pattern."""
    return 0.5 / (epoch + 2)


# (schedule, built_with, epochs): two made-up schedules and d2l's warmup.
def _warmup(epoch: int) -> float:
    if epoch < 5:
        return 0.3 * epoch / 5
    t = min(epoch, 20)
    return 0.01 + 0.29 * (1 + math.cos(math.pi * (t - 5) / 15)) / 2


_CASES: tuple[tuple[Callable[[int], float], float, int], ...] = ((_stairs, 0.9, 6), (_warmup, 0.3, 30), (_stairs, 0.2, 1))


def _want(schedule: Callable[[int], float], built_with: float, epochs: int) -> list[float]:
    return [built_with] + [schedule(e) for e in range(epochs - 1)]


def _same(got: Any, want: list[float]) -> bool:
    return len(got) == len(want) and all(math.isclose(float(g), w, rel_tol=1e-12, abs_tol=1e-15) for g, w in zip(got, want))


@guarded
def check_11_1(answer: Any) -> bool:
    """Exercise ch11-late. Answer: a function ``trained_at(schedule, built_with, epochs) -> list``.

    Checked on a made-up schedule and on d2l's warmup: the list must hold, for each of the
    ``epochs`` epochs, the rate d2l's loop trains it at: ``built_with`` in epoch 0, then
    ``schedule(e - 1)``.
    """
    if not_attempted(answer, FORM_11_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_11_1, answer)
    for schedule, built_with, epochs in _CASES:
        got = answer(schedule, built_with, epochs)
        want = _want(schedule, built_with, epochs)
        try:
            got = [float(v) for v in got]
        except (TypeError, ValueError):
            return wrong_form(FORM_11_1, got)
        if _same(got, want):
            continue
        meant = [schedule(e) for e in range(epochs)]
        received = f"{[round(v, 4) for v in got[:6]]}{' ...' if len(got) > 6 else ''} for {epochs} epoch(s)"
        expected = f"{[round(v, 4) for v in want[:6]]}{' ...' if len(want) > 6 else ''}"
        if len(got) != epochs:
            hint = f"one rate per epoch: {epochs} of them, the first for epoch 0."
        elif _same(got, meant):
            hint = ("those are the rates the schedule means; d2l's loop sets schedule(epoch) after the epoch, so "
                    "epoch e trains at schedule(e - 1).")
        elif _same(got[1:], want[1:]):
            hint = "epoch 0 trains at the rate the optimizer was built with, built_with, before any rate is set."
        elif _same(got, [built_with] + [schedule(e) for e in range(1, epochs)]):
            hint = "epoch 1 trains at schedule(0), the rate set after epoch 0: the lag is one epoch for every epoch."
        else:
            hint = "append the rate in force, then set the next one: rate = schedule(epoch) after each epoch."
        return failed(expected, received, hint)
    return passed("Epoch 0 at the optimizer's rate, then every schedule value one epoch late.")
