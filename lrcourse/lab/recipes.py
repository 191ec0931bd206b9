"""Schedule recipes at an equal step budget, and the optimizers a run can use.

A **recipe** is a named schedule with fixed, documented choices, built by :func:`make_recipe` for
a run of ``total_steps`` optimizer steps; every recipe uses the same budget and starts from (or
peaks at) the optimizer's LR, so recipes differ in the shape of the curve only. The optimizers
(:func:`build_optimizer`) are SGD and AdamW, each with its usual weight decay
(``DEFAULT_WEIGHT_DECAY``), and a run whose LR overflows the parameters' dtype diverges
instead of raising.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim import lr_scheduler

from .._validate import check_choice, check_int, check_optimizer, check_real
from ..factories import warmup_cosine, wsd
from ..schedules import WSD_DECAYS
from .schedule_free import SCHEDULE_FREE, build_schedule_free

__all__ = ["DEFAULT_WEIGHT_DECAY", "EXTRA_RECIPES", "KNOB_DEFAULTS", "OPTIMIZERS", "RECIPES", "RECIPE_KNOBS", "RECIPE_NAMES",
           "build_optimizer", "check_optimizer_recipes", "check_recipe_options", "make_recipe", "weight_decay_for"]

RECIPES: tuple[str, ...] = (
    "constant", "step", "multistep", "exponential", "cosine", "warmup_cosine", "onecycle", "plateau", "wsd",
)
# Recipes beyond the shoot-out's nine (which stay what ``--recipes all`` means): a linear decay to
# a floor after a warmup, the schedule of Bergsma et al. 2025 ("Straight to Zero").
EXTRA_RECIPES: tuple[str, ...] = ("warmup_linear",)
RECIPE_NAMES: tuple[str, ...] = RECIPES + EXTRA_RECIPES
# The knobs each recipe reads. A knob given to a recipe that does not read it is refused, not
# silently dropped: a sweep with ``--floor 0.1`` over ``step`` would otherwise look like a result.
RECIPE_KNOBS: dict[str, tuple[str, ...]] = {
    "exponential": ("final_ratio",),
    "warmup_cosine": ("warmup_fraction", "floor"),
    "warmup_linear": ("warmup_fraction", "floor"),
    "wsd": ("warmup_fraction", "decay_fraction", "decay_shape", "floor"),
}
KNOB_DEFAULTS: dict[str, Any] = {
    "warmup_fraction": 0.1, "decay_fraction": 0.2, "final_ratio": 0.01, "decay_shape": "linear", "floor": 0.0,
}


def check_recipe_options(recipes: Any, options: Any) -> dict[str, Any] | None:
    """``options`` (``{knob: value}``) checked against every recipe in ``recipes``: each knob must be
    one of ``KNOB_DEFAULTS`` and read by every recipe (``RECIPE_KNOBS``). Returns the
    options with their values checked, sorted by knob, or ``None`` for none (``None`` or ``{}``),
    the form a result's config records.

    Raises:
        ValueError: an unknown knob, a bad value, or a knob one of the recipes does not read.
    """
    if options is None or options == {}:
        return None
    if not isinstance(options, dict):
        raise TypeError(f"recipe_options must be a dict of knob -> value (got {type(options).__name__})")
    unknown = sorted(set(options) - set(KNOB_DEFAULTS))
    if unknown:
        raise ValueError(f"recipe_options: unknown knob(s) {unknown}; valid: {', '.join(KNOB_DEFAULTS)}")
    checked = _check_knobs(options)
    for recipe in [recipes] if isinstance(recipes, str) else recipes:
        recipe = check_choice(recipe, "recipe", RECIPE_NAMES)
        ignored = sorted(set(options) - set(RECIPE_KNOBS.get(recipe, ())))
        if ignored:
            reads = RECIPE_KNOBS.get(recipe, ())
            raise ValueError(
                f"recipe {recipe!r} does not read {', '.join(ignored)} (it reads "
                f"{', '.join(reads) if reads else 'no knob'}); sweep the recipes that do in a sweep of their own"
            )
        if recipe == "wsd":  # its warmup and cooldown share the run
            warmup, decay = (checked.get(k, KNOB_DEFAULTS[k]) for k in ("warmup_fraction", "decay_fraction"))
            if warmup + decay > 1.0:
                raise ValueError(f"warmup_fraction + decay_fraction must be <= 1 "
                                 f"(got warmup_fraction={warmup}, decay_fraction={decay})")
    return dict(sorted(checked.items()))


def _check_knobs(options: dict[str, Any]) -> dict[str, Any]:
    checked = dict(options)
    for knob in ("warmup_fraction", "decay_fraction", "floor"):
        if knob in options:
            checked[knob] = check_real(options[knob], knob, low=0.0, high=1.0)
    if "final_ratio" in options:
        checked["final_ratio"] = check_real(options["final_ratio"], "final_ratio", low=0.0, high=1.0, low_open=True)
    if "decay_shape" in options:
        checked["decay_shape"] = check_choice(options["decay_shape"], "decay_shape", WSD_DECAYS)
    return checked


def make_recipe(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    steps_per_epoch: int,
    *,
    warmup_fraction: float | None = None,
    decay_fraction: float | None = None,
    final_ratio: float | None = None,
    decay_shape: str | None = None,
    floor: float | None = None,
) -> tuple[Any, str]:
    """Build recipe ``name`` for a run of ``total_steps`` optimizer steps.

    Returns ``(scheduler, cadence)``, the cadence being what :func:`lrcourse.lab.training.train` expects:
    ``"step"`` (``scheduler.step()`` after every optimizer step), ``"epoch"`` or ``"metric"``
    (``scheduler.step(val_loss)`` after each validation). ``T = total_steps``, ``E = T //
    steps_per_epoch`` epochs, and "the LR" is each param group's LR when the recipe is built.

    1. ``constant`` -- the LR throughout (``ConstantLR`` with factor 1), per step.
    2. ``step`` -- ×0.1 once, after 2/3 of the epochs (the seed: 0.1 → 0.01 at epoch 20 of 30), per epoch.
    3. ``multistep`` -- ×0.1 after 1/2 and 3/4 of the epochs (He et al. 2016), per epoch.
    4. ``exponential`` -- ×γ every step, γ chosen to reach ``final_ratio`` × the LR at step ``T``.
    5. ``cosine`` -- half cosine from the LR to 0 over ``T`` steps (``CosineAnnealingLR``).
    6. ``warmup_cosine`` -- linear warmup over ``warmup_fraction`` × T steps, then half cosine to
       ``floor`` × the LR.
    7. ``onecycle`` -- ``OneCycleLR`` with the LR as peak (30 % rise from LR/25, then cosine down to
       LR/25/10⁴); ``cycle_momentum=False``, so only the LR differs from the other recipes.
    8. ``plateau`` -- ``ReduceLROnPlateau`` on the validation loss, ``patience=2``: ×0.1 after the
       third epoch in a row without improvement, per validation.
    9. ``wsd`` -- warmup over ``warmup_fraction`` × T, the LR, then a decay of shape ``decay_shape``
       (``"linear"``, ``"cosine"`` or ``"1-sqrt"``) to ``floor`` × the LR over the last
       ``decay_fraction`` × T steps (``lrcourse.wsd``).

    and, beyond the shoot-out's nine (``EXTRA_RECIPES``):

    * ``warmup_linear`` -- warmup over ``warmup_fraction`` × T, then a straight line to ``floor``
      × the LR at step ``T`` (``wsd`` with no stable phase).

    The knobs default to ``KNOB_DEFAULTS`` (warmup 0.1, decay 0.2, final ratio 0.01, linear
    decay, floor 0); a warmup ramps from 0 (from ``floor`` × the LR in ``wsd`` and
    ``warmup_linear``, as transformers' ``get_wsd_schedule`` does).

    Raises:
        ValueError: for an unknown name (listing the valid ones), a budget shorter than one
            epoch, a knob out of range, or a knob given to a recipe that does not read it
            (``RECIPE_KNOBS``).
    """
    name = check_choice(name, "name", RECIPE_NAMES)
    check_optimizer(optimizer)
    total_steps = check_int(total_steps, "total_steps", low=1)
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", low=1)
    given = {knob: value for knob, value in (("warmup_fraction", warmup_fraction), ("decay_fraction", decay_fraction),
                                             ("final_ratio", final_ratio), ("decay_shape", decay_shape),
                                             ("floor", floor)) if value is not None}
    knobs = KNOB_DEFAULTS | (check_recipe_options(name, given) or {})
    epochs = total_steps // steps_per_epoch
    if epochs < 1:
        raise ValueError(
            f"total_steps must be >= steps_per_epoch, a budget of at least one epoch "
            f"(got total_steps={total_steps}, steps_per_epoch={steps_per_epoch})"
        )
    warmup = round(knobs["warmup_fraction"] * total_steps)
    floor = knobs["floor"]
    if name == "constant":
        return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0), "step"
    if name == "step":
        return lr_scheduler.MultiStepLR(optimizer, milestones=[max(1, round(2 * epochs / 3))], gamma=0.1), "epoch"
    if name == "multistep":
        milestones = sorted({max(1, round(epochs / 2)), max(1, round(3 * epochs / 4))})
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1), "epoch"
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=knobs["final_ratio"] ** (1 / total_steps)), "step"
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps), "step"
    if name == "warmup_cosine":
        return warmup_cosine(optimizer, warmup_steps=warmup, total_steps=total_steps, min_lr_ratio=floor), "step"
    if name == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps, cycle_momentum=False), "step"
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2), "metric"
    if name == "warmup_linear":
        return wsd(optimizer, warmup_steps=warmup, stable_steps=0, decay_steps=total_steps - warmup,
                   decay="linear", min_lr_ratio=floor), "step"
    decay = round(knobs["decay_fraction"] * total_steps)
    return wsd(optimizer, warmup_steps=warmup, stable_steps=total_steps - warmup - decay, decay_steps=decay,
               decay=knobs["decay_shape"], min_lr_ratio=floor), "step"


class _OverflowToNaN:
    """An optimizer whose update, when the LR does not even fit the parameters' dtype
    (``lr=1e300`` in float32), makes the parameters NaN instead of raising, as an update of that
    size would in exact arithmetic. The loop then sees a NaN loss and records a diverged run."""

    def step(self, closure: Any = None) -> Any:
        # torch wraps every optimizer class's step with its hooks; the parent's step, once any
        # plain SGD or AdamW exists, is wrapped too, and calling it would fire the hooks twice.
        parent = super().step  # type: ignore[misc]
        func = getattr(parent, "__func__", parent)
        inner = func.__wrapped__ if getattr(func, "hooked", False) else None  # torch's hook wrapper only
        try:
            return inner(self, closure) if inner is not None else parent(closure)
        except RuntimeError as error:
            if "without overflow" not in str(error):
                raise
        with torch.no_grad():
            for group in self.param_groups:  # type: ignore[attr-defined]
                for p in group["params"]:
                    if p.grad is not None:
                        p.fill_(math.nan)
        return None


class _SGD(_OverflowToNaN, torch.optim.SGD):
    """``torch.optim.SGD``, diverging instead of raising on an LR too large for the dtype."""


class _AdamW(_OverflowToNaN, torch.optim.AdamW):
    """``torch.optim.AdamW``, diverging instead of raising on an LR too large for the dtype."""


OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw", *SCHEDULE_FREE)
# AdamW decays the weights by lr x weight_decay per step, apart from the gradient (decoupled), so
# its usual values are ~100x SGD's coupled L2 term (Loshchilov & Hutter 2019 use 0.025-0.05 on CIFAR).
# The schedule-free optimizers decay as their namesakes do (L2 in SGD's, decoupled in AdamW's).
DEFAULT_WEIGHT_DECAY: dict[str, float] = {"sgd": 5e-4, "adamw": 0.05, "sgd_schedulefree": 5e-4,
                                          "adamw_schedulefree": 0.05}
# A schedule-free optimizer warms up inside itself, over this fraction of the run (as warmup_cosine
# and wsd do by default); its rate is otherwise constant, so it takes the recipe "constant" only.
SCHEDULE_FREE_WARMUP = 0.1


def weight_decay_for(optimizer: str, weight_decay: float | None = None) -> float:
    """``weight_decay``, or the default of ``optimizer`` (``DEFAULT_WEIGHT_DECAY``) when it is None."""
    optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
    return DEFAULT_WEIGHT_DECAY[optimizer] if weight_decay is None else weight_decay


def check_optimizer_recipes(optimizer: str, recipes: Any) -> None:
    """Refuse a schedule-free ``optimizer`` with any recipe but ``constant``: it replaces the schedule.

    Raises:
        ValueError: naming the optimizer and the first other recipe.
    """
    if optimizer not in SCHEDULE_FREE:
        return
    for recipe in [recipes] if isinstance(recipes, str) else recipes:
        if recipe != "constant":
            raise ValueError(f"optimizer {optimizer!r} is schedule-free: it takes the recipe 'constant' and warms up "
                             f"inside itself (got recipe {recipe!r})")


def build_optimizer(name: str, groups: Any, lr: float, momentum: float,
                    total_steps: int | None = None) -> torch.optim.Optimizer:
    """``"sgd"``: SGD with Nesterov ``momentum`` (plain SGD at 0); ``"adamw"``: AdamW with
    ``betas=(momentum, 0.999)``; ``"sgd_schedulefree"``, ``"adamw_schedulefree"``: their
    schedule-free versions (:mod:`lrcourse.lab.schedule_free`), which need ``total_steps`` to warm
    up over ``SCHEDULE_FREE_WARMUP`` of them. ``groups`` carry their weight decay
    (:func:`lrcourse.param_groups.decay_groups`)."""
    name = check_choice(name, "optimizer", OPTIMIZERS)
    if name in SCHEDULE_FREE:
        if total_steps is None:
            raise ValueError(f"optimizer {name!r} needs total_steps: it warms up over "
                             f"{SCHEDULE_FREE_WARMUP:g} of the run inside itself")
        total_steps = check_int(total_steps, "total_steps", low=1)
        return build_schedule_free(name, groups, lr, momentum, round(SCHEDULE_FREE_WARMUP * total_steps))
    if name == "sgd":
        return _SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    return _AdamW(groups, lr=lr, betas=(momentum, 0.999))
