"""Schedule-free SGD and AdamW (Defazio et al. 2024) in the lab's loop.

A schedule-free optimizer keeps two points: ``y``, where gradients are taken, and ``x``, a
running average of the iterates, where the model should be evaluated. ``optimizer.train()`` puts
``y`` into the parameters and ``optimizer.eval()`` puts ``x`` there; every evaluation and every
checkpoint must happen in eval mode, and every training step in train mode. Three consequences
the loop (:mod:`lrcourse.lab.training_run`) takes care of:

* it calls ``train()`` before the steps of each epoch and ``eval()`` before each validation;
* BatchNorm's running statistics were gathered at ``y``; before evaluating at ``x`` they are
  recomputed at ``x`` from training batches (:func:`recompute_batchnorm`), without dropout, so
  that the global RNG, and with it the rest of the run, is untouched;
* a checkpoint is saved in eval mode (the model holds ``x``, what anyone loading it for
  inference wants), and training resumes after ``train()``. A save in the middle of an epoch
  goes ``eval()``, save, ``train()``: the round trip rounds the last bits of ``y``, in the run
  that saved and in the run that resumes alike, so a resume is still bit for bit; two runs that
  save at different steps differ in the last bits.

The optimizers come from the ``schedulefree`` package (``pip install "lrcourse[schedulefree]"``),
imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

__all__ = ["SCHEDULE_FREE", "build_schedule_free", "is_schedule_free", "recompute_batchnorm"]

SCHEDULE_FREE: tuple[str, ...] = ("sgd_schedulefree", "adamw_schedulefree")


def build_schedule_free(name: str, groups: Any, lr: float, momentum: float, warmup_steps: int) -> torch.optim.Optimizer:
    """``SGDScheduleFree`` (``momentum``, its weight decay an L2 term like SGD's) or
    ``AdamWScheduleFree`` (``betas=(momentum, 0.999)``, decoupled decay), warming up over
    ``warmup_steps`` inside the optimizer. ``groups`` carry their weight decay."""
    try:
        import schedulefree
    except ImportError:
        raise ImportError(f"optimizer {name!r} needs the schedulefree package: pip install "
                          "\"lrcourse[schedulefree]\" (or pip install schedulefree)") from None
    if name == "sgd_schedulefree":
        return schedulefree.SGDScheduleFree(groups, lr=lr, momentum=momentum, warmup_steps=warmup_steps)
    if name == "adamw_schedulefree":
        return schedulefree.AdamWScheduleFree(groups, lr=lr, betas=(momentum, 0.999), warmup_steps=warmup_steps)
    raise ValueError(f"name must be one of {', '.join(map(repr, SCHEDULE_FREE))} (got name={name!r})")


def is_schedule_free(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` has schedule-free train and eval modes (any implementation that keeps
    ``train_mode`` in its param groups, as the ``schedulefree`` package's do)."""
    return (callable(getattr(optimizer, "train", None)) and callable(getattr(optimizer, "eval", None))
            and all("train_mode" in group for group in optimizer.param_groups))


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], *,
                        device: torch.device, max_batches: int = 50) -> int:
    """Recompute every BatchNorm layer's running mean and variance at the model's current weights,
    as a plain average over up to ``max_batches`` batches; returns the batches used.

    Only the BatchNorm layers run in training mode (dropout stays off, so no random number is
    drawn); the model's modes are restored. A model without BatchNorm is left alone (0).
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    modes = {m: m.training for m in model.modules()}
    saved = [m.momentum for m in norms]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches, not an exponential one
        m.train()
    used = 0
    try:
        for x, _ in batches:
            if used == max_batches:
                break
            model(x.to(device, non_blocking=True))
            used += 1
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum
        for m, training in modes.items():
            m.train(training)
    return used
