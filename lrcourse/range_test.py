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
disk. An iterable loader that keeps its own position (``lrcourse.lab.TensorLoader``) has moved on.

The loss is copied to the host every step (the stopping rule needs it), one synchronisation per
step: fine for a test of a few hundred steps.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

from ._validate import check_bool, check_choice, check_int, check_optimizer, check_real
from .device import PRECISIONS, _autocast, _grad_scaler, _to_device, pick_device, pick_precision
from .evaluation import evaluate
from .range_result import RangeTestResult
from .rng import capture_rng_state, restore_rng_state
from .steps import scaler_step

__all__ = ["MODES", "lr_range_test", "range_test_lrs"]

MODES = ("exp", "linear")
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
        A :class:`~lrcourse.range_result.RangeTestResult`.
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
