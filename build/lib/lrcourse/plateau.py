"""Warmup in front of ``ReduceLROnPlateau``: :class:`WarmupReduceLROnPlateau`.

``torch.optim.lr_scheduler.ReduceLROnPlateau`` cannot be chained with a warmup scheduler
(``SequentialLR`` and ``ChainedScheduler`` step it without a metric). This class is a
``ReduceLROnPlateau`` that ramps the LR up first. Being one -- a subclass, not a wrapper -- is what
lets the frameworks drive it: PyTorch Lightning and the transformers ``Trainer`` decide with
``isinstance(scheduler, ReduceLROnPlateau)`` whether to pass the monitored metric to ``step()``,
and a scheduler that is not one is stepped without it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from ._validate import check_choice, check_int, check_lr, check_optimizer, check_real, check_scheduler_groups, check_steps
from .schedules import warmup_ramp_factor

__all__ = ["WarmupReduceLROnPlateau"]


def _check_min_lr(min_lr: float | list[float] | tuple[float, ...], num_groups: int) -> float | list[float]:
    if isinstance(min_lr, (list, tuple)):
        if len(min_lr) != num_groups:
            raise ValueError(
                "min_lr must be a number or have one entry per param group "
                f"(got min_lr={list(min_lr)!r} for {num_groups} param groups)"
            )
        return [check_lr(value, f"min_lr[{i}]") for i, value in enumerate(min_lr)]
    return check_lr(min_lr, "min_lr")


def _lr_values(optimizer: torch.optim.Optimizer) -> list[float | torch.Tensor]:
    # Copies, so that the caller cannot change a group's LR through the list (as torch does).
    return [
        group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else group["lr"]
        for group in optimizer.param_groups
    ]


class WarmupReduceLROnPlateau(ReduceLROnPlateau):
    """Linear warmup over the first ``step(metrics)`` calls, then ``ReduceLROnPlateau``.

    Call ``step(metrics)`` once per validation (typically once per epoch), after the optimizer
    steps of that epoch. ``last_epoch`` counts those calls.

    * Warmup: after ``n`` calls with ``n < warmup_steps`` the LR of each group is
      ``base_lr * (n + 1) / warmup_steps`` (the ramp of ``WarmupLR``): the first epoch trains at
      ``base_lr / warmup_steps`` and epoch ``warmup_steps - 1`` at the full base LR.
    * The metrics passed to the first ``warmup_steps - 1`` calls are ignored: they measure
      epochs trained below the base LR. From call ``warmup_steps`` on (from the first call if
      ``warmup_steps`` is 0 or 1) every metric goes to ``ReduceLROnPlateau.step``, so the first
      metric it sees is that of the first epoch trained at the full base LR, and from then on the
      LRs, ``best``, ``num_bad_epochs`` and ``cooldown_counter`` are exactly those of a
      ``ReduceLROnPlateau`` started at that point.

    ``state_dict()`` is a ``ReduceLROnPlateau`` state plus ``warmup_steps`` and ``base_lrs``, and
    loads with ``torch.load(..., weights_only=True)``. A state saved by lrcourse 0.2, which kept
    the plateau's state under ``"plateau"``, loads too.

    In PyTorch Lightning, return it from ``configure_optimizers`` as
    ``{"scheduler": scheduler, "monitor": "val_loss", "interval": "epoch"}``; with the transformers
    ``Trainer``, pass it in ``optimizers=(optimizer, scheduler)`` and set
    ``metric_for_best_model``: both then call ``step(metric)`` after each evaluation.

    Args:
        optimizer: The ``torch.optim.Optimizer`` whose param groups are scheduled.
        warmup_steps: Calls of ``step(metrics)`` (epochs) in the ramp, >= 0.
        mode: ``"min"`` (the metric should fall, e.g. a loss) or ``"max"`` (e.g. an accuracy).
        factor: Multiplier applied to the LR on a plateau, ``0 <= factor < 1``.
        patience: Non-improving calls tolerated before the LR is reduced, >= 0.
        threshold: Smallest change that counts as an improvement, >= 0.
        threshold_mode: ``"rel"`` (``threshold`` is relative to the best value) or ``"abs"``.
        cooldown: Calls to wait after a reduction before counting bad calls again, >= 0.
        min_lr: Lower bound on the LR, >= 0: one number, or one per param group.
        eps: Reductions smaller than this are skipped, >= 0.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        check_optimizer(optimizer)
        warmup_steps = check_steps(warmup_steps, "warmup_steps", low=0)
        # The checks come first so that errors name our parameters; torch checks little itself.
        plateau_args: dict[str, Any] = {
            "mode": check_choice(mode, "mode", ("min", "max")),
            "factor": check_real(factor, "factor", low=0.0, high=1.0, high_open=True),
            "patience": check_int(patience, "patience", low=0),
            "threshold": check_real(threshold, "threshold", low=0.0),
            "threshold_mode": check_choice(threshold_mode, "threshold_mode", ("rel", "abs")),
            "cooldown": check_int(cooldown, "cooldown", low=0),
            "min_lr": _check_min_lr(min_lr, len(optimizer.param_groups)),
            "eps": check_real(eps, "eps", low=0.0),
        }
        # Record each group's initial_lr as the other schedulers do: the ramp is computed from it,
        # and a resumed optimizer state carries it.
        for group in optimizer.param_groups:
            initial_lr = group["lr"]
            group.setdefault(
                "initial_lr", initial_lr.clone() if isinstance(initial_lr, torch.Tensor) else initial_lr
            )
        super().__init__(optimizer, **plateau_args)
        self.warmup_steps = warmup_steps
        self.base_lrs: list[float | torch.Tensor] = [group["initial_lr"] for group in optimizer.param_groups]
        self._set_warmup_lrs()

    def _set_warmup_lrs(self) -> None:
        factor = warmup_ramp_factor(self.last_epoch, self.warmup_steps)
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            lr = base_lr * factor
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(float(lr))
            else:
                group["lr"] = lr
        self._last_lr: list[float | torch.Tensor] = _lr_values(self.optimizer)

    def step(self, metrics: float | torch.Tensor, epoch: None = None) -> None:  # type: ignore[override]
        """Record one validation result and set the LR for the next epoch.

        Args:
            metrics: The validation metric of the epoch just trained (a number or a one-element
                tensor). Ignored during warmup, as described in the class docstring.
            epoch: Not supported (``step(epoch)`` is deprecated in torch and shifts schedules);
                only there so that a caller passing ``epoch=None`` works.
        """
        if epoch is not None:
            raise TypeError(
                f"epoch must be None: WarmupReduceLROnPlateau counts its own calls (got epoch={epoch!r})"
            )
        try:
            current = float(metrics)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"metrics must be a number or a one-element tensor (got metrics={metrics!r})"
            ) from None
        check_scheduler_groups(self)
        if self.last_epoch + 1 < self.warmup_steps:
            self.last_epoch += 1
            self._set_warmup_lrs()
        else:
            super().step(current)
            self._last_lr = _lr_values(self.optimizer)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state returned by ``state_dict()`` (this version's, or lrcourse 0.2's nested one)."""
        state = dict(state_dict)
        nested = state.pop("plateau", None)
        if nested is not None:
            # 0.2 kept a ReduceLROnPlateau as an attribute: its counters are the plateau's, and
            # the outer last_epoch (every call, warmup included) is the one this class counts.
            state = {key: value for key, value in nested.items() if key != "last_epoch"} | state
        super().load_state_dict(state)

