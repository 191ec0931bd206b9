"""Reading a drop of the learning rate in a per-epoch loss curve: the loss either side of it, and
how much the loss jumped from one epoch to the next before the drop and after it.

A run at a high constant rate has a validation loss that falls on average and jumps from epoch
to epoch; a drop lowers it and (the part a mean curve hides) calms it. Both are measured here
on the same footing for any log, a source article's printed numbers or a committed run's
history, so a chapter can set them side by side. The jumps are relative (a change of 0.1 is
large at a loss of 0.3 and small at 2.0), which is what lets logs on different scales be compared.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .._validate import check_int

__all__ = ["DropEffect", "drop_effect"]


@dataclass(frozen=True)
class DropEffect:
    """The loss around a drop: ``losses[epoch - 1]`` (``before``, the last epoch at the high rate)
    and ``losses[epoch]`` (``after``, the first at the low rate), the last value (``end``), and the
    mean relative jump between neighbouring epochs over the ``window`` epochs before the drop
    (``jump_before``) and from the drop to the end (``jump_after``)."""

    epoch: int
    before: float
    after: float
    end: float
    jump_before: float
    jump_after: float

    @property
    def change(self) -> float:
        """The relative change at the drop, ``after / before - 1`` (negative: the loss fell)."""
        return self.after / self.before - 1


def _mean_jump(values: Sequence[float]) -> float:
    return statistics.fmean(abs(b / a - 1) for a, b in zip(values, values[1:]))


def drop_effect(losses: Sequence[float], epoch: int, window: int = 10) -> DropEffect:
    """Measure the drop that made ``epoch`` the first epoch at the lower rate.

    Args:
        losses: one loss per epoch, ``losses[e]`` measured after epoch ``e``; positive and finite.
        epoch: the first epoch trained at the lower rate (the seed article's 20 of 30).
        window: epochs on each side that the jumps are averaged over: ``losses[epoch - window:epoch]``
            before the drop, ``losses[epoch:epoch + window]`` after it (fewer if the run ends first).

    Raises:
        ValueError: a loss that is not a positive finite number, fewer than 4 losses, or an
            ``epoch`` or ``window`` that leaves fewer than two epochs on a side.
    """
    losses = [float(v) for v in losses]
    bad = [(e, v) for e, v in enumerate(losses) if not (math.isfinite(v) and v > 0)]
    if bad:
        raise ValueError(f"losses must be positive finite numbers (got {bad[0][1]!r} at epoch {bad[0][0]})")
    if len(losses) < 4:
        raise ValueError(f"losses must hold at least 4 epochs, two on each side of the drop (got {len(losses)})")
    window = check_int(window, "window", low=2)
    epoch = check_int(epoch, "epoch", low=2, high=len(losses) - 2)
    before = losses[max(0, epoch - window):epoch]
    after = losses[epoch:epoch + window]
    return DropEffect(epoch, losses[epoch - 1], losses[epoch], losses[-1], _mean_jump(before), _mean_jump(after))
