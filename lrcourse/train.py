"""One plain training loop, ``train(...) -> History``, and the helpers it needs.

The loop, stripped of bookkeeping, is the one every chapter teaches::

    for epoch in range(epochs):
        for x, y in train_batches(epoch, 0):
            with autocast:                      # bf16 / fp16 on a GPU, nothing on a CPU
                loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            if scaler_step(scaler, optimizer):  # False when GradScaler skipped the step
                scheduler.step()                # cadence "step": after the optimizer, every batch
        val_loss, val_acc = evaluate(model, val_batches())
        scheduler.step()                        # cadence "epoch"; or scheduler.step(val_loss): "metric"

**Data.** ``train_batches(epoch, start)`` returns an iterable of ``(inputs, targets)`` batches:
the batches of ``epoch``, beginning at batch index ``start`` (0 except when resuming mid-epoch).
For an exact resume the order and augmentation of an epoch must depend only on the epoch (and a
seed), not on the global RNG. ``lrcourse.data.TensorLoader`` is built for this: pass
``train_batches=loader.iter_epoch`` and ``val_batches=lambda: val_loader.iter_epoch(0)``. A plain
``DataLoader`` works with a per-epoch generator and :func:`skip_batches`::

    def train_batches(epoch, start):
        g = torch.Generator().manual_seed(1000 * seed + epoch)
        return skip_batches(DataLoader(train_set, 512, shuffle=True, generator=g), start)

``val_batches()`` returns the batches of a **held-out validation split** (never the test set);
it drives ``cadence="metric"`` schedulers such as ``ReduceLROnPlateau``. Report the test split once,
at the end, with :func:`evaluate`.

**No per-step host synchronisation on a GPU.** ``loss.item()`` waits for the GPU to finish,
which stalls the pipeline every batch. The loop keeps step losses and running sums as GPU
tensors and copies them to the host every ``check_every`` steps (default 50 on GPU, 1 on CPU
where a copy costs nothing) and at the end of each epoch: one synchronisation per check.

**Divergence.** At each check the new step losses are fed, in order, to a monitor that smooths
them (debiased exponential moving average, β = 0.9, as fastai's LR finder). The run is stopped and
recorded as diverged (``History.diverged``, ``History.diverged_at``) at the first step whose loss
is NaN or infinite, or whose smoothed loss exceeds ``divergence_factor`` × its running minimum
*and* the first step's loss; the second condition keeps a run whose loss is tiny from being
stopped by noise. On a GPU the stop can come up to ``check_every - 1`` steps after that step;
``diverged_at`` still names the step itself, and the message its LR.

**Elsewhere.** The device and precision (``pick_device``, ``pick_precision``, ``PRECISIONS``, the
autocast context and the gradient scaler) live in :mod:`lrcourse.device`, and :class:`History` in
:mod:`lrcourse.history`; they are re-exported here, so ``from lrcourse.train import History`` works.
"""

from __future__ import annotations

import inspect
import itertools
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from ._validate import check_bool, check_choice, check_int, check_optimizer, check_real
from .checkpoint import load_checkpoint, restore_rng_state, save_checkpoint
from .device import PRECISIONS, _autocast, _grad_scaler, _to_device, pick_device, pick_precision
from .history import History
from .steps import scaler_step

__all__ = [
    "CADENCES",
    "METRICS",
    "PRECISIONS",
    "History",
    "evaluate",
    "pick_device",
    "pick_precision",
    "schedule_signature",
    "seed_everything",
    "skip_batches",
    "train",
]

CADENCES = ("step", "epoch", "metric")
METRICS = ("val_loss", "val_acc")
Batch = tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------------------------
# Seeds, and resuming a plain iterable
# ----------------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (every device)."""
    seed = check_int(seed, "seed", low=0)
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(seed % 2**32)


def skip_batches(batches: Iterable[Batch], start: int) -> Iterable[Batch]:
    """``batches`` without its first ``start`` items, to resume a plain iterable mid-epoch.

    The skipped batches are still produced (loaded, augmented) and thrown away; a loader that
    can start at a batch index directly is faster.
    """
    start = check_int(start, "start", low=0)
    return batches if start == 0 else itertools.islice(batches, start, None)


# ----------------------------------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------------------------------


class _DivergenceMonitor:
    """Debiased EMA of the step loss, its running minimum, and the first loss; see module doc."""

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


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Iterable[Batch],
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
    channels_last: bool = False,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``batches``, in eval mode; one host sync.

    Use a validation split during training and the test split once, for the final number. The
    model's train/eval mode is restored afterwards.

    Returns:
        ``(loss, accuracy)``, averaged over samples; accuracy in ``[0, 1]``.
    """
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = next(model.parameters()).device if device is None else torch.device(device)
    precision = pick_precision(device) if precision is None else check_choice(precision, "precision", PRECISIONS)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    try:
        for batch in batches:
            x, y = _to_device(batch, device, channels_last)
            with _autocast(device, precision):
                out = model(x)
                loss = loss_fn(out.float(), y)
            total_loss += loss.float() * y.shape[0]
            correct += (out.argmax(dim=1) == y).sum()
            count += y.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("batches is empty: there is nothing to evaluate")
    return total_loss.item() / count, correct.item() / count


# ----------------------------------------------------------------------------------------------
# The schedule's identity, for refusing a resume with another schedule
# ----------------------------------------------------------------------------------------------

# Counters and running values, which differ between a fresh scheduler and a resumed one.
_SCHEDULER_COUNTERS = frozenset(
    {"last_epoch", "_step_count", "_is_initial", "_get_lr_called_within_step", "_last_lr", "best",
     "cooldown_counter", "num_bad_epochs", "_initial_step"}
)


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Mapping):
        if all(isinstance(v, int) for v in value.values()) and all(isinstance(k, int) for k in value):
            return sorted(value.elements()) if hasattr(value, "elements") else dict(value)  # milestones
        return {str(k): _plain(v) for k, v in value.items() if k not in _SCHEDULER_COUNTERS}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def schedule_signature(scheduler: Any) -> dict[str, Any]:
    """The scheduler's class and settings (lengths, milestones, base LRs...), without counters.

    Two schedulers with the same signature give the same LR curve; :func:`train` stores it in
    the checkpoint config so that resuming with another schedule is refused.
    """
    if scheduler is None:
        return {"class": None}
    state = scheduler.state_dict()
    signature = {"class": type(scheduler).__name__}
    signature.update({key: _plain(value) for key, value in state.items() if key not in _SCHEDULER_COUNTERS})
    return signature


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------


def _needs_metric(scheduler: Any) -> bool:
    """Whether ``scheduler.step`` requires a metric (``ReduceLROnPlateau`` and its wrappers)."""
    if scheduler is None:
        return False
    if isinstance(scheduler, ReduceLROnPlateau):
        return True
    try:
        parameters = inspect.signature(scheduler.step).parameters
    except (TypeError, ValueError):
        return False
    metrics = parameters.get("metrics")
    return metrics is not None and metrics.default is inspect.Parameter.empty


def _auto_progress() -> bool:
    return not os.environ.get("CI") and sys.stderr.isatty()


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    train_batches: Callable[[int, int], Iterable[Batch]],
    epochs: int,
    *,
    cadence: str = "step",
    val_batches: Callable[[], Iterable[Batch]] | None = None,
    metric: str = "val_loss",
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
    channels_last: bool | None = None,
    check_every: int | None = None,
    divergence_factor: float = 4.0,
    checkpoint_path: str | os.PathLike[str] | None = None,
    checkpoint_every_steps: int = 0,
    checkpoint_every_epochs: int = 1,
    resume: bool = False,
    config: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs; return its :class:`History`.

    Args:
        model: The network; moved to ``device`` (and to channels-last memory on CUDA).
        optimizer: Built on ``model.parameters()``.
        scheduler: An LR scheduler on ``optimizer``, or ``None`` for a constant LR.
        train_batches: ``train_batches(epoch, start)`` -> iterable of ``(inputs, targets)``;
            see the module docstring.
        epochs: Epochs to train, >= 1.
        cadence: When the scheduler steps: ``"step"`` (after every optimizer step that really
            happened), ``"epoch"`` (``scheduler.step()`` after each epoch) or ``"metric"``
            (``scheduler.step(value)`` after each validation, for ``ReduceLROnPlateau``).
        val_batches: ``val_batches()`` -> iterable of validation batches, evaluated after every
            epoch; required for ``cadence="metric"``.
        metric: The value passed with ``cadence="metric"``: ``"val_loss"`` or ``"val_acc"``.
        loss_fn: ``loss_fn(logits, targets)``; cross-entropy by default.
        device: Default :func:`pick_device`.
        precision: ``"bf16"``, ``"fp16"`` or ``"fp32"``; default :func:`pick_precision`.
        channels_last: Channels-last memory format; default on for CUDA only.
        check_every: Steps between host copies of the losses and divergence checks; default 1
            on CPU, 50 elsewhere.
        divergence_factor: Stop when the smoothed loss exceeds this many times its minimum
            (and the first loss), > 1.
        checkpoint_path: Where to save resumable checkpoints (:mod:`lrcourse.checkpoint`);
            ``None`` saves nothing.
        checkpoint_every_steps: Also save every this many optimizer steps, mid-epoch; 0: never.
        checkpoint_every_epochs: Save after every this many epochs (and after the last); 0: never.
        resume: Continue from ``checkpoint_path`` if that file exists. The saved config (yours,
            the trainer's settings and the schedule's signature) must equal this run's, or a
            ``ConfigMismatchError`` names what changed.
        config: Your run settings (model, batch size, seed...), JSON-safe; stored in
            ``History.config`` and the checkpoint.
        progress: tqdm progress bars; default on when stderr is a terminal and ``CI`` is unset.

    Returns:
        The :class:`History`; a diverged run is returned too, with ``diverged=True``.
    """
    # -- check and resolve the settings ------------------------------------------------------
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (got model of type {type(model).__name__})")
    check_optimizer(optimizer)
    if not callable(train_batches):
        raise TypeError("train_batches must be a callable: train_batches(epoch, start) -> iterable of batches")
    epochs = check_int(epochs, "epochs", low=1)
    cadence = check_choice(cadence, "cadence", CADENCES)
    metric = check_choice(metric, "metric", METRICS)
    if cadence == "metric" and val_batches is None:
        raise ValueError("cadence='metric' needs val_batches: the metric comes from a held-out validation split")
    if _needs_metric(scheduler) and cadence != "metric":
        raise ValueError(
            f"{type(scheduler).__name__} is stepped with a metric and needs cadence='metric' (got cadence={cadence!r})"
        )
    device = pick_device() if device is None else torch.device(device)
    precision = pick_precision(device) if precision is None else check_choice(precision, "precision", PRECISIONS)
    channels_last = device.type == "cuda" if channels_last is None else check_bool(channels_last, "channels_last")
    if check_every is None:
        check_every = 1 if device.type == "cpu" else 50  # a host copy is free on CPU, a stall on GPU
    check_every = check_int(check_every, "check_every", low=1)
    divergence_factor = check_real(divergence_factor, "divergence_factor", low=1.0, low_open=True)
    checkpoint_every_steps = check_int(checkpoint_every_steps, "checkpoint_every_steps", low=0)
    checkpoint_every_epochs = check_int(checkpoint_every_epochs, "checkpoint_every_epochs", low=0)
    resume = check_bool(resume, "resume")
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs a checkpoint_path to resume from")
    progress = _auto_progress() if progress is None else check_bool(progress, "progress")
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn

    if channels_last:
        model.to(device, memory_format=torch.channels_last)
    else:
        model.to(device)
    scaler = _grad_scaler(device, precision)
    full_config = {
        "run": dict(config or {}),
        "trainer": {"epochs": epochs, "cadence": cadence, "metric": metric if cadence == "metric" else None,
                    "precision": precision},
        "schedule": schedule_signature(scheduler),
    }
    history = History(config=full_config)
    monitor = _DivergenceMonitor(divergence_factor)
    epoch, start_batch = 0, 0
    # Running sums of the current epoch, kept on the device (no sync per step).
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0

    # -- resume ------------------------------------------------------------------------------
    if resume and Path(checkpoint_path).exists():  # type: ignore[arg-type]
        state = load_checkpoint(checkpoint_path, model=model, optimizer=optimizer,  # type: ignore[arg-type]
                                scheduler=scheduler, scaler=scaler, config=full_config)
        extra = state["extra"]
        history = History.from_dict(extra["history"])
        monitor.load_state_dict(extra["monitor"])
        loss_sum, correct = extra["loss_sum"].to(device), extra["correct"].to(device)
        seen = extra["seen"]
        epoch, start_batch = state["position"]["epoch"], state["position"]["batch"]
        restore_rng_state(state["rng"])

    pending: list[torch.Tensor] = []  # step losses not yet copied to the host

    def flush() -> str | None:
        """Copy pending losses to the host (one sync) and check them; return a divergence message."""
        if not pending:
            return None
        first_step = len(history.loss)
        values = torch.stack(pending).tolist()
        pending.clear()
        history.loss.extend(values)
        for i, value in enumerate(values):
            reason = monitor.update(value)
            if reason is not None:
                at = first_step + i
                history.diverged, history.diverged_at = True, at
                history.message = f"diverged at step {at} (epoch {epoch}, lr {history.lr[at]:.4g}): {reason}"
                del history.loss[at + 1 :]  # keep the record up to the step that diverged
                del history.lr[at + 1 :]
                return history.message
        return None

    def save(next_epoch: int, next_batch: int) -> None:
        if checkpoint_path is None:
            return
        extra = {"history": history.to_dict(), "monitor": monitor.state_dict(),
                 "loss_sum": loss_sum, "correct": correct, "seen": seen}
        save_checkpoint(checkpoint_path, model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                        position={"epoch": next_epoch, "batch": next_batch}, config=full_config, extra=extra)

    started = time.perf_counter() - history.wall_time
    epoch_started = time.perf_counter()
    while epoch < epochs and not history.diverged:
        # -- one epoch ------------------------------------------------------------------------
        model.train()
        batches = train_batches(epoch, start_batch)
        total = len(batches) if hasattr(batches, "__len__") else None  # type: ignore[arg-type]
        bar = _progress_bar(batches, progress, epoch, epochs, start_batch, total)
        for batch_index, batch in enumerate(bar, start=start_batch):
            x, y = _to_device(batch, device, channels_last)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            with _autocast(device, precision):
                out = model(x)
                loss = loss_fn(out.float(), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            stepped = scaler_step(scaler, optimizer)  # False when GradScaler skipped the step
            if stepped:
                history.steps += 1
                if scheduler is not None and cadence == "step":
                    scheduler.step()  # after optimizer.step(), never before
            else:
                history.skipped_steps += 1
            pending.append(loss.detach().float())
            loss_sum += loss.detach().float() * y.shape[0]
            correct += (out.argmax(dim=1) == y).sum()
            seen += y.shape[0]
            if len(pending) >= check_every and flush() is not None:
                break
            if stepped and checkpoint_every_steps and history.steps % checkpoint_every_steps == 0:
                if flush() is not None:
                    break
                save(epoch, batch_index + 1)
            if progress and history.loss:
                bar.set_postfix(loss=f"{history.loss[-1]:.3f}", lr=f"{history.lr[-1]:.3g}", refresh=False)
        if flush() is not None or history.diverged:
            break
        if seen == 0:
            raise ValueError(f"train_batches({epoch}, {start_batch}) yielded no batch")

        # -- end of epoch: statistics, validation, epoch-level scheduler step -----------------
        history.train_loss.append(loss_sum.item() / seen)  # the one sync of the epoch
        history.train_acc.append(correct.item() / seen)
        if val_batches is not None:
            val_loss, val_acc = evaluate(model, val_batches(), loss_fn=loss_fn, device=device,
                                         precision=precision, channels_last=channels_last)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        if scheduler is not None and cadence == "epoch":
            scheduler.step()
        elif scheduler is not None and cadence == "metric":
            scheduler.step(history.val_loss[-1] if metric == "val_loss" else history.val_acc[-1])
        now = time.perf_counter()
        history.epoch_time.append(now - epoch_started)
        history.wall_time = now - started
        epoch_started = now
        epoch, start_batch = epoch + 1, 0
        loss_sum, correct, seen = torch.zeros_like(loss_sum), torch.zeros_like(correct), 0
        if checkpoint_every_epochs and (epoch % checkpoint_every_epochs == 0 or epoch == epochs):
            save(epoch, 0)

    history.wall_time = time.perf_counter() - started
    if history.diverged:
        _write(history.message, progress)
    return history


def _write(message: str, progress: bool) -> None:
    if progress:
        from tqdm.auto import tqdm

        tqdm.write(message)
    else:
        print(message)


def _progress_bar(batches: Iterable[Batch], progress: bool, epoch: int, epochs: int, start: int, total: int | None):
    if not progress:
        return batches
    from tqdm.auto import tqdm

    return tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", initial=start,
                total=None if total is None else start + total, leave=False, dynamic_ncols=True)
