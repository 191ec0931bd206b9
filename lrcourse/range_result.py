"""What a range test measured: :class:`RangeTestResult`, its suggestions, plot and JSON form."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ._validate import check_bool, check_choice, check_int, check_real
from .plotting import new_axes, pyplot
from .range_suggestions import RULES, SUGGESTIONS

__all__ = ["RangeTestResult"]

#: The marker of each suggestion on the plot.
MARKERS = {"valley": "o", "slide": "s", "minimum": "^", "steep": "D"}


def _floats(value: Any, name: str) -> list[float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of numbers (got {name} of type {type(value).__name__})")
    out = []
    for i, x in enumerate(value):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"{name}[{i}] must be a number (got {name}[{i}]={x!r})")
        out.append(float(x))
    return out


def _encode(x: float) -> float | str:
    # JSON has no NaN or infinity; the diverging step's loss may be either.
    return x if math.isfinite(x) else repr(x)


def _decode(x: Any) -> Any:
    return float(x) if x in ("nan", "inf", "-inf") else x


@dataclass
class RangeTestResult:
    """What :func:`~lrcourse.range_test.lr_range_test` measured, and fastai's four suggestions read from it.

    Attributes:
        lrs: Group 0's learning rate of each step taken.
        losses: Training loss of each step, before its update.
        smoothed: Debiased exponential moving average of ``losses``.
        val_losses: Validation loss after each step's update, or None.
        stopped_at: Index of the step that stopped the test (diverged), or None if it ran
            ``num_steps`` steps.
        skipped: Indices of the steps whose update ``GradScaler`` skipped.
        num_steps: Steps planned (``len(lrs)`` unless stopped early).
        ratios: Each param group's learning rate relative to group 0's, during the test.
        config: The settings of the test (JSON-safe), for the record.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    val_losses: list[float] | None = None
    stopped_at: int | None = None
    skipped: list[int] = field(default_factory=list)
    num_steps: int | None = None
    ratios: list[float] = field(default_factory=lambda: [1.0])
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lrs = _floats(self.lrs, "lrs")
        self.losses = _floats(self.losses, "losses")
        self.smoothed = _floats(self.smoothed, "smoothed")
        n = len(self.lrs)
        if n == 0:
            raise ValueError("lrs must hold at least one step (got lrs=[])")
        for i, lr in enumerate(self.lrs):
            if not (math.isfinite(lr) and lr > 0):
                raise ValueError(f"lrs[{i}] must be a finite number > 0 (got lrs[{i}]={lr!r})")
        for name in ("losses", "smoothed"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one value per step, {n} (got {len(getattr(self, name))})")
        if self.val_losses is not None:
            self.val_losses = _floats(self.val_losses, "val_losses")
            if len(self.val_losses) != n:
                raise ValueError(f"val_losses must have one value per step, {n} (got {len(self.val_losses)})")
        if self.stopped_at is not None:
            self.stopped_at = check_int(self.stopped_at, "stopped_at", low=0)
            if self.stopped_at != n - 1:
                raise ValueError(
                    f"stopped_at must be the last step recorded, {n - 1} (got stopped_at={self.stopped_at})"
                )
        if isinstance(self.skipped, (str, bytes)) or not isinstance(self.skipped, Sequence):
            raise TypeError(f"skipped must be a list of step indices (got skipped of type {type(self.skipped).__name__})")
        self.skipped = [check_int(s, f"skipped[{i}]", low=0) for i, s in enumerate(self.skipped)]
        if any(s >= n for s in self.skipped):
            raise ValueError(f"skipped must hold step indices < {n} (got skipped={self.skipped})")
        self.num_steps = n if self.num_steps is None else check_int(self.num_steps, "num_steps", low=2)
        if self.num_steps < n:
            raise ValueError(f"num_steps must be >= the {n} steps recorded (got num_steps={self.num_steps})")
        self.ratios = _floats(self.ratios, "ratios")
        if not self.ratios or self.ratios[0] != 1.0 or not all(math.isfinite(r) and r >= 0 for r in self.ratios):
            raise ValueError(f"ratios must start with 1.0 and hold finite numbers >= 0 (got ratios={self.ratios})")
        if not isinstance(self.config, Mapping):
            raise TypeError(f"config must be a dict (got config of type {type(self.config).__name__})")
        self.config = dict(self.config)

    # -- suggestions -----------------------------------------------------------------------------

    def curve(self, *, skip_start: int | None = None, skip_end: int = 5) -> tuple[list[float], list[float]]:
        """The ``(lrs, smoothed)`` the suggestions read: fastai's ``lr_find`` trims
        ``num_steps // 10`` steps at the start and 5 at the end, then cuts at the first
        non-finite loss (fastai: the first NaN).
        """
        skip_start = self.num_steps // 10 if skip_start is None else check_int(skip_start, "skip_start", low=0)
        skip_end = check_int(skip_end, "skip_end", low=0)
        stop = len(self.lrs) - skip_end
        lrs, curve = self.lrs[skip_start:stop], self.smoothed[skip_start:stop]
        finite = next((i for i, x in enumerate(curve) if not math.isfinite(x)), len(curve))
        return lrs[:finite], curve[:finite]

    def suggest(
        self, method: str = "valley", *, skip_start: int | None = None, skip_end: int = 5
    ) -> float | None | dict[str, float | None]:
        """A learning rate for group 0 read off the curve, by one of fastai's rules.

        ``method`` is ``"valley"`` (fastai's default), ``"slide"``, ``"minimum"`` (the LR of the
        lowest smoothed loss / 10), ``"steep"`` (steepest descent against log LR), or ``"all"``
        for a dict of the four. Each reads the smoothed curve trimmed as :meth:`curve` does.
        A rule whose feature is not on the curve returns None: ``valley`` and ``steep`` when the
        loss never decreases from one point to a later one, ``minimum`` when it never falls below
        its first value, ``slide`` when no two slopes 15 steps apart agree within 0.005 (or the
        curve has 15 points or fewer). See
        :mod:`lrcourse.range_suggestions` for the exact definitions.
        Multiply by ``ratios`` (or call :meth:`group_lrs`) for every group's rate.
        """
        method = check_choice(method, "method", (*SUGGESTIONS, "all"))
        lrs, curve = self.curve(skip_start=skip_start, skip_end=skip_end)
        if method == "all":
            return {name: RULES[name](lrs, curve) for name in SUGGESTIONS}
        return RULES[method](lrs, curve)

    def group_lrs(self, lr: float) -> list[float]:
        """Every param group's learning rate for a group-0 rate ``lr``, keeping the test's ratios."""
        lr = check_real(lr, "lr", low=0.0)
        return [lr * ratio for ratio in self.ratios]

    # -- plot ------------------------------------------------------------------------------------

    def plot(self, ax: Any = None, suggestions: bool = True) -> Any:
        """Loss against learning rate (log axis): each step's loss, the smoothed curve, the
        validation losses if any, and the four suggestions as markers. Returns the axes."""
        pyplot()  # an error that says what to install, where matplotlib is missing
        from matplotlib.axes import Axes

        if ax is not None and not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None (got ax of type {type(ax).__name__})")
        suggestions = check_bool(suggestions, "suggestions")
        ax = new_axes()[0] if ax is None else ax
        ax.plot(self.lrs, self.losses, linewidth=0.8, alpha=0.4, label="loss of each step")
        ax.plot(self.lrs, self.smoothed, linewidth=1.8, label="smoothed loss")
        if self.val_losses is not None:
            ax.plot(self.lrs, self.val_losses, linewidth=1.2, linestyle="--", label="validation loss")
        if suggestions:
            lrs, curve = self.curve()
            logs = [math.log(lr) for lr in lrs]
            for name, lr in self.suggest("all").items():  # type: ignore[union-attr]
                if lr is not None:
                    y = _interp(math.log(lr), logs, curve)
                    ax.plot([lr], [y], marker=MARKERS[name], markersize=8, linestyle="none",
                            markeredgecolor="black", label=f"{name}: {lr:.2g}")
        finite = [x for x in self.smoothed if math.isfinite(x)]
        if finite:
            # The diverging end would squash the curve: show from the minimum to the top of the
            # curve before it, with a margin; the raw losses beyond are clipped.
            low = min(finite)
            high = max(finite[: finite.index(low) + 1])
            span = max(high - low, 1e-3 * max(abs(low), 1.0))
            ax.set_ylim(low - 0.15 * span, high + 0.6 * span)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("loss")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(frameon=False, fontsize="small")
        return ax

    # -- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (``json.dumps(..., allow_nan=False)`` works); see :meth:`from_dict`."""
        data: dict[str, Any] = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}
        for name in ("lrs", "losses", "smoothed", "val_losses", "ratios"):
            if data[name] is not None:
                data[name] = [_encode(x) for x in data[name]]
        json.dumps(data["config"], allow_nan=False)  # fail here, not when the caller saves it
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RangeTestResult:
        """The result that :meth:`to_dict` described."""
        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a dict from RangeTestResult.to_dict (got {type(data).__name__})")
        names = {f.name for f in fields(cls)}
        if set(data) != names:
            raise ValueError(
                f"data must have exactly the keys {sorted(names)} (missing {sorted(names - set(data))}, "
                f"unknown {sorted(set(data) - names)})"
            )
        values = dict(data)
        for name in ("lrs", "losses", "smoothed", "val_losses", "ratios"):
            if isinstance(values[name], list):
                values[name] = [_decode(x) for x in values[name]]
        return cls(**values)


def _interp(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """``numpy.interp``: linear interpolation in increasing ``xs``, clamped at the ends."""
    if x <= xs[0]:
        return ys[0]
    for k in range(1, len(xs)):
        if x <= xs[k]:
            w = (x - xs[k - 1]) / (xs[k] - xs[k - 1])
            return ys[k - 1] + w * (ys[k] - ys[k - 1])
    return ys[-1]
