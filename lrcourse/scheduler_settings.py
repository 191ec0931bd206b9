"""What a scheduler was built with, read from its ``state_dict()``: its settings, not its progress.

Two parts of lrcourse ask this question: :func:`lrcourse.lab.training.train` stores a scheduler's
settings in the checkpoint config, so that resuming with another schedule is refused, and
:mod:`lrcourse.resume` compares a saved state with a freshly built scheduler before loading
it. Both read the settings here, so they agree on what a setting is:

* every entry of the state, at any depth (``SequentialLR`` nests its schedulers' states), except
  the progress of the run (``last_epoch``, the step count, the last LRs, a plateau's best value)
  and ``verbose`` (torch before 2.7 keeps it in the state; it changes what is printed, not the LR);
* as plain Python values: tensors become lists, ``MultiStepLR``'s milestone ``Counter`` a sorted
  list, tuples lists; what has no value to compare (a callable, an object) is left out.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["NOT_SETTINGS", "schedule_signature", "setting_changes", "settings"]

#: State keys that are progress rather than settings, or that do not change the LR; never compared.
NOT_SETTINGS = frozenset(
    {
        "last_epoch",
        "_step_count",
        "_last_lr",
        "_get_lr_called_within_step",
        "_is_initial",
        "_initial_step",
        # ReduceLROnPlateau and lrcourse.WarmupReduceLROnPlateau
        "best",
        "num_bad_epochs",
        "cooldown_counter",
        # torch < 2.7 stores the deprecated argument; it only decides what is printed
        "verbose",
    }
)

_OMIT = object()  # marks a value with nothing to compare


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Counter):  # MultiStepLR's milestones: {milestone: times}
        return sorted(value.elements())
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in NOT_SETTINGS:
                continue
            item = _plain(item)
            if item is not _OMIT:
                out[str(key)] = item
        return out
    if isinstance(value, (list, tuple)):
        # Keep positions: an element with nothing to compare becomes None, so indices still match.
        return [None if item is _OMIT else item for item in map(_plain, value)]
    return _OMIT


def settings(state: Mapping[str, Any]) -> dict[str, Any]:
    """The settings in a scheduler's ``state_dict()``, as plain values (see the module docstring)."""
    out = _plain(state)
    return out if isinstance(out, dict) else {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _diff(saved: Any, current: Any, path: str, out: dict[str, tuple[Any, Any]]) -> None:
    if isinstance(saved, dict) and isinstance(current, dict):
        for key, value in saved.items():
            if key in current:  # a key only one side has belongs to another kind of scheduler
                _diff(value, current[key], f"{path}.{key}" if path else key, out)
        return
    if (
        isinstance(saved, list)
        and isinstance(current, list)
        and len(saved) == len(current)
        and any(isinstance(item, dict) for item in saved)
    ):
        # A list of nested states (SequentialLR's schedulers): compare element by element.
        for i, (a, b) in enumerate(zip(saved, current)):
            _diff(a, b, f"{path}[{i}]", out)
        return
    if not _same(saved, current):
        out[path] = (saved, current)


def setting_changes(saved_state: Mapping[str, Any], current_state: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{path: (saved value, current value)}`` for every setting that differs between two states.

    Paths name nested entries like ``"_schedulers[1].T_max"``.
    """
    out: dict[str, tuple[Any, Any]] = {}
    _diff(settings(saved_state), settings(current_state), "", out)
    return out


def schedule_signature(scheduler: Any) -> dict[str, Any]:
    """The scheduler's class and settings (lengths, milestones, base LRs...), without progress.

    Two schedulers with the same signature give the same LR curve; :func:`lrcourse.lab.training.train`
    stores it in the checkpoint config so that resuming with another schedule is refused. It is
    JSON-safe, as a config must be.
    """
    if scheduler is None:
        return {"class": None}
    return {"class": type(scheduler).__name__, **settings(scheduler.state_dict())}
