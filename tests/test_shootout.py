"""Reading a shoot-out: exact values on small hand-made results, and clear errors on bad input."""

import math

import pytest

from lrcourse.lab.shootout import (
    against_best,
    best_by_mean,
    failed_runs,
    final_values,
    kendall_tau,
    rank_changes,
    tuned_peaks,
)


def result(recipe, seed, test_acc, val_acc=None, diverged=False, diverged_at=None, message=""):
    return {"recipe": recipe, "seed": seed, "diverged": diverged,
            "final": {"test_acc": test_acc, "val_acc": test_acc if val_acc is None else val_acc},
            "history": {"lr": [0.1, 0.2, 0.4], "diverged_at": diverged_at, "message": message}}


VALUES = {"a": {0: 0.90, 1: 0.92, 2: 0.91}, "b": {0: 0.93, 1: 0.95, 2: 0.92}, "c": {0: 0.80, 1: 0.96, 2: 0.90}}


def test_best_and_paired_differences_against_it():
    assert best_by_mean(VALUES) == "b"
    diffs = against_best(VALUES)
    assert set(diffs) == {"a", "c"}
    assert diffs["a"].differences == pytest.approx((-0.03, -0.03, -0.01))
    assert diffs["a"].losses == 3 and diffs["a"].supported
    assert diffs["c"].differences == pytest.approx((-0.13, 0.01, -0.02))
    assert not diffs["c"].supported  # seed 1 favours c
    assert against_best(VALUES, best="a")["b"].differences == pytest.approx((0.03, 0.03, 0.01))


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="best must be one of"):
        against_best(VALUES, best="z")
    with pytest.raises(ValueError, match="holds no recipe"):
        best_by_mean({})
    with pytest.raises(ValueError, match=r"recipe\(s\) \['a'\] have no seed"):
        best_by_mean({"a": {}})


def test_final_values_reads_each_recipe_by_seed():
    results = [result("a", 1, 0.5), result("a", 0, 0.4), result("b", 0, 0.7)]
    assert final_values(results) == {"a": {0: 0.4, 1: 0.5}, "b": {0: 0.7}}
    assert final_values(results, ["b"], metric="val_acc") == {"b": {0: 0.7}}


def test_failed_runs_give_their_reason():
    results = [result("ok", 0, 0.9),
               result("blown", 0, 0.1, diverged=True, diverged_at=2, message="loss nan at step 2"),
               result("stuck", 1, 0.11)]
    failures = failed_runs(results)
    assert [(f.recipe, f.seed) for f in failures] == [("blown", 0), ("stuck", 1)]
    assert failures[0].reason == "diverged at step 2 (lr 0.4): loss nan at step 2"
    assert failures[1].reason == "ended near chance: test accuracy 0.110 (chance 0.10)"
    assert failed_runs(results, margin=0.0) == failures[:1]


def test_tuned_peaks_choose_on_validation_over_shared_seeds():
    grid = {
        0.1: [result("a", 0, test_acc=0.99, val_acc=0.80), result("a", 1, 0.99, 0.82), result("a", 2, 0.5, 0.10)],
        0.3: [result("a", 0, test_acc=0.10, val_acc=0.85), result("a", 1, 0.10, 0.84)],
    }
    peak = tuned_peaks(grid, ["a"])["a"]
    assert peak.peak == 0.3  # the better validation, though its test accuracy is worse
    assert peak.seeds == (0, 1)  # seed 2 exists at one peak only and is left out
    assert peak.scores == pytest.approx({0.1: 0.81, 0.3: 0.845})
    with pytest.raises(ValueError, match="at least two peaks"):
        tuned_peaks({0.1: grid[0.1]}, ["a"])
    with pytest.raises(ValueError, match="share no seed"):
        tuned_peaks({0.1: [result("a", 0, 0.5)], 0.3: [result("a", 1, 0.5)]}, ["a"])


def test_kendall_tau():
    assert kendall_tau("abcd", "abcd") == 1
    assert kendall_tau("abcd", "dcba") == -1
    assert math.isclose(kendall_tau("abcd", "bacd"), 4 / 6)  # one swap of six pairs
    with pytest.raises(ValueError, match="same distinct names"):
        kendall_tau("abc", "abd")


def test_rank_changes_lists_the_swapped_pairs_with_both_comparisons():
    long = {"a": {0: 0.9, 1: 0.9}, "b": {0: 0.8, 1: 0.8}, "c": {0: 0.7, 1: 0.7}}
    short = {"a": {0: 0.6, 1: 0.6}, "b": {0: 0.8, 1: 0.8}, "c": {0: 0.7, 1: 0.7}}
    order_long, order_short, changes = rank_changes(long, short)
    assert order_long == ["a", "b", "c"] and order_short == ["b", "c", "a"]
    assert [(c.first, c.second) for c in changes] == [("a", "b"), ("a", "c")]
    assert changes[0].long.mean == pytest.approx(0.1) and changes[0].short.mean == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="same recipes"):
        rank_changes(long, {"a": {0: 1.0}})
