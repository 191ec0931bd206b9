"""When a training run has diverged: the monitor :func:`lrcourse.lab.training.train` feeds each step loss.

It smooths the losses (a debiased exponential moving average, beta = 0.9, as fastai's LR finder)
and reports divergence at the first loss that is NaN or infinite, or whose smoothed value exceeds
``factor`` times its running minimum *and* the first step's loss; the second condition keeps a
run whose loss is tiny from being stopped by noise. Its state goes into checkpoints, so a resumed
run judges the same steps the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["DivergenceMonitor"]


class DivergenceMonitor:
    """Debiased EMA of the step loss, its running minimum, and the first loss; see the module doc."""

    BETA = 0.9

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.count = 0
        self.avg = 0.0
        self.min = math.inf
        self.first = math.nan

    def update(self, loss: float) -> str | None:
        """Feed one step loss; return why the run diverged, or None."""
        self.count += 1
        if not math.isfinite(loss):
            return f"loss is {loss}"
        self.avg = self.BETA * self.avg + (1 - self.BETA) * loss
        smooth = self.avg / (1 - self.BETA**self.count)
        if self.count == 1:
            self.first = loss
        self.min = min(self.min, smooth)
        if smooth > self.factor * self.min and smooth > self.first:
            return (
                f"smoothed loss {smooth:.4g} is above {self.factor:g} x its minimum {self.min:.4g} "
                f"and above the first loss {self.first:.4g}"
            )
        return None

    def state_dict(self) -> dict[str, float]:
        return {"count": self.count, "avg": self.avg, "min": self.min, "first": self.first}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        self.count, self.avg = int(state["count"]), float(state["avg"])
        self.min, self.first = float(state["min"]), float(state["first"])
