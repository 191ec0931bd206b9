"""fastai's four suggestions, read off a range test's trimmed, smoothed loss curve.

Each rule takes the learning rates and the smoothed losses of the steps kept
(:meth:`lrcourse.range_result.RangeTestResult.curve`) and returns a learning rate, following
fastai's definition (``fastai/callback/schedule.py``: ``valley``, ``slide``, ``minimum``,
``steep``). Where fastai would return an arbitrary point because the feature it looks for is
absent, these return None: a reader then sees that the curve has no valley, rather than a number
that means nothing. The rules use plain Python, not NumPy, so the library needs torch alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

__all__ = ["RULES", "SUGGESTIONS", "minimum", "slide", "steep", "valley"]


# Each function follows fastai's definition (fastai/callback/schedule.py: valley, slide, minimum,
# steep) and returns None where fastai would return an arbitrary point because the feature it
# looks for is absent.


def valley(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
    """fastai's ``valley``: the point about halfway along the longest decreasing stretch.

    The stretch is the longest strictly decreasing subsequence of the curve (not necessarily
    contiguous), ending at index ``end`` (the first, if several are as long) with ``length``
    points; fastai sets ``start = end - length`` and returns the LR at ``start + int(length / 3)
    + int(length / 6)``, clamped here at 0 (fastai would index -1 for a two-point valley at the
    very start). None when the curve never decreases (length < 2).
    """
    n = len(curve)
    lds = [1] * n  # lds[i]: longest strictly decreasing subsequence ending at i
    for i in range(1, n):
        for j in range(i):
            if curve[i] < curve[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
    length = max(lds, default=0)
    if length < 2:
        return None
    end = lds.index(length)
    start = end - length
    sections = (end - start) / 3
    return lrs[max(start + int(sections) + int(sections / 2), 0)]


def _gradient(values: Sequence[float]) -> list[float]:
    """``numpy.gradient`` with unit spacing: central differences inside, one-sided at the ends."""
    inner = [(values[i + 1] - values[i - 1]) / 2.0 for i in range(1, len(values) - 1)]
    return [values[1] - values[0], *inner, values[-1] - values[-2]]


def slide(lrs: Sequence[float], curve: Sequence[float], lr_diff: int = 15, thresh: float = 0.005) -> float | None:
    """fastai's ``slide``: walk left from the end until two slopes ``lr_diff`` apart agree.

    With ``g`` the gradient of the curve (``numpy.gradient``), fastai compares ``g[r]`` and
    ``g[r - lr_diff]`` for ``r = n-1, n-2, ...`` and stops at the first pair within ``thresh``;
    it returns the left point of the pair *before* (its loop assigns, then moves), or of the
    first pair if that one already agrees. None when the curve has ``lr_diff`` points or fewer,
    or when no pair agrees (fastai then returns the first LR of the curve).
    """
    n = len(curve)
    if n <= lr_diff:
        return None
    grad = _gradient(curve)
    first_left = n - 1 - lr_diff
    for left in range(first_left, -1, -1):
        if abs(grad[left + lr_diff] - grad[left]) <= thresh:
            return lrs[left] if left == first_left else lrs[left + 1]
    return None


def minimum(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
    """fastai's ``minimum``: the LR of the lowest point (the first, if tied), divided by 10.

    None when the lowest point is the first (the loss never fell below where it started, so
    there is no minimum *before* a divergence) or the curve is empty. On a curve that never
    turns up this is a tenth of the last LR kept: the test ended before showing where it rises.
    """
    lowest = min(range(len(curve)), key=curve.__getitem__, default=0)
    return None if lowest == 0 else lrs[lowest] / 10


def steep(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
    """fastai's ``steep``: the left point of the steepest descent of the curve against ln(LR).

    Slopes ``(curve[k+1] - curve[k]) / (ln lrs[k+1] - ln lrs[k])``; the first most negative one
    wins. None when there is no negative slope (the loss never decreases) or fewer than 2 points.
    """
    slopes = [(curve[k + 1] - curve[k]) / (math.log(lrs[k + 1]) - math.log(lrs[k])) for k in range(len(curve) - 1)]
    if not slopes or min(slopes) >= 0:
        return None
    return lrs[slopes.index(min(slopes))]


#: Rule name -> rule, in the order fastai's ``lr_find`` lists them.
RULES: dict[str, Callable[[Sequence[float], Sequence[float]], float | None]] = {
    "valley": valley, "slide": slide, "minimum": minimum, "steep": steep,
}
SUGGESTIONS: tuple[str, ...] = tuple(RULES)
