"""Reading a shoot-out of recipes: the best one, each recipe against it seed by seed, the runs
that failed and why, the peak each recipe prefers, and whether two budgets rank the recipes alike.

Every function takes the result dictionaries of :func:`~lrcourse.lab.results.load_results`, or
the ``{recipe: {seed: value}}`` built from them by :func:`final_values`, so the chapter's tables
are computed here and the tests can recompute them from the committed files.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .paired import PairedComparison, compare, final_metric

__all__ = ["Failure", "RankChange", "TunedPeak", "against_best", "best_by_mean", "failed_runs", "final_values",
           "kendall_tau", "rank_changes", "tuned_peaks"]

Values = Mapping[str, Mapping[int, float]]


def final_values(results: Sequence[Mapping[str, Any]], recipes: Sequence[str] = (),
                 metric: str = "test_acc") -> dict[str, dict[int, float]]:
    """``{recipe: {seed: final metric}}`` for ``recipes`` (default: every recipe in ``results``, sorted)."""
    names = list(recipes) or sorted({r["recipe"] for r in results})
    return {name: final_metric(results, name, metric) for name in names}


def _check_values(values: Values, name: str) -> None:
    if not values:
        raise ValueError(f"{name} holds no recipe: pass {{recipe: {{seed: value}}}} with at least one recipe")
    empty = [recipe for recipe, by_seed in values.items() if not by_seed]
    if empty:
        raise ValueError(f"{name}: recipe(s) {empty} have no seed")


def best_by_mean(values: Values) -> str:
    """The recipe with the highest mean over its seeds (the first in ``values``' order on a tie)."""
    _check_values(values, "values")
    return max(values, key=lambda recipe: statistics.fmean(values[recipe].values()))


def against_best(values: Values, best: str | None = None) -> dict[str, PairedComparison]:
    """Each other recipe minus ``best`` (default: :func:`best_by_mean`), paired seed by seed;
    a negative mean is a recipe behind the best."""
    _check_values(values, "values")
    best = best_by_mean(values) if best is None else best
    if best not in values:
        raise ValueError(f"best must be one of the recipes {list(values)} (got {best!r})")
    return {recipe: compare(values[recipe], values[best], names=(recipe, best))
            for recipe in values if recipe != best}


@dataclass(frozen=True)
class Failure:
    """A run that failed: ``reason`` says how, in words a reader can check in its history."""

    recipe: str
    seed: int
    reason: str


def failed_runs(results: Sequence[Mapping[str, Any]], chance: float = 0.1, margin: float = 0.05) -> list[Failure]:
    """The runs that diverged (a loss that was not finite) or ended near ``chance`` accuracy
    (below ``chance + margin`` on the test split), each with its reason, in recipe and seed order."""
    failures = []
    for result in sorted(results, key=lambda r: (r["recipe"], r["seed"])):
        history, acc = result["history"], result["final"]["test_acc"]
        if result["diverged"]:
            at = history.get("diverged_at")
            lr = history["lr"][at] if at is not None and at < len(history["lr"]) else None
            where = f" at step {at}" if at is not None else ""
            rate = f" (lr {lr:.3g})" if lr is not None else ""
            reason = f"diverged{where}{rate}: {history.get('message') or 'the loss was not finite'}"
        elif not isinstance(acc, (int, float)) or math.isnan(acc) or acc < chance + margin:
            reason = f"ended near chance: test accuracy {acc:.3f} (chance {chance:.2f})"
        else:
            continue
        failures.append(Failure(result["recipe"], result["seed"], reason))
    return failures


@dataclass(frozen=True)
class TunedPeak:
    """One recipe's peak chosen on validation: ``scores[peak]`` is the mean final validation
    accuracy over ``seeds`` (the seeds every peak of the grid has)."""

    recipe: str
    peak: float
    scores: dict[float, float]
    seeds: tuple[int, ...]


def tuned_peaks(grid: Mapping[float, Sequence[Mapping[str, Any]]], recipes: Sequence[str]) -> dict[str, TunedPeak]:
    """Each recipe's best peak in ``grid`` (``{peak: results at that peak}``), by the mean final
    **validation** accuracy over the seeds all peaks share: the test split plays no part.

    Raises:
        ValueError: fewer than two peaks, or a recipe whose peaks share no seed.
    """
    if len(grid) < 2:
        raise ValueError(f"grid must hold at least two peaks to choose from (got {sorted(grid)})")
    chosen = {}
    for recipe in recipes:
        by_peak = {peak: final_metric(results, recipe, "val_acc") for peak, results in grid.items()}
        seeds = tuple(sorted(set.intersection(*(set(v) for v in by_peak.values()))))
        if not seeds:
            raise ValueError(f"{recipe}: the peaks {sorted(grid)} share no seed "
                             f"(seeds per peak: { {p: sorted(v) for p, v in by_peak.items()} })")
        scores = {peak: statistics.fmean(v[s] for s in seeds) for peak, v in sorted(by_peak.items())}
        chosen[recipe] = TunedPeak(recipe, max(scores, key=scores.__getitem__), scores, seeds)
    return chosen


def kendall_tau(order_a: Sequence[str], order_b: Sequence[str]) -> float:
    """Kendall's rank correlation of two orderings of the same names: 1 the same order, -1 reversed."""
    if sorted(order_a) != sorted(order_b) or len(set(order_a)) != len(order_a):
        raise ValueError(f"the two orderings must hold the same distinct names (got {list(order_a)} and {list(order_b)})")
    if len(order_a) < 2:
        raise ValueError(f"Kendall's tau needs at least two names (got {list(order_a)})")
    rank_b = {name: i for i, name in enumerate(order_b)}
    pairs = list(itertools.combinations(order_a, 2))  # a before b in order_a
    concordant = sum(rank_b[a] < rank_b[b] for a, b in pairs)
    return (2 * concordant - len(pairs)) / len(pairs)


@dataclass(frozen=True)
class RankChange:
    """Two recipes ordered one way at one budget and the other way at another: ``first`` is
    ahead at the long budget; each comparison is ``first`` minus ``second``, paired by seed."""

    first: str
    second: str
    long: PairedComparison
    short: PairedComparison


def _order(values: Values) -> list[str]:
    return sorted(values, key=lambda recipe: -statistics.fmean(values[recipe].values()))


def rank_changes(long: Values, short: Values) -> tuple[list[str], list[str], list[RankChange]]:
    """The order by mean at each budget and the pairs whose order differs between them, with
    the paired comparison of each pair at both budgets (so a reader can see whether either
    order was ever more than the spread)."""
    _check_values(long, "long")
    _check_values(short, "short")
    if set(long) != set(short):
        raise ValueError(f"the two budgets must hold the same recipes (got {sorted(long)} and {sorted(short)})")
    order_long, order_short = _order(long), _order(short)
    rank_short = {recipe: i for i, recipe in enumerate(order_short)}
    changes = [RankChange(a, b, compare(long[a], long[b], names=(a, b)), compare(short[a], short[b], names=(a, b)))
               for a, b in itertools.combinations(order_long, 2) if rank_short[a] > rank_short[b]]
    return order_long, order_short, changes
