"""Where a search lives and how its workers share it: the Optuna storage, the study and its
settings, the trial budget, and the trials of workers that died.

**Storage.** By default a journal file in the output folder, ``<out>/study.journal``: Optuna's
documentation recommends its ``JournalFileBackend`` over SQLite for several processes on one
machine (SQLite locks the whole database on every write). ``--storage postgresql://...`` (or
MySQL, or SQLite) puts the study in a database that workers on many machines reach.

**Settings.** A study is created with the settings that change its numbers (data, model,
optimizer, epochs, search space, sampler, pruner, seeds, threads), stored as a study attribute.
A worker with other settings is refused with the differences named, before it trains anything.

**The budget.** ``n_trials`` is a number of *finished* trials (complete or pruned), for the whole
study, however many workers run it. Each trial owns a **slot**: its own number, or for a retry the
number of the trial it retries. A trial starts only if fewer than ``n_trials`` slots below its own
are taken, so two workers that start a trial at the same moment cannot overrun the budget, and a
retry keeps its original's place. A slot is taken by a trial that runs, waits, finished, or died
and waits for its retry; it is free again when its trial was refused (over the budget), raised an
error, or died more often than ``MAX_RETRIES``.

**Dead workers.** A trial whose worker died (SIGKILL, a lost machine) is failed and retried with
the same parameters, and the retry resumes from the dead trial's checkpoint. On a database, Optuna's
heartbeat finds such trials (``heartbeat`` seconds between beats, dead after two missed) and its
``RetryHeartbeatStaleTrialCallback`` queues the retry. The journal file has no heartbeat, so each
trial there holds a claim (``lrcourse.lab.claims``: its pid, checked on this machine) and
:func:`reap_local` fails and retries the trials whose claim is gone, under a study-wide claim so that
two workers cannot both retry one trial.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import claims

__all__ = ["MAX_RETRIES", "Budget", "TuneError", "budget", "open_storage", "open_study", "reap_local",
           "retry", "slot", "study_lock"]

MAX_RETRIES = 3
SETTINGS_ATTR = "lrcourse_settings"
JOURNAL_NAME = "study.journal"
#: A trial without its claim this long after it started is one whose worker died before claiming it.
UNCLAIMED_AFTER_S = 60.0


class TuneError(Exception):
    """A problem of the storage or the study, said in one line for the command line."""


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the lab says what happened, in its own lines
    return optuna


@contextlib.contextmanager
def quiet_experimental() -> Iterator[None]:
    """Optuna marks its heartbeat, retry callback and PED-ANOVA as experimental; this project
    relies on them knowingly (and its tests turn every warning into an error)."""
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def hide_password(url: str) -> str:
    """``postgresql://me:secret@host/db`` -> ``postgresql://me:***@host/db``: for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, where = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{where}"


def open_storage(url: str | None, out: Path, *, heartbeat: int = 60) -> Any:
    """The study's storage: a journal file in ``out`` when ``url`` is None, else the database at ``url``.

    Raises:
        TuneError: a URL that is not a database URL, a driver that is not installed, or a
            database that cannot be reached; said in one line, the password hidden.
    """
    optuna = _optuna()
    if url is None:
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(out / JOURNAL_NAME)))
    shown = hide_password(url)
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme.split("+")[0] not in ("postgresql", "mysql", "sqlite", "oracle", "mssql"):
        raise TuneError(f"--storage {shown}: not a database URL; give postgresql://user@host:port/db, "
                        "mysql+pymysql://user@host/db or sqlite:///file.db, or leave --storage out for a "
                        f"journal file in --out")
    import sqlalchemy.exc

    try:
        with quiet_experimental():
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=heartbeat, grace_period=2 * heartbeat,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRIES),
                # a dropped connection (a database restart) is noticed before use, not mid-trial
                engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None)
    except ImportError as error:  # Optuna wraps the driver's ModuleNotFoundError in an ImportError
        missing = error if isinstance(error, ModuleNotFoundError) else error.__cause__
        name = getattr(missing, "name", None) or "for this URL"
        driver = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "pymysql": "PyMySQL",
                  "MySQLdb": "mysqlclient"}.get(name, name)
        raise TuneError(f"--storage {shown}: the database driver {name} is not installed: "
                        f"pip install {driver}") from None
    except sqlalchemy.exc.ArgumentError as error:
        raise TuneError(f"--storage {shown}: not a database URL ({_first_line(error)})") from None
    except sqlalchemy.exc.NoSuchModuleError as error:
        raise TuneError(f"--storage {shown}: no database driver for this URL ({_first_line(error)})") from None
    except sqlalchemy.exc.OperationalError as error:
        reason = _first_line(error.orig) if error.orig is not None else _first_line(error)
        raise TuneError(f"--storage {shown}: cannot connect to the database ({reason}); is the server "
                        "running, and reachable from this machine?") from None


def _first_line(error: BaseException | Any) -> str:
    text = str(error).strip().splitlines()
    return text[0].strip().rstrip(".") if text else type(error).__name__


def _differences(saved: Mapping[str, Any], mine: Mapping[str, Any]) -> str:
    keys = sorted(set(saved) | set(mine))
    return "; ".join(f"{key} {saved.get(key)!r} there, {mine.get(key)!r} here"
                     for key in keys if saved.get(key) != mine.get(key))


def open_study(storage: Any, name: str, settings: Mapping[str, Any], *, sampler: Any, pruner: Any,
               where: str) -> Any:
    """Create study ``name`` with ``settings``, or load it if it has the same settings.

    Raises:
        TuneError: the study exists with other settings (each difference named), or was not
            created by ``lrcourse tune``.
    """
    optuna = _optuna()
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                                direction="maximize", load_if_exists=True)
    saved = study.user_attrs.get(SETTINGS_ATTR)
    if saved is None and not study.trials:
        study.set_user_attr(SETTINGS_ATTR, dict(settings))
        return study
    if saved is None:
        raise TuneError(f"study {name!r} in {where} was not created by lrcourse tune (it has trials but no "
                        "settings); choose another --study name")
    if saved != dict(settings):
        raise TuneError(f"study {name!r} in {where} was created with other settings ({_differences(saved, settings)}); "
                        "run with the same settings, or choose another --study name")
    return study


# -- the budget ------------------------------------------------------------------------------------


def slot(trial: Any) -> int:
    """The trial's place in the budget: its own number, or that of the trial it retries."""
    original = trial.system_attrs.get("failed_trial")
    return trial.number if original is None else int(original)


def _frees_slot(trial: Any) -> bool:
    """Whether a failed trial gave its slot up (refused, an error, out of retries) rather than
    waiting for its retry."""
    if trial.user_attrs.get("surplus") or trial.user_attrs.get("error"):
        return True
    return len(trial.system_attrs.get("retry_history", [])) + 1 > MAX_RETRIES


@dataclass(frozen=True)
class Budget:
    """The study's trials by slot: ``finished`` (complete or pruned), ``taken`` (finished,
    running, waiting, or dead and waiting for a retry), ``running`` now."""

    finished: int
    taken: int
    running: int
    pruned: int


def _latest_by_slot(trials: list[Any]) -> dict[int, Any]:
    latest: dict[int, Any] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        latest[slot(trial)] = trial
    return latest


def budget(trials: list[Any]) -> Budget:
    from optuna.trial import TrialState

    latest = _latest_by_slot(trials)
    finished = [t for t in latest.values() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    taken = [t for t in latest.values() if not (t.state == TrialState.FAIL and _frees_slot(t))]
    return Budget(finished=len(finished), taken=len(taken),
                  running=sum(t.state == TrialState.RUNNING for t in trials),
                  pruned=sum(t.state == TrialState.PRUNED for t in finished))


def over_budget(trials: list[Any], me: Any, n_trials: int) -> bool:
    """Whether ``n_trials`` slots below ``me``'s are already taken: then ``me`` must not train."""
    from optuna.trial import TrialState

    mine = slot(me)
    others = [t for t in trials if t.number != me.number and slot(t) < mine]
    taken = [t for t in _latest_by_slot(others).values() if not (t.state == TrialState.FAIL and _frees_slot(t))]
    return len(taken) >= n_trials


# -- dead workers ----------------------------------------------------------------------------------


@contextlib.contextmanager
def study_lock(out: Path, local: bool) -> Iterator[None]:
    """On the journal file, one worker at a time between reading the trials and acting on them
    (a claim, so a worker that dies holding it does not block the others); a database needs none."""
    if not local:
        yield
        return
    held = claims.wait_for(out / ".locks" / "study.lock", timeout=120.0, poll=0.02)
    if held is None:
        raise TuneError(f"{out / '.locks' / 'study.lock'} has been held by another worker for two minutes; "
                        "is one stuck? Stop it, then run again")
    try:
        yield
    finally:
        held.release()


def trial_lock(out: Path, number: int) -> Path:
    return out / ".locks" / f"trial-{number:04d}.lock"


def retry(study: Any, trial: Any) -> None:
    """Queue ``trial`` (failed as dead or interrupted) to run again with its parameters, as
    Optuna's heartbeat does on a database: up to ``MAX_RETRIES`` times."""
    optuna = _optuna()
    with quiet_experimental():
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)(study, trial)


def reap_local(study: Any, out: Path) -> list[int]:
    """Fail and retry the running trials of the journal file whose worker is gone; return their numbers."""
    from optuna.trial import TrialState

    reaped = []
    with study_lock(out, local=True):
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            lock = trial_lock(out, trial.number)
            try:
                owner, mtime = claims.read_claim(lock)
                if owner is None and time.time() - mtime < UNCLAIMED_AFTER_S:
                    continue  # being written this moment
            except FileNotFoundError:
                started = trial.datetime_start.timestamp() if trial.datetime_start else time.time()
                if time.time() - started < UNCLAIMED_AFTER_S:
                    continue  # created a moment ago; its worker is about to claim it
                owner, mtime = None, 0.0
            if owner is not None and not claims.is_gone(owner, mtime):
                continue
            study.tell(trial.number, state=TrialState.FAIL)
            retry(study, study.trials[trial.number])
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            reaped.append(trial.number)
    return reaped
