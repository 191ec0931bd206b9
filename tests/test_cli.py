"""The command line as a user meets it: refused arguments, one-line errors, Ctrl-C, help, progress, estimates."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import lrcourse.lab.sweeps
from lrcourse.lab.cli import main
from lrcourse.lab.cli import CliError
from lrcourse.lab.data import write_synthetic_cifar10
from lrcourse.lab.estimate import format_duration, seconds_per_step
from lrcourse.lab import random_data
from lrcourse.lab.results import result_path


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


def sweep_args(out, *extra, data="random", recipes="constant", progress=False, device="cpu"):
    return ["sweep", "--recipes", recipes, "--seeds", "1", "--epochs", "1", "--model", "tiny", "--data", data,
            "--batch-size", "16", "--device", device, "--out", str(out), "--progress" if progress else "--no-progress",
            *extra]


def run_main(capsys, args):
    """``main(args)`` -> (exit status, stdout, stderr); argument errors exit through SystemExit."""
    try:
        status = main(args)
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


# -- bad arguments are refused before any work ----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seeds", "3", "--seeds", "5"], "argument --seeds: given twice (--seeds 1 and --seeds 3); give it once"),
        (["--lr", "0"], "argument --lr: must be a finite number > 0 (got '0')"),
        (["--val-size", "50000"],
         "argument --val-size: must be < 50000, the training images of CIFAR-10, so that some are left to train on "
         "(got 50000)"),
        (["--train-size", "45001"],
         "argument --train-size: at most 45000 training images are left after --val-size 5000 (got 45001)"),
        (["--shard", "0/2"], "argument --shard: must be K/N with 1 <= K <= N, e.g. 2/4 (got '0/2')"),
        (["--threads", "0"], "argument --threads: must be an integer >= 1 (got '0')"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(tmp_path, capsys, extra, message):
    args = sweep_args(tmp_path / "results", *extra, "--data-root", str(tmp_path / "d"), data="cifar10")
    status, out, err = run_main(capsys, args)
    assert status == 2 and message in err, err
    assert out == "" and not (tmp_path / "results").exists() and not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("recipes", "extra", "message"),
    [
        ("constant", ["--floor", "0.1"], "recipe 'constant' does not read --floor (it reads no knob)"),
        ("wsd,warmup_linear", ["--decay-shape", "1-sqrt"],
         "recipe 'warmup_linear' does not read --decay-shape (it reads --warmup-fraction, --floor)"),
        ("wsd", ["--decay-fraction", "1.5"], "argument --decay-fraction: must be a finite number >= 0 and <= 1"),
        ("wsd", ["--warmup-fraction", "0.6", "--decay-fraction", "0.6"],
         "--warmup-fraction + --decay-fraction must be <= 1"),
        ("constant,cosine", ["--optimizer", "adamw_schedulefree"],
         "--optimizer adamw_schedulefree: optimizer 'adamw_schedulefree' is schedule-free: it takes the recipe "
         "'constant' and warms up inside itself (got recipe 'cosine')"),
    ],
)
def test_a_recipe_knob_is_refused_where_it_would_be_ignored(tmp_path, capsys, recipes, extra, message):
    args = sweep_args(tmp_path / "results", *extra, "--data-root", str(tmp_path / "d"), data="cifar10", recipes=recipes)
    status, out, err = run_main(capsys, args)
    assert status == 2 and message in err, err
    assert out == "" and not (tmp_path / "results").exists() and not (tmp_path / "d").exists()


def test_recipe_knobs_reach_the_runs_and_their_summary(tmp_path, capsys):
    out = tmp_path / "r"
    status, stdout, _ = run_main(capsys, sweep_args(out, "--decay-fraction", "0.5", "--decay-shape", "1-sqrt",
                                                    recipes="wsd"))
    assert status == 0 and "Recipe options: {'decay_fraction': 0.5, 'decay_shape': '1-sqrt'}" in stdout
    result = json.loads(result_path(out, "wsd", 0).read_text())
    assert result["config"]["recipe_options"] == {"decay_fraction": 0.5, "decay_shape": "1-sqrt"}
    # the same folder refuses the same sweep with other knobs, and names the difference
    status, _, err = run_main(capsys, sweep_args(out, "--decay-fraction", "0.2", recipes="wsd"))
    assert status != 0 and "recipe_options {'decay_fraction': 0.5, 'decay_shape': '1-sqrt'} there" in err


def test_a_train_size_the_data_on_disk_does_not_have_is_refused(tmp_path, capsys):
    write_synthetic_cifar10(tmp_path / "d" / "synthetic", n_train=40, n_test=10)
    args = sweep_args(tmp_path / "r", "--data-root", str(tmp_path / "d"), "--val-size", "8", "--train-size", "33",
                      data="synthetic")
    status, _, err = run_main(capsys, args)
    assert status == 2
    assert "--train-size must be <= the 32 training images left after holding out --val-size=8 (got --train-size=33)" in err


def test_help_reads_well(capsys):
    status, out, _ = run_main(capsys, ["sweep", "--help"])
    assert status == 0
    assert "(default: None)" not in out and "(default: False)" not in out
    options = re.split(r"\n  (?=-)", out[out.index("options:"):out.index("environment variables:")])
    assert len(options) > 15
    for option in options:
        assert option.count("default") <= 1, option
    assert "--seeds SEEDS         number of seeds (0, 1, ..., N-1) (default: 3)" in out
    assert "--debug" in out and "LRCOURSE_DEBUG=1" in out and "--shard K/N" in out


# -- environment errors: one line, non-zero exit, traceback one switch away ------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_is_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    status, out, err = run_main(capsys, sweep_args(tmp_path / "r", device="cuda"))
    assert status == 1 and out == ""
    assert re.fullmatch(r"error: --device cuda: CUDA is not available \((this torch is built without CUDA|no CUDA "
                        r"GPU is visible)\); use --device cpu, or leave --device out to use the best device there is\n",
                        err), err
    assert not (tmp_path / "r").exists()
    with pytest.raises(CliError, match="CUDA is not available"):
        main(sweep_args(tmp_path / "r", "--debug", device="cuda"))
    monkeypatch.setenv("LRCOURSE_DEBUG", "1")
    with pytest.raises(CliError, match="CUDA is not available"):
        main(sweep_args(tmp_path / "r", device="cuda"))


def test_output_folder_that_is_a_file(tmp_path, capsys):
    (tmp_path / "results").write_text("not a folder")
    status, out, err = run_main(capsys, sweep_args(tmp_path / "results"))
    assert status == 1 and out == ""
    assert err == f"error: {tmp_path / 'results'}: it exists and is a file, not a folder; choose another --out\n"
    status, _, err = run_main(capsys, sweep_args(tmp_path / "results" / "sub"))
    assert err == f"error: {tmp_path / 'results' / 'sub'}: a folder above it is a file; choose another --out\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; the read-only mount below covers it")
def test_output_folder_without_permission(tmp_path, capsys):
    (tmp_path / "locked").mkdir(mode=0o500)
    status, _, err = run_main(capsys, sweep_args(tmp_path / "locked" / "r"))
    assert status == 1
    assert err.startswith(f"error: cannot write {tmp_path / 'locked' / 'r'}") or "Permission denied" in err, err
    assert err.count("\n") == 1


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs unshare and mount in a user namespace")
def test_full_disk_and_read_only_folder_are_one_line(tmp_path):
    """A real full file system and a real read-only one, mounted in a private namespace."""
    full, ro = tmp_path / "full", tmp_path / "ro"
    full.mkdir(), ro.mkdir()
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        import torch
        from lrcourse.lab.cli import main
        torch.set_num_threads(1)
        seen = {{}}
        for name, out in (("full", {str(full / "results")!r}), ("ro", {str(ro / "results")!r})):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                status = main([arg if arg != "OUT" else out for arg in {sweep_args("OUT")!r}])
            seen[name] = [status, err.getvalue()]
        print(json.dumps(seen))
    """)
    shell = (f"mount -t tmpfs -o size=64k tmpfs {full} && mkdir {full}/results && "
             f"(dd if=/dev/zero of={full}/fill bs=4k 2>/dev/null; true) && "
             f"mount -t tmpfs -o ro tmpfs {ro} && exec {sys.executable} -c \"$0\"")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", shell, script], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONWARNINGS="error"))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    status, err = seen["full"]
    assert status == 1 and err.count("\n") == 1, err
    assert re.fullmatch(rf"error: no space left on the device writing {full}/results/\S+; free some space \(or "
                        r"choose --out on another disk\), then run the same command again to resume\n", err), err
    status, err = seen["ro"]
    assert status == 1
    assert err == f"error: cannot write {ro / 'results'} (Read-only file system); choose a folder you can write to " \
                  "with --out\n"


def test_damaged_data_file_is_one_line(tmp_path, capsys):
    folder = write_synthetic_cifar10(tmp_path / "d" / "synthetic", n_train=40, n_test=10)
    (folder / "data_batch_3").write_bytes((folder / "data_batch_3").read_bytes()[:500])  # cut short
    args = sweep_args(tmp_path / "r", "--data-root", str(tmp_path / "d"), "--val-size", "8", data="synthetic")
    status, _, err = run_main(capsys, args)
    assert status == 1
    assert re.fullmatch(rf"error: {folder}/data_batch_3 is damaged \(not a readable CIFAR-10 batch file \(.+\)\); "
                        rf"delete {folder} and run again to write or download it anew\n", err), err


def test_stand_in_writing_is_announced_and_shows_progress(tmp_path, capsys, monkeypatch):
    real = write_synthetic_cifar10

    def small(root, progress=None):
        return real(root, n_train=40, n_test=10, progress=True)

    monkeypatch.setattr(lrcourse.lab.data.cifar10, "write_synthetic_cifar10", small)
    args = sweep_args(tmp_path / "r", "--data-root", str(tmp_path / "d"), "--val-size", "8", data="synthetic")
    status, out, err = run_main(capsys, args)
    assert status == 0
    assert out.startswith(f"Writing the synthetic CIFAR-10 stand-in (60000 images) to {tmp_path / 'd' / 'synthetic'}")
    assert re.search(r"writing the stand-in to .*\| \d+/50 \[", err), err  # a bar with its total


# -- what a sweep tells the user -------------------------------------------------------------------


def test_results_first_estimate_before_training_summary_last(tmp_path, capsys):
    status, out, _ = run_main(capsys, sweep_args(tmp_path, recipes="constant,cosine"))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"Results: {tmp_path}/ (one JSON file per run; summary in {tmp_path / 'summary.md'})"
    assert re.fullmatch(r"Estimated time: about \d+ s for 2 run\(s\) on cpu \([\d.e-]+ s per training step measured, "
                        r"5 step\(s\) per run\)", lines[1]), lines[1]
    assert lines[2] == "[1/2] constant seed 0: training"
    assert lines[-1] == f"Summary written to {tmp_path / 'summary.md'}"


def test_an_estimate_over_an_hour_warns_and_suggests_smaller_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lrcourse.lab.sweeps, "seconds_per_step", lambda *a, **k: 1000.0)
    args = ["sweep", "--recipes", "constant", "--seeds", "2", "--epochs", "6", "--model", "tiny", "--data", "random",
            "--batch-size", "16", "--device", "cpu", "--out", str(tmp_path), "--no-progress"]
    status, out, _ = run_main(capsys, args)
    assert status == 0
    # 6 epochs x (4 steps + 2 validation batches / 3) + 2 test batches / 3 = 29 steps of 1000 s, twice.
    assert "Estimated time: about 16 h for 2 run(s) on cpu (1e+03 s per training step measured, 29 step(s) per run)" in out
    assert ("That is more than an hour. For a first look, try smaller settings: --seeds 1 --epochs 3 --train-size 64 "
            "would take about 3 h 59 min; or run on a GPU") in out


def test_seconds_per_step_times_real_steps():
    data = random_data(n_train=32, n_val=8, n_test=8, image_size=10, batch_size=16)(0)
    rng = torch.get_rng_state()
    seconds = seconds_per_step("tiny", data, device=torch.device("cpu"), precision="fp32")
    assert 0 < seconds < 30
    assert torch.equal(torch.get_rng_state(), rng)  # the runs that follow are unchanged
    assert [format_duration(s) for s in (0.2, 40, 89, 600, 5400, 72000, 3 * 3600 + 1200)] == [
        "about 1 s", "about 40 s", "about 89 s", "about 10 min", "about 1 h 30 min", "about 20 h", "about 3 h 20 min"]


def test_progress_bars_show_totals_and_eta(tmp_path, capsys):
    status, _, err = run_main(capsys, sweep_args(tmp_path, progress=True))
    assert status == 0
    # The total (4 batches) and the remaining-time field; before the first step its value is "?".
    assert re.search(r"epoch 1/1: +\d+%\|[^|]*\| \d/4 \[\d\d:\d\d<(\?|\d\d:\d\d)", err), err


def test_overflowing_loss_is_a_diverged_run_not_a_crash(tmp_path, capsys):
    status, out, err = run_main(capsys, sweep_args(tmp_path, "--lr", "1e300"))
    assert status == 0, err
    assert "[1/1] constant seed 0: DIVERGED, test acc" in out and "| constant | 1 | 1 |" in out
    result = json.loads(result_path(tmp_path, "constant", 0).read_text())
    assert result["diverged"] is True and "loss is nan" in result["history"]["message"]


# -- Ctrl-C ------------------------------------------------------------------------------------------


def test_ctrl_c_ends_with_one_line_and_the_same_command_resumes(tmp_path, capsys):
    args = ["sweep", "--recipes", "constant", "--seeds", "2", "--epochs", "3", "--model", "tiny", "--data", "random",
            "--train-size", "256", "--batch-size", "16", "--device", "cpu", "--threads", "1", "--out", str(tmp_path),
            "--no-progress"]
    # A suite started in the background (`make test &`, nohup) inherits SIGINT as ignored, and a
    # Python started with SIGINT ignored never raises KeyboardInterrupt: give the sweep the
    # default disposition that a terminal's Ctrl-C meets.
    proc = subprocess.Popen([sys.executable, "-m", "lrcourse", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONWARNINGS="error"),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    checkpoint = tmp_path / ".checkpoints" / "constant-seed0.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert err == (f"Interrupted while training constant seed 0 (it resumes from its last epoch checkpoint, "
                   f"{checkpoint}); run the same command again to resume.\n")
    assert not list(tmp_path.glob(".locks/*")) and checkpoint.exists()  # the claim was released

    status, out, _ = run_main(capsys, args)
    assert status == 0
    assert re.search(r"\[1/2\] constant seed 0: training \(resuming after epoch [12]\)", out), out
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["constant-seed0.json", "constant-seed1.json"]


# -- Fashion-MNIST and d2l's re-run ------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "message"), [
    (["--model", "tiny"], "argument --model: tiny takes colour 3x32x32 images and --data fashion-mnist has grey "
                          "1x28x28 ones; use one of lenet, bncnn"),
    (["--val-size", "60000"], "argument --val-size: must be < 60000, the training images of Fashion-MNIST, so that "
                              "some are left to train on (got 60000)"),
])
def test_fashion_mnist_refuses_a_colour_net_and_sizes_it_has_not(tmp_path, capsys, extra, message):
    args = ["sweep", "--data", "fashion-mnist", "--out", str(tmp_path / "r"), *extra]
    status, out, err = run_main(capsys, args)
    assert status == 2 and err.strip().splitlines()[-1] == f"python -m lrcourse sweep: error: {message}"
    assert not (tmp_path / "r").exists()


def test_a_grey_net_on_cifar_is_refused(tmp_path, capsys):
    status, _, err = run_main(capsys, ["sweep", "--data", "cifar10", "--model", "bncnn", "--out", str(tmp_path / "r")])
    assert status == 2 and "argument --model: bncnn takes grey 1x28x28 images and --data cifar10 has colour" in err


def test_a_fashion_mnist_sweep_trains_lenet_by_default_on_the_real_files(tmp_path, capsys):
    args = ["sweep", "--data", "fashion-mnist", "--recipes", "constant", "--seeds", "1", "--epochs", "1",
            "--train-size", "256", "--val-size", "128", "--batch-size", "64", "--device", "cpu",
            "--no-progress", "--out", str(tmp_path / "r")]
    status, out, _ = run_main(capsys, args)
    result = json.loads((tmp_path / "r" / "constant-seed0.json").read_text())
    assert status == 0 and result["config"]["model"] == "lenet" and result["data_files"]["found"] == "debian"
    assert result["config"]["data"].startswith("Fashion-MNIST train, 256 images; Fashion-MNIST val, 128 images")


def test_d2l_refuses_an_unknown_run_and_needs_its_timing(tmp_path, capsys):
    status, _, err = run_main(capsys, ["d2l", "--timing", "as-run", "--runs", "linear", "--out", str(tmp_path)])
    assert status == 2 and err.strip().splitlines()[-1] == (
        "python -m lrcourse d2l: error: argument --runs: unknown run(s) 'linear'; valid: all, constant, sqrt, "
        "multifactor, cosine, warmup")
    status, _, err = run_main(capsys, ["d2l", "--out", str(tmp_path)])
    assert status == 2 and "the following arguments are required: --timing" in err


def test_anytime_trains_a_stable_run_and_its_branches(tmp_path, capsys):
    out = tmp_path / "anytime"
    args = ["anytime", "--budgets", "2,3,5", "--seeds", "2", "--model", "tiny", "--data", "random", "--batch-size",
            "16", "--device", "cpu", "--out", str(out), "--no-progress"]
    status, stdout, _ = run_main(capsys, args)
    assert status == 0
    assert "Final test accuracy (%) of each budget's branch, 2 seed(s):" in stdout
    assert re.search(r"^  5 epochs: \d+\.\d\d ± \d+\.\d\d$", stdout, re.M)
    result = json.loads(result_path(out, "anytime", 1).read_text())
    assert sorted(result["branches"], key=int) == ["2", "3", "5"] and result["config"]["budgets"] == [2, 3, 5]
    status, _, err = run_main(capsys, args[:2] + ["3,2"] + args[3:])
    assert status == 2 and "argument --budgets: must be increasing whole numbers >= 1" in err
    # an error found after parsing names the command it belongs to
    grey = [("fashion-mnist" if a == "random" else a) for a in args]  # tiny is a colour net
    status, _, err = run_main(capsys, grey)
    assert status == 2 and err.startswith("python -m lrcourse anytime: error: ") and "lenet" in err
