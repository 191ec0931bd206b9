"""Resuming a sweep: damaged checkpoints are named and redone, the torch thread count must match."""

import json
import re

import pytest
import torch

from lrcourse.lab.cli import main
from lrcourse.lab.checkpoint import CheckpointError, ConfigMismatchError, load_checkpoint
from lrcourse.lab import random_data, run_one, sweep
from lrcourse.lab.results import result_path
from lrcourse.lab.models import build_model

# What the CLI builds for "--data random --train-size 32 --val-size 8 --batch-size 8", so both resume each other.
DATA = random_data(n_train=32, n_val=8, batch_size=8)
RUN = {"model": "tiny", "epochs": 2, "device": "cpu", "estimate": False}


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


def stopped_after_epoch_1(provider):
    """The provider, but the first run that reaches epoch 1 is interrupted there (after its checkpoint)."""
    state = {"stopped": False}

    def wrapped(seed):
        data = provider(seed)
        inner = data.train_batches

        def train_batches(epoch, start):
            if epoch == 1 and not state["stopped"]:
                state["stopped"] = True
                raise KeyboardInterrupt
            return inner(epoch, start)

        data.train_batches = train_batches
        return data

    return wrapped


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    """A real epoch-1 checkpoint of constant seed 0, made with one torch thread."""
    out = tmp_path_factory.mktemp("interrupted")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(KeyboardInterrupt):
            sweep(["constant"], [0], out, stopped_after_epoch_1(DATA), log=lambda line: None, **RUN)
    finally:
        torch.set_num_threads(threads)
    return (out / ".checkpoints" / "constant-seed0.pt").read_bytes()


@pytest.fixture(scope="module")
def fresh():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_one("constant", 0, DATA, model="tiny", epochs=2, device="cpu")
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) // 2], r"torch.load failed after \d+ bytes \(.+\)"),
        (lambda b: b"", r"the file is empty"),
        (lambda b: bytes(range(256)) * 8, r"torch.load failed after 2048 bytes \(.+\)"),
        (lambda b: json.dumps({"format_version": 1}).encode(), r"torch.load failed after \d+ bytes \(.+\)"),
    ],
    ids=["truncated", "empty", "garbled", "foreign"],
)
def test_a_damaged_checkpoint_is_named_and_its_run_redone(tmp_path, checkpoint_bytes, fresh, damage, reason):
    ckpt = tmp_path / ".checkpoints" / "constant-seed0.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(damage(checkpoint_bytes))
    logs = []
    sweep(["constant"], [0], tmp_path, DATA, log=logs.append, **RUN)
    assert any(re.fullmatch(rf"\[1/1\] constant seed 0: {re.escape(str(ckpt))} is damaged: {reason}; training it "
                            r"again from its start", line) for line in logs), logs
    assert "[1/1] constant seed 0: training" in logs  # from its start, not "resuming"
    result = json.loads(result_path(tmp_path, "constant", 0).read_text())
    assert result["history"]["loss"] == fresh["history"]["loss"] and result["final"] == fresh["final"]
    assert not ckpt.exists()


def test_load_checkpoint_names_the_damaged_file(tmp_path, checkpoint_bytes):
    path = tmp_path / "run.pt"
    path.write_bytes(checkpoint_bytes[:100])
    model = build_model("tiny")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))} is damaged: torch.load failed after 100 bytes"):
        load_checkpoint(path, model=model, optimizer=optimizer)
    with pytest.raises(FileNotFoundError):  # a missing file is not a damaged one
        load_checkpoint(tmp_path / "missing.pt", model=model, optimizer=optimizer)


def test_the_thread_count_is_recorded_and_a_resume_under_another_is_refused(tmp_path, checkpoint_bytes, fresh, capsys):
    assert fresh["config"]["torch_threads"] == 1
    ckpt = tmp_path / ".checkpoints" / "constant-seed0.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(checkpoint_bytes)
    torch.set_num_threads(2)
    logs = []
    with pytest.raises(ConfigMismatchError, match=r"cannot resume constant seed 0 from .*constant-seed0.pt: it was "
                       r"trained with torch_threads 1, this process has 2 \(CPU results differ between thread "
                       r"counts\); run with 1 threads, or delete the checkpoint"):
        sweep(["constant"], [0], tmp_path, DATA, log=logs.append, **RUN)
    assert not any("training" in line for line in logs) and ckpt.read_bytes() == checkpoint_bytes

    args = ["sweep", "--recipes", "constant", "--seeds", "1", "--epochs", "2", "--model", "tiny", "--data", "random",
            "--train-size", "32", "--val-size", "8", "--batch-size", "8", "--device", "cpu", "--out", str(tmp_path),
            "--no-progress"]
    assert main([*args, "--threads", "2"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "it was trained with torch_threads 1, this process has 2" in err
    assert main([*args, "--threads", "1"]) == 0
    assert "[1/1] constant seed 0: training (resuming after epoch 1)" in capsys.readouterr().out
