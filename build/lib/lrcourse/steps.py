"""Counting in optimizer steps: the unit every scheduler in ``lrcourse`` is stepped in.

A schedule's length (``total_steps``, ``warmup_steps``) counts **optimizer steps**, not epochs,
batches or forward passes. These helpers convert between the units and make sure the scheduler
only advances when the optimizer really stepped, which under mixed precision is not every batch.
"""

from __future__ import annotations

import math
import numbers

import torch

from lrcourse._validate import _show_number, check_bool, check_int, check_optimizer, check_real

__all__ = ["epochs_to_steps", "scaler_step", "steps_per_epoch", "steps_to_epochs"]


def steps_per_epoch(
    dataset_size: int, batch_size: int, drop_last: bool = False, grad_accum_steps: int = 1
) -> int:
    """Optimizer steps in one epoch.

    The count assumes the usual accumulation loop: the optimizer steps after every
    ``grad_accum_steps`` micro-batches, and once more after the last micro-batch of the epoch if
    a partial accumulation window is left, so no gradient leaks into the next epoch::

        for i, batch in enumerate(loader):
            (loss_fn(model(batch)) / grad_accum_steps).backward()
            if (i + 1) % grad_accum_steps == 0 or i + 1 == len(loader):
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step()

    That is ``ceil(batches / grad_accum_steps)``, with ``batches = ceil(dataset_size /
    batch_size)``, or ``floor(...)`` with ``drop_last=True`` as in ``torch.utils.data.DataLoader``.
    A loop that discards the partial window takes ``batches // grad_accum_steps`` steps instead.

    Args:
        dataset_size: Samples in the dataset, >= 1.
        batch_size: Samples per micro-batch (per forward pass), >= 1.
        drop_last: Whether the loader drops the last incomplete batch.
        grad_accum_steps: Micro-batches per optimizer step, >= 1.

    Returns:
        The number of optimizer steps per epoch, >= 1.

    Raises:
        ValueError: If ``drop_last`` leaves no batch at all (``dataset_size < batch_size``).
    """
    dataset_size = check_int(dataset_size, "dataset_size", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    drop_last = check_bool(drop_last, "drop_last")
    grad_accum_steps = check_int(grad_accum_steps, "grad_accum_steps", low=1)
    # Integer ceil division (-(-a // b)); float ceil would round wrongly for huge datasets.
    batches = dataset_size // batch_size if drop_last else -(-dataset_size // batch_size)
    if batches == 0:
        raise ValueError(
            "dataset_size must be >= batch_size when drop_last=True, or the epoch has no batch "
            f"(got dataset_size={dataset_size}, batch_size={batch_size})"
        )
    return -(-batches // grad_accum_steps)


def epochs_to_steps(epochs: float, steps_per_epoch: int) -> int:
    """Convert a length in epochs (``warmup_epochs=5``, ``0.5``) to optimizer steps.

    Whole epochs convert exactly. Fractional ones are rounded to the nearest step (Python's
    ``round``, ties to even), so that float noise such as ``0.1 * 30 = 3.0000000000000004`` gives
    3, not 4.

    Args:
        epochs: Length in epochs, a finite number >= 0.
        steps_per_epoch: Optimizer steps per epoch, >= 1 (see ``steps_per_epoch``).

    Returns:
        The length in optimizer steps.
    """
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", low=1)
    if isinstance(epochs, numbers.Integral) and not isinstance(epochs, bool):
        return check_int(epochs, "epochs", low=0) * steps_per_epoch  # exact, never through a float
    product = check_real(epochs, "epochs", low=0.0) * steps_per_epoch
    if not math.isfinite(product):
        # 1e308 epochs is a finite float, but not its product: refuse it here, not in round().
        raise ValueError(
            "epochs * steps_per_epoch must be a finite number of steps "
            f"(got epochs={epochs!r}, steps_per_epoch={steps_per_epoch}, whose product overflows)"
        )
    return round(product)


def steps_to_epochs(steps: int, steps_per_epoch: int) -> float:
    """Convert optimizer steps (e.g. a scheduler's ``last_epoch``) to fractional epochs.

    Args:
        steps: Optimizer steps, >= 0.
        steps_per_epoch: Optimizer steps per epoch, >= 1 (see ``steps_per_epoch``).

    Returns:
        ``steps / steps_per_epoch``.
    """
    steps = check_int(steps, "steps", low=0)
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", low=1)
    try:
        return steps / steps_per_epoch
    except OverflowError:  # int / int is exact until the quotient leaves float64's range
        raise ValueError(
            "steps / steps_per_epoch must fit in a float "
            f"(got steps={_show_number(steps)}, steps_per_epoch={_show_number(steps_per_epoch)})"
        ) from None


def scaler_step(scaler: torch.amp.GradScaler, optimizer: torch.optim.Optimizer) -> bool:
    """``scaler.step(optimizer)`` and ``scaler.update()``; return whether the optimizer stepped.

    With float16 autocast, ``GradScaler`` skips ``optimizer.step()`` when the scaled gradients
    contain inf or NaN, and ``update()`` then lowers the scale. Stepping the scheduler anyway
    moves the schedule ahead of the weights, and on the first batch makes torch warn, wrongly,
    that ``lr_scheduler.step()`` was called before ``optimizer.step()``. Step the scheduler only
    when this returns ``True``, so that ``last_epoch`` keeps counting optimizer steps taken::

        scaler.scale(loss).backward()
        if scaler_step(scaler, optimizer):
            scheduler.step()
        optimizer.zero_grad()

    The test is the usual one: ``update()`` lowers the scale exactly when the step was skipped, so
    the step was taken unless the scale went down. A disabled scaler always steps.

    Args:
        scaler: A ``torch.amp.GradScaler`` whose ``scale()`` produced the gradients.
        optimizer: The ``torch.optim.Optimizer`` to step.

    Returns:
        ``True`` if ``optimizer.step()`` ran, ``False`` if the scaler skipped it.
    """
    if not isinstance(scaler, torch.amp.GradScaler):
        raise TypeError(f"scaler must be a torch.amp.GradScaler (got scaler of type {type(scaler).__name__})")
    check_optimizer(optimizer)
    scale_before = scaler.get_scale()
    scaler.step(optimizer)
    scaler.update()
    return scaler.get_scale() >= scale_before
