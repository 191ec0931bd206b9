"""Checkpoints: weights-only loading, atomic writes, RNG states, config checks, exact resume."""

import os
import random
import stat

import numpy as np
import pytest
import torch
from torch import nn

import lrcourse.lab.training_run as training_run
from lrcourse import capture_rng_state, restore_rng_state
from lrcourse.lab.checkpoint import (
    ConfigMismatchError,
    atomic_write,
    atomic_write_text,
    check_config,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from lrcourse import WarmupReduceLROnPlateau, warmup_cosine
from lrcourse import seed_everything
from lrcourse.lab import train

N, BATCH, CLASSES, EPOCHS = 48, 16, 5, 3  # 3 batches per epoch, 9 steps
X = torch.randn(N, 3, 6, 6, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, CLASSES, (N,), generator=torch.Generator().manual_seed(1))


class Crash(Exception):
    """Stands for a killed process."""


def make_batches(crash_at=None):
    """Batches depend on (epoch, index) only; raise Crash instead of yielding global batch ``crash_at``."""

    def train_batches(epoch, start):
        order = torch.randperm(N, generator=torch.Generator().manual_seed(7 + epoch))
        for i in range(start, N // BATCH):
            if crash_at is not None and epoch * (N // BATCH) + i == crash_at:
                raise Crash
            yield X[order[i * BATCH : (i + 1) * BATCH]], Y[order[i * BATCH : (i + 1) * BATCH]]

    return train_batches


def val_batches():
    return [(X[:16], Y[:16])]


def build(seed=0, kind="cosine", total_steps=9):
    seed_everything(seed)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-3, nesterov=True)
    if kind == "cosine":
        return model, optimizer, warmup_cosine(optimizer, warmup_steps=2, total_steps=total_steps), "step"
    if kind == "onecycle":
        return model, optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.2, total_steps=total_steps), "step"
    if kind == "warmup_plateau":
        return model, optimizer, WarmupReduceLROnPlateau(optimizer, warmup_steps=2, patience=0, factor=0.5), "metric"
    return model, optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5), "metric"


def ticking(batches, clock):
    """``batches`` on which each batch takes one second of ``clock`` (a FakeClock)."""

    def train_batches(epoch, start):
        for batch in batches(epoch, start):
            clock.now += 1.0
            yield batch

    return train_batches


class FakeClock:
    """Stands for time.monotonic: the seconds move only when the batches say so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run(path, crash_at=None, resume=False, seed=0, kind="cosine", epochs=EPOCHS, total_steps=9, clock=None,
        **options):
    """One run; ``options`` go to train (a checkpoint after every step unless they say otherwise)."""
    model, optimizer, scheduler, cadence = build(seed, kind, total_steps)
    batches = make_batches(crash_at) if clock is None else ticking(make_batches(crash_at), clock)
    options = {"checkpoint_every_steps": 1} | options
    history = train(model, optimizer, scheduler, batches, epochs, cadence=cadence,
                    val_batches=val_batches, device="cpu", progress=False, checkpoint_path=path,
                    resume=resume, config={"seed": 0}, **options)
    return model, optimizer, scheduler, history


def assert_same_run(a, b):
    model_a, opt_a, sched_a, hist_a = a
    model_b, opt_b, sched_b, hist_b = b
    for (name, x), (_, y) in zip(model_a.state_dict().items(), model_b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    for key in state_a["state"]:
        for name, value in state_a["state"][key].items():
            assert torch.equal(value, state_b["state"][key][name]), (key, name)
    assert sched_a.state_dict() == sched_b.state_dict()
    assert hist_a.lr == hist_b.lr
    assert hist_a.loss == hist_b.loss
    assert hist_a.train_loss == hist_b.train_loss and hist_a.train_acc == hist_b.train_acc
    assert hist_a.val_loss == hist_b.val_loss and hist_a.val_acc == hist_b.val_acc
    assert hist_a.steps == hist_b.steps == EPOCHS * N // BATCH


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return {kind: run(None, kind=kind) for kind in ("cosine", "onecycle", "plateau", "warmup_plateau")}


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 7, 8])  # mid-epoch, epoch boundary (3), last steps
def test_resume_mid_epoch_is_bitwise_identical(tmp_path, reference, cut):
    path = tmp_path / "run.pt"
    with pytest.raises(Crash):
        run(path, crash_at=cut)
    # Fresh objects from another seed: everything must come from the checkpoint.
    resumed = run(path, resume=True, seed=123)
    assert_same_run(reference["cosine"], resumed)


@pytest.mark.parametrize(("kind", "cut"), [("onecycle", 4), ("plateau", 5), ("warmup_plateau", 7)])
def test_resume_other_schedulers(tmp_path, reference, kind, cut):
    path = tmp_path / "run.pt"
    with pytest.raises(Crash):
        run(path, crash_at=cut, kind=kind)
    assert_same_run(reference[kind], run(path, resume=True, seed=5, kind=kind))


@pytest.mark.parametrize(
    ("kind", "every_epochs", "crash_at", "position"),
    [
        # 1.5 s, a batch a second, 3 batches an epoch: saves after steps 2 (by time), 3 (the
        # epoch's), 5 (by time), 6 (the epoch's), 8 (by time)...; killed before step 5 or 8.
        ("cosine", 1, 5, {"epoch": 1, "batch": 2}),
        ("warmup_plateau", 1, 8, {"epoch": 2, "batch": 2}),
        # Without epoch saves: after steps 2 and 4 (by time), across the epoch's end.
        ("cosine", 0, 5, {"epoch": 1, "batch": 1}),
    ],
)
def test_resume_from_a_timed_checkpoint_is_bitwise_identical(tmp_path, monkeypatch, reference, kind, every_epochs,
                                                              crash_at, position):
    path = tmp_path / "run.pt"
    clock = FakeClock()
    monkeypatch.setattr(training_run, "_clock", clock)
    timed = {"checkpoint_every_steps": 0, "checkpoint_every_epochs": every_epochs, "checkpoint_every_seconds": 1.5}
    with pytest.raises(Crash):
        run(path, crash_at=crash_at, kind=kind, clock=clock, **timed)
    state = read_checkpoint(path)
    assert state["position"] == position  # mid-epoch, where the clock put it
    assert state["extra"]["history"]["steps"] == 3 * position["epoch"] + position["batch"]
    # A new process: its own clock, another seed; everything must come from the checkpoint.
    resumed = run(path, resume=True, seed=321, kind=kind, clock=FakeClock(), **timed)
    assert_same_run(reference[kind], resumed)


def test_resume_of_a_finished_run_trains_no_more(tmp_path, reference):
    path = tmp_path / "run.pt"
    run(path)
    again = run(path, resume=True, seed=9)
    assert_same_run(reference["cosine"], again)


def test_resume_with_other_length_or_schedule_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    with pytest.raises(Crash):
        run(path, crash_at=4)
    before = path.read_bytes()
    with pytest.raises(ConfigMismatchError, match=r"trainer.epochs: checkpoint has 3, this run has 4"):
        run(path, resume=True, epochs=4)
    with pytest.raises(ConfigMismatchError, match=r"schedule.total_steps: checkpoint has 9, this run has 12"):
        run(path, resume=True, total_steps=12)
    changed_class = r"schedule.class: checkpoint has 'WarmupCosineLR', this run has 'OneCycleLR'"
    with pytest.raises(ConfigMismatchError, match=changed_class):
        run(path, resume=True, kind="onecycle")
    assert path.read_bytes() == before


def test_checkpoint_loads_weights_only_with_everything(tmp_path):
    path = tmp_path / "run.pt"
    with pytest.raises(Crash):
        run(path, crash_at=4)
    state = torch.load(path, weights_only=True)
    assert set(state) >= {"model", "optimizer", "scheduler", "scaler", "rng", "position", "config", "extra"}
    assert state["position"] == {"epoch": 1, "batch": 1}
    assert set(state["rng"]) >= {"torch", "python", "cuda", "numpy"}
    assert state["config"]["run"] == {"seed": 0}
    assert state["config"]["schedule"]["total_steps"] == 9
    assert len(state["extra"]["history"]["lr"]) == 4


def test_rng_states_round_trip():
    seed_everything(1)
    state = capture_rng_state()
    first = (torch.rand(3), random.random(), np.random.rand())
    torch.rand(5), random.random(), np.random.rand()
    restore_rng_state(state)
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(first[0], again[0]) and first[1:] == again[1:]


def small_state():
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, optimizer


def test_failed_write_leaves_previous_checkpoint_valid(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    model, optimizer = small_state()
    save_checkpoint(path, model=model, optimizer=optimizer, position={"epoch": 1, "batch": 0})
    good = path.read_bytes()
    real_save = torch.save

    def crash_midway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial bytes of a zip archive")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    with torch.no_grad():
        model.weight.fill_(7.0)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model=model, optimizer=optimizer, position={"epoch": 2, "batch": 0})
    monkeypatch.setattr(torch, "save", real_save)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]  # no temp file left behind
    fresh, fresh_opt = small_state()
    state = load_checkpoint(path, model=fresh, optimizer=fresh_opt)
    assert state["position"] == {"epoch": 1, "batch": 0}
    assert not torch.equal(fresh.weight, torch.full_like(fresh.weight, 7.0))


def test_atomic_write_fsyncs_the_file_then_the_folder_after_the_rename(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind, path.read_bytes()))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace",))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(path, lambda f: f.write(b"new"))
    # The data reaches the disk before the rename; the folder (the rename itself) after it.
    assert events == [("fsync", "file", b"old"), ("replace",), ("fsync", "folder", b"new")]
    assert path.read_bytes() == b"new"


def test_atomic_write_goes_on_where_a_folder_cannot_be_opened(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    real_open = os.open

    def windows_open(name, flags, *args, **kwargs):  # Windows refuses to open a folder
        if os.path.isdir(name):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", windows_open)
    assert atomic_write(path, lambda f: f.write(b"data")) == path
    assert path.read_bytes() == b"data"


def test_atomic_text_write_replaces_whole_file(tmp_path):
    path = tmp_path / "sub" / "a.json"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_check_config_names_every_change():
    saved = {"run": {"lr": 0.1, "model": "tiny"}, "trainer": {"epochs": 10}}
    check_config(saved, {"run": {"lr": 0.1, "model": "tiny"}, "trainer": {"epochs": 10}})
    with pytest.raises(ConfigMismatchError) as info:
        check_config(saved, {"run": {"lr": 0.2, "model": "tiny", "bs": 8}, "trainer": {"epochs": 10}})
    message = str(info.value)
    assert "2 setting(s)" in message
    assert "run.lr: checkpoint has 0.1, this run has 0.2" in message
    assert "run.bs: checkpoint has (not set), this run has 8" in message
    assert isinstance(info.value, ValueError)


def test_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    model, optimizer = small_state()
    with pytest.raises(ValueError, match="other.pt is damaged: not an lrcourse checkpoint of format 1"):
        load_checkpoint(path, model=model, optimizer=optimizer)
