"""The learning rate a schedule produces at every step, without touching a real optimizer.

Plotting a schedule by stepping the scheduler that will train the model advances it before
training starts (a bug in more than one tutorial). :func:`preview` builds a throw-away
optimizer over a single dummy parameter, hands it to ``make_scheduler``, and records the LR
that each optimizer step would use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, overload

import torch

from ._validate import check_int, check_lr

__all__ = ["preview"]


@overload
def preview(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    base_lr: float = ...,
    *,
    metrics: Sequence[float] | None = ...,
) -> list[float]: ...


@overload
def preview(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    base_lr: Sequence[float],
    *,
    metrics: Sequence[float] | None = ...,
) -> list[list[float]]: ...


def preview(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    base_lr: float | Sequence[float] = 0.1,
    *,
    metrics: Sequence[float] | None = None,
) -> list[float] | list[list[float]]:
    """Return the LR used by optimizer steps ``0 .. steps-1`` under the scheduler ``make_scheduler`` builds.

    Args:
        make_scheduler: called once with a fresh ``torch.optim.SGD`` (momentum 0.9, so cyclic
            momentum schedules work) and must return a scheduler built on *that* optimizer, e.g.
            ``lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30)``.
        steps: how many optimizer steps to record (the scheduler is stepped after each).
        base_lr: the LR the optimizer starts with; a sequence gives one parameter group per value.
        metrics: for ``ReduceLROnPlateau``-style schedulers, the metric passed to each
            ``scheduler.step(metric)``; must hold ``steps`` values.

    Returns:
        ``lrs[s]``, the LR of optimizer step ``s``, for a single ``base_lr``; for a sequence of
        base LRs, one such list per parameter group.
    """
    if not callable(make_scheduler):
        raise TypeError(
            "make_scheduler must be a callable that takes an optimizer and returns a scheduler "
            f"(got {type(make_scheduler).__name__})"
        )
    steps = check_int(steps, "steps", low=0)
    many = isinstance(base_lr, Sequence) and not isinstance(base_lr, (str, bytes))
    lrs = [check_lr(v, f"base_lr[{i}]") for i, v in enumerate(base_lr)] if many else [check_lr(base_lr, "base_lr")]
    if many and not lrs:
        raise ValueError("base_lr must hold at least one learning rate (got an empty sequence)")
    if metrics is not None:
        metrics = list(metrics)
        if len(metrics) != steps:
            raise ValueError(f"metrics must hold one value per step (got {len(metrics)} values for steps={steps})")
        bad = [m for m in metrics if not isinstance(m, (int, float)) or not math.isfinite(m)]
        if bad:
            raise ValueError(f"metrics must be finite numbers (got {bad[0]!r})")

    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    scheduler = make_scheduler(optimizer)
    if getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError(
            "make_scheduler must build its scheduler on the optimizer it is given "
            "(the returned object is not attached to it); write e.g. "
            "`lambda opt: StepLR(opt, step_size=10)`, not a scheduler of your training optimizer"
        )

    per_group: list[list[float]] = [[] for _ in lrs]
    for step in range(steps):
        for values, group in zip(per_group, optimizer.param_groups):
            values.append(float(group["lr"]))
        # The dummy parameter has no gradient, so this step changes nothing; it is here so the
        # scheduler sees the usual optimizer.step() -> scheduler.step() order and stays quiet.
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[step])
    return per_group if many else per_group[0]
