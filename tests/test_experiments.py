"""Recipes, single runs, resumable sweeps (killed for real), the summary table and the CLI."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import lrcourse.lab.recipes as recipes_module
import lrcourse.lab.runs as runs_module
from lrcourse.lab.cli import main
from lrcourse.lab.checkpoint import ConfigMismatchError
from lrcourse.lab import RECIPES, make_recipe, random_data, run_one, summary_table, sweep
from lrcourse.lab.results import result_path

T, SPE = 20, 4  # 20 steps, 4 steps per epoch -> 5 epochs
LR = 0.1


def lrs_of(name, **kwargs):
    """The LR of each of the T steps of recipe ``name``, on a throw-away optimizer."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR, momentum=0.9)
    scheduler, cadence = make_recipe(name, optimizer, T, SPE, **kwargs)
    lrs = []
    for step in range(T):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if cadence == "step" or cadence == "epoch" and (step + 1) % SPE == 0:
            scheduler.step()
        elif cadence == "metric" and (step + 1) % SPE == 0:
            scheduler.step(1.0)  # never improves
    return lrs, cadence, optimizer


def test_recipe_cadences():
    cadences = {name: lrs_of(name)[1] for name in RECIPES}
    assert cadences == {"constant": "step", "step": "epoch", "multistep": "epoch", "exponential": "step",
                        "cosine": "step", "warmup_cosine": "step", "onecycle": "step", "plateau": "metric",
                        "wsd": "step"}


def test_recipe_lr_curves():
    assert lrs_of("constant")[0] == [LR] * T
    # step: x0.1 after round(2 * 5 / 3) = 3 epochs.
    assert lrs_of("step")[0] == pytest.approx([LR] * 12 + [LR * 0.1] * 8, rel=1e-12)
    # multistep: x0.1 after round(2.5) = 2 and round(3.75) = 4 epochs.
    assert lrs_of("multistep")[0] == pytest.approx([LR] * 8 + [LR * 0.1] * 8 + [LR * 0.01] * 4, rel=1e-12)
    exp = lrs_of("exponential")[0]
    assert exp == pytest.approx([LR * 0.01 ** (t / T) for t in range(T)], rel=1e-12)
    assert lrs_of("cosine")[0] == pytest.approx([LR * (1 + math.cos(math.pi * t / T)) / 2 for t in range(T)], rel=1e-9)
    wc = lrs_of("warmup_cosine")[0]  # 2 warmup steps
    assert wc[:3] == pytest.approx([0.0, LR / 2, LR]) and wc[-1] < LR * 0.01
    onecycle, _, optimizer = lrs_of("onecycle")
    assert max(onecycle) == pytest.approx(LR) and onecycle[0] == pytest.approx(LR / 25)
    assert optimizer.param_groups[0]["momentum"] == 0.9  # cycle_momentum=False: only the LR moves
    # plateau: the metric never improves after epoch 1; 3 bad epochs > patience 2 -> x0.1 after epoch 4.
    assert lrs_of("plateau")[0] == pytest.approx([LR] * 16 + [LR * 0.1] * 4, rel=1e-12)
    wsd = lrs_of("wsd")[0]  # warmup 2, stable 14, decay 4
    assert wsd[:3] == pytest.approx([0.0, LR / 2, LR]) and wsd[2:16] == [LR] * 14 and wsd[-1] == pytest.approx(LR / 4)


def test_recipe_errors_are_clear():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ValueError, match=r"name must be one of 'constant', .*'wsd', 'warmup_linear' \(got name='cosin'\)"):
        make_recipe("cosin", optimizer, T, SPE)
    with pytest.raises(ValueError, match=r"total_steps must be >= steps_per_epoch.*total_steps=3, steps_per_epoch=4"):
        make_recipe("step", optimizer, 3, 4)
    with pytest.raises(ValueError, match=r"warmup_fraction \+ decay_fraction must be <= 1"):
        make_recipe("wsd", optimizer, T, SPE, warmup_fraction=0.6, decay_fraction=0.6)


def test_recipe_knobs_shape_the_frontier_recipes():
    # warmup_linear: 2 warmup steps, then a straight line to the floor at step T
    lin = lrs_of("warmup_linear")[0]
    assert lin == pytest.approx([0.0, LR / 2] + [LR * (T - t) / (T - 2) for t in range(2, T)], rel=1e-9)
    floored = lrs_of("warmup_linear", floor=0.1)[0]
    assert floored[2] == pytest.approx(LR) and floored[-1] == pytest.approx(LR * (0.1 + 0.9 * 1 / 18), rel=1e-9)
    # warmup_cosine to 10 % of the peak: its last step sits just above the floor, never below it
    wc = lrs_of("warmup_cosine", floor=0.1)[0]
    cosine = [LR * (0.1 + 0.9 * (1 + math.cos(math.pi * (t - 2) / 18)) / 2) for t in range(2, T)]
    assert wc[2:] == pytest.approx(cosine, rel=1e-9) and min(wc[2:]) == wc[-1] > LR * 0.1
    # wsd: the cooldown's length and shape are knobs (decay over the last 40 % = 8 steps)
    for shape in ("linear", "cosine", "1-sqrt"):
        lrs = lrs_of("wsd", decay_fraction=0.4, decay_shape=shape)[0]
        assert lrs[2:13] == [LR] * 11 and lrs[13] < LR  # the decay starts from the peak
        from lrcourse.schedules import wsd_factor
        assert lrs == pytest.approx([LR * wsd_factor(t, 2, 10, 8, shape) for t in range(T)], rel=1e-12)
    # a long warmup is fine for a recipe without a cooldown to share the run with
    assert lrs_of("warmup_linear", warmup_fraction=0.9)[0][18] == pytest.approx(LR)
    # a cooldown of 0 % is a constant run after its warmup
    assert lrs_of("wsd", decay_fraction=0.0)[0][2:] == [LR] * (T - 2)


def test_a_knob_a_recipe_does_not_read_is_refused():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ValueError, match=r"recipe 'step' does not read floor \(it reads no knob\)"):
        make_recipe("step", optimizer, T, SPE, floor=0.1)
    with pytest.raises(ValueError, match=r"recipe 'warmup_cosine' does not read decay_shape \(it reads warmup_fraction, floor\)"):
        make_recipe("warmup_cosine", optimizer, T, SPE, decay_shape="cosine")
    with pytest.raises(ValueError, match=r"decay_shape must be one of 'linear', 'cosine', '1-sqrt' \(got decay_shape='sqrt'\)"):
        make_recipe("wsd", optimizer, T, SPE, decay_shape="sqrt")
    with pytest.raises(ValueError, match=r"floor must be .*1.*\(got floor=1.5\)"):
        make_recipe("wsd", optimizer, T, SPE, floor=1.5)


def test_recipe_options_are_checked_against_every_recipe_of_a_sweep():
    from lrcourse.lab.recipes import check_recipe_options

    assert check_recipe_options(["wsd", "warmup_linear"], {}) is None
    assert check_recipe_options(["wsd"], {"floor": 0, "decay_shape": "cosine"}) == {"decay_shape": "cosine", "floor": 0.0}
    with pytest.raises(ValueError, match=r"unknown knob\(s\) \['cooldown'\]; valid: warmup_fraction, decay_fraction"):
        check_recipe_options(["wsd"], {"cooldown": 0.2})
    with pytest.raises(ValueError, match="recipe 'warmup_linear' does not read decay_fraction"):
        check_recipe_options(["wsd", "warmup_linear"], {"decay_fraction": 0.2})


def test_git_state_outside_a_repo_is_none(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    runs_module._git_state.cache_clear()
    assert runs_module._git_state() == (None, None)
    runs_module._git_state.cache_clear()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 128, "", "not a repo"))
    assert runs_module._git_state() == (None, None)
    runs_module._git_state.cache_clear()


def test_git_state_says_whether_the_package_differs_from_its_commit(monkeypatch):
    answers = {"rev-parse": "a" * 40 + "\n", "status": " M lrcourse/train.py\n"}

    def fake_git(args, **kwargs):
        return subprocess.CompletedProcess(args, 0, answers[args[1]], "")

    monkeypatch.setattr(subprocess, "run", fake_git)
    runs_module._git_state.cache_clear()
    assert runs_module._git_state() == ("a" * 40, True)
    runs_module._git_state.cache_clear()
    answers["status"] = ""
    assert runs_module._git_state() == ("a" * 40, False)
    runs_module._git_state.cache_clear()


DATA = random_data(n_train=32, n_val=16, n_test=16, image_size=10, batch_size=16)
RUN = {"model": "tiny", "epochs": 2, "device": "cpu"}


def test_run_one_result_has_the_metadata():
    result = run_one("cosine", 1, DATA, **RUN)
    json.dumps(result, allow_nan=False)
    assert result["format"] == "lrcourse-run/1" and result["recipe"] == "cosine" and result["seed"] == 1
    assert set(result["versions"]) == {"python", "torch", "torchvision", "lrcourse"}
    assert result["versions"]["torch"] == torch.__version__
    assert result["device"].startswith("cpu")
    assert result["git_commit"] is None or len(result["git_commit"]) == 40
    assert result["git_dirty"] in (None, True, False)
    assert result["config"]["model"] == "tiny" and result["config"]["steps_per_epoch"] == 2
    assert "random noise" in result["config"]["data"]
    assert len(result["history"]["lr"]) == 4 and len(result["history"]["val_acc"]) == 2
    assert result["final"]["val_acc"] == result["history"]["val_acc"][-1]
    assert 0.0 <= result["final"]["test_acc"] <= 1.0 and result["wall_time"] > 0
    assert result["diverged"] is False


def failing_after(provider, calls):
    """A provider whose ``calls``-th run crashes in its second epoch (after an epoch checkpoint)."""
    count = {"n": 0}

    def wrapped(seed):
        count["n"] += 1
        data = provider(seed)
        if count["n"] == calls:
            inner = data.train_batches

            def train_batches(epoch, start):
                if epoch == 1:
                    raise KeyboardInterrupt
                return inner(epoch, start)

            data.train_batches = train_batches
        return data

    return wrapped


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path):
    logs = []
    with pytest.raises(KeyboardInterrupt):
        # Call 1 of the provider is the sweep's look at the data's settings; call 3 is the second run.
        sweep(["constant", "step"], [0, 1], tmp_path, failing_after(DATA, 3), log=logs.append, **RUN)
    first = result_path(tmp_path, "constant", 0)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [first.name]
    kept = first.read_bytes()
    checkpoint = tmp_path / ".checkpoints" / "constant-seed1.pt"
    assert checkpoint.exists()  # the interrupted run got through one epoch

    logs.clear()
    sweep(["constant", "step"], [0, 1], tmp_path, DATA, log=logs.append, **RUN)
    assert first.read_bytes() == kept  # not redone
    assert "[1/4] constant seed 0: done already (constant-seed0.json)" in logs
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "constant-seed0.json", "constant-seed1.json", "step-seed0.json", "step-seed1.json"]
    assert not list((tmp_path / ".checkpoints").iterdir())
    # The resumed run equals an uninterrupted one.
    resumed = json.loads(result_path(tmp_path, "constant", 1).read_text())
    fresh = run_one("constant", 1, DATA, **RUN)
    assert resumed["history"]["loss"] == fresh["history"]["loss"]
    assert resumed["final"] == fresh["final"]
    table = (tmp_path / "summary.md").read_text()
    assert "| constant | 2 | 0 |" in table and "| step | 2 | 0 |" in table

    with pytest.raises(ConfigMismatchError, match=r"constant-seed0.json was made with other settings \(epochs 2 there, 3 here\)"):
        sweep(["constant"], [0], tmp_path, DATA, log=logs.append, **(RUN | {"epochs": 3}))
    other_batch = random_data(n_train=32, n_val=16, n_test=16, image_size=10, batch_size=8)
    with pytest.raises(ConfigMismatchError, match=r"other settings \(steps_per_epoch 2 there, 4 here\)"):
        sweep(["constant"], [0], tmp_path, other_batch, log=logs.append, **RUN)


def fake_result(recipe, seed, val, test, diverged=False):
    return {"format": "lrcourse-run/1", "recipe": recipe, "seed": seed, "wall_time": 2.0, "diverged": diverged,
            "device": "cpu (x86_64, 2 cores)",
            "config": {"data": "CIFAR-10 (synthetic stand-in) train", "model": "airbench", "epochs": 10, "lr": 0.1,
                       "optimizer": "sgd", "momentum": 0.9, "weight_decay": 5e-4, "steps_per_epoch": 88},
            "final": {"val_acc": val, "test_acc": test}}


def test_summary_table_exact(tmp_path):
    for seed, (val, test) in enumerate([(0.80, 0.90), (0.82, 0.92), (0.84, 0.94)]):
        (tmp_path / f"cosine-seed{seed}.json").write_text(json.dumps(fake_result("cosine", seed, val, test)))
    (tmp_path / "step-seed0.json").write_text(json.dumps(fake_result("step", 0, 0.5, 0.1, diverged=True)))
    (tmp_path / "notes.json").write_text("[1, 2]")  # not a result: ignored
    table = summary_table(tmp_path)
    assert "Data: CIFAR-10 (synthetic stand-in) train" in table
    assert "| step | 1 | 1 | 50.00 | 10.00 | 2.0 |" in table
    assert "| cosine | 3 | 0 | 82.00 ± 2.00 | 92.00 ± 2.00 | 2.0 |" in table
    assert table.index("| step") < table.index("| cosine")  # RECIPES order, not alphabetical
    with pytest.raises(FileNotFoundError, match="no result files"):
        summary_table(tmp_path / "empty")


# -- command line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--recipes", "cosine,cosin"], "argument --recipes: unknown recipe(s) 'cosin'; valid: all, constant"),
        (["sweep", "--seeds", "0"], "argument --seeds: must be an integer >= 1 (got '0')"),
        (["sweep", "--epochs", "ten"], "argument --epochs: must be an integer >= 1 (got 'ten')"),
        (["sweep", "--lr", "nan"], "argument --lr: must be a finite number > 0 (got 'nan')"),
        (["sweep", "--momentum", "1"], "argument --momentum: must be a finite number >= 0 and < 1 (got '1')"),
        (["sweep", "--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
        (["sweep", "--device", "gpu"], "argument --device: must be cuda, cuda:N, mps or cpu (got 'gpu')"),
        (["sweep", "--batch-size", "1.5"], "argument --batch-size: must be an integer >= 1 (got '1.5')"),
        (["fit"], "argument {sweep,anytime,d2l,tune,summary}: invalid choice: 'fit'"),
    ],
)
def test_cli_errors_name_option_and_value(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_bad_data_env(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LRCOURSE_DATA", "imagenet")
    with pytest.raises(SystemExit):
        main(["sweep", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "LRCOURSE_DATA must be one of cifar10, fashion-mnist, synthetic, random (got LRCOURSE_DATA='imagenet')" in err


def test_cli_summary_of_empty_folder(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["summary", str(tmp_path)])
    assert info.value.code == 2 and "no result files" in capsys.readouterr().err


def test_cli_help_lists_recipes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in RECIPES) and "--seeds" in out and "(default: 3)" in out


def cli(out, *extra):
    return [sys.executable, "-m", "lrcourse", "sweep", "--recipes", "constant,cosine", "--seeds", "3",
            "--epochs", "2", "--model", "tiny", "--data", "random", "--batch-size", "16", "--device", "cpu",
            "--out", str(out), "--no-progress", "--threads", "1", *extra]


def test_cli_sweep_killed_midway_then_rerun(tmp_path, capsys):
    env = dict(os.environ, PYTHONWARNINGS="error")
    proc = subprocess.Popen(cli(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = result_path(tmp_path, "constant", 0)
    deadline = time.monotonic() + 120
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert first.exists(), err.decode()
    done_before = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(done_before) < 6, "the sweep finished before it could be killed"
    kept = first.read_bytes()

    finished = subprocess.run(cli(tmp_path), env=env, capture_output=True, text=True, timeout=300,
                              check=False)
    assert finished.returncode == 0, finished.stderr
    assert first.read_bytes() == kept
    assert "[1/6] constant seed 0: done already" in finished.stdout
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        f"{recipe}-seed{seed}.json" for recipe in ("constant", "cosine") for seed in range(3)]
    # A kill during a write may leave a hidden ".name.*.tmp" file, a lock and a checkpoint behind,
    # never a partial result; the rerun trained what was left and removed them all.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_file()] == []
    assert not list(tmp_path.glob(".locks/*")) and not list(tmp_path.glob(".checkpoints/*"))
    for path in tmp_path.glob("*.json"):
        assert json.loads(path.read_text())["format"] == "lrcourse-run/1"
    assert main(["summary", str(tmp_path)]) == 0
    summary = capsys.readouterr().out
    assert "| constant | 3 | 0 |" in summary and "| cosine | 3 | 0 |" in summary
    assert "random noise (tests only)" in summary
    assert Path(tmp_path / "summary.md").read_text() == summary
    assert finished.stdout.endswith(summary + f"Summary written to {tmp_path / 'summary.md'}\n")


def test_cli_sweep_on_the_synthetic_stand_in(tmp_path, capsys):
    pytest.importorskip("lrcourse.lab.data")
    from lrcourse.lab.data import write_synthetic_cifar10

    write_synthetic_cifar10(tmp_path / "data" / "synthetic", n_train=40, n_test=10, seed=0)
    out = tmp_path / "results"
    args = ["sweep", "--recipes", "plateau", "--seeds", "1", "--epochs", "2", "--model", "tiny", "--data",
            "synthetic", "--data-root", str(tmp_path / "data"), "--batch-size", "8", "--val-size", "8",
            "--device", "cpu", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    result = json.loads(result_path(out, "plateau", 0).read_text())
    assert result["config"]["steps_per_epoch"] == 4  # 40 - 8 held out = 32 images in batches of 8
    assert "synthetic stand-in" in result["config"]["data"] and "val, 8 images" in result["config"]["data"]
    assert len(result["history"]["val_loss"]) == 2  # plateau read the held-out split every epoch
    assert "Data: CIFAR-10 (synthetic stand-in)" in printed and "| plateau | 1 | 0 |" in printed


def test_sweep_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"recipes\[1\] must be one of 'constant'.*\(got recipes\[1\]='linear'\)"):
        sweep(["cosine", "linear"], [0], tmp_path, DATA, **RUN)
    with pytest.raises(ValueError, match=r"seeds\[0\] must be an integer >= 0 \(got seeds\[0\]=-1\)"):
        sweep(["cosine"], [-1], tmp_path, DATA, **RUN)
    with pytest.raises(ValueError, match=r"recipes and seeds must not be empty"):
        sweep([], [0], tmp_path, DATA, **RUN)
    assert not list(tmp_path.iterdir())  # nothing written before the checks


def test_a_diverged_run_is_recorded_not_dropped(tmp_path):
    logs = []
    sweep(["constant"], [0], tmp_path, DATA, log=logs.append, **(RUN | {"lr": 1e6}))
    result = json.loads(result_path(tmp_path, "constant", 0).read_text())  # valid JSON despite NaN/inf losses
    assert result["diverged"] is True
    history = result["history"]
    assert history["diverged_at"] == len(history["loss"]) - 1
    assert "diverged at step" in history["message"] and "lr 1e+06" in history["message"]
    assert any("DIVERGED" in line for line in logs)
    assert "| constant | 1 | 1 |" in summary_table(tmp_path)


def test_cifar_data_train_size_keeps_a_fixed_subset(tmp_path):
    from lrcourse.lab.data import write_synthetic_cifar10
    from lrcourse.lab import cifar_data

    write_synthetic_cifar10(tmp_path / "synthetic", n_train=40, n_test=10, seed=0)
    data = cifar_data(tmp_path, source="synthetic", batch_size=4, val_size=8, device="cpu", train_size=12)
    run = data(0)
    assert run.steps_per_epoch == 3
    assert "12 images" in run.description and "synthetic" in run.description
    with pytest.raises(ValueError, match=r"train_size must be <= the 32 training images .* \(got train_size=33\)"):
        cifar_data(tmp_path, source="synthetic", val_size=8, device="cpu", train_size=33)


# -- the optimizer: SGD or AdamW --------------------------------------------------------------------


def test_adamw_runs_are_recorded_as_adamw_with_its_own_weight_decay():
    data = random_data(n_train=32, n_val=16, n_test=16, image_size=10, batch_size=8)
    sgd = run_one("cosine", 0, data, model="tiny", epochs=1, lr=0.01, device="cpu", progress=False)
    adamw = run_one("cosine", 0, data, model="tiny", epochs=1, lr=0.01, optimizer="adamw", device="cpu",
                    progress=False)
    assert (sgd["config"]["optimizer"], sgd["config"]["weight_decay"]) == ("sgd", 5e-4)
    assert (adamw["config"]["optimizer"], adamw["config"]["weight_decay"]) == ("adamw", 0.05)
    assert adamw["history"]["loss"][0] == sgd["history"]["loss"][0]  # same net, same first batch
    assert adamw["history"]["loss"][1:] != sgd["history"]["loss"][1:]  # other updates
    assert adamw["history"]["lr"] == sgd["history"]["lr"]  # the schedule does not depend on the optimizer


def test_build_optimizer_gives_torch_s_own_update():
    """AdamW with betas (momentum, 0.999), decay on the groups that carry it: torch's AdamW, bit for bit."""
    torch.manual_seed(0)
    ours_p, ref_p = torch.nn.Parameter(torch.randn(5)), torch.nn.Parameter(torch.zeros(5))
    with torch.no_grad():
        ref_p.copy_(ours_p)
    ours = recipes_module.build_optimizer("adamw", [{"params": [ours_p], "weight_decay": 0.05}], lr=0.01, momentum=0.8)
    ref = torch.optim.AdamW([ref_p], lr=0.01, betas=(0.8, 0.999), weight_decay=0.05)
    for _ in range(3):
        for p, opt in ((ours_p, ours), (ref_p, ref)):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
    assert torch.equal(ours_p, ref_p)
    sgd = recipes_module.build_optimizer("sgd", [torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.0)
    assert sgd.param_groups[0]["nesterov"] is False  # Nesterov needs momentum; 0 is plain SGD
    with pytest.raises(ValueError, match=r"optimizer must be one of 'sgd', 'adamw', 'sgd_schedulefree', 'adamw_schedulefree' \(got optimizer='adam'\)"):
        recipes_module.build_optimizer("adam", [torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def test_a_sweep_refuses_to_mix_optimizers_in_one_folder(tmp_path):
    data = random_data(n_train=16, n_val=8, n_test=8, image_size=10, batch_size=8)
    sweep(["constant"], [0], tmp_path, data, log=lambda line: None, model="tiny", epochs=1, device="cpu",
          progress=False)
    with pytest.raises(ConfigMismatchError, match=r"optimizer 'sgd' there, 'adamw' here"):
        sweep(["constant"], [1], tmp_path, data, log=lambda line: None, model="tiny", epochs=1, device="cpu",
              progress=False, optimizer="adamw")


@pytest.mark.parametrize("name", ["sgd", "adamw"])
def test_step_hooks_fire_once_per_step_even_beside_plain_torch_optimizers(name):
    from lrcourse.lab.recipes import build_optimizer

    model = torch.nn.Linear(2, 2)
    torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.AdamW(model.parameters())  # wraps their steps too
    optimizer = build_optimizer(name, model.parameters(), 0.1, 0.9)
    pre, post = [], []
    optimizer.register_step_pre_hook(lambda *args: pre.append(1))
    optimizer.register_step_post_hook(lambda *args: post.append(1))
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(4, 2)).sum().backward()
        optimizer.step()
    assert (len(pre), len(post)) == (3, 3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    optimizer.step()
    scheduler.step()  # no "lr_scheduler.step() before optimizer.step()" warning: the step is seen


def test_the_lab_optimizers_step_without_any_plain_torch_optimizer_in_the_process():
    # A fresh interpreter: torch wraps SGD.step with its hooks only once a plain SGD exists, and
    # the lab's step must work, under grad mode, with the hooks once, either way.
    script = (
        "import torch\n"
        "from lrcourse.lab.recipes import build_optimizer\n"
        "for name in ('sgd', 'adamw'):\n"
        "    model = torch.nn.Linear(2, 2)\n"
        "    opt = build_optimizer(name, model.parameters(), 0.1, 0.9)\n"
        "    calls = []\n"
        "    opt.register_step_pre_hook(lambda *a: calls.append(1))\n"
        "    before = model.weight.detach().clone()\n"
        "    model(torch.randn(4, 2)).sum().backward()\n"
        "    opt.step()\n"
        "    assert len(calls) == 1 and not torch.equal(before, model.weight), name\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
