"""Three ``lrcourse tune`` workers share one study; one is killed with SIGKILL in the middle of a
trial. The study must end with exactly the trials asked for, the killed trial retried once and
resumed from its checkpoint -- to the same numbers as a trial never interrupted -- and nothing
trained twice. Once on the default journal file, once on a real PostgreSQL server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from postgres_server import find_bin, postgres_server

optuna = pytest.importorskip("optuna")

from lrcourse.lab.providers import random_data  # noqa: E402
from lrcourse.lab.runs import run_one  # noqa: E402
from lrcourse.lab.tune_space import TrialSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRIALS, EPOCHS, TRAIN_SIZE = 6, 4, 512
ARGS = ["--data", "random", "--train-size", str(TRAIN_SIZE), "--epochs", str(EPOCHS),
        "--final-seeds", "0", "--pruner", "none", "--threads", "1", "--no-progress", "--study", "kill-test"]


def _workers(out: Path, extra: list[str], n: int = 3) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if "--trials" not in extra:
        extra = [*extra, "--trials", str(TRIALS)]
    return [subprocess.Popen([sys.executable, "-m", "lrcourse", "tune", *ARGS, "--out", str(out), *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
            for _ in range(n)]


def _kill_one_mid_trial(load_study, workers: list[subprocess.Popen], timeout: float = 240) -> tuple[int, int]:
    """SIGKILL the worker of a running trial that has finished an epoch (so it has a checkpoint)
    and has epochs left; return (trial number, epochs it had reported)."""
    pids = {w.pid: w for w in workers}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study = load_study()
        if study is not None:
            for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
                done = len(trial.intermediate_values)
                pid = trial.user_attrs.get("worker", {}).get("pid")
                if 1 <= done <= EPOCHS - 2 and pid in pids:
                    os.kill(pid, signal.SIGKILL)
                    return trial.number, done
        if any(w.poll() is not None for w in workers):
            break
        time.sleep(0.05)
    outputs = "\n".join(w.communicate(timeout=60)[0] if w.poll() is not None else "(running)" for w in workers)
    raise AssertionError(f"no trial could be killed mid-trial:\n{outputs}")


def _uninterrupted_value(params: dict) -> list[float]:
    """The validation accuracies of the trial's settings trained in one go, in this process."""
    chosen = TrialSettings.from_params(params)
    data = random_data(n_train=TRAIN_SIZE, n_val=32, batch_size=512)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_one(chosen.recipe, 100, data, model="airbench", epochs=EPOCHS, lr=chosen.lr, device="cpu",
                         precision="fp32", progress=False, recipe_options=chosen.recipe_options, test=False)
    finally:
        torch.set_num_threads(threads)
    return result["history"]["val_acc"]


def _check_study(study, killed: int, out: Path) -> None:
    TrialState = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == TRIALS, [(t.number, t.state.name) for t in trials]
    # Nothing trained twice: one finished trial per slot, and no two with the same parameters.
    slots = [t.system_attrs.get("failed_trial", t.number) for t in finished]
    assert len(set(slots)) == TRIALS
    assert len({tuple(sorted(t.params.items())) for t in finished}) == TRIALS
    # The killed trial failed, and exactly one retry of it finished, resumed from its checkpoint.
    assert trials[killed].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1, [(t.number, t.state.name) for t in retries]
    retry = retries[0]
    assert retry.state == TrialState.COMPLETE and retry.params == trials[killed].params
    assert retry.user_attrs["resumed_from_epoch"] >= 1
    # Every other failure is a trial refused over the budget, which trained nothing.
    for t in trials:
        if t.state == TrialState.FAIL and t.number != killed:
            assert t.user_attrs.get("surplus") and not t.intermediate_values
    # Resumed exactly: the same validation accuracies, epoch by epoch, as a run never stopped.
    resumed = [retry.intermediate_values[e] for e in sorted(retry.intermediate_values)]
    assert resumed == _uninterrupted_value(retry.params)
    assert retry.value == resumed[-1]
    # The trial files: one per finished trial, and no checkpoint left behind.
    records = sorted((out / "trials").glob("trial-*.json"))
    assert len(records) == TRIALS
    assert not list((out / ".checkpoints").glob("*.pt"))


def _finish(workers: list[subprocess.Popen], killed_pid: int | None = None) -> None:
    for w in workers:
        output = w.communicate(timeout=400)[0]
        if w.returncode == -signal.SIGKILL:
            continue
        assert w.returncode == 0, output
        assert "Traceback" not in output, output


def test_a_killed_worker_s_trial_is_retried_and_resumed_on_the_journal_file(tmp_path):
    out = tmp_path / "study"
    journal = out / "study.journal"

    def load():
        if not journal.exists() or journal.stat().st_size == 0:
            return None
        from optuna.storages.journal import JournalFileBackend

        storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
        try:
            return optuna.load_study(study_name="kill-test", storage=storage)
        except KeyError:
            return None

    workers = _workers(out, [])
    killed, _ = _kill_one_mid_trial(load, workers)
    _finish(workers)
    _check_study(load(), killed, out)


@pytest.mark.skipif(find_bin() is None, reason="no PostgreSQL installed (Debian: apt-get install postgresql)")
def test_a_killed_worker_s_trial_is_retried_and_resumed_on_postgresql(tmp_path):
    out = tmp_path / "study"
    with postgres_server() as url:
        storage = optuna.storages.RDBStorage(url)

        def load():
            try:
                return optuna.load_study(study_name="kill-test", storage=storage)
            except KeyError:
                return None

        workers = _workers(out, ["--storage", url, "--heartbeat", "1"])
        killed, _ = _kill_one_mid_trial(load, workers)
        _finish(workers)
        _check_study(load(), killed, out)
        storage.remove_session()
        storage.engine.dispose()


def test_an_interrupted_worker_queues_its_trial_and_the_next_run_resumes_it(tmp_path):
    """Ctrl-C (or a job scheduler's SIGTERM): one line, status 130/143, and the trial in progress
    is queued again; the same command run again resumes it from its checkpoint."""
    out = tmp_path / "study"
    journal = out / "study.journal"

    def load():
        if not journal.exists() or journal.stat().st_size == 0:
            return None
        from optuna.storages.journal import JournalFileBackend

        try:
            return optuna.load_study(study_name="kill-test",
                                     storage=optuna.storages.JournalStorage(JournalFileBackend(str(journal))))
        except KeyError:
            return None

    extra = ["--trials", "2"]
    (worker,) = _workers(out, extra, n=1)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        study = load()
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)) if study else []
        if running and 1 <= len(running[0].intermediate_values) <= EPOCHS - 2:
            worker.send_signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    output = worker.communicate(timeout=120)[0]
    assert worker.returncode == 143, output
    assert output.rstrip().splitlines()[-1].startswith("Interrupted; the trial in progress is queued again")
    interrupted = next(t for t in load().trials if t.state == optuna.trial.TrialState.FAIL)
    (again,) = _workers(out, extra, n=1)
    output = again.communicate(timeout=400)[0]
    assert again.returncode == 0, output
    assert f"a retry of trial {interrupted.number}: resuming after epoch" in output
    study = load()
    assert len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]) == 2
    retry = next(t for t in study.trials if t.system_attrs.get("failed_trial") == interrupted.number)
    assert retry.user_attrs["resumed_from_epoch"] >= 1
