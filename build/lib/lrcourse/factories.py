"""The schedulers under the names of the transformers functions they mirror, taking either names.

``warmup_cosine(optimizer, warmup_steps=10, total_steps=100)`` builds a
:class:`~lrcourse.schedulers.WarmupCosineLR`; so does
``warmup_cosine(optimizer, num_warmup_steps=10, num_training_steps=100)``, the argument names of
transformers' ``get_cosine_schedule_with_warmup``. Code written for transformers moves over by
changing the import alone, as long as it passes the step counts by keyword; the positional order
is this package's (for ``wsd``: warmup, stable, decay). Giving one value under both names is an
error, as is leaving a required one out under both.

======================================  =============================================
lrcourse                                transformers
======================================  =============================================
``warmup_constant``                     ``get_constant_schedule_with_warmup``
``warmup_linear``                       ``get_linear_schedule_with_warmup``
``warmup_cosine``                       ``get_cosine_schedule_with_warmup``
``warmup_poly``                         ``get_polynomial_decay_schedule_with_warmup``
``inverse_sqrt``                        ``get_inverse_sqrt_schedule``
``wsd``                                 ``get_wsd_schedule``
======================================  =============================================
"""

from __future__ import annotations

from typing import Any

import torch

from ._validate import check_real
from .schedulers import (
    InverseSqrtLR,
    WarmupConstantLR,
    WarmupCosineLR,
    WarmupLinearLR,
    WarmupPolyLR,
    WarmupStableDecayLR,
)

__all__ = ["inverse_sqrt", "warmup_constant", "warmup_cosine", "warmup_linear", "warmup_poly", "wsd"]


def _one_of(ours: str, ours_value: Any, theirs: str, theirs_value: Any, *, required: bool = True) -> Any:
    """The value given under ``ours`` or under transformers' name ``theirs``: exactly one."""
    if ours_value is not None and theirs_value is not None:
        raise TypeError(
            f"give {ours} or transformers' name {theirs}, not both "
            f"(got {ours}={ours_value!r}, {theirs}={theirs_value!r})"
        )
    value = theirs_value if ours_value is None else ours_value
    if value is None and required:
        raise TypeError(f"missing the argument {ours} (transformers' name: {theirs})")
    return value


def warmup_constant(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
) -> WarmupConstantLR:
    """:class:`~lrcourse.schedulers.WarmupConstantLR`; ``num_warmup_steps`` is ``warmup_steps``."""
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    return WarmupConstantLR(optimizer, warmup, last_epoch=last_epoch)


def warmup_linear(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    total_steps: int | None = None,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
) -> WarmupLinearLR:
    """:class:`~lrcourse.schedulers.WarmupLinearLR`, also under transformers' argument names."""
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    total = _one_of("total_steps", total_steps, "num_training_steps", num_training_steps)
    return WarmupLinearLR(optimizer, warmup, total, last_epoch=last_epoch)


def warmup_cosine(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    total_steps: int | None = None,
    num_cycles: float = 0.5,
    min_lr_ratio: float = 0.0,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
) -> WarmupCosineLR:
    """:class:`~lrcourse.schedulers.WarmupCosineLR`, also under transformers' argument names."""
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    total = _one_of("total_steps", total_steps, "num_training_steps", num_training_steps)
    return WarmupCosineLR(optimizer, warmup, total, num_cycles=num_cycles, min_lr_ratio=min_lr_ratio,
                          last_epoch=last_epoch)


def warmup_poly(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    total_steps: int | None = None,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
) -> WarmupPolyLR:
    """:class:`~lrcourse.schedulers.WarmupPolyLR`, also under transformers' argument names."""
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    total = _one_of("total_steps", total_steps, "num_training_steps", num_training_steps)
    return WarmupPolyLR(optimizer, warmup, total, lr_end=lr_end, power=power, last_epoch=last_epoch)


def inverse_sqrt(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    timescale: int | None = None,
    d_model: int | None = None,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
) -> InverseSqrtLR:
    """:class:`~lrcourse.schedulers.InverseSqrtLR`; ``num_warmup_steps`` is ``warmup_steps``."""
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    return InverseSqrtLR(optimizer, warmup, timescale=timescale, d_model=d_model, last_epoch=last_epoch)


def wsd(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int | None = None,
    stable_steps: int | None = None,
    decay_steps: int | None = None,
    decay: str | None = None,
    min_lr_ratio: float = 0.0,
    last_epoch: int = -1,
    *,
    num_warmup_steps: int | None = None,
    num_stable_steps: int | None = None,
    num_decay_steps: int | None = None,
    num_training_steps: int | None = None,
    decay_type: str | None = None,
    warmup_type: str = "linear",
    num_cycles: float = 0.5,
) -> WarmupStableDecayLR:
    """:class:`~lrcourse.schedulers.WarmupStableDecayLR`, also as transformers' ``get_wsd_schedule``.

    With this package's names the decay defaults to ``"linear"``. Called with transformers'
    names, it takes transformers' defaults too: ``decay_type="cosine"`` unless given, and the
    stable phase ``num_training_steps - num_warmup_steps - num_decay_steps`` when
    ``num_training_steps`` is given instead of ``num_stable_steps``. The warmup is linear
    (``warmup_type="linear"``) and a cosine decay is a half cosine (``num_cycles=0.5``); other
    values of those two transformers options are refused.
    """
    warmup = _one_of("warmup_steps", warmup_steps, "num_warmup_steps", num_warmup_steps)
    decay_length = _one_of("decay_steps", decay_steps, "num_decay_steps", num_decay_steps)
    stable = _one_of("stable_steps", stable_steps, "num_stable_steps", num_stable_steps, required=False)
    if num_training_steps is not None:
        if stable is not None:
            raise TypeError(
                "give stable_steps (num_stable_steps) or num_training_steps, not both "
                f"(got stable_steps={stable!r}, num_training_steps={num_training_steps!r}); note that the "
                "positional order is (warmup_steps, stable_steps, decay_steps), not transformers' "
                "(num_warmup_steps, num_decay_steps)"
            )
        stable = num_training_steps - warmup - decay_length
        if stable < 0:
            raise ValueError(
                "num_training_steps must be >= num_warmup_steps + num_decay_steps "
                f"(got num_training_steps={num_training_steps}, num_warmup_steps={warmup}, "
                f"num_decay_steps={decay_length})"
            )
    elif stable is None:
        raise TypeError("missing the argument stable_steps (transformers' names: num_stable_steps or num_training_steps)")
    transformers_names = any(
        value is not None for value in (num_warmup_steps, num_stable_steps, num_decay_steps, num_training_steps)
    )
    shape = _one_of("decay", decay, "decay_type", decay_type, required=False)
    if shape is None:
        shape = "cosine" if transformers_names else "linear"
    if warmup_type != "linear":
        raise ValueError(f"warmup_type must be 'linear', the only warmup of wsd (got warmup_type={warmup_type!r})")
    if check_real(num_cycles, "num_cycles") != 0.5:
        raise ValueError(f"num_cycles must be 0.5, a half cosine, the only cosine decay of wsd (got num_cycles={num_cycles!r})")
    return WarmupStableDecayLR(optimizer, warmup, stable, decay_length, decay=shape, min_lr_ratio=min_lr_ratio,
                               last_epoch=last_epoch)
