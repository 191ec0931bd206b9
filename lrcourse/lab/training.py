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
seed), not on the global RNG. ``lrcourse.lab.data.TensorLoader`` is built for this: pass
``train_batches=loader.iter_epoch`` and ``val_batches=lambda: val_loader.iter_epoch(0)``. A plain
``DataLoader`` works with a per-epoch generator and :func:`skip_batches`::

    def train_batches(epoch, start):
        g = torch.Generator().manual_seed(1000 * seed + epoch)
        return skip_batches(DataLoader(train_set, 512, shuffle=True, generator=g), start)

``val_batches()`` returns the batches of a **held-out validation split** (never the test set);
it drives ``cadence="metric"`` schedulers such as ``ReduceLROnPlateau``. Report the test split once,
at the end, with :func:`~lrcourse.evaluation.evaluate`.

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

**Where the parts live.** This module checks the arguments and drives the loop; the loop's
parts are the methods of :class:`lrcourse.lab.training_run.Run` (one batch, the host copy and
divergence check, the end of an epoch, saving and resuming). The divergence monitor is in
:mod:`lrcourse.lab.divergence` and :class:`~lrcourse.lab.history.History` in :mod:`lrcourse.lab.history`. From the
library come :func:`~lrcourse.evaluation.evaluate`, the schedule's signature
(:mod:`lrcourse.scheduler_settings`, which :mod:`lrcourse.resume` reads too) and the device and
precision (``pick_device``, ``pick_precision``, ``PRECISIONS``, autocast, the gradient scaler, in
:mod:`lrcourse.device`). Import the loop as ``from lrcourse.lab import train``.
"""

from __future__ import annotations

import inspect
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .._validate import check_bool, check_choice, check_int, check_optimizer, check_real, check_scheduler_groups
from ..device import PRECISIONS, pick_device, pick_precision
from .history import History
from .training_run import Run

__all__ = ["CADENCES", "METRICS", "skip_batches", "train"]

CADENCES = ("step", "epoch", "metric")
METRICS = ("val_loss", "val_acc")
Batch = tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------------------------
# Resuming a plain iterable
# ----------------------------------------------------------------------------------------------


def skip_batches(batches: Iterable[Batch], start: int) -> Iterable[Batch]:
    """``batches`` without its first ``start`` items, to resume a plain iterable mid-epoch.

    The skipped batches are still produced (loaded, augmented) and thrown away; a loader that
    can start at a batch index directly is faster.
    """
    start = check_int(start, "start", low=0)
    return batches if start == 0 else itertools.islice(batches, start, None)


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


def _check_snapshots(snapshots: Any) -> dict[int, Path]:
    if snapshots is None:
        return {}
    if not isinstance(snapshots, Mapping):
        raise TypeError(f"snapshots must be a dict of optimizer step -> path (got {type(snapshots).__name__})")
    return {check_int(step, "snapshots step", low=1): Path(path) for step, path in snapshots.items()}


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
    checkpoint_every_seconds: float = 0,
    resume: bool = False,
    config: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    snapshots: Mapping[int, str | os.PathLike[str]] | None = None,
    branch_from: str | os.PathLike[str] | None = None,
    epoch_end: Callable[[History], None] | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs; return its :class:`~lrcourse.lab.history.History`.

    In four parts: check and resolve the settings; build a :class:`lrcourse.lab.training_run.Run`
    (model on the device, History, divergence monitor, running sums); resume from
    ``checkpoint_path`` if asked; then, per epoch, ``Run.train_epoch`` (a step per batch, host
    copies and divergence checks every ``check_every`` steps, mid-epoch saves) and
    ``Run.end_epoch`` (statistics, validation, the epoch-level scheduler step, the epoch save).

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
        device: Default :func:`~lrcourse.device.pick_device`.
        precision: ``"bf16"``, ``"fp16"`` or ``"fp32"``; default :func:`~lrcourse.device.pick_precision`.
        channels_last: Channels-last memory format; default on for CUDA only.
        check_every: Steps between host copies of the losses and divergence checks; default 1
            on CPU, 50 elsewhere.
        divergence_factor: Stop when the smoothed loss exceeds this many times its minimum
            (and the first loss), > 1.
        checkpoint_path: Where to save resumable checkpoints (:mod:`lrcourse.lab.checkpoint`);
            ``None`` saves nothing.
        checkpoint_every_steps: Also save every this many optimizer steps, mid-epoch; 0: never.
        checkpoint_every_epochs: Save after every this many epochs (and after the last); 0: never.
        checkpoint_every_seconds: Also save, mid-epoch, after the first optimizer step that ends
            this many seconds or more after the last save of any kind (by step count, by time, at
            an epoch's end; before the first one, after training started in this process); 0:
            never. A finite number >= 0. Timed with ``time.monotonic`` from the end of the last
            save, so a change of the system clock moves nothing and a slow save (to a network
            drive) cannot make every step save.
        resume: Continue from ``checkpoint_path`` if that file exists. The saved config (yours,
            the trainer's settings and the schedule's signature) must equal this run's, or a
            ``ConfigMismatchError`` names what changed.
        config: Your run settings (model, batch size, seed...), JSON-safe; stored in
            ``History.config`` and the checkpoint.
        progress: tqdm progress bars; default on when stderr is a terminal and ``CI`` is unset.
        snapshots: ``{step: path}``: after optimizer step ``step`` (counting from 1), also save a
            checkpoint to ``path``, a point that other runs can branch from.
        branch_from: A snapshot of another run to continue with this run's ``scheduler`` (a
            cooldown branched from a run at a constant rate, say). The model, optimizer, History,
            data position and RNG states are the snapshot's; the scheduler, built fresh, is
            stepped to the snapshot's step and must give the rates that run trained with at
            every step before it, or a ``ValueError`` names the first that differs. Trained so,
            a branch equals, bit for bit, a run trained straight through with its schedule.
            Needs ``cadence="step"``. With ``resume=True`` and ``checkpoint_path`` on disk, the
            run resumes from its own checkpoint instead (an interrupted branch).
        epoch_end: ``epoch_end(history)``, called after each epoch's validation and save, with
            the History so far (a resumed run's earlier epochs included). It may raise to stop
            the run there, which then resumes from that epoch's checkpoint: a search's pruner
            reads the validation accuracy here (:mod:`lrcourse.lab.tune`).

    Returns:
        The :class:`~lrcourse.lab.history.History`; a diverged run is returned too, with ``diverged=True``.
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
    if scheduler is not None:
        check_scheduler_groups(scheduler)
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
    checkpoint_every_seconds = check_real(checkpoint_every_seconds, "checkpoint_every_seconds", low=0.0)
    resume = check_bool(resume, "resume")
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs a checkpoint_path to resume from")
    snapshots = _check_snapshots(snapshots)
    if branch_from is not None:
        if scheduler is None:
            raise ValueError("branch_from needs a scheduler: a branch continues another run with its own schedule")
        if not Path(branch_from).is_file():
            raise FileNotFoundError(f"branch_from: no snapshot at {branch_from}")
    progress = _auto_progress() if progress is None else check_bool(progress, "progress")
    if epoch_end is not None and not callable(epoch_end):
        raise TypeError(f"epoch_end must be a callable epoch_end(history) or None (got {type(epoch_end).__name__})")
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn

    # -- the loop: see lrcourse.lab.training_run for each part -------------------------------------
    run = Run(model, optimizer, scheduler, epochs=epochs, cadence=cadence, metric=metric, loss_fn=loss_fn,
              device=device, precision=precision, channels_last=channels_last, check_every=check_every,
              divergence_factor=divergence_factor, checkpoint_path=checkpoint_path,
              checkpoint_every_steps=checkpoint_every_steps, checkpoint_every_epochs=checkpoint_every_epochs,
              checkpoint_every_seconds=checkpoint_every_seconds, progress=progress, config=config,
              snapshots=snapshots)
    if resume and Path(checkpoint_path).exists():  # type: ignore[arg-type]
        run.resume(checkpoint_path)  # type: ignore[arg-type]
    elif branch_from is not None:
        run.branch(branch_from)
    run.start_clock()
    while run.epoch < epochs and not run.history.diverged:
        if not run.train_epoch(train_batches):  # one pass over the batches, a step per batch
            break  # diverged
        run.end_epoch(val_batches)  # statistics, validation, epoch-level scheduler step, save
        if epoch_end is not None:
            epoch_end(run.history)
    return run.finish()
