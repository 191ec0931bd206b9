"""Learning-rate schedules as pure functions of the optimizer step.

Every function here returns the *multiplier* of the base learning rate for optimizer step
``step`` (``0`` is the first step) and does nothing else: no optimizer, no state. The scheduler
classes in ``lrcourse.schedulers`` multiply each param group's base LR by these numbers, and a
plot can call them directly.

Two warmup conventions appear below; each function says which one it uses.

* **Ramp from zero** (Hugging Face transformers): the multiplier is ``step / warmup_steps`` while
  ``step < warmup_steps``. The first optimizer step runs at LR 0 and the full LR is first used at
  step ``warmup_steps``.
* **Ramp to full** (the seed ``WarmupLR`` article): the multiplier is
  ``(step + 1) / warmup_steps``. The first step already moves the weights and the full LR is used
  at step ``warmup_steps - 1``, the last warmup step.

The formulas copy transformers' arithmetic operation for operation where they match one of its
schedules, so the learning rates agree bit for bit, not just approximately.
"""

from __future__ import annotations

import math

from lrcourse._validate import MAX_STEPS, check_choice, check_int, check_not_greater, check_real, check_steps

__all__ = [
    "WSD_DECAYS",
    "inverse_sqrt_factor",
    "warmup_constant_factor",
    "warmup_cosine_factor",
    "warmup_exp_factor",
    "warmup_linear_factor",
    "warmup_poly_factor",
    "warmup_ramp_factor",
    "wsd_factor",
]

#: Decay shapes accepted by ``wsd_factor`` (the same names as transformers' ``get_wsd_schedule``).
WSD_DECAYS: tuple[str, ...] = ("linear", "cosine", "1-sqrt")


def _check_step(step: int) -> int:
    return check_steps(step, "step", low=0)


def _check_warmup_and_total(warmup_steps: int, total_steps: int) -> tuple[int, int]:
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    total_steps = check_steps(total_steps, "total_steps", low=1)
    check_not_greater(warmup_steps, "warmup_steps", total_steps, "total_steps")
    return warmup_steps, total_steps


def _ramp_from_zero(step: int, warmup_steps: int) -> float:
    # transformers' warmup; max(1, ...) only matters for warmup_steps=0, where no step is < 0.
    return float(step) / float(max(1, warmup_steps))


def warmup_ramp_factor(step: int, warmup_steps: int) -> float:
    """Ramp to full: ``(step + 1) / warmup_steps`` during warmup, then ``1.0``.

    The LR reaches the base LR at step ``warmup_steps - 1``, so ``warmup_steps`` counts the steps
    of the ramp including the one at the full LR; ``warmup_steps`` of 0 or 1 means no warmup.

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Length of the ramp, >= 0.

    Returns:
        The multiplier of the base LR, in ``(0, 1]``.
    """
    step = _check_step(step)
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    # 1. linear warmup that includes its end point, so no step is spent at LR 0
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    # 2. full base LR
    return 1.0


def warmup_exp_factor(step: int, warmup_steps: int, gamma: float) -> float:
    """Linear warmup, then exponential decay: the schedule of ``WarmupLR``.

    ``(step + 1) / warmup_steps`` while ``step < warmup_steps`` (ramp to full, as in the seed
    article), then ``exp(-gamma * (step - warmup_steps + 1))``. The base LR is used once, at step
    ``warmup_steps - 1``; the decay starts right after it with ``exp(-gamma)``, so every step,
    including the first, changes the LR. With ``warmup_steps=0`` the schedule is pure exponential
    decay starting at ``exp(-gamma)`` at step 0.

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Length of the ramp, >= 0.
        gamma: Decay rate per step, >= 0 (``0`` holds the base LR after warmup). The LR halves
            every ``log(2) / gamma`` steps.

    Returns:
        The multiplier of the base LR, in ``[0, 1]``.
    """
    step = _check_step(step)
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    gamma = check_real(gamma, "gamma", low=0.0)
    # 1. linear warmup reaching 1 at step warmup_steps - 1
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    # 2. exponential decay, one factor exp(-gamma) per step after the peak
    return math.exp(-gamma * (step - warmup_steps + 1))


def warmup_constant_factor(step: int, warmup_steps: int) -> float:
    """Ramp from zero, then constant (transformers' ``get_constant_schedule_with_warmup``).

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp, >= 0; step ``warmup_steps`` is the first at full LR.

    Returns:
        ``step / warmup_steps`` during warmup, then ``1.0`` forever.
    """
    step = _check_step(step)
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    # 1. linear warmup from 0
    if step < warmup_steps:
        return float(step) / float(max(1.0, warmup_steps))
    # 2. constant
    return 1.0


def warmup_linear_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Ramp from zero, then linear decay to 0 (transformers' ``get_linear_schedule_with_warmup``).

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Step at which the multiplier reaches 0, >= 1.

    Returns:
        ``(total_steps - step) / (total_steps - warmup_steps)`` after warmup; ``0.0`` from
        ``total_steps`` on. The last step of a run of ``total_steps`` steps uses
        ``1 / (total_steps - warmup_steps)``, never 0.
    """
    step = _check_step(step)
    warmup_steps, total_steps = _check_warmup_and_total(warmup_steps, total_steps)
    # 1. linear warmup from 0
    if step < warmup_steps:
        return _ramp_from_zero(step, warmup_steps)
    # 2. linear decay, clamped at 0 past total_steps
    return max(0.0, float(total_steps - step) / float(max(1, total_steps - warmup_steps)))


def warmup_cosine_factor(
    step: int,
    warmup_steps: int,
    total_steps: int,
    num_cycles: float = 0.5,
    min_lr_ratio: float = 0.0,
) -> float:
    """Ramp from zero, then cosine decay (transformers' cosine schedules with warmup).

    Equals ``get_cosine_schedule_with_warmup`` for ``min_lr_ratio=0`` and
    ``get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate=min_lr_ratio)`` otherwise.

    The cosine is not clamped at ``total_steps``: with the default half cycle the multiplier
    reaches ``min_lr_ratio`` at ``total_steps`` and climbs back up after it, exactly as in
    transformers. Stop training at ``total_steps``.

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Length of warmup plus decay, >= 1.
        num_cycles: Number of cosine periods over the decay, > 0; ``0.5`` is one half-cosine
            from 1 down to ``min_lr_ratio``.
        min_lr_ratio: The floor of the cosine as a fraction of the base LR, in ``[0, 1]``.

    Returns:
        The multiplier of the base LR.
    """
    step = _check_step(step)
    warmup_steps, total_steps = _check_warmup_and_total(warmup_steps, total_steps)
    num_cycles = check_real(num_cycles, "num_cycles", low=0.0, low_open=True)
    min_lr_ratio = check_real(min_lr_ratio, "min_lr_ratio", low=0.0, high=1.0)
    # 1. linear warmup from 0
    if step < warmup_steps:
        return _ramp_from_zero(step, warmup_steps)
    # 2. cosine from 1 to min_lr_ratio; progress goes past 1 after total_steps
    progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
    cosine = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    return max(0.0, cosine * (1 - min_lr_ratio) + min_lr_ratio)


def warmup_poly_factor(
    step: int,
    warmup_steps: int,
    total_steps: int,
    lr_init: float,
    lr_end: float = 1e-7,
    power: float = 1.0,
) -> float:
    """Ramp from zero, then polynomial decay to ``lr_end`` (transformers' polynomial schedule).

    Equals ``get_polynomial_decay_schedule_with_warmup``. The decay runs from ``lr_init`` to the
    absolute learning rate ``lr_end``; the multiplier is that LR divided by ``lr_init``, which is
    why this function needs ``lr_init`` (the schedulers pass ``optimizer.defaults["lr"]``).

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp, ``0 <= warmup_steps <= total_steps``.
        total_steps: Step at which the LR reaches ``lr_end``, >= 1.
        lr_init: The learning rate the decay starts from, > 0.
        lr_end: The learning rate at and after ``total_steps``, ``0 <= lr_end < lr_init``.
        power: Exponent of the decay, > 0; ``1.0`` is linear.

    Returns:
        ``(lr_init - lr_end) * (1 - decay_progress) ** power / lr_init + lr_end / lr_init`` during
        the decay, ``lr_end / lr_init`` from ``total_steps`` on.
    """
    step = _check_step(step)
    warmup_steps, total_steps = _check_warmup_and_total(warmup_steps, total_steps)
    lr_init = check_real(lr_init, "lr_init", low=0.0, low_open=True)
    lr_end = check_real(lr_end, "lr_end", low=0.0)
    power = check_real(power, "power", low=0.0, low_open=True)
    if not lr_end < lr_init:
        raise ValueError(f"lr_end must be < lr_init (got lr_end={lr_end!r}, lr_init={lr_init!r})")
    # 1. linear warmup from 0
    if step < warmup_steps:
        return _ramp_from_zero(step, warmup_steps)
    # 3. hold lr_end from total_steps on (checked first: it also covers warmup_steps == total_steps,
    #    where the decay below would divide by zero; at step == total_steps both give lr_end)
    if step >= total_steps:
        return lr_end / lr_init
    # 2. polynomial decay from lr_init to lr_end
    lr_range = lr_init - lr_end
    decay_steps = total_steps - warmup_steps
    pct_remaining = 1 - (step - warmup_steps) / decay_steps
    return (lr_range * pct_remaining**power + lr_end) / lr_init


def inverse_sqrt_factor(
    step: int,
    warmup_steps: int,
    timescale: int | None = None,
    d_model: int | None = None,
) -> float:
    """Inverse square-root decay after a linear warmup (the Transformer schedule).

    Two forms:

    * ``d_model=None`` (default): transformers' ``get_inverse_sqrt_schedule``. Ramp from zero,
      then ``1 / sqrt((step - warmup_steps + timescale) / timescale)``, which is 1 at step
      ``warmup_steps``. ``timescale`` defaults to ``warmup_steps``, or 10 000 when
      ``warmup_steps`` is 0.
    * ``d_model`` given: Vaswani et al. (2017), eq. 3,
      ``d_model ** -0.5 * min(n ** -0.5, n * warmup_steps ** -1.5)`` with ``n = step + 1``, the
      1-based number of the step being taken. The peak, ``(d_model * warmup_steps) ** -0.5``, is
      at step ``warmup_steps - 1``. The paper's learning rate is this number itself, so use an
      optimizer LR of 1.0 to reproduce it (any other LR scales it).

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp, >= 0 (>= 1 with ``d_model``).
        timescale: Steps over which the LR falls to ``1/sqrt(2)`` of its peak, >= 1; only without
            ``d_model``.
        d_model: Model width for the Vaswani form, >= 1, or ``None``.

    Returns:
        The multiplier of the base LR.
    """
    step = _check_step(step)
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    if timescale is not None:
        timescale = check_steps(timescale, "timescale", low=1)
    if d_model is not None:
        d_model = check_int(d_model, "d_model", low=1, high=MAX_STEPS)
        if timescale is not None:
            raise ValueError(
                "timescale must be None when d_model is given: they select different forms "
                f"(got timescale={timescale}, d_model={d_model})"
            )
        if warmup_steps < 1:
            raise ValueError(
                f"warmup_steps must be >= 1 when d_model is given (got warmup_steps={warmup_steps})"
            )
        # Vaswani et al.: one formula; the min() switches from warmup to decay at n = warmup_steps
        step_num = step + 1
        return d_model**-0.5 * min(step_num**-0.5, step_num * warmup_steps**-1.5)
    if timescale is None:
        timescale = warmup_steps or 10_000
    # 1. linear warmup from 0
    if step < warmup_steps:
        return _ramp_from_zero(step, warmup_steps)
    # 2. inverse square root, shifted so that it equals 1 at step warmup_steps
    shift = timescale - warmup_steps
    return 1.0 / math.sqrt((step + shift) / timescale)


def wsd_factor(
    step: int,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    decay: str = "linear",
    min_lr_ratio: float = 0.0,
) -> float:
    """Warmup-stable-decay (transformers' ``get_wsd_schedule`` with linear warmup).

    Equals ``get_wsd_schedule(optimizer, warmup_steps, decay_steps, num_stable_steps=stable_steps,
    warmup_type="linear", decay_type=decay, min_lr_ratio=min_lr_ratio)``. Note that
    transformers' default ``decay_type`` is ``"cosine"``; here it is ``"linear"``.

    Args:
        step: Optimizer steps taken before this one (0 for the first step).
        warmup_steps: Steps of the ramp from ``min_lr_ratio`` to 1, >= 0.
        stable_steps: Steps at the full LR, >= 0.
        decay_steps: Steps of the decay from 1 towards ``min_lr_ratio``, >= 0.
        decay: Shape of the decay: ``"linear"``, ``"cosine"`` (half-cosine) or ``"1-sqrt"``
            (``1 - sqrt(progress)``, Hägele et al. 2024).
        min_lr_ratio: Start of the warmup and end of the decay, as a fraction of the base LR, in
            ``[0, 1]``.

    Returns:
        The multiplier of the base LR; ``min_lr_ratio`` from step
        ``warmup_steps + stable_steps + decay_steps`` on.
    """
    step = _check_step(step)
    warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
    stable_steps = check_steps(stable_steps, "stable_steps", low=0)
    decay_steps = check_steps(decay_steps, "decay_steps", low=0)
    decay = check_choice(decay, "decay", WSD_DECAYS)
    min_lr_ratio = check_real(min_lr_ratio, "min_lr_ratio", low=0.0, high=1.0)
    # 1. linear warmup from min_lr_ratio to 1
    if step < warmup_steps:
        progress = float(step) / float(max(1, warmup_steps))
        return max(0.0, progress * (1.0 - min_lr_ratio) + min_lr_ratio)
    # 2. stable at the full LR
    if step < warmup_steps + stable_steps:
        return 1.0
    # 3. decay from 1 towards min_lr_ratio
    if step < warmup_steps + stable_steps + decay_steps:
        progress = float(step - warmup_steps - stable_steps) / float(max(1, decay_steps))
        if decay == "linear":
            shape = 1.0 - progress
        elif decay == "cosine":
            # transformers writes pi * 0.5 * 2.0 * progress; scaling by powers of two is exact
            shape = 0.5 * (1.0 + math.cos(math.pi * progress))
        else:
            shape = 1.0 - math.sqrt(progress)
        return max(0.0, shape * (1.0 - min_lr_ratio) + min_lr_ratio)
    # 4. hold the floor after the decay
    return min_lr_ratio
