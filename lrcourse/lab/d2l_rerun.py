"""d2l's "Learning Rate Scheduling" experiment, re-run as d2l ran it and corrected.

Dive into Deep Learning (Zhang, Lipton, Li and Smola; §12.11 of d2l 1.0.3, PyTorch tab) trains
its LeNet on Fashion-MNIST for 30 epochs, batch 256, plain SGD without momentum or weight decay,
with five schedules set once per epoch, and prints one seed's final train loss, train accuracy
and test accuracy (``D2L_PUBLISHED``). Its code has two bugs that change what it measures:

* **One epoch late.** Its loop sets ``lr = scheduler(epoch)`` *after* epoch ``epoch``, so epoch
  ``e`` trains at ``scheduler(e - 1)`` and epoch 0 at whatever rate the optimizer was built with.
  The warmup run therefore starts at the full 0.3 and trains its second epoch at 0.
* **A scheduler stepped by its plot.** The multi-factor run plots ``MultiStepLR`` by stepping it
  30 times before training, past both milestones (15 and 30, ×0.5 each): the run trains at a
  constant 0.125 instead of 0.5 dropping to 0.25.

``timing="as_run"`` reproduces both; ``timing="corrected"`` applies each schedule on time and at
every optimizer step (``t`` in fractional epochs), so the warmup rises from 0 over its 5 epochs
without spending a whole epoch at rate 0, and the multi-factor run drops at epoch 15.
:func:`run_d2l` trains one run with the lab's loop (exact resume, divergence checks) and returns
a result :func:`~lrcourse.lab.sweeps.sweep` can write; :func:`d2l_data` is d2l's data: all 60 000
training images scaled to 0..1 (``ToTensor``, no normalization, no augmentation), reshuffled
every epoch, and the test split evaluated after every epoch, as d2l does. No schedule here
reacts to a metric, so no validation split is needed; the test curve is only watched.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import lr_scheduler

from .._validate import check_choice, check_int, check_real
from ..device import pick_device

__all__ = ["D2L_PUBLISHED", "D2L_RUNS", "D2L_SOURCE", "TIMINGS", "D2LScheduleLR", "as_run_rate", "d2l_data",
           "d2l_rate", "run_d2l"]

D2L_RUNS: tuple[str, ...] = ("constant", "sqrt", "multifactor", "cosine", "warmup")
TIMINGS: tuple[str, ...] = ("as_run", "corrected")
D2L_SOURCE = ("Zhang, Lipton, Li & Smola, Dive into Deep Learning, §12.11 Learning Rate Scheduling, "
              "PyTorch tab, d2l 1.0.3 (the outputs of its published notebook)")
# The final line each run prints in the published notebook: (train loss, train acc, test acc).
D2L_PUBLISHED: dict[str, tuple[float, float, float]] = {
    "constant": (0.145, 0.944, 0.877),
    "sqrt": (0.273, 0.900, 0.886),
    "multifactor": (0.194, 0.927, 0.869),
    "cosine": (0.159, 0.942, 0.904),
    "warmup": (0.181, 0.934, 0.901),
}
EPOCHS, PEAK = 30, 0.3
# The rate each run's optimizer is built with, which d2l's loop trains epoch 0 at. The square-root
# run reuses the variable ``lr`` after an earlier cell set it to 0.1.
_BUILT_WITH = {"constant": 0.3, "sqrt": 0.1, "multifactor": 0.5, "cosine": 0.3, "warmup": 0.3}


def _cosine(t: float, max_update: float, warmup: float) -> float:
    """d2l's ``CosineScheduler(max_update, base_lr=0.3, final_lr=0.01, warmup_steps=warmup)`` at ``t``."""
    if t < warmup:
        return PEAK * t / warmup  # warmup_begin_lr = 0
    t = min(t, max_update)  # after max_update it keeps its last value, final_lr
    return 0.01 + (PEAK - 0.01) * (1 + math.cos(math.pi * (t - warmup) / (max_update - warmup))) / 2


def d2l_rate(run: str, t: float) -> float:
    """The rate d2l's schedule ``run`` gives at epoch ``t`` (a float: fractions are within an epoch).

    ``constant``: 0.3. ``sqrt``: ``0.1 (t + 1)^-1/2``. ``multifactor``: 0.5, ×0.5 at epochs 15 and
    30. ``cosine``: from 0.3 to 0.01 over 20 epochs, then 0.01. ``warmup``: linear from 0 to 0.3
    over 5 epochs, then the cosine down to 0.01 at epoch 20.
    """
    run = check_choice(run, "run", D2L_RUNS)
    t = check_real(t, "t", low=0.0)
    if run == "constant":
        return PEAK
    if run == "sqrt":
        return 0.1 * (t + 1.0) ** -0.5
    if run == "multifactor":
        return 0.5 * 0.5 ** sum(1 for milestone in (15, 30) if math.floor(t) >= milestone)
    return _cosine(t, 20, 5 if run == "warmup" else 0)


def as_run_rate(run: str, epoch: int) -> float:
    """The rate d2l's code really trains epoch ``epoch`` of ``run`` at: the optimizer's own rate
    in epoch 0, then the schedule one epoch late; the multi-factor run, stepped 30 times by its
    plot, stays at 0.125."""
    run = check_choice(run, "run", D2L_RUNS)
    epoch = check_int(epoch, "epoch", low=0)
    if run == "multifactor":
        return 0.125
    return _BUILT_WITH[run] if epoch == 0 else d2l_rate(run, epoch - 1)


class D2LScheduleLR(lr_scheduler.LRScheduler):
    """d2l's schedule ``run`` as an ``LRScheduler`` (every param group gets the same rate).

    ``timing="as_run"``: stepped once per epoch, epoch ``e`` at :func:`as_run_rate`.
    ``timing="corrected"``: stepped after every optimizer step, step ``s`` at
    ``d2l_rate(run, s / steps_per_epoch)``. The state is plain data, so it saves with the model.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, run: str, timing: str, steps_per_epoch: int,
                 last_epoch: int = -1) -> None:
        self.run = check_choice(run, "run", D2L_RUNS)
        self.timing = check_choice(timing, "timing", TIMINGS)
        self.steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", low=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rate of the current step (or epoch, as run), the same for every param group."""
        if self.timing == "as_run":
            rate = as_run_rate(self.run, self.last_epoch)
        else:
            rate = d2l_rate(self.run, self.last_epoch / self.steps_per_epoch)
        return [rate for _ in self.optimizer.param_groups]


def build_d2l_schedule(run: str, timing: str, optimizer: torch.optim.Optimizer,
                       steps_per_epoch: int) -> tuple[Any, str]:
    """``(scheduler, cadence)`` for :func:`lrcourse.lab.training.train`.

    The multi-factor run as run is d2l's own object: ``MultiStepLR(milestones=[15, 30],
    gamma=0.5)`` on an optimizer at 0.5, stepped 30 times (``optimizer.step()`` before each,
    without gradients, as d2l's plotting helper does) before training starts.
    """
    run, timing = check_choice(run, "run", D2L_RUNS), check_choice(timing, "timing", TIMINGS)
    if timing == "as_run" and run == "multifactor":
        for group in optimizer.param_groups:
            group["lr"] = _BUILT_WITH[run]
        scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=[15, 30], gamma=0.5)
        for _ in range(EPOCHS):  # d2l's get_lr(): the plot's 30 points
            optimizer.step()
            scheduler.step()
        return scheduler, "epoch"
    scheduler = D2LScheduleLR(optimizer, run, timing, steps_per_epoch)
    return scheduler, "epoch" if timing == "as_run" else "step"


def d2l_data(root: str | os.PathLike[str] = "data", batch_size: int = 256,
             device: str | torch.device | None = None,
             folder: str | os.PathLike[str] | None = None) -> Callable[[int], Any]:
    """d2l's Fashion-MNIST: all 60 000 training images, 0..1, reshuffled per epoch by the run's
    seed; the 10 000 test images are both the per-epoch curve and the final number, as in d2l.
    The files are found as :func:`~lrcourse.lab.data.fashion_mnist.load_fashion_mnist` finds them."""
    from .data import TensorLoader, load_fashion_mnist
    from .providers import RunData

    device = pick_device() if device is None else torch.device(device)
    batch_size = check_int(batch_size, "batch_size", low=1)
    train_split = load_fashion_mnist(root, "train", folder=folder)
    test_split = load_fashion_mnist(root, "test", folder=folder)
    files = {"data set": "Fashion-MNIST", "folder": train_split.origin[0], "found": train_split.origin[1],
             "content_md5": {**train_split.md5, **test_split.md5}}
    description = (f"{train_split.description} (d2l: 0..1, no normalization or augmentation); "
                   f"{test_split.description}, evaluated after every epoch as d2l does")
    scale = {"pad": 0, "flip": False, "mean": (0.0,), "std": (1.0,)}  # ToTensor: x / 255

    def provider(seed: int) -> RunData:
        train = TensorLoader(train_split, batch_size, train=True, seed=seed, device=device, **scale)
        test = TensorLoader(test_split, batch_size, train=False, seed=seed, device=device, **scale)
        return RunData(train_batches=train.iter_epoch, val_batches=lambda: test.iter_epoch(0),
                       test_batches=lambda: test.iter_epoch(0), steps_per_epoch=len(train),
                       description=description, data_files=files)

    return provider


def run_d2l(
    run: str,
    seed: int,
    data: Callable[[int], Any],
    *,
    timing: str = "corrected",
    model: str = "lenet",
    optimizer: str = "sgd",
    epochs: int = EPOCHS,
    lr: float = PEAK,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    device: str | torch.device | None = None,
    precision: str | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Train d2l's run ``run`` with ``seed``; the result has :func:`~lrcourse.lab.runs.run_one`'s form.

    The settings are d2l's and are checked, not chosen: LeNet, plain SGD (``momentum=0``,
    ``weight_decay=0``), 30 epochs, the rates of :func:`d2l_rate`. They are parameters so a sweep
    records and compares them; ``timing`` ("as_run" or "corrected") is the one real choice.
    ``final.val_*`` and the per-epoch ``history.val_*`` are the **test** split (d2l's curve).
    """
    from .runs import run_with_schedule

    run = check_choice(run, "run", D2L_RUNS)
    timing = check_choice(timing, "timing", TIMINGS)
    fixed = {"model": (model, "lenet"), "optimizer": (optimizer, "sgd"), "epochs": (epochs, EPOCHS), "lr": (lr, PEAK),
             "momentum": (momentum, 0.0), "weight_decay": (weight_decay, 0.0)}
    for name, (value, d2l_value) in fixed.items():
        if value != d2l_value:
            raise ValueError(f"{name} must be d2l's {d2l_value!r} in a re-run of d2l's experiment (got {name}={value!r})")
    return run_with_schedule(
        run, seed, data, lambda opt, steps: build_d2l_schedule(run, timing, opt, steps),
        model=model, optimizer=optimizer, epochs=epochs, lr=_BUILT_WITH[run], momentum=0.0, weight_decay=0.0,
        device=device, precision=precision, checkpoint_path=checkpoint_path, progress=progress,
        extra_config={"timing": timing, "lr": lr},
    )
