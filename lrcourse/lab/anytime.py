"""Anytime training: one run at its peak rate, and a cooldown branched from it for each budget.

Warmup-stable-decay (WSD) is the same for every budget until its cooldown starts. So one run
can serve several budgets: train a warmup and then the peak rate for the longest budget, save a
snapshot where each budget's cooldown would begin, and continue each snapshot with its cooldown
(:func:`lrcourse.lab.training.train` with ``branch_from``). Each branch equals, bit for bit, the
WSD run of its budget trained straight through (``tests/test_branch.py``); all of them together
cost the stable run plus the cooldowns, where a cosine schedule needs one whole run per budget.

:func:`run_anytime` is a runner for :func:`lrcourse.lab.sweeps.sweep` (``runner=run_anytime,
names=ANYTIME_RUNS``), so a sweep of it resumes, shares work between processes and refuses other
settings as every sweep does. Its result is the stable run's, with ``branches``: for each budget,
the branch's history and final accuracies, and the steps it took beyond its snapshot.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from .._validate import check_choice, check_int, check_real
from ..factories import wsd
from ..schedules import WSD_DECAYS
from .recipes import check_optimizer_recipes

__all__ = ["ANYTIME_RUNS", "branch_points", "run_anytime"]

ANYTIME_RUNS: tuple[str, ...] = ("anytime",)


def branch_points(budgets: Sequence[int], steps_per_epoch: int, decay_fraction: float) -> dict[int, int]:
    """``{budget in epochs: the optimizer step its cooldown starts after}``: a budget of ``E``
    epochs has ``T = E * steps_per_epoch`` steps and a cooldown of ``round(decay_fraction * T)``."""
    return {e: e * steps_per_epoch - round(decay_fraction * e * steps_per_epoch) for e in budgets}


def _check_budgets(budgets: Any, epochs: int) -> list[int]:
    if isinstance(budgets, (str, bytes)) or not isinstance(budgets, Sequence) or not budgets:
        raise ValueError(f"budgets must be a non-empty list of epochs, e.g. [5, 10, 15] (got budgets={budgets!r})")
    values = [check_int(b, "budgets[i]", low=1) for b in budgets]
    if sorted(set(values)) != values:
        raise ValueError(f"budgets must increase, without repeats (got budgets={list(budgets)})")
    if values[-1] != epochs:
        raise ValueError(f"epochs must be the longest budget, the stable run's length (got epochs={epochs}, "
                         f"budgets={values})")
    return values


def run_anytime(
    name: str,
    seed: int,
    data: Callable[[int], Any],
    *,
    budgets: Sequence[int] = (5, 10, 15),
    decay_fraction: float = 0.2,
    decay_shape: str = "linear",
    warmup_fraction: float = 0.1,
    model: str = "lenet",
    optimizer: str = "sgd",
    epochs: int = 15,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Train the stable run and every budget's branch with ``seed``; return one result.

    The stable run warms up over ``warmup_fraction`` of the longest budget (``epochs``, which must
    be ``budgets[-1]``) and then keeps the peak ``lr`` to its end: its own final accuracy is the
    longest budget *without* a cooldown. The branch of a budget of ``E`` epochs decays over the
    last ``decay_fraction`` of its ``E`` epochs (shape ``decay_shape``: linear, cosine or 1-sqrt)
    to 0. The result is :func:`~lrcourse.lab.runs.run_one`'s for the stable run, with
    ``branches`` (``{str(E): {"history", "final", "diverged", "wall_time", "cooldown_start",
    "steps"}}``) and ``steps_spent`` (the stable run's steps plus every cooldown's). With a
    ``checkpoint_path``, the snapshots and the branches' own checkpoints sit beside it and are
    removed once every branch is done; an interrupted call resumes where it stopped.
    """
    check_choice(name, "name", ANYTIME_RUNS)
    check_optimizer_recipes(optimizer, "wsd")  # its cooldowns are schedules: not for a schedule-free optimizer
    epochs = check_int(epochs, "epochs", low=1)
    budgets = _check_budgets(budgets, epochs)
    decay_fraction = check_real(decay_fraction, "decay_fraction", low=0.0, high=1.0, low_open=True)
    decay_shape = check_choice(decay_shape, "decay_shape", WSD_DECAYS)
    warmup_fraction = check_real(warmup_fraction, "warmup_fraction", low=0.0, high=1.0)
    steps_per_epoch = data(seed).steps_per_epoch
    total = epochs * steps_per_epoch
    warmup = round(warmup_fraction * total)
    points = branch_points(budgets, steps_per_epoch, decay_fraction)
    if min(points.values()) < warmup:
        raise ValueError(f"the cooldown of the {budgets[0]}-epoch budget would start at step {min(points.values())}, "
                         f"inside the warmup ({warmup} steps): use a longer first budget, a shorter cooldown "
                         "(decay_fraction) or a shorter warmup (warmup_fraction)")
    with tempfile.TemporaryDirectory() as scratch:  # the snapshots' place when no checkpoint path is given
        folder = Path(scratch) / "anytime.pt" if checkpoint_path is None else Path(checkpoint_path)
        return _train_all(name, seed, data, folder, checkpoint_path, budgets, points, total, warmup, steps_per_epoch,
                          {"budgets": budgets, "decay_fraction": decay_fraction, "decay_shape": decay_shape,
                           "warmup_fraction": warmup_fraction},
                          dict(model=model, optimizer=optimizer, lr=lr, momentum=momentum,
                               weight_decay=weight_decay, device=device, precision=precision, progress=progress))


def _train_all(name, seed, data, folder: Path, checkpoint_path, budgets, points, total, warmup, steps_per_epoch,
               settings, common) -> dict[str, Any]:
    """The stable run with its snapshots, then each budget's branch; see :func:`run_anytime`."""
    from .runs import run_with_schedule

    decay_shape = settings["decay_shape"]
    snapshot = {e: folder.with_name(f"{folder.stem}-step{s}.pt") for e, s in points.items()}
    # each branch's own checkpoint, for an interrupted branch; none without a checkpoint path
    own = {e: None if checkpoint_path is None else folder.with_name(f"{folder.stem}-branch{e}.pt") for e in budgets}
    stable = run_with_schedule(
        name, seed, data,
        lambda opt, steps: (wsd(opt, warmup_steps=warmup, stable_steps=total - warmup, decay_steps=0), "step"),
        epochs=budgets[-1], checkpoint_path=checkpoint_path, extra_config=settings,
        train_options={"snapshots": {points[e]: path for e, path in snapshot.items()}}, **common)
    if stable["diverged"]:
        return stable | {"branches": {}, "steps_spent": len(stable["history"]["lr"])}
    branches = {}
    for e in budgets:
        start, length = points[e], e * steps_per_epoch - points[e]
        branch = run_with_schedule(
            name, seed, data,
            lambda opt, steps, s=start, d=length: (
                wsd(opt, warmup_steps=warmup, stable_steps=s - warmup, decay_steps=d, decay=decay_shape), "step"),
            epochs=e, checkpoint_path=own[e], extra_config=settings | {"budget": e},
            train_options={"branch_from": snapshot[e]}, **common)
        branches[str(e)] = {key: branch[key] for key in ("history", "final", "diverged", "wall_time")} | {
            "cooldown_start": start, "steps": e * steps_per_epoch}
    for path in [*snapshot.values(), *own.values()]:
        if path is not None:
            path.unlink(missing_ok=True)
    spent = total + sum(e * steps_per_epoch - points[e] for e in budgets)
    return stable | {"branches": branches, "steps_spent": spent}
