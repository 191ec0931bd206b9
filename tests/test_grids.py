"""The grid readers of the frontier chapters: exact values, the choice by validation, and clear errors."""

import math

import pytest

from lrcourse.lab.grids import best_setting, largest_stable, spread


def run(seed, val, test, recipe="r", diverged=False):
    history = {"lr": [0.1, 0.2], "diverged_at": 1 if diverged else None, "message": "loss is nan" if diverged else None}
    return {"recipe": recipe, "seed": seed, "diverged": diverged, "history": history,
            "final": {"val_acc": val, "test_acc": test}}


def test_spread_is_over_seeds_in_seed_order():
    s = spread([run(1, 0.5, 0.8), run(0, 0.5, 0.9), run(0, 0.1, 0.1, recipe="other")], "r")
    assert s.seeds == (0, 1) and s.values == (0.9, 0.8)
    assert s.mean == pytest.approx(0.85) and s.std == pytest.approx(math.sqrt(0.005))
    assert (s.low, s.high) == (0.8, 0.9)
    assert spread([run(0, 0.5, 0.7)], "r").std == 0.0


def test_spread_refuses_what_it_cannot_average():
    with pytest.raises(ValueError, match=r"no result of recipe 'x' \(found: \['r'\]\)"):
        spread([run(0, 0.5, 0.5)], "x")
    with pytest.raises(ValueError, match=r"not a number for seed\(s\) \[1\]"):
        spread([run(0, 0.5, 0.5), run(1, 0.5, math.nan)], "r")


def test_best_setting_chooses_by_validation_not_test():
    grid = {0.1: [run(0, 0.80, 0.99), run(1, 0.80, 0.99)],
            0.3: [run(0, 0.90, 0.60), run(1, 0.88, 0.60)],
            1.0: [run(0, 0.85, 0.50), run(1, 0.85, 0.50)]}
    best = best_setting(grid, "r")
    assert best.setting == 0.3 and best.mean == pytest.approx(0.89) and best.at_edge is None
    assert best_setting(grid, "r", metric="test_acc").setting == 0.1
    assert best_setting(grid, "r", metric="test_acc").at_edge == "lowest"


def test_best_setting_skips_a_setting_with_a_failed_seed_and_says_edge():
    grid = {0.1: [run(0, 0.80, 0.8)], 0.3: [run(0, 0.95, 0.9, diverged=True)], 1.0: [run(0, 0.85, 0.8)]}
    assert best_setting(grid | {2.0: [run(0, 0.99, 0.12)]}, "r").setting == 1.0  # ended near chance
    best = best_setting(grid, "r")
    assert best.setting == 1.0 and best.at_edge == "highest"
    tie = best_setting({0.1: [run(0, 0.8, 0.8)], 0.3: [run(0, 0.8, 0.8)], 0.9: [run(0, 0.7, 0.8)]}, "r")
    assert (tie.setting, tie.ties) == (0.1, (0.3,))  # a tie: the smaller, and the tie is said
    # equal sums in another order differ in the last bits; still a tie (schedule-free SGD's 0.7 and 2.1)
    seeds = {0.7: (0.906, 0.9072, 0.9074), 2.1: (0.9104, 0.9042, 0.906)}
    grid = {p: [run(i, v, 0.9) for i, v in enumerate(vals)] for p, vals in seeds.items()}
    assert best_setting(grid, "r").ties == (2.1,)
    assert best_setting(grid | {0.2: [run(i, 0.5, 0.9) for i in range(3)]}, "r").setting == 0.7
    assert best_setting({0.1: [run(0, 0.8, 0.8)]}, "r").at_edge is None
    with pytest.raises(ValueError, match="grid must hold at least one setting"):
        best_setting({}, "r")
    with pytest.raises(ValueError, match=r"every setting of the grid \(\[0.3\]\) has a failed seed"):
        best_setting({0.3: [run(0, 0.9, 0.9, diverged=True)]}, "r")


def test_largest_stable_stops_at_the_first_peak_where_any_seed_failed():
    ok, bad = run(0, 0.9, 0.9), run(1, 0.1, 0.1, diverged=True)
    grid = {0.5: [ok, bad], 0.1: [ok], 0.2: [ok], 2.0: [ok]}
    s = largest_stable(grid, "r")
    assert (s.largest_stable, s.first_failed) == (0.2, 0.5)
    assert {peak: [(f.seed, f.reason[:8]) for f in failed] for peak, failed in s.failures.items()} == {
        0.1: [], 0.2: [], 0.5: [(1, "diverged")], 2.0: []}
    # a run that trained to the end near chance accuracy (dead units, no blow-up) failed too
    collapsed = largest_stable({0.1: [ok], 0.2: [run(0, 0.1, 0.1)]}, "r")
    assert (collapsed.largest_stable, collapsed.first_failed) == (0.1, 0.2)
    assert collapsed.failures[0.2][0].reason.startswith("ended near chance")
    assert largest_stable({0.1: [ok]}, "r").first_failed is None
    assert largest_stable({0.1: [ok]}, "r").largest_stable == 0.1
    assert largest_stable({0.1: [bad]}, "r").largest_stable is None
    with pytest.raises(ValueError, match="at least one peak"):
        largest_stable({}, "r")
