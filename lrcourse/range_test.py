"""The learning-rate range test: ``lr_range_test(...) -> RangeTestResult``.

Smith (2015, 2017) trains for a few hundred steps while the learning rate grows from tiny to
huge, and reads a good learning rate off the loss curve: where the loss falls fastest, and where
it starts to blow up. fastai's ``lr_find`` made it popular; this is the same test. Step ``i`` of
``num_steps``, with ``t = i / (num_steps - 1)``:

1. the learning rate is ``lr_i = start_lr * (end_lr / start_lr) ** t`` (``mode="exp"``) or
   ``start_lr + (end_lr - start_lr) * t`` (``"linear"``): the first step runs at ``start_lr``,
   the last at ``end_lr``. With several param groups, group ``g`` runs at ``lr_i * ratio_g``,
   where ``ratio_g`` is its learning rate before the test divided by group 0's, so
   discriminative ratios are kept (``lrs`` records group 0);
2. ``accumulation_steps`` micro-batches are drawn from ``batches`` (cycled when it runs out) and
   back-propagated; ``losses[i]`` is their mean loss, computed *before* this step's update;
3. one optimizer step, through a ``GradScaler`` under ``"fp16"``; a step the scaler skips is
   listed in ``skipped`` (the schedule does not wait for it);
4. with ``val_batches``, ``val_losses[i]`` is the validation loss *after* the update (Smith's
   variant of the test);
5. ``smoothed[i]`` is the debiased exponential moving average of the losses,
   ``avg_i = smooth * avg_(i-1) + (1 - smooth) * losses[i]``, ``smoothed[i] = avg_i / (1 -
   smooth ** (i + 1))``; the test stops (``stopped_at = i``, step ``i`` included) at the first
   step whose smoothed loss is not finite or exceeds ``diverge_factor`` times the smallest
   smoothed loss so far.

Afterwards the model (parameters, buffers such as BatchNorm's running statistics, gradients,
train/eval flags, device), the optimizer (every group's learning rate, its state) and the global
random number generators (Python, NumPy, torch, CUDA) are exactly as before; nothing is written to
disk. An iterable loader that keeps its own position (``lrcourse.TensorLoader``) has moved on.

The loss is copied to the host every step (the stopping rule needs it), one synchronisation per
step: fine for a test of a few hundred steps.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import nn

from ._validate import check_bool, check_choice, check_int, check_optimizer, check_real
from .checkpoint import capture_rng_state, restore_rng_state
from .device import _autocast, _grad_scaler, _to_device
from .plotting import new_axes
from .steps import scaler_step
from .train import PRECISIONS, evaluate, pick_device, pick_precision

__all__ = ["MODES", "SUGGESTIONS", "RangeTestResult", "lr_range_test", "range_test_lrs"]

MODES = ("exp", "linear")
SUGGESTIONS = ("valley", "slide", "minimum", "steep")
Batch = tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------------------------
# The learning rates
# ----------------------------------------------------------------------------------------------


def range_test_lrs(start_lr: float, end_lr: float, num_steps: int, mode: str = "exp") -> list[float]:
    """The learning rate of every step of a range test (group 0's; see the module docstring).

    The first is ``start_lr`` and the last ``end_lr``, exactly: the end points are not computed
    through the formula, whose rounding could miss them by an ulp.
    """
    start_lr = check_real(start_lr, "start_lr", low=0.0, low_open=True)
    end_lr = check_real(end_lr, "end_lr", low=0.0, low_open=True)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be > start_lr (got start_lr={start_lr!r}, end_lr={end_lr!r})")
    num_steps = check_int(num_steps, "num_steps", low=2)
    mode = check_choice(mode, "mode", MODES)
    last = num_steps - 1
    if mode == "exp":
        lrs = [start_lr * (end_lr / start_lr) ** (i / last) for i in range(num_steps)]
    else:
        lrs = [start_lr + (end_lr - start_lr) * (i / last) for i in range(num_steps)]
    lrs[0], lrs[-1] = start_lr, end_lr
    return lrs


# ----------------------------------------------------------------------------------------------
# fastai's four suggestions, on the trimmed smoothed curve
# ----------------------------------------------------------------------------------------------
# Each function follows fastai's definition (fastai/callback/schedule.py: valley, slide, minimum,
# steep) and returns None where fastai would return an arbitrary point because the feature it
# looks for is absent.


def _valley(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
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


def _slide(lrs: Sequence[float], curve: Sequence[float], lr_diff: int = 15, thresh: float = 0.005) -> float | None:
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


def _minimum(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
    """fastai's ``minimum``: the LR of the lowest point (the first, if tied), divided by 10.

    None when the lowest point is the first (the loss never fell below where it started, so
    there is no minimum *before* a divergence) or the curve is empty. On a curve that never
    turns up this is a tenth of the last LR kept: the test ended before showing where it rises.
    """
    lowest = min(range(len(curve)), key=curve.__getitem__, default=0)
    return None if lowest == 0 else lrs[lowest] / 10


def _steep(lrs: Sequence[float], curve: Sequence[float]) -> float | None:
    """fastai's ``steep``: the left point of the steepest descent of the curve against ln(LR).

    Slopes ``(curve[k+1] - curve[k]) / (ln lrs[k+1] - ln lrs[k])``; the first most negative one
    wins. None when there is no negative slope (the loss never decreases) or fewer than 2 points.
    """
    slopes = [(curve[k + 1] - curve[k]) / (math.log(lrs[k + 1]) - math.log(lrs[k])) for k in range(len(curve) - 1)]
    if not slopes or min(slopes) >= 0:
        return None
    return lrs[slopes.index(min(slopes))]


_RULES: dict[str, Callable[[Sequence[float], Sequence[float]], float | None]] = {
    "valley": _valley, "slide": _slide, "minimum": _minimum, "steep": _steep,
}
_MARKERS = {"valley": "o", "slide": "s", "minimum": "^", "steep": "D"}


# ----------------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------------


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
    """What :func:`lr_range_test` measured, and fastai's four suggestions read from it.

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
        curve has 15 points or fewer). See the private
        ``_valley``, ``_slide``, ``_minimum``, ``_steep`` for the exact definitions.
        Multiply by ``ratios`` (or call :meth:`group_lrs`) for every group's rate.
        """
        method = check_choice(method, "method", (*SUGGESTIONS, "all"))
        lrs, curve = self.curve(skip_start=skip_start, skip_end=skip_end)
        if method == "all":
            return {name: _RULES[name](lrs, curve) for name in SUGGESTIONS}
        return _RULES[method](lrs, curve)

    def group_lrs(self, lr: float) -> list[float]:
        """Every param group's learning rate for a group-0 rate ``lr``, keeping the test's ratios."""
        lr = check_real(lr, "lr", low=0.0)
        return [lr * ratio for ratio in self.ratios]

    # -- plot ------------------------------------------------------------------------------------

    def plot(self, ax: Any = None, suggestions: bool = True) -> Any:
        """Loss against learning rate (log axis): each step's loss, the smoothed curve, the
        validation losses if any, and the four suggestions as markers. Returns the axes."""
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
                    ax.plot([lr], [y], marker=_MARKERS[name], markersize=8, linestyle="none",
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


# ----------------------------------------------------------------------------------------------
# The test
# ----------------------------------------------------------------------------------------------


def _check_model(model: Any, optimizer: torch.optim.Optimizer) -> torch.device:
    """The one device of the model; every optimizer parameter must belong to the model."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (got model of type {type(model).__name__})")
    tensors = [*model.parameters(), *model.buffers()]
    if not tensors:
        raise ValueError("model must have parameters (got a model with none)")
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(f"model must be on one device (got parameters or buffers on {sorted(map(str, devices))})")
    owned = {id(p) for p in model.parameters()}
    for g, group in enumerate(optimizer.param_groups):
        if any(id(p) not in owned for p in group["params"]):
            raise ValueError(
                f"optimizer.param_groups[{g}] holds parameters that are not in model; the test could "
                "not restore them"
            )
    return devices.pop()


def _group_ratios(optimizer: torch.optim.Optimizer) -> list[float]:
    lrs = [float(group["lr"]) for group in optimizer.param_groups]
    if not (math.isfinite(lrs[0]) and lrs[0] > 0):
        raise ValueError(
            "optimizer.param_groups[0]['lr'] must be a finite number > 0: the other groups keep "
            f"their ratio to it (got {lrs[0]!r})"
        )
    for g, lr in enumerate(lrs):
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"optimizer.param_groups[{g}]['lr'] must be a finite number >= 0 (got {lr!r})")
    return [lr / lrs[0] for lr in lrs]


def _check_batches(batches: Any, name: str, *, reiterable: bool) -> None:
    if isinstance(batches, (torch.Tensor, str, bytes)) or not isinstance(batches, Iterable):
        raise TypeError(
            f"{name} must be an iterable of (inputs, targets) batches (got {name} of type {type(batches).__name__})"
        )
    if reiterable and isinstance(batches, Iterator):
        raise TypeError(
            f"{name} must be re-iterable (a list, a DataLoader): it is read after every step, and an "
            f"iterator such as {type(batches).__name__} is exhausted after the first"
        )


def _batch_stream(batches: Iterable[Batch], needed: int) -> Iterator[Batch]:
    """``batches`` over and over (re-iterated, so a DataLoader reshuffles), each checked."""
    one_shot = isinstance(batches, Iterator)
    while True:
        count = 0
        for batch in batches:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise TypeError(f"each batch must be an (inputs, targets) pair (got {type(batch).__name__})")
            count += 1
            yield batch  # type: ignore[misc]
        if count == 0:
            raise ValueError("batches is empty: there is nothing to train on")
        if one_shot:
            raise ValueError(
                f"batches ran out after {count} batches of the {needed} needed, and an iterator cannot "
                "be cycled; pass a list or a DataLoader, or more batches"
            )


def _check_device(device: Any) -> torch.device:
    if device is None:
        return pick_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str, a torch.device or None (got device of type {type(device).__name__})")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda' (got device={device!r})") from None


class _Snapshot:
    """Everything the test changes, copied before it starts, and put back afterwards."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
        self.device = device
        self.params = {name: p.detach().clone() for name, p in model.named_parameters()}
        self.grads = {name: None if p.grad is None else p.grad.detach().clone() for name, p in model.named_parameters()}
        self.buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
        self.training = {name: m.training for name, m in model.named_modules()}
        self.optimizer = copy.deepcopy(optimizer.state_dict())
        self.rng = capture_rng_state()

    def restore(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        model.to(self.device)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(self.params[name])
                p.grad = self.grads[name]
            for name, b in model.named_buffers():
                b.copy_(self.buffers[name])
        for name, m in model.named_modules():
            m.training = self.training[name]
        optimizer.load_state_dict(self.optimizer)  # LRs, and the state cast back to the params' device
        restore_rng_state(self.rng)


class _Smoother:
    """Debiased EMA of the losses, its running minimum, and the stopping rule."""

    def __init__(self, beta: float, factor: float) -> None:
        self.beta, self.factor = beta, factor
        self.count, self.avg, self.best = 0, 0.0, math.inf

    def update(self, loss: float) -> tuple[float, bool]:
        """Feed one loss; return its smoothed value and whether the test stops here."""
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        smoothed = self.avg / (1 - self.beta**self.count)
        if not math.isfinite(smoothed):
            return smoothed, True
        self.best = min(self.best, smoothed)
        return smoothed, smoothed > self.factor * self.best


def lr_range_test(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Batch],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exp",
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
    val_batches: Iterable[Batch] | None = None,
    accumulation_steps: int = 1,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
    progress: bool | None = None,
) -> RangeTestResult:
    """Run the learning-rate range test (see the module docstring) and restore everything.

    Args:
        model: The network, in any state; it is trained during the test and restored after.
        optimizer: Built on ``model``'s parameters, with the learning rates whose *ratios* the
            test keeps (group 0 follows ``start_lr`` to ``end_lr``); group 0's must be > 0.
        batches: Iterable of ``(inputs, targets)``; re-iterated when it runs out (a one-shot
            iterator must hold ``num_steps * accumulation_steps`` batches).
        start_lr, end_lr: Group 0's learning rate at the first and the last step, 0 < start < end.
        num_steps: Optimizer steps, >= 2.
        mode: ``"exp"`` (geometric steps, fastai's and torch-lr-finder's default) or ``"linear"``.
        smooth: β of the debiased moving average, in [0, 1); 0 turns smoothing off.
        diverge_factor: Stop when the smoothed loss exceeds this many times its minimum, > 1.
        val_batches: Re-iterable validation batches, evaluated after every step; None: none.
        accumulation_steps: Micro-batches per optimizer step, >= 1; the LR changes per step.
        loss_fn: ``loss_fn(logits, targets)``; cross-entropy by default.
        device: Where the test runs; default :func:`lrcourse.device.pick_device`. The model is moved
            there and back.
        precision: ``"bf16"``, ``"fp16"`` (with a ``GradScaler``) or ``"fp32"``; default
            :func:`lrcourse.device.pick_precision` for ``device``.
        progress: A tqdm progress bar; default on when stderr is a terminal and ``CI`` is unset.

    Returns:
        A :class:`RangeTestResult`.
    """
    check_optimizer(optimizer)
    home = _check_model(model, optimizer)
    _check_batches(batches, "batches", reiterable=False)
    lrs_planned = range_test_lrs(start_lr, end_lr, num_steps, mode)
    smooth = check_real(smooth, "smooth", low=0.0, high=1.0, high_open=True)
    diverge_factor = check_real(diverge_factor, "diverge_factor", low=1.0, low_open=True)
    if val_batches is not None:
        _check_batches(val_batches, "val_batches", reiterable=True)
        if next(iter(val_batches), None) is None:
            raise ValueError("val_batches is empty: there is nothing to validate on")
    accumulation_steps = check_int(accumulation_steps, "accumulation_steps", low=1)
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None (got loss_fn of type {type(loss_fn).__name__})")
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = _check_device(device)
    precision = pick_precision(device) if precision is None else check_choice(precision, "precision", PRECISIONS)
    if progress is None:
        progress = not os.environ.get("CI") and sys.stderr.isatty()
    progress = check_bool(progress, "progress")
    ratios = _group_ratios(optimizer)

    snapshot = _Snapshot(model, optimizer, home)
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    val_losses: list[float] | None = None if val_batches is None else []
    skipped: list[int] = []
    stopped_at = None
    try:
        model.to(device)
        optimizer.load_state_dict(copy.deepcopy(snapshot.optimizer))  # any state onto the device
        model.train()
        scaler = _grad_scaler(device, precision)
        smoother = _Smoother(smooth, diverge_factor)
        stream = _batch_stream(batches, num_steps * accumulation_steps)
        steps: Iterable[int] = range(num_steps)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="range test", leave=False, dynamic_ncols=True)
        for i in steps:
            lr = lrs_planned[i]
            for group, ratio in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * ratio
            optimizer.zero_grad(set_to_none=True)
            total = torch.zeros((), device=device)
            for _ in range(accumulation_steps):
                x, y = _to_device(next(stream), device, False)
                with _autocast(device, precision):
                    loss = loss_fn(model(x).float(), y)
                scaler.scale(loss / accumulation_steps).backward()
                total += loss.detach().float()
            if not scaler_step(scaler, optimizer):
                skipped.append(i)
            loss_value = total.item() / accumulation_steps  # the one host sync of the step
            if val_losses is not None:
                val_losses.append(evaluate(model, val_batches, loss_fn=loss_fn,  # type: ignore[arg-type]
                                           device=device, precision=precision)[0])
            value, stop = smoother.update(loss_value)
            lrs.append(lr)
            losses.append(loss_value)
            smoothed.append(value)
            if progress:
                steps.set_postfix(lr=f"{lr:.3g}", loss=f"{value:.3f}", refresh=False)  # type: ignore[attr-defined]
            if stop:
                stopped_at = i
                break
    finally:
        snapshot.restore(model, optimizer)

    config = {"start_lr": float(start_lr), "end_lr": float(end_lr), "mode": mode, "smooth": smooth,
              "diverge_factor": diverge_factor, "accumulation_steps": accumulation_steps,
              "device": str(device), "precision": precision}
    return RangeTestResult(lrs, losses, smoothed, val_losses, stopped_at, skipped, num_steps, ratios, config)
