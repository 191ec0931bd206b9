"""What a training run measured: :class:`History`, and its JSON-safe form.

:func:`lrcourse.lab.training.train` returns a :class:`History`: the LR of every param group and the
loss of every batch, the training and validation loss and accuracy of every epoch, timings,
optimizer steps taken and skipped, and whether (and at which step) the run diverged, with the
run's config. ``to_dict()`` gives plain lists, numbers and strings for JSON -- NaN and infinities,
which a diverged run has, become ``"nan"``, ``"inf"`` and ``"-inf"`` -- and ``History.from_dict``
reads them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["History"]


def _encode(value: Any) -> Any:
    # JSON has no NaN or infinity; a diverged run has both. Store them as strings.
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode_floats(values: list[Any]) -> list[float]:
    return [float(v) for v in values]  # float("nan"), float("inf") parse the strings back


@dataclass
class History:
    """Everything a run measured; ``to_dict()`` is JSON-safe and ``from_dict`` reads it back.

    Per batch (one optimizer step, unless fp16's GradScaler skipped it): ``lr``, the LR that batch
    was trained with in param group 0 (the only group of most models), ``group_lrs``, the same for
    every group (``group_lrs[g][s]`` is group ``g``'s LR at step ``s``, so ``group_lrs[0] == lr``),
    and ``loss``. Per epoch: ``train_loss`` and ``train_acc``
    (averaged over the epoch's samples, with the weights changing as they train), ``val_loss`` and
    ``val_acc`` (empty without validation batches), ``epoch_time`` (seconds). ``steps`` counts
    optimizer steps taken, ``skipped_steps`` the ones GradScaler skipped.
    """

    lr: list[float] = field(default_factory=list)
    group_lrs: list[list[float]] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    wall_time: float = 0.0
    steps: int = 0
    skipped_steps: int = 0
    diverged: bool = False
    diverged_at: int | None = None
    message: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    _FLOAT_LISTS = ("lr", "loss", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_time")

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """A dict of lists, numbers and strings; NaN and infinities become ``"nan"``, ``"inf"``."""
        return _encode(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """The inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"data has keys that History does not know: {unknown} (valid: {sorted(known)})")
        kwargs = dict(data)
        for name in cls._FLOAT_LISTS:
            if name in kwargs:
                kwargs[name] = _decode_floats(kwargs[name])
        if "group_lrs" in kwargs:
            kwargs["group_lrs"] = [_decode_floats(values) for values in kwargs["group_lrs"]]
        elif kwargs.get("lr"):
            # Written before every group was recorded: group 0 is all there is.
            kwargs["group_lrs"] = [list(kwargs["lr"])]
        if "wall_time" in kwargs:
            kwargs["wall_time"] = float(kwargs["wall_time"])
        kwargs["config"] = dict(kwargs.get("config", {}))
        return cls(**kwargs)
