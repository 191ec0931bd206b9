"""Resuming a schedule without surprises: see what a resume does, and refuse a silent change.

Two things go wrong when a run is stopped and resumed (the "Pitfalls gallery" chapter shows both):

* **Load order.** Building a scheduler writes the optimizer's learning rates, so the optimizer state
  must be loaded *after* the scheduler is built: build model, optimizer and scheduler, then load the
  optimizer state, then the scheduler state. :func:`resumed_lrs` runs a schedule with a save and a
  resume in the middle, in either order, and returns the learning rate of every step, so the two
  orders can be compared with an uninterrupted run.
* **Changed settings.** ``load_state_dict()`` copies every saved attribute onto the scheduler. A
  scheduler rebuilt with a different ``total_steps`` (the run was extended, a config changed) is
  silently put back to the saved value, or, for a ``LambdaLR`` whose function is not saved, silently
  continues on a different curve. :func:`scheduler_changes` lists the settings that differ and
  :func:`load_scheduler_state` refuses to load until each difference is either removed or allowed
  on purpose::

      scheduler = wsd(optimizer, warmup_steps=100, stable_steps=5_000, decay_steps=1_000)
      optimizer.load_state_dict(checkpoint["optimizer"])
      load_scheduler_state(scheduler, checkpoint["scheduler"], allow_changes=["stable_steps"])
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

import torch

from ._validate import check_choice, check_int, check_lr, check_scheduler_groups
from .scheduler_settings import NOT_SETTINGS, setting_changes

__all__ = ["load_scheduler_state", "resumed_lrs", "scheduler_changes"]

#: ``resumed_lrs`` load orders: the correct one first.
ORDERS: tuple[str, ...] = ("scheduler_first", "optimizer_first")

def _check_callable(value: Any, name: str) -> Callable[..., Any]:
    if not callable(value):
        raise TypeError(
            f"{name} must be a callable that takes an optimizer and returns a scheduler "
            f"(got {name} of type {type(value).__name__})"
        )
    return value


def _round_trip(state: dict[str, Any]) -> dict[str, Any]:
    """Save with ``torch.save`` and read back with ``weights_only=True``, as a checkpoint file would."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded: dict[str, Any] = torch.load(buffer, weights_only=True)
    return loaded


def _build(make_scheduler: Callable[..., Any], optimizer: torch.optim.Optimizer, name: str) -> Any:
    scheduler = make_scheduler(optimizer)
    if getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError(
            f"{name} must build its scheduler on the optimizer it is given (the returned object is "
            "not attached to it); write e.g. `lambda opt: StepLR(opt, step_size=10)`"
        )
    check_scheduler_groups(scheduler, name)
    return scheduler


@overload
def resumed_lrs(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    resume_at: int,
    base_lr: float = ...,
    *,
    order: str = ...,
    make_resumed_scheduler: Callable[[torch.optim.Optimizer], Any] | None = ...,
) -> list[float]: ...


@overload
def resumed_lrs(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    resume_at: int,
    base_lr: Sequence[float],
    *,
    order: str = ...,
    make_resumed_scheduler: Callable[[torch.optim.Optimizer], Any] | None = ...,
) -> list[list[float]]: ...


def resumed_lrs(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    resume_at: int,
    base_lr: float | Sequence[float] = 0.1,
    *,
    order: str = "scheduler_first",
    make_resumed_scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
) -> list[float] | list[list[float]]:
    """Return the LR of optimizer steps ``0 .. steps-1`` of a run that is saved and resumed.

    Like :func:`lrcourse.preview.preview`, the run uses a throw-away ``torch.optim.SGD`` (momentum
    0.9) over one dummy parameter per param group. After ``resume_at`` steps the optimizer's and
    the scheduler's ``state_dict()`` go through ``torch.save`` and
    ``torch.load(..., weights_only=True)``, as a checkpoint file would; then a fresh optimizer is
    built, the scheduler is rebuilt, the two states are loaded in ``order``, and the run continues.

    With ``order="scheduler_first"`` (build the scheduler, load the optimizer state, then the
    scheduler state) every built-in and ``lrcourse`` scheduler continues exactly: the result equals
    ``preview(make_scheduler, steps, base_lr)``. ``order="optimizer_first"`` loads the optimizer
    state before building the scheduler, which then overwrites the restored learning rates.

    Args:
        make_scheduler: Called with an optimizer; returns a scheduler built on it, e.g.
            ``lambda opt: OneCycleLR(opt, max_lr=1.0, total_steps=100)``.
        steps: Optimizer steps in the whole run, >= 0.
        resume_at: Steps taken before the save, ``0 <= resume_at <= steps``.
        base_lr: The optimizer's LR; a sequence gives one param group per value.
        order: ``"scheduler_first"`` (correct) or ``"optimizer_first"`` (the common mistake).
        make_resumed_scheduler: Builds the scheduler of the resumed run instead of
            ``make_scheduler``, e.g. with a changed ``total_steps``.

    Returns:
        ``lrs[s]``, the LR of optimizer step ``s``, for a single ``base_lr``; for a sequence of base
        LRs, one such list per param group.
    """
    _check_callable(make_scheduler, "make_scheduler")
    steps = check_int(steps, "steps", low=0)
    resume_at = check_int(resume_at, "resume_at", low=0)
    if resume_at > steps:
        raise ValueError(f"resume_at must be <= steps (got resume_at={resume_at}, steps={steps})")
    many = isinstance(base_lr, Sequence) and not isinstance(base_lr, (str, bytes))
    if many:
        lrs = [check_lr(v, f"base_lr[{i}]") for i, v in enumerate(base_lr)]  # type: ignore[arg-type]
        if not lrs:
            raise ValueError("base_lr must hold at least one learning rate (got an empty sequence)")
    else:
        lrs = [check_lr(base_lr, "base_lr")]
    order = check_choice(order, "order", ORDERS)
    if make_resumed_scheduler is not None:
        _check_callable(make_resumed_scheduler, "make_resumed_scheduler")

    def new_optimizer() -> torch.optim.Optimizer:
        groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)

    per_group: list[list[float]] = [[] for _ in lrs]

    def run(optimizer: torch.optim.Optimizer, scheduler: Any, first: int, last: int) -> None:
        for _ in range(first, last):
            for values, group in zip(per_group, optimizer.param_groups):
                values.append(float(group["lr"]))
            # No gradient: the step changes nothing, but keeps the optimizer-then-scheduler order.
            optimizer.step()
            scheduler.step()

    # 1. the original run, up to the save
    optimizer = new_optimizer()
    scheduler = _build(make_scheduler, optimizer, "make_scheduler")
    run(optimizer, scheduler, 0, resume_at)
    optimizer_state = _round_trip(optimizer.state_dict())
    scheduler_state = _round_trip(scheduler.state_dict())
    # 2. the resumed run: a fresh optimizer, the scheduler rebuilt, the states loaded in `order`
    make_again = make_resumed_scheduler if make_resumed_scheduler is not None else make_scheduler
    name = "make_resumed_scheduler" if make_resumed_scheduler is not None else "make_scheduler"
    optimizer = new_optimizer()
    if order == "scheduler_first":
        scheduler = _build(make_again, optimizer, name)
        optimizer.load_state_dict(optimizer_state)
    else:
        optimizer.load_state_dict(optimizer_state)
        scheduler = _build(make_again, optimizer, name)
    scheduler.load_state_dict(scheduler_state)
    run(optimizer, scheduler, resume_at, steps)
    return per_group if many else per_group[0]


def _check_scheduler(scheduler: Any) -> Any:
    # Duck-typed so that schedulers that are not torch LRScheduler subclasses (timm's) work too;
    # an optimizer has both methods but is never what is meant.
    has_methods = callable(getattr(scheduler, "state_dict", None)) and callable(
        getattr(scheduler, "load_state_dict", None)
    )
    if isinstance(scheduler, torch.optim.Optimizer) or not has_methods:
        raise TypeError(
            "scheduler must be a learning-rate scheduler with state_dict() and load_state_dict() "
            f"(got scheduler of type {type(scheduler).__name__})"
        )
    return scheduler


def _check_state(state_dict: Any) -> Mapping[str, Any]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            "state_dict must be a dict returned by a scheduler's state_dict() "
            f"(got state_dict of type {type(state_dict).__name__})"
        )
    return state_dict


def scheduler_changes(scheduler: Any, state_dict: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return the settings whose value in ``state_dict`` differs from ``scheduler``'s.

    Settings are the entries of ``scheduler.state_dict()`` read by
    :func:`lrcourse.scheduler_settings.settings` (the same reading ``train`` stores in a
    checkpoint): ``total_steps``, ``T_max``, ``base_lrs``, ``milestones``... Progress
    (``last_epoch``, the step count, the last LRs, a plateau's best value) is not a setting and is
    not compared; neither are callables such as a ``LambdaLR``'s function, which ``state_dict()``
    does not save. States nested in a ``SequentialLR`` are compared entry by entry and named like
    ``"_schedulers[1].T_max"``.

    Args:
        scheduler: The scheduler about to be loaded, built with the current settings.
        state_dict: A state saved by ``state_dict()`` of the same kind of scheduler.

    Returns:
        ``{name: (value in state_dict, value in scheduler)}``, empty when nothing differs.
    """
    _check_scheduler(scheduler)
    state_dict = _check_state(state_dict)
    return setting_changes(state_dict, scheduler.state_dict())


def load_scheduler_state(
    scheduler: Any, state_dict: Mapping[str, Any], *, allow_changes: Iterable[str] = ()
) -> None:
    """``scheduler.load_state_dict(state_dict)``, refusing a silent change of settings.

    A plain ``load_state_dict()`` overwrites the settings the scheduler was just built with by the
    saved ones, so a run resumed with, say, a longer ``total_steps`` silently keeps the old length.
    This function compares the two first (see :func:`scheduler_changes`) and raises unless every
    difference is named in ``allow_changes``. Allowed settings keep the value the scheduler was
    built with; everything else, progress included, is loaded from ``state_dict``.

    Load the optimizer state before calling this, after building the scheduler.

    Args:
        scheduler: The scheduler to load into, built with the settings the resumed run should use.
        state_dict: A state saved by ``state_dict()`` of the same kind of scheduler.
        allow_changes: Names of top-level settings that may differ on purpose, e.g.
            ``["stable_steps"]`` to extend a warmup-stable-decay run.

    Raises:
        ValueError: If a setting differs and is not allowed, or ``allow_changes`` names something
            that is not a top-level setting of the scheduler.
    """
    _check_scheduler(scheduler)
    state_dict = _check_state(state_dict)
    if isinstance(allow_changes, str):
        raise TypeError(
            "allow_changes must be a list of setting names, not one string "
            f"(got allow_changes={allow_changes!r}; write [{allow_changes!r}])"
        )
    allowed = list(allow_changes)
    current = scheduler.state_dict()
    for name in allowed:
        if not isinstance(name, str):
            raise TypeError(f"allow_changes must hold setting names (got {name!r} of type {type(name).__name__})")
        if name in NOT_SETTINGS or name not in current or name not in state_dict:
            settings = sorted(key for key in current if key not in NOT_SETTINGS and key in state_dict)
            raise ValueError(
                f"allow_changes names {name!r}, which is not a top-level setting of this "
                f"{type(scheduler).__name__} (settings: {', '.join(settings)})"
            )
    changes = scheduler_changes(scheduler, state_dict)
    refused = {name: values for name, values in changes.items() if name not in allowed}
    if refused:
        details = "; ".join(f"{name} is {saved!r} in state_dict but {now!r} in scheduler" for name, (saved, now) in refused.items())
        raise ValueError(
            f"state_dict was saved by a scheduler with different settings: {details}. Loading it would "
            "silently replace this scheduler's settings. Build the scheduler with the saved settings "
            f"to continue the same schedule, or pass allow_changes={sorted(refused)!r} to keep the "
            "new ones on purpose"
        )
    state = dict(state_dict)
    for name in allowed:
        if name in changes:
            state[name] = current[name]
    scheduler.load_state_dict(state)
