"""Reading a grid of sweeps: one setting per folder (a peak rate, a cooldown, a batch size), the same
recipe and the same seeds in every folder.

A grid is a mapping ``{setting: results}``, each ``results`` as
:func:`~lrcourse.lab.results.load_results` reads one folder. The frontier chapters ask three
questions of one:

* :func:`spread` -- the mean, standard deviation and range of a setting's final accuracy over
  its seeds;
* :func:`best_setting` -- which setting a reader would choose, by the **validation** accuracy
  averaged over seeds (the test split is only reported, never used to choose); a setting with a
  failed seed is never chosen, and the choice says whether it sits at an edge of the grid,
  where the true best may lie outside it;
* :func:`largest_stable` -- the largest peak of a grid of peaks below the first at which a seed
  failed.

A run *fails* as :func:`lrcourse.lab.shootout.failed_runs` says: it diverged (the divergence
monitor stopped it), or it trained to the end but finished near chance accuracy, a network
whose units died early at a large rate without the loss ever blowing up.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Hashable

from .paired import final_metric
from .shootout import Failure, failed_runs

__all__ = ["TIE", "BestSetting", "Spread", "Stability", "best_setting", "largest_stable", "spread"]

Results = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Spread:
    """A setting's final metric over its seeds: ``values`` in seed order (``seeds``)."""

    seeds: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


def _runs(results: Results, recipe: str) -> list[Mapping[str, Any]]:
    runs = sorted((r for r in results if r["recipe"] == recipe), key=lambda r: r["seed"])
    if not runs:
        raise ValueError(f"no result of recipe {recipe!r} (found: {sorted({r['recipe'] for r in results})})")
    return runs


def spread(results: Results, recipe: str, metric: str = "test_acc") -> Spread:
    """``recipe``'s final ``metric`` over its seeds in ``results``.

    Raises:
        ValueError: no run of ``recipe``, or a run whose final ``metric`` is not a number (a
            diverged run: ask :func:`largest_stable` about those).
    """
    values = final_metric(results, recipe, metric)
    return Spread(tuple(values), tuple(float(v) for v in values.values()))


def _failures(results: Results, recipe: str) -> list[Failure]:
    return failed_runs(_runs(results, recipe))


@dataclass(frozen=True)
class BestSetting:
    """The chosen setting, its mean validation metric, whether it is the grid's lowest or highest,
    and the other settings whose mean ties with it (``TIE``): the choice among a tie is the
    smallest setting, a convention a reader should know about."""

    setting: Hashable
    mean: float
    at_edge: str | None  # "lowest", "highest" or None (an interior point of the grid)
    ties: tuple[Hashable, ...] = ()


# Means of accuracies over the same number of seeds tie when they are equal up to the rounding
# of floating-point sums (two sums of the same values in another order differ in the last bits).
TIE = 1e-9


def best_setting(grid: Mapping[Hashable, Results], recipe: str, metric: str = "val_acc") -> BestSetting:
    """The setting of ``grid`` with the highest final ``metric`` averaged over seeds, among those
    where no seed failed. Settings are ordered by their own order (``sorted``) to tell an edge.

    Raises:
        ValueError: an empty grid, or every setting has a failed seed.
    """
    if not grid:
        raise ValueError("grid must hold at least one setting (got an empty grid)")
    order = sorted(grid)
    candidates = {s: spread(grid[s], recipe, metric).mean for s in order if not _failures(grid[s], recipe)}
    if not candidates:
        raise ValueError(f"every setting of the grid ({order}) has a failed seed of {recipe!r}: none to choose")
    top = max(candidates.values())
    tied = [s for s in order if s in candidates and top - candidates[s] <= TIE]
    best = tied[0]  # a tie goes to the smallest setting
    edge = "lowest" if best == order[0] else "highest" if best == order[-1] else None
    return BestSetting(best, candidates[best], edge if len(order) > 1 else None, tuple(tied[1:]))


@dataclass(frozen=True)
class Stability:
    """Of a grid of peaks: the largest below the first where a seed failed, that first one (None
    if none failed), and the failed runs at each peak, each with its reason."""

    largest_stable: float | None
    first_failed: float | None
    failures: dict[float, list[Failure]]


def largest_stable(grid: Mapping[float, Results], recipe: str) -> Stability:
    """Walk the peaks upwards until one where any seed failed.

    Raises:
        ValueError: an empty grid.
    """
    if not grid:
        raise ValueError("grid must hold at least one peak (got an empty grid)")
    failures = {peak: _failures(grid[peak], recipe) for peak in sorted(grid)}
    first = next((peak for peak, failed in failures.items() if failed), None)
    below = [peak for peak in failures if first is None or peak < first]
    return Stability(below[-1] if below else None, first, failures)
