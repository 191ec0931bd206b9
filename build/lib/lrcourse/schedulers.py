"""Learning-rate schedulers: thin ``torch.optim.lr_scheduler.LRScheduler`` subclasses.

Each closed-form scheduler multiplies every param group's base LR (``self.base_lrs``, the
groups' ``initial_lr``) by one function of ``lrcourse.schedules`` evaluated at
``self.last_epoch``. Despite its name, the attribute ``last_epoch`` counts **optimizer steps
taken**: it is 0 after construction, when the LR for the first step is set, and ``n`` after ``n``
calls of ``scheduler.step()``. Step the scheduler once per optimizer step::

    scheduler = warmup_cosine(optimizer, warmup_steps=100, total_steps=1000)
    for batch in batches:
        loss = model(batch).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()

Because every LR is computed from the base LR and the step, param groups keep their own LRs and
ratios, ``get_lr()`` and ``_get_closed_form_lr()`` return the same list, and a resumed run
continues with exactly the same numbers. The schedulers keep only numbers and strings as
attributes, so ``state_dict()`` loads with ``torch.load(..., weights_only=True)``. To resume,
build model, optimizer and scheduler, then load the optimizer state, then the scheduler state.

The constructor's ``last_epoch`` argument keeps torch's convention, which is one less: the
constructor itself takes a step, so to continue after ``n`` optimizer steps without a saved
scheduler state, pass ``last_epoch=n - 1``. Every param group must then hold ``"initial_lr"``
(the LR the schedule started from), which a loaded optimizer state does::

    # 8 optimizer steps were taken, and the optimizer state (with initial_lr) was saved
    optimizer.load_state_dict(saved_optimizer_state)
    scheduler = warmup_cosine(optimizer, warmup_steps=10, total_steps=100, last_epoch=7)
    # scheduler.last_epoch == 8, and the LR is that of step 8, the ninth step

Passing ``last_epoch=8`` there would skip step 8's LR and continue one step ahead.

Adding a param group after a scheduler was built (``optimizer.add_param_group``) leaves the new
group without a base LR; these schedulers raise ``RuntimeError`` on the next ``step()`` and name
the fix (build the scheduler after adding every group).

The snake_case names (``warmup_linear`` ...) build these classes under the names of the
transformers functions they mirror, and take transformers' argument names too
(:mod:`lrcourse.factories`). :class:`~lrcourse.plateau.WarmupReduceLROnPlateau`, stepped with a
metric once per validation instead, is in :mod:`lrcourse.plateau`.
"""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

from lrcourse._validate import (
    MAX_STEPS,
    check_choice,
    check_int,
    check_lr,
    check_optimizer,
    check_real,
    check_scheduler_groups,
    check_steps,
)
from lrcourse.schedules import (
    WSD_DECAYS,
    _check_warmup_and_total,
    inverse_sqrt_factor,
    warmup_constant_factor,
    warmup_cosine_factor,
    warmup_exp_factor,
    warmup_linear_factor,
    warmup_poly_factor,
    wsd_factor,
)

__all__ = [
    "InverseSqrtLR",
    "WarmupConstantLR",
    "WarmupCosineLR",
    "WarmupLR",
    "WarmupLinearLR",
    "WarmupPolyLR",
    "WarmupStableDecayLR",
]


def _check_last_epoch(last_epoch: int) -> int:
    return check_int(last_epoch, "last_epoch", low=-1, high=MAX_STEPS - 1)


class _ClosedFormLR(LRScheduler, metaclass=abc.ABCMeta):
    """LR of group ``i`` at step ``last_epoch`` = ``base_lrs[i] * self._factor(last_epoch)``."""

    def __init__(self, optimizer: torch.optim.Optimizer, last_epoch: int) -> None:
        last_epoch = _check_last_epoch(last_epoch)
        # The schedule is evaluated once at the step the constructor will take, before torch's
        # constructor writes initial_lr into the param groups: an argument that only fails there
        # must leave the optimizer as it was.
        self._factor(last_epoch + 1)
        super().__init__(optimizer, last_epoch)

    @abc.abstractmethod
    def _factor(self, step: int) -> float:
        """Return the multiplier of the base LRs at optimizer step ``step``."""

    def step(self, *args: Any, **kwargs: Any) -> None:
        """Advance one optimizer step (``scheduler.step()``), after checking the param groups."""
        check_scheduler_groups(self)  # before torch advances last_epoch or zips the groups
        super().step(*args, **kwargs)

    def get_lr(self) -> list[float | torch.Tensor]:
        """Return the LRs for the current ``last_epoch``; a closed form, equal to ``get_last_lr()``."""
        return self._get_closed_form_lr()

    def _get_closed_form_lr(self) -> list[float | torch.Tensor]:
        factor = self._factor(self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]


class WarmupLR(_ClosedFormLR):
    """Linear warmup, then exponential decay: the seed article's scheduler, fixed.

    The LR of each param group at step ``t`` (``t = last_epoch``, optimizer steps taken) is
    ``base_lr * (t + 1) / warmup_steps`` while ``t < warmup_steps`` and
    ``base_lr * exp(-gamma * (t - warmup_steps + 1))`` after. This keeps the seed's indexing: the
    first step already uses ``base_lr / warmup_steps`` (no step is wasted at LR 0), the full base
    LR is used exactly once, at step ``warmup_steps - 1``, and the decay starts right after with
    ``exp(-gamma)``. With ``warmup_steps=0`` it is exponential decay starting at
    ``base_lr * exp(-gamma)``. See ``lrcourse.schedules.warmup_exp_factor``.

    Compared with the seed: it subclasses the public ``LRScheduler`` (not ``_LRScheduler``),
    ``gamma`` is required and so must be passed (the seed's usage example omitted it), and every
    argument is checked.

    Example::

        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        scheduler = WarmupLR(optimizer, warmup_steps=1000, gamma=1e-4)

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the linear ramp, >= 0.
        gamma: Decay rate per step after warmup, >= 0; the LR halves every ``log(2) / gamma``
            steps, and ``0`` keeps the base LR.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, warmup_steps: int, gamma: float, last_epoch: int = -1
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
        self.gamma = check_real(gamma, "gamma", low=0.0)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return warmup_exp_factor(step, self.warmup_steps, self.gamma)


class WarmupConstantLR(_ClosedFormLR):
    """Linear warmup from 0, then the base LR; also available as ``warmup_constant``.

    The LR at every step equals that of transformers'
    ``get_constant_schedule_with_warmup(optimizer, num_warmup_steps=warmup_steps)``:
    ``base_lr * t / warmup_steps`` while ``t < warmup_steps``, then ``base_lr``. The first step
    (``t = 0``) runs at LR 0. See ``lrcourse.schedules.warmup_constant_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the ramp, >= 0; step ``warmup_steps`` is the first at the base LR.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int, last_epoch: int = -1) -> None:
        check_optimizer(optimizer)
        self.warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return warmup_constant_factor(step, self.warmup_steps)


class WarmupLinearLR(_ClosedFormLR):
    """Linear warmup from 0, then linear decay to 0; also available as ``warmup_linear``.

    The LR at every step equals that of transformers'
    ``get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)``, including past the
    end: the LR is 0 from step ``total_steps`` on. See ``lrcourse.schedules.warmup_linear_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Optimizer steps in the whole run, >= 1.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int, last_epoch: int = -1
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps, self.total_steps = _check_warmup_and_total(warmup_steps, total_steps)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return warmup_linear_factor(step, self.warmup_steps, self.total_steps)


class WarmupCosineLR(_ClosedFormLR):
    """Linear warmup from 0, then cosine decay; also available as ``warmup_cosine``.

    The LR at every step equals that of transformers'
    ``get_cosine_schedule_with_warmup(optimizer, warmup_steps, total_steps, num_cycles)`` and, for
    ``min_lr_ratio > 0``, of ``get_cosine_with_min_lr_schedule_with_warmup(...,
    min_lr_rate=min_lr_ratio)``. As there, the cosine is not clamped after ``total_steps``: with
    the default half cycle the LR bottoms out at ``min_lr_ratio * base_lr`` at step
    ``total_steps`` and rises again after it. Stop at ``total_steps``, and count ``total_steps``
    in optimizer steps, not epochs. See ``lrcourse.schedules.warmup_cosine_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Optimizer steps in the whole run, >= 1.
        num_cycles: Cosine periods over the decay, > 0; ``0.5`` is one half-cosine.
        min_lr_ratio: Floor of the cosine as a fraction of each group's base LR, in ``[0, 1]``.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        total_steps: int,
        num_cycles: float = 0.5,
        min_lr_ratio: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps, self.total_steps = _check_warmup_and_total(warmup_steps, total_steps)
        self.num_cycles = check_real(num_cycles, "num_cycles", low=0.0, low_open=True)
        self.min_lr_ratio = check_real(min_lr_ratio, "min_lr_ratio", low=0.0, high=1.0)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return warmup_cosine_factor(
            step, self.warmup_steps, self.total_steps, self.num_cycles, self.min_lr_ratio
        )


class WarmupPolyLR(_ClosedFormLR):
    """Linear warmup from 0, then polynomial decay to ``lr_end``; also available as ``warmup_poly``.

    The LR at every step equals that of transformers'
    ``get_polynomial_decay_schedule_with_warmup(optimizer, warmup_steps, total_steps, lr_end,
    power)``. As there, the decay runs from ``lr_init = optimizer.defaults["lr"]`` (the ``lr``
    passed to the optimizer's constructor, or its default if none was passed) to the absolute LR
    ``lr_end``, and every group's base LR is multiplied by that LR divided by ``lr_init``. So:

    * a group whose base LR equals ``lr_init`` ends at ``lr_end``;
    * any other group ends at ``base_lr * lr_end / lr_init``, not at ``lr_end``: the ratio between
      groups is kept throughout, the absolute floor is not.

    From step ``total_steps`` on the LR stays at that end value. ``warmup_steps == total_steps`` is
    accepted (transformers divides by zero there): the LR jumps from the ramp to the end value.
    See ``lrcourse.schedules.warmup_poly_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled; its
            ``defaults["lr"]`` must be > ``lr_end``.
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Step at which the LR reaches its end value, >= 1.
        lr_end: Final LR of a group whose base LR is ``optimizer.defaults["lr"]``,
            ``0 <= lr_end < optimizer.defaults["lr"]``.
        power: Exponent of the decay, > 0; ``1.0`` is linear.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        total_steps: int,
        lr_end: float = 1e-7,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps, self.total_steps = _check_warmup_and_total(warmup_steps, total_steps)
        self.lr_end = check_lr(lr_end, "lr_end")
        self.power = check_real(power, "power", low=0.0, low_open=True)
        lr_init = optimizer.defaults.get("lr")
        if isinstance(lr_init, torch.Tensor) and lr_init.numel() == 1:
            lr_init = lr_init.item()
        self.lr_init = check_real(lr_init, "optimizer.defaults['lr']", low=0.0, low_open=True)
        if not self.lr_end < self.lr_init:
            raise ValueError(
                "lr_end must be < optimizer.defaults['lr'], the LR the decay starts from "
                f"(got lr_end={self.lr_end!r}, optimizer.defaults['lr']={self.lr_init!r})"
            )
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return warmup_poly_factor(
            step, self.warmup_steps, self.total_steps, self.lr_init, self.lr_end, self.power
        )


class InverseSqrtLR(_ClosedFormLR):
    """The Transformer ("Noam") schedule: warmup, then ``1/sqrt(step)``; also ``inverse_sqrt``.

    By default the LR at every step equals that of transformers'
    ``get_inverse_sqrt_schedule(optimizer, warmup_steps, timescale)``: linear warmup from 0, the
    base LR at step ``warmup_steps``, then ``base_lr / sqrt((t - warmup_steps + timescale) /
    timescale)``.

    With ``d_model`` it follows Vaswani et al. (2017), eq. 3, instead:
    ``base_lr * d_model ** -0.5 * min(n ** -0.5, n * warmup_steps ** -1.5)`` with ``n = t + 1``,
    peaking at step ``warmup_steps - 1``. Use an optimizer LR of 1.0 to get the paper's absolute
    values. See ``lrcourse.schedules.inverse_sqrt_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the ramp, >= 0 (>= 1 with ``d_model``).
        timescale: transformers' time scale, >= 1; ``None`` means ``warmup_steps`` (10 000 if that
            is 0). Must be ``None`` with ``d_model``.
        d_model: Model width for the Vaswani form, >= 1, or ``None`` for the transformers form.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        timescale: int | None = None,
        d_model: int | None = None,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
        self.timescale = None if timescale is None else check_steps(timescale, "timescale", low=1)
        self.d_model = None if d_model is None else check_int(d_model, "d_model", low=1, high=MAX_STEPS)
        # Evaluating the schedule once checks how the three combine, with the same messages.
        inverse_sqrt_factor(0, self.warmup_steps, self.timescale, self.d_model)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return inverse_sqrt_factor(step, self.warmup_steps, self.timescale, self.d_model)


class WarmupStableDecayLR(_ClosedFormLR):
    """Warmup-stable-decay (WSD, "trapezoidal"); also available as ``wsd``.

    Linear warmup from ``min_lr_ratio * base_lr`` to ``base_lr`` over ``warmup_steps``, the base LR
    for ``stable_steps``, a decay to ``min_lr_ratio * base_lr`` over ``decay_steps``, then that
    floor forever. The LR at every step equals that of transformers'
    ``get_wsd_schedule(optimizer, warmup_steps, decay_steps, num_stable_steps=stable_steps,
    warmup_type="linear", decay_type=decay, min_lr_ratio=min_lr_ratio)``; note that transformers'
    default ``decay_type`` is ``"cosine"``. See ``lrcourse.schedules.wsd_factor``.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Steps of the ramp, >= 0.
        stable_steps: Steps at the base LR, >= 0.
        decay_steps: Steps of the decay, >= 0.
        decay: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        min_lr_ratio: Start of the warmup and floor of the decay, as a fraction of each group's
            base LR, in ``[0, 1]``.
        last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1`` (torch's
            convention; see the module docstring); every param group needs ``"initial_lr"``.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        stable_steps: int,
        decay_steps: int,
        decay: str = "linear",
        min_lr_ratio: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
        self.stable_steps = check_steps(stable_steps, "stable_steps", low=0)
        self.decay_steps = check_steps(decay_steps, "decay_steps", low=0)
        self.decay = check_choice(decay, "decay", WSD_DECAYS)
        self.min_lr_ratio = check_real(min_lr_ratio, "min_lr_ratio", low=0.0, high=1.0)
        super().__init__(optimizer, last_epoch)

    def _factor(self, step: int) -> float:
        return wsd_factor(
            step, self.warmup_steps, self.stable_steps, self.decay_steps, self.decay, self.min_lr_ratio
        )
