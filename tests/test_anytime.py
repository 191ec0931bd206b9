"""Anytime training: one stable run, a cooldown branched from it per budget; each branch equals the
run of its budget trained straight through, and the whole is a sweep like any other."""

import pytest

from lrcourse import wsd
from lrcourse.lab import random_data, sweep
from lrcourse.lab.anytime import ANYTIME_RUNS, branch_points, run_anytime
from lrcourse.lab.results import load_results
from lrcourse.lab.runs import run_with_schedule

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py

DATA = random_data(n_train=64, batch_size=16)  # 4 steps per epoch
RUN = dict(model="tiny", optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=None, device="cpu", precision="fp32",
           progress=False)
BUDGETS = [2, 3, 5]


def straight(epochs, warmup, start, decay, shape):
    """The WSD run of one budget, trained straight through."""
    return run_with_schedule(
        "anytime", 0, DATA,
        lambda opt, steps: (wsd(opt, warmup_steps=warmup, stable_steps=start - warmup, decay_steps=decay,
                                decay=shape), "step"),
        epochs=epochs, checkpoint_path=None, **RUN)


def test_branch_points_are_where_each_budgets_cooldown_starts():
    assert branch_points([2, 3, 5], 4, 0.25) == {2: 6, 3: 9, 5: 15}
    assert branch_points([10], 215, 0.2) == {10: 1720}


@pytest.mark.parametrize("with_checkpoints", [False, True])
def test_each_branch_equals_its_budget_trained_straight_through(tmp_path, with_checkpoints):
    ckpt = tmp_path / ".checkpoints" / "anytime-seed0.pt" if with_checkpoints else None
    result = run_anytime("anytime", 0, DATA, budgets=BUDGETS, epochs=5, decay_fraction=0.25,
                         decay_shape="1-sqrt", warmup_fraction=0.1, checkpoint_path=ckpt, **RUN)
    warmup = round(0.1 * 20)
    assert result["history"]["lr"][warmup:] == [0.05] * (20 - warmup)  # the stable run never decays
    for e, start in branch_points(BUDGETS, 4, 0.25).items():
        branch, reference = result["branches"][str(e)], straight(e, warmup, start, 4 * e - start, "1-sqrt")
        for key in ("lr", "loss", "train_loss", "val_loss", "val_acc"):
            assert branch["history"][key] == reference["history"][key], (e, key)
        assert branch["final"] == reference["final"] and branch["cooldown_start"] == start
    # the stable run, then each cooldown: 20 + 2 + 3 + 5 steps, against 8 + 12 + 20 for three runs
    assert result["steps_spent"] == 20 + 2 + 3 + 5
    if with_checkpoints:  # snapshots and branch checkpoints are gone once every branch is done
        assert sorted(p.name for p in ckpt.parent.iterdir()) == ["anytime-seed0.pt"]


def test_a_sweep_of_anytime_runs_writes_one_result_per_seed_and_resumes(tmp_path):
    out = tmp_path / "anytime"
    kwargs = dict(runner=run_anytime, names=ANYTIME_RUNS, budgets=BUDGETS, epochs=5, decay_fraction=0.25,
                  decay_shape="linear", warmup_fraction=0.1, log=lambda line: None, estimate=False, **RUN)
    sweep(["anytime"], [0, 1], out, DATA, **kwargs)
    results = load_results(out)
    assert [(r["recipe"], r["seed"], sorted(r["branches"], key=int)) for r in results] == [
        ("anytime", 0, ["2", "3", "5"]), ("anytime", 1, ["2", "3", "5"])]
    assert results[0]["config"]["budgets"] == BUDGETS and results[0]["config"]["decay_shape"] == "linear"
    assert not list((out / ".checkpoints").glob("*.pt"))
    lines = []
    sweep(["anytime"], [0, 1], out, DATA, **(kwargs | {"log": lines.append}))
    assert sum("done already" in line for line in lines) == 2
    from lrcourse.lab.checkpoint import ConfigMismatchError
    with pytest.raises(ConfigMismatchError, match="decay_shape"):
        sweep(["anytime"], [0, 1], out, DATA, **(kwargs | {"decay_shape": "cosine"}))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"budgets": [3, 2, 5]}, r"budgets must increase, without repeats \(got budgets=\[3, 2, 5\]\)"),
    ({"budgets": []}, "budgets must be a non-empty list of epochs"),
    ({"epochs": 4}, r"epochs must be the longest budget, the stable run's length \(got epochs=4, budgets=\[2, 3, 5\]\)"),
    ({"decay_fraction": 0.0}, "decay_fraction must be a finite number > 0"),
    ({"decay_shape": "sqrt"}, "decay_shape must be one of 'linear', 'cosine', '1-sqrt'"),
    ({"warmup_fraction": 0.4}, r"the cooldown of the 2-epoch budget would start at step 7, inside the warmup \(8 steps\)"),
])
def test_bad_settings_are_named(kwargs, message):
    settings = dict(budgets=BUDGETS, epochs=5, decay_fraction=0.1) | kwargs
    with pytest.raises(ValueError, match=message):
        run_anytime("anytime", 0, DATA, **settings, **RUN)
