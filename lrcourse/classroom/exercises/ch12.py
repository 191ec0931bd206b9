"""Checkers for chapter 12, "Ending a run: decay to zero, cooldowns, anytime training and schedule-free"."""

from __future__ import annotations

from typing import Any

from ._common import as_numbers, as_int, failed, guarded, not_attempted, passed, wrong_form

__all__ = ["check_12_1"]

FORM_12_1 = "a function steps_spent(budgets, steps_per_epoch, cooldown) -> (anytime_steps, separate_steps)"

# (budgets, steps per epoch, cooldown fraction): the chapter's, one whose cooldowns round up and
# one whose cooldowns round down (so a truncation or a missing round shows), and a single budget.
_CASES: tuple[tuple[list[int], int, float], ...] = (
    ([5, 10, 15], 215, 0.2), ([3, 7], 391, 0.13), ([2, 4, 8], 469, 0.05), ([6], 100, 0.5))


def _want(budgets: list[int], steps: int, cooldown: float) -> tuple[int, int]:
    # as lrcourse.lab.anytime.branch_points: each budget's cooldown is round(cooldown * its steps)
    return budgets[-1] * steps + sum(round(cooldown * e * steps) for e in budgets), sum(e * steps for e in budgets)


@guarded
def check_12_1(answer: Any) -> bool:
    """Exercise ch12-steps. Answer: a function ``steps_spent(budgets, steps_per_epoch, cooldown)``.

    It must return ``(anytime_steps, separate_steps)``: the stable run to the longest budget plus
    every budget's cooldown of ``round(cooldown * budget * steps_per_epoch)`` steps, and the steps
    of one separate run per budget. Checked on four made-up cases, including ones where a
    cooldown's length is not a whole number of steps.
    """
    if not_attempted(answer, FORM_12_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_12_1, answer)
    for budgets, steps, cooldown in _CASES:
        got = as_numbers(answer(list(budgets), steps, cooldown), 2, as_int)
        if got is None:
            return wrong_form(FORM_12_1, answer(list(budgets), steps, cooldown))
        want = _want(budgets, steps, cooldown)
        if tuple(got) == want:
            continue
        longest, separate = budgets[-1] * steps, want[1]
        exact = longest + sum(cooldown * e * steps for e in budgets)
        case = f"for budgets={budgets}, steps_per_epoch={steps}, cooldown={cooldown}"
        if tuple(got) == want[::-1]:
            hint = "the pair is the other way round: the anytime steps first, then the separate runs'."
        elif got[1] != separate:
            hint = "separate runs cost every budget in full: the sum of budget x steps_per_epoch."
        elif got[0] == longest + sum(round(cooldown * e * steps) for e in budgets[:-1]):
            hint = ("the longest budget needs its cooldown too: its branch leaves the stable run at "
                    f"{1 - cooldown:.0%} of it, and the stable run itself never cools down.")
        elif got[0] == longest + sum(int(cooldown * e * steps) for e in budgets) or got[0] == round(exact) != want[0]:
            hint = "round each budget's cooldown to whole steps on its own, as branch_points does: round(cooldown * steps)."
        else:
            hint = "the stable run is paid once, to the longest budget; each budget then adds only its cooldown."
        return failed(f"{want} {case}", f"{tuple(got)}", hint)
    return passed("The stable run once, then a cooldown per budget: each extra budget costs a cooldown, not a run.")
