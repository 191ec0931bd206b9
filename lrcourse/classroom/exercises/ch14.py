"""Checkers for chapter 14, "Searching for the schedule"."""

from __future__ import annotations

import math
from typing import Any

from ._common import failed, guarded, not_attempted, passed, wrong_form

__all__ = ["check_14_1"]

FORM_14_1 = "a function near_edge(value, low, high, share) returning 'low', 'high' or None"

# (value, low, high, share): the rate's range of chapter 14 (0.003 to 1, log scale) and a narrow
# one; points just inside and just outside the share, at both ends, and one in the middle. A
# check made on the linear scale, or against the wrong end, gives another answer somewhere here.
_CASES: tuple[tuple[float, float, float, float], ...] = (
    (0.004, 0.003, 1.0, 0.1), (0.0055, 0.003, 1.0, 0.1), (0.6, 0.003, 1.0, 0.1), (0.4, 0.003, 1.0, 0.1),
    (0.05, 0.003, 1.0, 0.1), (0.9, 0.003, 1.0, 0.1), (0.011, 0.01, 0.1, 0.05), (0.02, 0.01, 0.1, 0.05),
    (0.095, 0.01, 0.1, 0.05))


def _want(value: float, low: float, high: float, share: float) -> str | None:
    where = (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return "low" if where < share else "high" if where > 1 - share else None


def _linear(value: float, low: float, high: float, share: float) -> str | None:
    where = (value - low) / (high - low)
    return "low" if where < share else "high" if where > 1 - share else None


@guarded
def check_14_1(answer: Any) -> bool:
    """Exercise ch14-edge. Answer: ``near_edge(value, low, high, share)``: ``"low"`` when ``value``
    lies in the lowest ``share`` of the range ``[low, high]`` measured on a log scale, ``"high"``
    in the highest, else ``None``. Checked on nine cases, both ends and the middle.
    """
    if not_attempted(answer, FORM_14_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_14_1, answer)
    for case in _CASES:
        got = answer(*case)
        if got not in ("low", "high", None):
            return wrong_form(FORM_14_1, got)
        want = _want(*case)
        if got == want:
            continue
        shown = f"near_edge{case}"
        if got == _linear(*case):
            hint = ("that is where the value lies on a linear scale; the rate is searched on a log scale, so "
                    "measure with log(value) - log(low) over log(high) - log(low).")
        elif want is not None and got is not None:
            hint = "the wrong end: 'low' is near the range's low end, 'high' near its high end."
        else:
            hint = "the edge is the lowest and the highest share of the range's log width."
        return failed(f"{want!r} for {shown}", repr(got), hint)
    return passed("A best point in the outer tenth of a log range says: widen the range and search again.")
