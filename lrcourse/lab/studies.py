"""Reading finished searches (``python -m lrcourse tune``): what each cost, what it found, and
what its pruner stopped. Chapter 14 sets these beside the range test.

A search's folder holds ``study.journal`` (the Optuna study), ``trials/`` (one file per finished
trial) and ``final/`` (the best settings trained again over seeds, a sweep's results).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .shootout import kendall_tau
from .tune_space import TrialSettings

__all__ = ["PruningAudit", "SearchCost", "finished_trials", "load_study", "pruning_audit", "search_cost",
           "settings_of", "values_at"]


def load_study(folder: str | Path, name: str = "lrcourse") -> Any:
    """The Optuna study in ``<folder>/study.journal``."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    journal = Path(folder) / "study.journal"
    if not journal.is_file():
        raise FileNotFoundError(f"no study in {folder}: {journal} is missing")
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    return optuna.load_study(study_name=name, storage=storage)


def finished_trials(study: Any) -> list[Any]:
    """The complete and pruned trials, by number (a search's budget counts these)."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def settings_of(trial: Any) -> TrialSettings:
    return TrialSettings.from_params(trial.params)


@dataclass(frozen=True)
class SearchCost:
    """``trials`` finished, of which ``pruned``; ``epochs`` trained in all, against ``full``
    (every finished trial trained to the end)."""

    trials: int
    pruned: int
    epochs: int
    full: int

    @property
    def saved(self) -> float:
        """The share of ``full`` that pruning did not train."""
        return 1 - self.epochs / self.full if self.full else 0.0


def search_cost(study: Any) -> SearchCost:
    epochs = study.user_attrs["lrcourse_settings"]["epochs"]
    trials = finished_trials(study)
    return SearchCost(trials=len(trials), pruned=sum(t.state.name == "PRUNED" for t in trials),
                      epochs=sum(len(t.intermediate_values) for t in trials), full=len(trials) * epochs)


def values_at(study: Any, epoch: int) -> dict[int, float]:
    """Each finished trial's validation accuracy after ``epoch`` (1-based), where it got that far."""
    return {t.number: t.intermediate_values[epoch] for t in finished_trials(study) if epoch in t.intermediate_values}


@dataclass(frozen=True)
class PruningAudit:
    """A pruned search against the same trials trained to the end (random search with one seed
    samples the same settings whatever its pruner does).

    Attributes:
        pruned: ``{trial: epoch it was stopped after}`` in the pruned search.
        final: ``{trial: final value}`` of every trial, trained to the end.
        best: The trial with the best final value; ``best_pruned`` whether the pruner stopped it.
        lost: The pruned trials whose final value would have beaten the pruned search's best.
        tau: Kendall's tau between the values at the first epoch the pruner may act on and
            the final ones, over the trials trained to the end: how well the early ranking
            predicts the late one.
    """

    pruned: dict[int, int]
    final: dict[int, float]
    best: int
    best_pruned: bool
    lost: list[int]
    tau: float
    epoch: int


def pruning_audit(pruned_study: Any, full_study: Any, epoch: int) -> PruningAudit:
    """Audit ``pruned_study`` against ``full_study``, the same trials without a pruner.

    Raises:
        ValueError: the two searches did not sample the same settings, trial by trial.
    """
    mine, full = finished_trials(pruned_study), finished_trials(full_study)
    if [t.params for t in mine] != [t.params for t in full[: len(mine)]]:
        differ = next(a.number for a, b in zip(mine, full) if a.params != b.params) if len(full) >= len(mine) else None
        raise ValueError("the two searches did not sample the same settings"
                         + (f" (first at trial {differ})" if differ is not None else " (the full one is shorter)"))
    final = {t.number: t.value for t in full[: len(mine)]}
    stopped = {t.number: max(t.intermediate_values) for t in mine if t.state.name == "PRUNED"}
    best = max(final, key=lambda n: (final[n], -n))
    kept_best = max((t.value for t in mine if t.state.name == "COMPLETE"), default=-math.inf)
    early = values_at(full_study, epoch)
    shared = sorted(set(early) & set(final))
    return PruningAudit(pruned=stopped, final=final, best=best, best_pruned=best in stopped,
                        lost=sorted(n for n in stopped if final[n] > kept_best),
                        tau=kendall_tau(_ranked(early, shared), _ranked(final, shared)), epoch=epoch)


def _ranked(values: dict[int, float], numbers: list[int]) -> list[str]:
    """The trial numbers, best value first, as the names ``kendall_tau`` orders."""
    return [str(n) for n in sorted(numbers, key=lambda n: (-values[n], n))]
