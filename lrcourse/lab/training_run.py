"""The parts of :func:`lrcourse.lab.training.train`'s loop: a :class:`Run` and its steps.

``train`` checks its arguments, then drives a :class:`Run`::

    run = Run(model, optimizer, scheduler, ...)  # model on the device, History, running sums
    run.resume(checkpoint_path)                  # only with resume=True and a checkpoint on disk
    run.branch(snapshot)                         # or: continue another run's snapshot, another schedule
    run.start_clock()
    while run.epoch < epochs and not run.history.diverged:
        if not run.train_epoch(train_batches):   # one pass over the epoch's batches
            break                                # the run diverged
        run.end_epoch(val_batches)               # statistics, validation, epoch-level step, save
    run.finish()

One batch (:meth:`Run.train_step`): record every group's LR, forward under autocast, backward
through the gradient scaler, the optimizer step, the scheduler step (cadence ``"step"``, only if
the optimizer really stepped), the running sums, all on the device. Every ``check_every`` steps
:meth:`Run.flush` copies the step losses to the host in one synchronisation and feeds them to
the divergence monitor. :meth:`Run.save` and :meth:`Run.resume` write and read everything that
makes a resumed run continue bit for bit. A mid-epoch save comes every ``checkpoint_every_steps``
optimizer steps, and after the first step that ends ``checkpoint_every_seconds`` or more after the
last save (timed by ``_clock``, from the end of that save; an epoch's save counts too).
A snapshot (``snapshots``) is a checkpoint saved to its own file after a given optimizer step: a
branch point, from which :meth:`Run.branch` continues with another schedule (a cooldown).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ..device import _autocast, _grad_scaler, _to_device
from ..evaluation import evaluate
from ..rng import restore_rng_state
from ..scheduler_settings import schedule_signature
from ..steps import scaler_step
from .checkpoint import ConfigMismatchError, load_checkpoint, save_checkpoint
from .divergence import DivergenceMonitor
from .schedule_free import is_schedule_free, recompute_batchnorm
from .history import History

__all__ = ["Run"]

Batch = tuple[torch.Tensor, torch.Tensor]

#: The clock of ``checkpoint_every_seconds``: monotonic, so a change of the system time moves
#: nothing. Looked up at each call, so a test can replace it with a clock it controls.
_clock = time.monotonic


class Run:
    """The state of one training run, and the steps of its loop; settings come checked from ``train``."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        *,
        epochs: int,
        cadence: str,
        metric: str,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        device: torch.device,
        precision: str,
        channels_last: bool,
        check_every: int,
        divergence_factor: float,
        checkpoint_path: str | os.PathLike[str] | None,
        checkpoint_every_steps: int,
        checkpoint_every_epochs: int,
        checkpoint_every_seconds: float,
        progress: bool,
        config: Mapping[str, Any] | None,
        snapshots: Mapping[int, str | os.PathLike[str]] | None = None,
    ) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.epochs, self.cadence, self.metric, self.loss_fn = epochs, cadence, metric, loss_fn
        self.device, self.precision, self.channels_last = device, precision, channels_last
        self.check_every, self.progress = check_every, progress
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every_steps, self.checkpoint_every_epochs = checkpoint_every_steps, checkpoint_every_epochs
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.snapshots = dict(snapshots or {})  # optimizer step -> where to save a branch point
        # The rates the scheduler set when it was built: where a branch's walk to its point starts.
        self.initial_rates = [float(group["lr"]) for group in optimizer.param_groups]
        # Schedule-free: train() before the steps, eval() before evaluating and saving
        # (lrcourse.lab.schedule_free says why); the epoch's batches recompute BatchNorm at x.
        self.schedule_free = is_schedule_free(optimizer)
        self.train_batches: Callable[[int, int], Iterable[Batch]] | None = None
        # Saves by the clock only when there is somewhere to save: otherwise no clock, no flush.
        self.timed = bool(checkpoint_every_seconds) and checkpoint_path is not None
        self.last_save = 0.0  # the clock's time at the end of the last save; set by start_clock

        if channels_last:
            model.to(device, memory_format=torch.channels_last)
        else:
            model.to(device)
        self.scaler = _grad_scaler(device, precision)
        # Everything that must match for a resume to continue the same run.
        self.config = {
            "run": dict(config or {}),
            "trainer": {"epochs": epochs, "cadence": cadence, "metric": metric if cadence == "metric" else None,
                        "precision": precision},
            "schedule": schedule_signature(scheduler),
        }
        self.history = History(config=self.config)
        self.monitor = DivergenceMonitor(divergence_factor)
        self.epoch, self.start_batch = 0, 0
        # Running sums of the current epoch, kept on the device (no sync per step).
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device, dtype=torch.long)
        self.seen = 0
        self.pending: list[torch.Tensor] = []  # step losses not yet copied to the host
        self.started = self.epoch_started = time.perf_counter()

    # -- checkpoints ------------------------------------------------------------------------------

    def resume(self, checkpoint_path: str | os.PathLike[str]) -> None:
        """Load model, optimizer, scheduler, scaler, History, sums, position and RNG state."""
        state = load_checkpoint(checkpoint_path, model=self.model, optimizer=self.optimizer,
                                scheduler=self.scheduler, scaler=self.scaler, config=self.config)
        history = History.from_dict(state["extra"]["history"])
        groups = len(self.optimizer.param_groups)
        if history.group_lrs and len(history.group_lrs) != groups:
            raise ValueError(
                f"cannot resume: the checkpoint's History records {len(history.group_lrs)} param "
                f"groups but the optimizer has {groups}"
            )
        self._continue_from(state, history)

    def _continue_from(self, state: Mapping[str, Any], history: History) -> None:
        """Take over a loaded checkpoint's History, divergence monitor, running sums, data
        position and RNG states: what a resume and a branch share."""
        extra = state["extra"]
        self.history = history
        self.monitor.load_state_dict(extra["monitor"])
        self.loss_sum, self.correct = extra["loss_sum"].to(self.device), extra["correct"].to(self.device)
        self.seen = extra["seen"]
        self.epoch, self.start_batch = state["position"]["epoch"], state["position"]["batch"]
        restore_rng_state(state["rng"])

    def save(self, next_epoch: int, next_batch: int, path: str | os.PathLike[str] | None = None) -> None:
        """Save a checkpoint that resumes at batch ``next_batch`` of epoch ``next_epoch``, to
        ``path`` (a snapshot) or to the run's checkpoint."""
        if path is None and self.checkpoint_path is None:
            return
        extra = {"history": self.history.to_dict(), "monitor": self.monitor.state_dict(),
                 "loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen}
        round_trip = self.schedule_free and self.optimizer.param_groups[0]["train_mode"]
        if round_trip:
            self.optimizer.eval()  # a schedule-free checkpoint holds x, the point to evaluate
        save_checkpoint(self.checkpoint_path if path is None else path, model=self.model, optimizer=self.optimizer,
                        scheduler=self.scheduler, scaler=self.scaler,
                        position={"epoch": next_epoch, "batch": next_batch}, config=self.config, extra=extra)
        if round_trip:
            self.optimizer.train()
        if self.timed and path is None:
            self.last_save = _clock()  # from the end of a save: a slow one cannot make every step save

    def branch(self, snapshot: str | os.PathLike[str]) -> None:
        """Continue another run from its ``snapshot`` with this run's schedule (a branch).

        The model, optimizer, gradient scaler, History, running sums, data position and RNG
        states are the snapshot's; the scheduler is this run's, stepped to the snapshot's step.
        On the way it must give, step by step, the very rates the snapshot's run trained with
        (its History records them): a branch may change the schedule only after its branch
        point, so that it continues the run bit for bit as if trained straight through.
        """
        state = load_checkpoint(snapshot, model=self.model, optimizer=self.optimizer, scaler=self.scaler)
        trainer, mine = state["config"].get("trainer", {}), self.config["trainer"]
        for key in ("cadence", "precision"):
            if trainer.get(key) != mine[key]:
                raise ConfigMismatchError(
                    f"cannot branch from {snapshot}: its run was trained with {key} {trainer.get(key)!r}, "
                    f"this one has {mine[key]!r}; a branch changes the schedule after the branch point only",
                    [(f"trainer.{key}", trainer.get(key), mine[key])])
        history = History.from_dict(state["extra"]["history"])
        if history.skipped_steps:  # its recorded rates no longer line up with the scheduler's steps
            raise ValueError(f"cannot branch from {snapshot}: its run skipped {history.skipped_steps} step(s) "
                             "(fp16 overflow), so its rates cannot be checked step by step")
        self._advance_scheduler(history, snapshot)
        history.config = self.history.config
        self._continue_from(state, history)

    def _advance_scheduler(self, history: History, snapshot: str | os.PathLike[str]) -> None:
        """Step this run's scheduler to ``history.steps``, checking each rate against ``history``.

        The snapshot's optimizer state has overwritten the rates by now, so the walk starts from
        the rates the scheduler set when it was built (kept by ``__init__``) and ends by setting
        the optimizer's rates to the scheduler's at the branch point."""
        if self.cadence != "step":
            raise ValueError(f"a branch needs cadence='step' (got cadence={self.cadence!r}): its schedule is "
                             "advanced to the branch point one optimizer step at a time")
        groups = self.optimizer.param_groups
        trained = history.group_lrs or [history.lr]
        current = list(self.initial_rates)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "scheduler.step() before optimizer.step()"
            for step in range(history.steps):
                for g, values in enumerate(trained):
                    if values[step] != current[g]:
                        raise ValueError(
                            f"cannot branch from {snapshot}: this schedule's rate at step {step} is {current[g]!r} "
                            f"(group {g}), the run trained with {values[step]!r}; a branch may change the "
                            f"schedule only after its branch point, step {history.steps}")
                for group, lr in zip(groups, current, strict=True):
                    group["lr"] = lr  # what a chainable scheduler reads
                self.scheduler.step()
                current = [float(group["lr"]) for group in groups]
        for group, lr in zip(groups, current, strict=True):
            group["lr"] = lr

    def save_due(self) -> bool:
        """Whether the step just taken ends a mid-epoch interval: by step count, or by the clock."""
        every = self.checkpoint_every_steps
        if every and self.history.steps % every == 0:
            return True
        return self.timed and _clock() - self.last_save >= self.checkpoint_every_seconds

    # -- the loop ---------------------------------------------------------------------------------

    def start_clock(self) -> None:
        """Start timing; a resumed run goes on counting from its saved wall time."""
        self.started = time.perf_counter() - self.history.wall_time
        self.epoch_started = time.perf_counter()
        if self.timed:
            self.last_save = _clock()  # checkpoint_every_seconds counts from here until the first save

    def train_epoch(self, train_batches: Callable[[int, int], Iterable[Batch]]) -> bool:
        """One pass over the epoch's batches, from ``start_batch``; ``False`` if the run diverged."""
        self.model.train()
        self.train_batches = train_batches
        if self.schedule_free:
            self.optimizer.train()  # y into the parameters: gradients are taken there
        batches = train_batches(self.epoch, self.start_batch)
        total = len(batches) if hasattr(batches, "__len__") else None  # type: ignore[arg-type]
        bar = _progress_bar(batches, self.progress, self.epoch, self.epochs, self.start_batch, total)
        for batch_index, batch in enumerate(bar, start=self.start_batch):
            stepped = self.train_step(batch)
            if len(self.pending) >= self.check_every and self.flush() is not None:
                break
            if stepped and self.save_due():
                if self.flush() is not None:
                    break
                self.save(self.epoch, batch_index + 1)
            if stepped and self.history.steps in self.snapshots:  # a branch point
                if self.flush() is not None:
                    break
                self.save(self.epoch, batch_index + 1, self.snapshots[self.history.steps])
            if self.progress and self.history.loss:
                bar.set_postfix(loss=f"{self.history.loss[-1]:.3f}", lr=f"{self.history.lr[-1]:.3g}", refresh=False)
        if self.flush() is not None or self.history.diverged:
            return False
        if self.seen == 0:
            raise ValueError(f"train_batches({self.epoch}, {self.start_batch}) yielded no batch")
        return True

    def train_step(self, batch: Batch) -> bool:
        """Train on one batch; return whether the optimizer stepped (GradScaler may skip it)."""
        x, y = _to_device(batch, self.device, self.channels_last)
        self._record_lrs()
        with _autocast(self.device, self.precision):
            out = self.model(x)
            loss = self.loss_fn(out.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        stepped = scaler_step(self.scaler, self.optimizer)  # False when GradScaler skipped the step
        if stepped:
            self.history.steps += 1
            if self.scheduler is not None and self.cadence == "step":
                self.scheduler.step()  # after optimizer.step(), never before
        else:
            self.history.skipped_steps += 1
        self.pending.append(loss.detach().float())
        self.loss_sum += loss.detach().float() * y.shape[0]
        self.correct += (out.argmax(dim=1) == y).sum()
        self.seen += y.shape[0]
        return stepped

    def _record_lrs(self) -> None:
        groups = self.optimizer.param_groups
        if not self.history.group_lrs:
            self.history.group_lrs = [[] for _ in groups]
        self.history.lr.append(float(groups[0]["lr"]))
        for values, group in zip(self.history.group_lrs, groups, strict=True):
            values.append(float(group["lr"]))

    def flush(self) -> str | None:
        """Copy pending losses to the host (one sync) and check them; return a divergence message."""
        if not self.pending:
            return None
        history = self.history
        first_step = len(history.loss)
        values = torch.stack(self.pending).tolist()
        self.pending.clear()
        history.loss.extend(values)
        for i, value in enumerate(values):
            reason = self.monitor.update(value)
            if reason is not None:
                at = first_step + i
                history.diverged, history.diverged_at = True, at
                history.message = f"diverged at step {at} (epoch {self.epoch}, lr {history.lr[at]:.4g}): {reason}"
                # Keep the record up to the step that diverged.
                for per_step in (history.loss, history.lr, *history.group_lrs):
                    del per_step[at + 1 :]
                return history.message
        return None

    def end_epoch(self, val_batches: Callable[[], Iterable[Batch]] | None) -> None:
        """Epoch statistics (the one sync of the epoch), validation, the epoch-level scheduler step, a save."""
        history = self.history
        history.train_loss.append(self.loss_sum.item() / self.seen)
        history.train_acc.append(self.correct.item() / self.seen)
        if self.schedule_free:
            self.optimizer.eval()  # x into the parameters, and BatchNorm's statistics measured there
            if self.train_batches is not None:
                recompute_batchnorm(self.model, self.train_batches(self.epoch, 0), device=self.device)
        if val_batches is not None:
            val_loss, val_acc = evaluate(self.model, val_batches(), loss_fn=self.loss_fn, device=self.device,
                                         precision=self.precision, channels_last=self.channels_last)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        if self.scheduler is not None and self.cadence == "epoch":
            self.scheduler.step()
        elif self.scheduler is not None and self.cadence == "metric":
            self.scheduler.step(history.val_loss[-1] if self.metric == "val_loss" else history.val_acc[-1])
        now = time.perf_counter()
        history.epoch_time.append(now - self.epoch_started)
        history.wall_time = now - self.started
        self.epoch_started = now
        self.epoch, self.start_batch = self.epoch + 1, 0
        self.loss_sum, self.correct, self.seen = torch.zeros_like(self.loss_sum), torch.zeros_like(self.correct), 0
        every = self.checkpoint_every_epochs
        if every and (self.epoch % every == 0 or self.epoch == self.epochs):
            self.save(self.epoch, 0)

    def finish(self) -> History:
        """Stop the clock, say so if the run diverged, and return the History."""
        self.history.wall_time = time.perf_counter() - self.started
        if self.history.diverged:
            _write(self.history.message, self.progress)
        return self.history


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
