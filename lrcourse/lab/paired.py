"""Paired comparisons of two recipes over the same seeds.

Seed ``s`` of recipe A and seed ``s`` of recipe B start from the same initial weights and see the
same batches in the same order (a run's seed fixes both), so the difference of their final
accuracies, seed by seed, removes the part of the spread the two runs share. :func:`compare`
returns those differences with their mean, median, sample standard deviation, how many favour
A, and a bootstrap interval of the mean difference.

With a handful of seeds, the interval is rough: a percentile bootstrap of 5 values can only
resample those 5, and it is narrower than the truth. The book therefore states a difference as
supported only when **every** seed agrees on its sign and the interval excludes 0, and calls
the rest "not supported by the spread" rather than "no difference".
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._validate import check_int, check_real

__all__ = ["PairedComparison", "bootstrap_interval", "compare", "final_metric"]


def final_metric(results: Sequence[Mapping[str, Any]], recipe: str, metric: str = "test_acc") -> dict[int, float]:
    """``{seed: result["final"][metric]}`` of ``recipe``'s results (as :func:`~lrcourse.lab.results.load_results` reads them)."""
    values = {r["seed"]: r["final"][metric] for r in results if r["recipe"] == recipe}
    if not values:
        raise ValueError(f"no result of recipe {recipe!r} (found: {sorted({r['recipe'] for r in results})})")
    bad = {seed: value for seed, value in values.items() if not isinstance(value, (int, float)) or math.isnan(value)}
    if bad:
        raise ValueError(f"{recipe}: final {metric} is not a number for seed(s) {sorted(bad)}: {bad}")
    return dict(sorted(values.items()))


def bootstrap_interval(values: Sequence[float], level: float = 0.95, resamples: int = 10_000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (fixed ``seed``, so it is reproducible)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("values must hold at least one number (got none)")
    level = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    resamples = check_int(resamples, "resamples", low=1)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1 - level) / 2
    low = means[min(resamples - 1, int(math.floor(tail * resamples)))]
    high = means[min(resamples - 1, int(math.ceil((1 - tail) * resamples)) - 1)]
    return low, high


@dataclass(frozen=True)
class PairedComparison:
    """A minus B, seed by seed. ``differences[i]`` belongs to ``seeds[i]``."""

    a: str
    b: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    interval: tuple[float, float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.differences)

    @property
    def median(self) -> float:
        return statistics.median(self.differences)

    @property
    def std(self) -> float:
        return statistics.stdev(self.differences) if len(self.differences) > 1 else 0.0

    @property
    def wins(self) -> int:
        """Seeds on which A is ahead (a tie counts for neither)."""
        return sum(d > 0 for d in self.differences)

    @property
    def losses(self) -> int:
        return sum(d < 0 for d in self.differences)

    @property
    def supported(self) -> bool:
        """Every seed agrees on the sign and the bootstrap interval excludes 0."""
        n = len(self.differences)
        same_sign = self.wins == n or self.losses == n
        return n > 1 and same_sign and (self.interval[0] > 0 or self.interval[1] < 0)


def compare(a: Mapping[int, float], b: Mapping[int, float], *, names: tuple[str, str] = ("A", "B"),
            level: float = 0.95, resamples: int = 10_000) -> PairedComparison:
    """Compare two recipes' ``{seed: value}`` (from :func:`final_metric`) over the seeds both have.

    Raises:
        ValueError: the two have no seed in common.
    """
    seeds = tuple(sorted(set(a) & set(b)))
    if not seeds:
        raise ValueError(f"{names[0]} and {names[1]} have no seed in common "
                         f"(seeds {sorted(a)} and {sorted(b)}): a paired comparison needs the same seeds")
    differences = tuple(a[s] - b[s] for s in seeds)
    return PairedComparison(names[0], names[1], seeds, differences,
                            bootstrap_interval(differences, level=level, resamples=resamples))
