"""What ``python -m lrcourse tune`` searches: the schedule family, the peak rate, the warmup, and
optionally the weight decay (:class:`SearchSpace`), and how one trial's choices become a run of
the lab (:class:`TrialSettings`).

A family is a lab recipe (:mod:`lrcourse.lab.recipes`), so the best trial is re-trained over seeds
by the ordinary sweep engine, and its runs compare with any other sweep's:

==========  =================  =======================================================
family      recipe             warmup
==========  =================  =======================================================
cosine      ``warmup_cosine``  searched, then half a cosine to 0
wsd         ``wsd``            searched, the peak, a linear cooldown over the last 20 %
onecycle    ``onecycle``       its own rise over 30 % of the run (not searched)
linear      ``warmup_linear``  searched, then a straight line to 0
==========  =================  =======================================================

The warmup is therefore a *conditional* parameter (Optuna samples it only where the family
reads it), and the rate is searched on a log scale: a rate twice as large matters as much
at 0.01 as at 0.5.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .._validate import check_choice, check_real

__all__ = ["DEFAULT_LR_RANGE", "FAMILIES", "SearchSpace", "TrialSettings", "suggest"]

#: family -> the lab recipe that trains it
FAMILIES: dict[str, str] = {"cosine": "warmup_cosine", "wsd": "wsd", "onecycle": "onecycle", "linear": "warmup_linear"}
#: The families whose warmup is searched; one-cycle's rise is part of its definition.
WARMUP_FAMILIES = ("cosine", "wsd", "linear")
#: A peak-rate range per optimizer wide enough to hold both a rate too small to train in the
#: budget and one that diverges (chapter 7's range tests on LeNet span about the same).
DEFAULT_LR_RANGE: dict[str, tuple[float, float]] = {"sgd": (0.003, 1.0), "adamw": (1e-4, 0.03)}
DEFAULT_WARMUP_RANGE = (0.0, 0.3)
DEFAULT_WEIGHT_DECAY_RANGE = (1e-5, 1e-2)


@dataclass(frozen=True)
class SearchSpace:
    """The ranges of a search; every field is part of the settings a study is created with."""

    families: tuple[str, ...] = tuple(FAMILIES)
    lr: tuple[float, float] = DEFAULT_LR_RANGE["sgd"]
    warmup: tuple[float, float] = DEFAULT_WARMUP_RANGE
    weight_decay: tuple[float, float] | None = None  # None: the optimizer's default, not searched

    def __post_init__(self) -> None:
        families = tuple(self.families)
        if not families:
            raise ValueError(f"families must name at least one of {', '.join(FAMILIES)} (got none)")
        for i, family in enumerate(families):
            check_choice(family, f"families[{i}]", tuple(FAMILIES))
        if len(set(families)) != len(families):
            raise ValueError(f"families must not repeat (got {', '.join(families)})")
        object.__setattr__(self, "families", families)
        _check_range(self.lr, "lr", log=True)
        _check_range(self.warmup, "warmup", low=0.0, high=0.5)
        if self.weight_decay is not None:
            _check_range(self.weight_decay, "weight_decay", log=True)

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


def _check_range(pair: Any, name: str, *, log: bool = False, low: float | None = None,
                 high: float | None = None) -> None:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"{name} must be a pair (low, high) (got {name}={pair!r})")
    a, b = (check_real(v, f"{name}[{i}]", low=0.0, low_open=log) for i, v in enumerate(pair))
    if not a < b:
        raise ValueError(f"{name} must be a range with low < high (got {name}=({a:g}, {b:g}))")
    if (low is not None and a < low) or (high is not None and b > high):
        raise ValueError(f"{name} must lie within [{low:g}, {high:g}] (got {name}=({a:g}, {b:g}))")


@dataclass(frozen=True)
class TrialSettings:
    """One trial's choices as a lab run: ``recipe``, peak ``lr``, the recipe's knobs, weight decay."""

    family: str
    recipe: str
    lr: float
    recipe_options: dict[str, Any] | None
    weight_decay: float | None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrialSettings:
        """The settings of a trial's ``params`` (what :func:`suggest` sampled, or a stored trial's)."""
        family = check_choice(params.get("family"), "family", tuple(FAMILIES))
        warmup = params.get("warmup_fraction")
        return cls(family=family, recipe=FAMILIES[family], lr=float(params["lr"]),
                   recipe_options=None if warmup is None else {"warmup_fraction": float(warmup)},
                   weight_decay=None if params.get("weight_decay") is None else float(params["weight_decay"]))

    def describe(self) -> str:
        parts = [self.family, f"lr {self.lr:.3g}"]
        if self.recipe_options:
            parts.append(f"warmup {self.recipe_options['warmup_fraction']:.0%}")
        if self.weight_decay is not None:
            parts.append(f"wd {self.weight_decay:.2g}")
        return ", ".join(parts)


def suggest(trial: Any, space: SearchSpace) -> TrialSettings:
    """Sample one trial's settings from ``space`` with Optuna's define-by-run API."""
    family = trial.suggest_categorical("family", list(space.families))
    params: dict[str, Any] = {"family": family, "lr": trial.suggest_float("lr", *space.lr, log=True)}
    if family in WARMUP_FAMILIES:
        params["warmup_fraction"] = trial.suggest_float("warmup_fraction", *space.warmup)
    if space.weight_decay is not None:
        params["weight_decay"] = trial.suggest_float("weight_decay", *space.weight_decay, log=True)
    return TrialSettings.from_params(params)


def parse_range(text: str, name: str) -> tuple[float, float]:
    """``"0.003,1"`` -> ``(0.003, 1.0)``; a ValueError names ``name`` and the text."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be two numbers LOW,HIGH, e.g. 0.003,1 (got {text!r})")
    return values  # type: ignore[return-value]
