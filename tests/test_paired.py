"""Paired comparisons: differences seed by seed, the bootstrap interval, and when a difference is supported."""

import statistics

import pytest

from lrcourse.lab.paired import bootstrap_interval, compare, final_metric


def _results(recipe, values):
    return [{"recipe": recipe, "seed": s, "final": {"test_acc": v}} for s, v in enumerate(values)]


def test_differences_are_taken_seed_by_seed_over_common_seeds():
    a = {0: 0.90, 1: 0.80, 2: 0.85, 3: 0.70}
    b = {0: 0.88, 1: 0.79, 2: 0.83}
    c = compare(a, b, names=("a", "b"))
    assert c.seeds == (0, 1, 2) and c.differences == pytest.approx((0.02, 0.01, 0.02))
    assert c.mean == pytest.approx(statistics.fmean([0.02, 0.01, 0.02])) and c.median == pytest.approx(0.02)
    assert (c.wins, c.losses) == (3, 0) and c.supported
    # Unpaired, the spread of a and b (0.05) swamps the 0.017 difference; paired it does not.
    assert statistics.stdev(a[s] for s in c.seeds) > 2.5 * c.mean > 0


def test_one_seed_against_the_others_is_not_supported():
    c = compare({0: 0.9, 1: 0.9, 2: 0.9}, {0: 0.8, 1: 0.8, 2: 0.95})
    assert (c.wins, c.losses) == (2, 1) and not c.supported
    assert not compare({0: 0.9}, {0: 0.8}).supported  # one seed supports nothing


def test_bootstrap_interval_is_reproducible_and_brackets_the_mean():
    values = [0.01, 0.03, -0.01, 0.02, 0.04]
    low, high = bootstrap_interval(values)
    assert (low, high) == bootstrap_interval(values)
    assert min(values) <= low < statistics.fmean(values) < high <= max(values)
    assert bootstrap_interval([0.5, 0.5]) == (0.5, 0.5)


def test_final_metric_and_errors_name_what_is_wrong():
    results = _results("cosine", [0.9, 0.8]) + _results("constant", [0.7, 0.6])
    assert final_metric(results, "cosine") == {0: 0.9, 1: 0.8}
    with pytest.raises(ValueError, match=r"^no result of recipe 'wsd' \(found: \['constant', 'cosine'\]\)$"):
        final_metric(results, "wsd")
    with pytest.raises(ValueError, match=r"have no seed in common \(seeds \[0\] and \[1\]\)"):
        compare({0: 0.1}, {1: 0.2})
    with pytest.raises(ValueError, match=r"^level must be"):
        bootstrap_interval([0.1], level=1.5)
    with pytest.raises(ValueError, match=r"^values must hold at least one number"):
        bootstrap_interval([])
