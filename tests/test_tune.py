"""``lrcourse tune``: the search space, the budget by slots, the storage's errors, a study's
settings, the sampler's seeding, and a whole search in process (the test split never seen).
The workers killed mid-trial are in ``test_tune_workers.py``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from lrcourse.lab import cli  # noqa: E402
from lrcourse.lab.providers import random_data  # noqa: E402
from lrcourse.lab.training import train  # noqa: E402
from lrcourse.lab.tune import _sampler, tune  # noqa: E402
from lrcourse.lab.tune_space import FAMILIES, SearchSpace, TrialSettings, parse_range, suggest  # noqa: E402
from lrcourse.lab.tune_study import (MAX_RETRIES, TuneError, budget, hide_password, open_storage,  # noqa: E402
                                     open_study, over_budget)

TrialState = optuna.trial.TrialState
ROOT = Path(__file__).resolve().parents[1]


# -- the search space ------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, words", [
    ({"families": ()}, "families must name at least one"),
    ({"families": ("cosine", "step")}, "families[1]"),
    ({"families": ("cosine", "cosine")}, "must not repeat"),
    ({"lr": (0.0, 1.0)}, "lr[0]"),
    ({"lr": (0.5, 0.1)}, "low < high (got lr=(0.5, 0.1))"),
    ({"warmup": (0.0, 0.9)}, "warmup must lie within [0, 0.5]"),
    ({"weight_decay": (1e-3,)}, "weight_decay must be a pair"),
])
def test_a_bad_search_space_names_the_parameter_and_value(kwargs, words):
    with pytest.raises(ValueError) as error:
        SearchSpace(**kwargs)
    assert words in str(error.value)


def test_each_family_trains_its_recipe_and_only_warmup_families_sample_a_warmup():
    space = SearchSpace()
    for family, recipe in FAMILIES.items():
        params = {"family": family, "lr": 0.05} | ({} if family == "onecycle" else {"warmup_fraction": 0.1})
        chosen = suggest(optuna.trial.FixedTrial(params), space)
        assert chosen == TrialSettings(family, recipe, 0.05,
                                       None if family == "onecycle" else {"warmup_fraction": 0.1}, None)
    with_wd = suggest(optuna.trial.FixedTrial({"family": "wsd", "lr": 0.1, "warmup_fraction": 0.0,
                                               "weight_decay": 1e-4}), dataclasses.replace(space, weight_decay=(1e-5, 1e-2)))
    assert with_wd.weight_decay == 1e-4 and with_wd.describe() == "wsd, lr 0.1, warmup 0%, wd 0.0001"


def test_the_rate_is_searched_on_a_log_scale():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(lambda t: suggest(t, SearchSpace(lr=(1e-3, 1.0))).lr, n_trials=1)
    assert study.trials[0].distributions["lr"].log


@pytest.mark.parametrize("text", ["0.1", "a,b", "1,2,3", "nan,1"])
def test_parse_range_refuses_what_is_not_two_numbers(text):
    with pytest.raises(ValueError, match="must be two numbers LOW,HIGH"):
        parse_range(text, "--lr-range")


# -- the budget, by slots ---------------------------------------------------------------------------


def _trial(number, state, retries=None, **user_attrs):
    system = {} if retries is None else {"failed_trial": retries[0], "retry_history": list(retries)}
    trial = optuna.trial.create_trial(state=state, value=0.5 if state == TrialState.COMPLETE else None,
                                      user_attrs=user_attrs, system_attrs=system,
                                      params={}, distributions={})
    trial.number = number
    return trial


def test_a_dead_trial_keeps_its_slot_until_its_retry_finishes():
    trials = [_trial(0, TrialState.COMPLETE), _trial(1, TrialState.FAIL), _trial(2, TrialState.RUNNING)]
    state = budget(trials)
    assert (state.finished, state.taken, state.running) == (1, 3, 1)
    trials.append(_trial(3, TrialState.COMPLETE, retries=[1]))
    state = budget(trials)
    assert (state.finished, state.taken) == (2, 3)


def test_refused_errored_and_exhausted_trials_give_their_slot_up():
    trials = [_trial(0, TrialState.FAIL, surplus=True), _trial(1, TrialState.FAIL, error="ValueError: x"),
              _trial(2, TrialState.FAIL, retries=list(range(MAX_RETRIES))), _trial(3, TrialState.PRUNED)]
    state = budget(trials)
    assert (state.finished, state.taken, state.pruned) == (1, 1, 1)


def test_a_trial_over_the_budget_is_refused_but_a_retry_keeps_its_place():
    trials = [_trial(0, TrialState.COMPLETE), _trial(1, TrialState.FAIL), _trial(2, TrialState.RUNNING),
              _trial(3, TrialState.RUNNING), _trial(4, TrialState.RUNNING, retries=[1])]
    # Budget 3: slots 0, 1 (dead, then retried as trial 4) and 2 are below trial 3.
    assert over_budget(trials, trials[3], 3)
    assert not over_budget(trials, trials[4], 3)  # the retry of slot 1 counts only slot 0 below it
    assert not over_budget(trials, trials[2], 3)


# -- storage and study ------------------------------------------------------------------------------


def test_a_password_is_never_shown():
    assert hide_password("postgresql://me:secret@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert hide_password("postgresql://me@db/x") == "postgresql://me@db/x"
    assert hide_password("sqlite:///a.db") == "sqlite:///a.db"


@pytest.mark.parametrize("url, words", [
    ("foo://db", "--storage foo://db: not a database URL"),
    ("db.example.org", "--storage db.example.org: not a database URL"),
    ("postgresql://me:secret@127.0.0.1:1/x", "--storage postgresql://me:***@127.0.0.1:1/x: cannot connect to the database"),
    ("mysql+pymysql://me@127.0.0.1/x", "the database driver pymysql is not installed: pip install PyMySQL"),
])
def test_a_storage_that_cannot_be_used_is_said_in_one_line(tmp_path, url, words):
    with pytest.raises(TuneError) as error:
        open_storage(url, tmp_path)
    message = str(error.value)
    assert words in message and "\n" not in message and "secret" not in message


def test_a_study_with_other_settings_is_refused_with_the_differences(tmp_path):
    storage = open_storage(None, tmp_path)
    settings = {"epochs": 10, "sampler": "tpe"}
    study = open_study(storage, "s", settings, sampler=None, pruner=None, where="here")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert open_study(storage, "s", settings, sampler=None, pruner=None, where="here").trials
    with pytest.raises(TuneError) as error:
        open_study(storage, "s", {"epochs": 5, "sampler": "tpe"}, sampler=None, pruner=None, where="here")
    assert "study 's' in here was created with other settings (epochs 10 there, 5 here)" in str(error.value)
    other = optuna.create_study(study_name="foreign", storage=storage)
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    with pytest.raises(TuneError, match="was not created by lrcourse tune"):
        open_study(storage, "foreign", settings, sampler=None, pruner=None, where="here")


def test_the_sampler_draws_by_trial_number_so_workers_never_repeat_and_one_worker_repeats_itself():
    def params(order):
        studies = [optuna.create_study(sampler=_sampler("random", 0)) for _ in range(2)]
        for s in studies:  # two "workers" sharing nothing but the seed
            s.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        return [[t.params["x"] for t in s.trials] for s in studies]

    first, second = params(0)
    assert first == second  # the same trial numbers, the same draws: a search is reproducible
    assert len(set(first)) == 3  # and trial n differs from trial m
    tpe = optuna.create_study(sampler=_sampler("tpe", 0))
    tpe.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=12)
    assert len({t.params["x"] for t in tpe.trials}) == 12


# -- a search, in process --------------------------------------------------------------------------


def test_epoch_end_sees_each_epoch_and_may_stop_the_run(one_thread):
    import torch

    seen = []
    data = random_data(n_train=64, n_val=32, batch_size=32)(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    train(model, opt, None, data.train_batches, 3, val_batches=data.val_batches, device="cpu", progress=False,
          epoch_end=lambda h: seen.append(len(h.val_acc)))
    assert seen == [1, 2, 3]
    with pytest.raises(TypeError, match="epoch_end must be a callable"):
        train(model, opt, None, data.train_batches, 1, device="cpu", progress=False, epoch_end=3)


def test_a_search_never_evaluates_the_test_split_and_retrains_the_best(tmp_path, one_thread):
    provider = random_data(n_train=64, n_val=32, batch_size=32)

    def no_test(seed):
        run = provider(seed)

        def forbidden():
            raise AssertionError("a trial evaluated the test split")

        return dataclasses.replace(run, test_batches=forbidden)

    lines = []
    report = tune(tmp_path / "s", no_test, n_trials=4, space=SearchSpace(), model="airbench", epochs=2,
                  pruner="none", final_seeds=0, device="cpu", progress=False, log=lines.append)
    assert report.budget.finished == 4 and report.best is not None
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "s" / "trials").glob("*.json"))]
    assert [r["state"] for r in records] == ["complete"] * 4
    assert all(r["value"] == r["history"]["val_acc"][-1] or r["diverged"] for r in records)
    assert any("4/4 finished (0 pruned)" in line for line in lines)
    # The final runs see the test split, once each.
    report = tune(tmp_path / "s", provider, n_trials=4, space=SearchSpace(), model="airbench", epochs=2,
                  pruner="none", final_seeds=2, device="cpu", progress=False, log=lines.append)
    recipe = TrialSettings.from_params(report.best.params).recipe
    assert [p.name for p in report.final] == [f"{recipe}-seed{s}.json" for s in (0, 1)]
    summary = (tmp_path / "s" / "summary.md").read_text()
    assert "Finished trials: 4 of 4 (0 pruned); epochs trained: 8 of 8" in summary
    assert "Final runs: 2 seed(s), test acc" in summary


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lrcourse", "tune", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_the_command_line_says_a_bad_storage_in_one_line(tmp_path):
    done = _cli("--data", "random", "--out", str(tmp_path), "--storage", "postgresql://me:pw@127.0.0.1:1/x")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: --storage postgresql://me:***@127.0.0.1:1/x: cannot connect")


@pytest.mark.parametrize("args, words", [
    (["--lr-range", "1,0.1"], "--lr-range must be a range with low < high"),
    (["--lr-range", "0.1"], "argument --lr-range: must be two numbers LOW,HIGH"),
    (["--optimizer", "sgd_schedulefree"], "a schedule-free optimizer has no schedule to search"),
    (["--families", "cosine,step"], "unknown family(s) 'step'"),
    (["--search-weight-decay", "--weight-decay", "0.1"], "not with --search-weight-decay"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as stop:
        cli.main(["tune", "--data", "random", "--out", str(tmp_path / "s"), *args])
    assert stop.value.code == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "s" / "study.journal").exists()


# -- reading finished searches (lrcourse.lab.studies) ----------------------------------------------


def _study(trials, epochs=4):
    study = optuna.create_study(direction="maximize")
    study.set_user_attr("lrcourse_settings", {"epochs": epochs})
    dist = optuna.distributions.FloatDistribution(0.001, 1.0, log=True)
    for lr, state, curve in trials:
        study.add_trial(optuna.trial.create_trial(
            state=state, value=curve[-1] if state == TrialState.COMPLETE else None,
            params={"family": "cosine", "lr": lr, "warmup_fraction": 0.1},
            distributions={"family": optuna.distributions.CategoricalDistribution(list(FAMILIES)), "lr": dist,
                           "warmup_fraction": optuna.distributions.FloatDistribution(0.0, 0.3)},
            intermediate_values=dict(enumerate(curve, start=1))))
    return study


FULL = [(0.01, TrialState.COMPLETE, [0.5, 0.6, 0.7, 0.80]), (0.1, TrialState.COMPLETE, [0.4, 0.5, 0.8, 0.90]),
        (0.3, TrialState.COMPLETE, [0.6, 0.7, 0.7, 0.75]), (0.03, TrialState.COMPLETE, [0.3, 0.4, 0.6, 0.85])]


def test_search_cost_counts_the_epochs_each_finished_trial_trained():
    from lrcourse.lab.studies import search_cost

    pruned = _study([FULL[0], (0.1, TrialState.PRUNED, [0.4, 0.5]), FULL[2], (0.03, TrialState.PRUNED, [0.3, 0.4])])
    cost = search_cost(pruned)
    assert (cost.trials, cost.pruned, cost.epochs, cost.full) == (4, 2, 12, 16)
    assert cost.saved == 0.25


def test_the_pruning_audit_names_what_the_pruner_stopped_and_would_have_lost():
    from lrcourse.lab.studies import pruning_audit

    pruned = _study([FULL[0], (0.1, TrialState.PRUNED, [0.4, 0.5]), FULL[2], (0.03, TrialState.PRUNED, [0.3, 0.4])])
    audit = pruning_audit(pruned, _study(FULL), epoch=2)
    assert audit.pruned == {1: 2, 3: 2}
    assert audit.best == 1 and audit.best_pruned
    assert audit.lost == [1, 3]  # both would have beaten the pruned search's best, 0.80
    # after epoch 2 the order is 2, 0, 1, 3; at the end 1, 3, 0, 2: 1 of 6 pairs agree
    assert audit.tau == pytest.approx((1 - 5) / 6)
    with pytest.raises(ValueError, match="did not sample the same settings"):
        pruning_audit(pruned, _study(FULL[::-1]), epoch=2)


def test_a_study_made_with_other_settings_is_one_line_and_trains_nothing(tmp_path):
    out = tmp_path / "s"
    common = ["--data", "random", "--train-size", "64", "--trials", "2", "--final-seeds", "0", "--threads", "1",
              "--no-progress", "--out", str(out)]
    done = _cli(*common, "--epochs", "2", "--pruner", "hyperband", "--search-weight-decay")
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(p.read_text()) for p in sorted((out / "trials").glob("*.json"))]
    for record in records:  # the searched weight decay is the one the run trained with
        assert record["config"]["weight_decay"] == record["params"]["weight_decay"]
    done = _cli(*common, "--epochs", "3", "--pruner", "hyperband", "--search-weight-decay")
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: study 'lrcourse' in {out / 'study.journal'} was created with other "
                                  "settings (epochs 2 there, 3 here)")
    assert len(list((out / "trials").glob("*.json"))) == 2


def test_without_optuna_the_command_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if it were not installed
    assert cli.main(["tune", "--data", "random", "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err == "error: tune searches with Optuna, which is not installed: pip install 'lrcourse[tune]'\n"
    assert not (tmp_path / "s").exists()
