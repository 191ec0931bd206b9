"""The learning rate a schedule produces at every step, without touching a real optimizer.

Plotting a schedule by stepping the scheduler that will train the model advances it before
training starts (a bug in more than one tutorial). :func:`preview` builds a throw-away
optimizer over a single dummy parameter, hands it to ``make_scheduler``, and records the LR
that each optimizer step would use.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

import torch

from ._validate import check_int, check_lr, check_scheduler_groups

__all__ = ["preview"]


def _metric_value(value: Any, name: str) -> float:
    # Every real number type counts (int, float, NumPy scalars, Fraction) and one-element tensors
    # or arrays, as ReduceLROnPlateau takes them; bool does not (True is never a loss). A NumPy
    # value can only exist once NumPy is loaded, so the library never imports it itself.
    np = sys.modules.get("numpy")
    is_array = np is not None and isinstance(value, np.ndarray)
    if (is_array and value.size == 1) or (isinstance(value, torch.Tensor) and value.numel() == 1):
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or (np is not None and isinstance(value, np.bool_)):
        raise TypeError(f"{name} must be a real number (got {name}={value!r} of type {type(value).__name__})")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ValueError(
            f"{name} must be finite: NaN and infinities are not metrics a schedule can compare "
            f"(got {name}={value!r})"
        )
    return result


def _check_metrics(metrics: Any, steps: int) -> list[float]:
    if isinstance(metrics, (str, bytes, Mapping)) or not isinstance(metrics, Iterable):
        raise TypeError(
            "metrics must be a sequence or array of real numbers, one per step "
            f"(got metrics of type {type(metrics).__name__})"
        )
    values = list(metrics)
    if len(values) != steps:
        raise ValueError(f"metrics must hold one value per step (got {len(values)} values for steps={steps})")
    return [_metric_value(value, f"metrics[{i}]") for i, value in enumerate(values)]


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
            ``scheduler.step(metric)``: ``steps`` finite real numbers (a list, a NumPy array, a
            tensor...), each passed on as a Python float.

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
        metrics = _check_metrics(metrics, steps)

    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    scheduler = make_scheduler(optimizer)
    if getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError(
            "make_scheduler must build its scheduler on the optimizer it is given "
            "(the returned object is not attached to it); write e.g. "
            "`lambda opt: StepLR(opt, step_size=10)`, not a scheduler of your training optimizer"
        )
    check_scheduler_groups(scheduler, "the scheduler make_scheduler returned")

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
