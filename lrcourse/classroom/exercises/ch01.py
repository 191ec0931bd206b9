"""Checkers for chapter 1, "What the learning rate does"."""

from __future__ import annotations

import functools
import math
from typing import Any

from ..toy import Quadratic, gradient_descent, train_toy
from ._common import (
    as_numbers,
    as_int,
    as_real,
    as_tuple,
    close,
    failed,
    guarded,
    not_attempted,
    one_thread,
    passed,
    show,
    wrong_form,
)

__all__ = ["check_01_1", "check_01_2", "check_01_3", "check_01_4"]

VALLEY = Quadratic(eigenvalues=(1.0, 10.0), angle=30.0)
GRID = (0.5, 1, 2, 4, 8, 16)


@functools.lru_cache(maxsize=None)
def _limit_reference() -> tuple[float, float, float]:
    problem = Quadratic(eigenvalues=(0.5, 4.0))
    limit = problem.stability_limit
    ends = [gradient_descent(problem, (1.0, 1.0), f * limit, 200)[-1] for f in (0.99, 1.01)]
    values = [problem.value(x).item() for x in ends]
    distances = [x.norm().item() for x in ends]
    return limit, math.log10(values[1] / values[0]), math.log10(distances[1] / distances[0])


FORM_01_1 = "a pair (limit, orders): the stability limit, and how many orders of magnitude apart the two runs' final f are"


@guarded
def check_01_1(answer: Any) -> bool:
    """Exercise ch01-limit. Answer: a pair ``(limit, orders)`` of numbers.

    ``limit`` is the stability limit of ``Quadratic(eigenvalues=(0.5, 4.0))`` (within 1e-6
    relative); ``orders`` the orders of magnitude between the final ``f`` of the runs at 1.01
    and 0.99 times the limit, ``log10`` of their ratio, within 0.5 (``7`` and ``6.95`` both
    count). Measured on the distance to the minimum instead of ``f``, half as many orders also
    count.
    """
    if not_attempted(answer, FORM_01_1):
        return False
    pair = as_numbers(answer, 2, as_real)
    if pair is None:
        return wrong_form("a pair of numbers (limit, orders), e.g. (0.5, 3.0)", answer)
    limit, orders = pair
    true_limit, true_orders, distance_orders = _limit_reference()
    if not close(limit, true_limit, 1e-6):
        hints = [
            (1 / 4.0, "1/L is the textbook 'safe' rate; the limit is 2/L, twice as large."),
            (2 / 0.5, "the limit is set by the *largest* curvature, L = 4, not the smallest."),
            (2 / 4.5, "2/(λmin + λmax) is the best fixed rate, not the stability limit 2/L."),
            (2 * 4.0, "you computed 2·L; the limit is 2/L."),
        ]
        hint = next((h for v, h in hints if close(limit, v, 1e-3)), "the limit is 2/L, L the largest eigenvalue.")
        return failed(f"limit = {show(true_limit)}", f"limit = {show(limit)}", hint)
    if abs(orders - true_orders) <= 0.5:
        return passed(f"The limit is {show(true_limit)}; f ends {true_orders:.2f} orders of magnitude apart.")
    if abs(orders - distance_orders) <= 0.5:
        return passed(
            f"The limit is {show(true_limit)}; measured on the distance to the minimum the runs end "
            f"{distance_orders:.2f} orders apart ({true_orders:.2f} for f, which is quadratic in it)."
        )
    expected = f"orders ≈ {true_orders:.2f} (within 0.5)"
    if orders < 0 and abs(-orders - true_orders) <= 0.5:
        hint = "the number of orders of magnitude is a size: give it as a positive number."
    elif abs(orders - true_orders * math.log(10)) <= 1.0:
        hint = "that is the natural logarithm of the ratio; orders of magnitude are log10."
    elif orders > 100 and abs(math.log10(orders) - true_orders) <= 0.5:
        hint = "that is the ratio of the two final values itself; its log10 is the number of orders."
    else:
        hint = "compare f at the last iterate of each run: orders = log10(f(1.01 run) / f(0.99 run))."
    return failed(expected, f"orders = {show(orders)}", hint)


FORM_01_2 = "a pair (steep, shallow) of the factors |1 - lr·λ| at lr = 2/L"
TOL_01_2 = 1e-6  # float32 rounds 0.8 to 0.800000012


@guarded
def check_01_2(answer: Any) -> bool:
    """Exercise ch01-edge. Answer: a pair ``(steep, shallow)`` of numbers.

    The factors ``|1 - η λ|`` by which gradient descent at ``η = 2/L`` multiplies the error along
    the steep (``λ = 10``) and the shallow (``λ = 1``) direction of the chapter's valley, within
    1e-6 (a pair computed in float32, or given as an array or a tensor, counts).
    """
    if not_attempted(answer, FORM_01_2):
        return False
    pair = as_numbers(answer, 2, as_real)
    if pair is None:
        return wrong_form("a pair of numbers (steep, shallow), e.g. (0.5, 0.9)", answer)
    steep, shallow = pair
    lr = VALLEY.stability_limit
    small, large = sorted(VALLEY.eigenvalues)
    want = (abs(1 - lr * large), abs(1 - lr * small))
    if close(steep, want[0], 0, TOL_01_2) and close(shallow, want[1], 0, TOL_01_2):
        return passed(
            f"Along the steep direction the factor is {want[0]:g}: that coordinate flips sign every step "
            f"and keeps its size; the shallow one shrinks by {want[1]:g} per step, so the iterates end in "
            "a two-point cycle."
        )
    expected = f"(steep, shallow) = ({want[0]:g}, {want[1]:g})"
    received = f"({show(steep)}, {show(shallow)})"
    if close(steep, want[1], 0, TOL_01_2) and close(shallow, want[0], 0, TOL_01_2):
        hint = "the two are swapped: the steep direction is the one with the large curvature λ = 10."
    elif steep < 0 and close(steep, 1 - lr * large, 0, TOL_01_2):
        hint = "1 - ηλ = -1 along the steep direction; the factor is its absolute value, |1 - ηλ|."
    elif close(steep, abs(1 - large / VALLEY.smoothness), 0, TOL_01_2):
        hint = f"that is η = 1/L; the exercise asks for η = 2/L = {lr:g}."
    else:
        hint = f"at η = 2/L = {lr:g}, compute |1 - ηλ| for λ = {large:g} (steep) and λ = {small:g} (shallow)."
    return failed(expected, received, hint)


def _steps_to_reach(lr: float, tol: float = 1e-8, max_steps: int = 1000) -> int | None:
    path = gradient_descent(VALLEY, (-1.7, 0.2), lr, max_steps)
    below = (VALLEY.value(path) < tol).nonzero()
    return int(below[0]) if len(below) else None


FORM_01_3 = "a pair (steps at 1/L, steps at 2/(min+max)) of whole numbers"


@guarded
def check_01_3(answer: Any) -> bool:
    """Exercise ch01-best. Answer: a pair ``(steps_1_over_L, steps_best)`` of whole numbers.

    The optimizer steps gradient descent needs on the chapter's valley from ``(-1.7, 0.2)`` until
    ``f < 1e-8``, at ``η = 1/L`` and at ``η* = 2/(λmin + λmax)``: the index of the first iterate
    below the tolerance, the start being iterate 0. Exact.
    """
    if not_attempted(answer, FORM_01_3):
        return False
    pair = as_tuple(answer, 2)
    if pair is None or as_int(pair[0]) is None or as_int(pair[1]) is None:
        return wrong_form("a pair of whole numbers (steps at 1/L, steps at η*), e.g. (120, 60)", answer)
    got = (as_int(pair[0]), as_int(pair[1]))
    want = (_steps_to_reach(1 / VALLEY.smoothness), _steps_to_reach(2 / sum(VALLEY.eigenvalues)))
    if got == want:
        return passed(f"{want[0]} steps at 1/L against {want[1]} at η*: balancing both directions wins.")
    expected, received = f"({want[0]}, {want[1]})", f"({got[0]}, {got[1]})"
    if got == (want[1], want[0]):
        hint = "the two are swapped: the first number is for 1/L, the second for 2/(λmin + λmax)."
    elif got == (want[0] + 1, want[1] + 1):
        hint = (
            "each count is one too many: path[0] is the start, so the index of the first iterate "
            "below 1e-8 is the number of steps taken."
        )
    elif got == (want[0] - 1, want[1] - 1):
        hint = "each count is one short: the first iterate with f < 1e-8 must itself be reached; count up to it."
    else:
        wrong = "the first" if got[0] != want[0] else "the second"
        hint = (
            f"{wrong} count is off: run gradient_descent(valley, (-1.7, 0.2), lr, 1000) and take the "
            "index of the first iterate whose f is below 1e-8 (strictly)."
        )
    return failed(expected, received, hint)


@functools.lru_cache(maxsize=None)
def _grid_reference() -> dict[float, tuple[bool, float]]:
    with one_thread():
        runs = {lr: train_toy(lr, 100) for lr in GRID}
    return {lr: (run.diverged, run.step_loss[-1]) for lr, run in runs.items()}


FORM_01_4 = "a pair (largest stable lr, lr with the lowest final loss)"


@guarded
def check_01_4(answer: Any) -> bool:
    """Exercise ch01-grid. Answer: a pair ``(largest_stable, lowest_loss)`` of rates from the grid.

    ``largest_stable`` is the largest rate of ``[0.5, 1, 2, 4, 8, 16]`` whose full-batch run of
    ``train_toy(lr, 100)`` does not diverge (``run.diverged`` is False); ``lowest_loss`` the one
    among those with the lowest final loss. The reference runs are computed here, as in the
    chapter (a few seconds the first time).
    """
    if not_attempted(answer, FORM_01_4):
        return False
    pair = as_tuple(answer, 2)
    if pair is None or as_real(pair[0]) is None or as_real(pair[1]) is None:
        return wrong_form("a pair of learning rates from the grid, e.g. (4, 2)", answer)
    got = (as_real(pair[0]), as_real(pair[1]))
    runs = _grid_reference()
    stable = [lr for lr, (diverged, _) in runs.items() if not diverged]
    want = (max(stable), min(stable, key=lambda lr: runs[lr][1]))
    if got == want:
        return passed(
            f"The largest stable rate is {want[0]} but the best is {want[1]}: 'does not diverge' is a weak criterion."
        )
    losses = ", ".join(f"{lr}: {'diverged' if d else f'{loss:.3f}'}" for lr, (d, loss) in runs.items())
    expected, received = f"({want[0]}, {want[1]})", f"({show(got[0])}, {show(got[1])})"
    if any(lr not in runs for lr in got):
        hint = f"both numbers are rates from the grid {list(GRID)}."
    elif got[0] != want[0] and got[0] in stable:
        hint = (
            f"{want[0]} does not diverge either (run.diverged is False: its loss never exceeds 1000), "
            f"even though it ends at a high loss. Final losses: {losses}."
        )
    elif got[0] != want[0]:
        hint = f"{show(got[0])} diverges; the largest rate that does not is {want[0]}. Final losses: {losses}."
    elif got[1] == got[0]:
        hint = f"they are not the same: compare run.step_loss[-1] of the stable rates. Final losses: {losses}."
    else:
        hint = f"compare run.step_loss[-1] of every stable rate. Final losses: {losses}."
    return failed(expected, received, hint)
