"""Several workers, one folder: exclusive claims, stale locks, shards, and the leftovers of dead processes.

Owners are real processes: a finished child gives a pid that no longer runs, an unreaped one a
zombie, a sleeping one a live owner; the two-worker case starts two sweeps at once.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from lrcourse.lab import claims
from lrcourse.lab.checkpoint import ConfigMismatchError
from lrcourse.lab.cli import main
from lrcourse.lab.data import write_synthetic_cifar10
from lrcourse.lab import random_data, sweep
from lrcourse.lab.results import result_path

HOST = socket.gethostname()
DATA = random_data(n_train=16, n_val=8, n_test=8, image_size=10, batch_size=8)
RUN = {"model": "tiny", "epochs": 1, "device": "cpu", "estimate": False}


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


@pytest.fixture
def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def lock_of(pid, host=HOST, **extra):
    record = claims.this_owner() | {"host": host, "pid": pid, "started": None, "nonce": f"n{pid}"}
    return json.dumps(record | extra)


def test_a_claim_is_exclusive_and_released_only_by_its_owner(tmp_path):
    path = tmp_path / "run.lock"
    mine = claims.claim(path, {"run": "cosine seed 0"})
    assert isinstance(mine, claims.Claim)
    record = json.loads(path.read_text())
    assert (record["host"], record["pid"], record["run"]) == (HOST, os.getpid(), "cosine seed 0")
    held = claims.claim(path)  # this process is alive: the lock is not stale
    assert not isinstance(held, claims.Claim) and held["pid"] == os.getpid()
    path.write_text(lock_of(os.getpid(), nonce="someone else"))  # as if taken over meanwhile
    mine.release()
    assert json.loads(path.read_text())["nonce"] == "someone else"  # not ours any more: kept
    path.unlink()
    again = claims.claim(path)
    assert isinstance(again, claims.Claim)
    again.release()
    assert not path.exists()


def test_a_lock_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    """A process killed while it writes its lock must not leave an empty lock: a rerun would take
    it for one being written and skip its run for a minute (it did, before locks were linked)."""
    path = tmp_path / "run.lock"
    real_fsync = os.fsync

    def killed(fd):
        assert not path.exists()  # the record is written before the lock's name exists
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(OSError, match="run.lock"):
        claims.claim(path, {"run": "cosine seed 0"})
    assert list(tmp_path.iterdir()) == []  # neither a lock nor its temporary file
    monkeypatch.setattr(os, "fsync", real_fsync)
    mine = claims.claim(path, {"run": "cosine seed 0"})
    assert isinstance(mine, claims.Claim) and json.loads(path.read_text())["run"] == "cosine seed 0"
    assert [p.name for p in tmp_path.iterdir()] == ["run.lock"]
    mine.release()


def test_a_lock_without_hard_links_falls_back_to_exclusive_create(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "run.lock"
    mine = claims.claim(path, {"run": "step seed 1"})
    assert isinstance(mine, claims.Claim) and json.loads(path.read_text())["run"] == "step seed 1"
    assert not isinstance(claims.claim(path), claims.Claim)  # held: refused
    mine.release()


def test_a_lock_of_a_dead_or_zombie_owner_is_taken_over(tmp_path, dead_pid):
    path = tmp_path / "run.lock"
    path.write_text(lock_of(dead_pid))
    got = claims.claim(path)
    assert isinstance(got, claims.Claim) and json.loads(path.read_text())["pid"] == os.getpid()
    got.release()

    zombie = subprocess.Popen(["true"])  # not waited for: a zombie until reaped
    deadline = time.monotonic() + 10
    while claims._proc_stat(zombie.pid)[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    path.write_text(lock_of(zombie.pid))
    got = claims.claim(path)
    zombie.wait()
    assert isinstance(got, claims.Claim)
    got.release()


def test_a_live_owner_keeps_its_lock_unless_its_pid_was_reused(tmp_path, live_pid):
    path = tmp_path / "run.lock"
    started = claims._proc_stat(live_pid)[1]
    path.write_text(lock_of(live_pid, started=started))
    held = claims.claim(path)
    assert held == json.loads(path.read_text())  # the holder's record comes back
    assert claims.describe(held) == f"pid {live_pid} on host {HOST}"
    path.write_text(lock_of(live_pid, started=str(int(started) - 1)))  # same pid, another process
    got = claims.claim(path)
    assert isinstance(got, claims.Claim)
    got.release()


def test_a_lock_from_another_host_is_stale_only_without_heartbeat(tmp_path):
    path = tmp_path / "run.lock"
    path.write_text(lock_of(1, host="node-elsewhere"))
    assert claims.claim(path)["host"] == "node-elsewhere"
    old = time.time() - claims.STALE_AFTER_S - 5
    os.utime(path, (old, old))
    got = claims.claim(path)
    assert isinstance(got, claims.Claim)
    os.utime(path, (old, old))
    got.start_heartbeat(every=0.02)
    deadline = time.monotonic() + 10
    while path.stat().st_mtime < time.time() - 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_mtime > time.time() - 60  # refreshed by the heartbeat
    got.release()
    assert not path.exists()


def tagged(folder, name, pid, *, is_dir=False):
    path = folder / f"{name}.~{pid}@{HOST}" if is_dir else folder / f"{name}.~{pid}@{HOST}.tmp"
    if is_dir:
        path.mkdir(parents=True)
        (path / "data_batch_1").write_bytes(b"half")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    return path


def test_stand_in_leftovers_of_dead_processes_go_those_of_live_ones_stay(tmp_path, dead_pid, live_pid):
    dead = tagged(tmp_path, ".lrcourse-synthetic-abc", dead_pid, is_dir=True)
    live = tagged(tmp_path, ".lrcourse-synthetic-def", live_pid, is_dir=True)
    other_host = tmp_path / f".lrcourse-synthetic-ghi.~{dead_pid}@node-elsewhere"
    other_host.mkdir()
    write_synthetic_cifar10(tmp_path, n_train=10, n_test=5)
    assert not dead.exists() and live.exists() and other_host.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cifar-10-batches-py", live.name, other_host.name])


def test_sweep_cleans_up_after_dead_processes_only(tmp_path, dead_pid, live_pid):
    sweep(["constant"], [0, 1], tmp_path, DATA, log=lambda line: None, **RUN)
    ckpts, locks = tmp_path / ".checkpoints", tmp_path / ".locks"
    # Left by a process killed after it wrote its result: its checkpoint and its lock.
    stale_ckpt = ckpts / "constant-seed0.pt"
    stale_ckpt.write_bytes(b"checkpoint")
    locks.mkdir(exist_ok=True)
    (locks / "constant-seed0.lock").write_text(lock_of(dead_pid))
    # A finished run whose checkpoint a live process still holds (it is writing its result).
    held_ckpt = ckpts / "constant-seed1.pt"
    held_ckpt.write_bytes(b"checkpoint")
    (locks / "constant-seed1.lock").write_text(lock_of(live_pid))
    dead_tmp = tagged(tmp_path, ".constant-seed0.json.x1", dead_pid)
    dead_ckpt_tmp = tagged(ckpts, ".constant-seed0.pt.x2", dead_pid)
    live_tmp = tagged(tmp_path, ".constant-seed1.json.x3", live_pid)
    logs = []
    sweep(["constant"], [0, 1], tmp_path, DATA, log=logs.append, **RUN)
    assert not stale_ckpt.exists() and not dead_tmp.exists() and not dead_ckpt_tmp.exists()
    assert not (locks / "constant-seed0.lock").exists()
    assert held_ckpt.exists() and live_tmp.exists() and (locks / "constant-seed1.lock").exists()
    line = next(line for line in logs if line.startswith("Removed"))
    assert line.startswith("Removed 4 leftover(s) of stopped processes: ")
    assert f"(a lock of pid {dead_pid} on host {HOST}, which no longer runs)" in line
    assert f"{stale_ckpt} (the checkpoint of a finished run)" in line


def cli(out, *extra, epochs=2):
    return ["sweep", "--recipes", "constant,cosine", "--seeds", "2", "--epochs", str(epochs), "--model", "tiny",
            "--data", "random", "--batch-size", "16", "--device", "cpu", "--threads", "1", "--out", str(out),
            "--no-progress", *extra]


def test_shards_split_the_runs_deterministically(tmp_path, capsys):
    assert main(cli(tmp_path, "--shard", "1/2")) == 0
    first = capsys.readouterr().out
    assert main(cli(tmp_path, "--shard", "2/2")) == 0
    second = capsys.readouterr().out
    assert re.findall(r"\] (\w+ seed \d): training", first) == ["constant seed 0", "cosine seed 0"]
    assert re.findall(r"\] (\w+ seed \d): training", second) == ["constant seed 1", "cosine seed 1"]
    assert "| constant | 2 | 0 |" in second and "| cosine | 2 | 0 |" in second  # the last one sees all
    with pytest.raises(SystemExit) as info:
        main(cli(tmp_path, "--shard", "3/2"))
    assert info.value.code == 2
    assert "argument --shard: must be K/N with 1 <= K <= N, e.g. 2/4 (got '3/2')" in capsys.readouterr().err


def test_two_workers_at_once_train_each_run_once(tmp_path, capsys):
    env = dict(os.environ, PYTHONWARNINGS="error")
    command = [sys.executable, "-m", "lrcourse", *cli(tmp_path)]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        # Meanwhile, a sweep with other settings into the same folder is refused, naming the setting.
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".locks/*.lock")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert main(cli(tmp_path, epochs=3)) == 1
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"error: (cosine|constant) seed \d is being trained into .* by pid \d+ on host .* with other "
                        r"settings \(epochs 2 there, 3 here\): use another output folder, or the same settings"
                        r"|error: .*seed\d\.json was made with other settings \(epochs 2 there, 3 here\); a sweep "
                        r"never overwrites a result: use another output folder, or the same settings", err), err
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    trained = sorted(run for out, _ in outputs for run in re.findall(r"\] (\w+ seed \d): training", out))
    assert trained == ["constant seed 0", "constant seed 1", "cosine seed 0", "cosine seed 1"]  # each once
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "constant-seed0.json", "constant-seed1.json", "cosine-seed0.json", "cosine-seed1.json"]
    summary = (tmp_path / "summary.md").read_text()
    assert "| constant | 2 | 0 |" in summary and "| cosine | 2 | 0 |" in summary  # written by the last one
    assert not list(tmp_path.glob(".locks/*")) and not list(tmp_path.glob(".checkpoints/*"))


def test_a_run_claimed_meanwhile_by_a_sweep_with_other_settings_is_refused_not_skipped(tmp_path, live_pid, monkeypatch):
    # The other sweep claims the run after this one looked (its survey saw nothing): the claim
    # itself must compare settings, or this sweep would print "skipped", exit 0, and leave the
    # folder filling with the other sweep's results.
    out = tmp_path / "r"
    (out / ".locks").mkdir(parents=True)
    other = {"model": "tiny", "optimizer": "sgd", "epochs": 1, "lr": 0.5, "momentum": 0.9, "weight_decay": 5e-4,
             "steps_per_epoch": 2, "data": "elsewhere"}
    record = {"pid": live_pid, "host": HOST, "run": "constant seed 0", "settings": other}
    (out / ".locks" / "constant-seed0.lock").write_text(json.dumps(record))
    monkeypatch.setattr("lrcourse.lab.sweeps._survey", lambda out, runs, settings: ({}, {}))
    monkeypatch.setattr(claims, "claim", lambda path, info=None: dict(record))
    with pytest.raises(ConfigMismatchError, match=r"^constant seed 0 is being trained into .* by pid \d+ on host .* "
                                                   r"with other settings \(lr 0.5 there, 0.1 here"):
        sweep(["constant"], [0], out, DATA, log=lambda _: None, **RUN)
    assert not result_path(out, "constant", 0).exists()


def test_a_run_claimed_by_a_sweep_with_the_same_settings_is_skipped(tmp_path, monkeypatch):
    out = tmp_path / "r"
    lines = []
    sweep(["constant"], [0], out, DATA, log=lambda _: None, **RUN)  # learn this sweep's settings
    settings = {k: v for k, v in json.loads(result_path(out, "constant", 0).read_text())["config"].items()}
    same = {key: settings[key] for key in ("model", "optimizer", "epochs", "lr", "momentum", "weight_decay",
                                           "steps_per_epoch", "data")}
    holder = {"pid": os.getpid(), "host": HOST, "run": "constant seed 1", "settings": same}
    monkeypatch.setattr(claims, "claim", lambda path, info=None: dict(holder))
    sweep(["constant"], [0, 1], out, DATA, log=lines.append, **RUN)
    assert any("constant seed 1: being trained by" in line and line.endswith("skipped") for line in lines)
