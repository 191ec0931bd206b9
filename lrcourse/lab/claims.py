"""Who owns a file: exclusive claims on runs, and the leftovers of processes that are gone.

Several sweep processes may share one results folder -- one per GPU, the tasks of a SLURM job
array, a student who started the same command twice. Each run is **claimed** before it is
trained: :func:`claim` creates ``<name>.lock`` with ``O_CREAT | O_EXCL`` (atomic on local file
systems and on NFS v3+), holding JSON that names the owner (host, pid, the process's start time,
its pid namespace) and whatever the caller adds (the run, its settings). A second process finds
the lock and skips the run; when the owner is gone the lock is **stale** and is taken over:

* on the same host (and pid namespace) a lock is stale when its pid no longer runs, or runs a
  different process (a reused pid: its start time differs), or is a zombie;
* from another host nothing can be asked about the pid, so the owner refreshes the lock's
  modification time every ``HEARTBEAT_S`` seconds (:meth:`Claim.start_heartbeat`) and the lock is
  stale after ``STALE_AFTER_S`` seconds without one.

Taking over is itself exclusive (a ``.takeover`` file made with ``O_EXCL``), so two processes
that find the same stale lock cannot both win. A claim is released only by its owner, and only
if the lock still names it.

Temporary files and folders (a download in progress, the stand-in being written, a checkpoint
being saved) carry :func:`owner_tag` in their names, ``.~<pid>@<host>``; :func:`remove_dead_leftovers`
removes those whose process is gone and keeps those of a live one.

No library fits: ``filelock`` and ``fcntl.flock`` hold locks that the kernel drops when the
process dies, but say nothing about the owner, are unreliable on network file systems, and
cannot hold a run's settings for another worker to compare.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "Claim",
    "claim",
    "describe",
    "is_gone",
    "owner_tag",
    "read_claim",
    "remove_dead_leftovers",
    "this_owner",
    "wait_for",
]

HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0  # 20 missed heartbeats: a slow network file system is not a dead owner
_TAKEOVER_STALE_S = 60.0  # a take-over lasts milliseconds; an older .takeover file was abandoned
_TAG = ".~"  # separates a temporary name from its owner tag; neither hostnames nor mkstemp use "~"


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of ``pid`` from ``/proc`` (Linux), or None where unavailable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and ")"
    return fields[0], fields[19]  # field 3 (state) and field 22 (start time, ticks after boot)


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def this_owner() -> dict[str, Any]:
    """The owner record of this process: host, pid, start time and pid namespace."""
    stat = _proc_stat(os.getpid())
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": stat and stat[1], "pidns": _pid_namespace()}


def owner_tag() -> str:
    """``.~<pid>@<host>``: appended to temporary names so that a later process can tell if their owner is gone."""
    return f"{_TAG}{os.getpid()}@{socket.gethostname()}"


def _runs(pid: int, started: str | None) -> bool:
    """Whether ``pid`` runs on this host (and is the process that started at ``started``)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc: the pid exists, which is all we can know
    state, start = stat
    return state not in ("Z", "X") and (started is None or start == started)


def _same_machine(owner: Mapping[str, Any]) -> bool:
    return owner.get("host") == socket.gethostname() and owner.get("pidns") in (None, _pid_namespace())


def is_gone(owner: Mapping[str, Any], mtime: float) -> bool:
    """Whether the owner of a lock (its record and the lock file's mtime) has certainly stopped."""
    if _same_machine(owner) and isinstance(owner.get("pid"), int):
        return not _runs(owner["pid"], owner.get("started"))
    return time.time() - mtime > STALE_AFTER_S  # another machine: only the heartbeat tells


def describe(owner: Mapping[str, Any]) -> str:
    """``pid 123 on host node7``, for messages."""
    return f"pid {owner.get('pid', '?')} on host {owner.get('host', '?')}"


def _read(path: Path) -> tuple[dict[str, Any] | None, float] | None:
    """The lock's record (None if unreadable) and its mtime, or None if there is no lock."""
    try:
        mtime = path.stat().st_mtime
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None, mtime  # garbled, or being written this very moment
    return (record if isinstance(record, dict) else None), mtime


def read_claim(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, float]:
    """The record of the lock at ``path`` and its modification time; the record is None while the
    lock is being written (or its writer died first). ``FileNotFoundError`` if there is no lock."""
    found = _read(Path(path))
    if found is None:
        raise FileNotFoundError(path)
    return found


class Claim:
    """An exclusive claim held by this process on one lock file; release it when done."""

    def __init__(self, path: Path, record: dict[str, Any]) -> None:
        self.path, self.record = path, record
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def owned(self) -> bool:
        """Whether the lock file still names this claim (another process may have taken a stale one over)."""
        found = _read(self.path)
        return bool(found and found[0] and found[0].get("nonce") == self.record["nonce"])

    def refresh(self) -> None:
        """Touch the lock: the heartbeat that tells other hosts this owner is alive."""
        if self.owned():
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def start_heartbeat(self, every: float = HEARTBEAT_S) -> Claim:
        """Refresh the lock every ``every`` seconds from a daemon thread until :meth:`release`."""
        def beat() -> None:
            while not self._stop.wait(every):
                self.refresh()

        self._thread = threading.Thread(target=beat, name=f"heartbeat {self.path.name}", daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        """Stop the heartbeat and remove the lock if it is still this claim's."""
        self._stop.set()
        if self.owned():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _create(path: Path, record: Mapping[str, Any]) -> bool:
    """Create the lock ``path`` holding ``record``, unless it exists; never a partial lock.

    The record is written and synced to a temporary file first, which is then hard-linked to the
    lock's name: ``os.link`` fails if the name exists, so the lock appears complete or not at all.
    (Creating the lock itself with ``O_EXCL`` and then writing it would leave an empty lock behind a
    process killed in between, which other processes must treat as "being written" for a minute.)
    A file system without hard links falls back to ``O_EXCL``.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{owner_tag()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            _write_record(f, record)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            return _create_exclusive(path, record)
        return True
    except OSError as error:  # a full disk: no lock stays behind, and the error names the file
        raise OSError(error.errno, error.strerror, str(path)) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _create_exclusive(path: Path, record: Mapping[str, Any]) -> bool:
    """``_create`` where hard links are not supported: ``O_EXCL``, then write."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            _write_record(f, record)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return True


def _write_record(f: Any, record: Mapping[str, Any]) -> None:
    json.dump(record, f)
    f.flush()
    os.fsync(f.fileno())


def _take_over(path: Path, stale: dict[str, Any] | None, record: Mapping[str, Any]) -> bool:
    """Replace the stale lock ``path`` by ``record``, unless another process is doing the same."""
    guard = path.with_name(path.name + ".takeover")
    found = _read(guard)
    if found is not None and time.time() - found[1] > _TAKEOVER_STALE_S:
        with contextlib.suppress(FileNotFoundError):
            guard.unlink()  # left by a process that died in the middle of a take-over
    if not _create(guard, this_owner()):
        return False
    try:
        now = _read(path)
        if now is not None and (now[0] or {}).get("nonce") != (stale or {}).get("nonce"):
            return False  # someone else took it over (or released it) in the meantime
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{owner_tag()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            guard.unlink()


def claim(path: str | os.PathLike[str], info: Mapping[str, Any] | None = None) -> Claim | dict[str, Any]:
    """Claim ``path`` for this process, or return the record of the live owner that holds it.

    ``info`` is stored in the lock next to the owner (e.g. the run and its settings), for other
    processes to read. A lock whose owner is gone (see the module docstring) is taken over. The
    folder is created if needed.

    Returns:
        A :class:`Claim` (call :meth:`Claim.release`, or use it in a ``with`` block), or the
        holder's record, a dict with at least ``host`` and ``pid``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = this_owner() | {"nonce": uuid.uuid4().hex, "since": time.time()} | dict(info or {})
    holder: dict[str, Any] = {}
    for _ in range(5):
        if _create(path, record):
            return Claim(path, record)
        found = _read(path)
        if found is None:
            continue  # released just now: try again
        holder, mtime = found[0] or {}, found[1]
        unreadable = found[0] is None
        # An unreadable lock is being written right now, or its writer died before it could write.
        gone = time.time() - mtime > _TAKEOVER_STALE_S if unreadable else is_gone(holder, mtime)
        if not gone:
            return holder or {"host": "?", "pid": "?"}
        if _take_over(path, found[0], record):
            return Claim(path, record)
        time.sleep(0.05)
    return holder or {"host": "?", "pid": "?"}


def wait_for(path: str | os.PathLike[str], timeout: float = 60.0, poll: float = 0.05) -> Claim | None:
    """Claim ``path``, waiting up to ``timeout`` seconds for its holder; None if it never came free."""
    deadline = time.monotonic() + timeout
    while True:
        got = claim(path)
        if isinstance(got, Claim) or time.monotonic() > deadline:
            return got if isinstance(got, Claim) else None
        time.sleep(poll)


def _owner_of(name: str) -> tuple[int, str] | None:
    if _TAG not in name:
        return None
    pid, _, host = name.rsplit(_TAG, 1)[1].removesuffix(".tmp").partition("@")
    return (int(pid), host) if pid.isdigit() and host else None


def remove_dead_leftovers(
    folder: str | os.PathLike[str], prefixes: Iterable[str], log: Callable[[str], None] | None = None
) -> list[Path]:
    """Remove the temporary files and folders in ``folder`` named ``<prefix>...{owner_tag()}`` whose
    process (on this host) is gone; keep those of live processes, of other hosts and untagged ones.

    Returns:
        What was removed.
    """
    folder = Path(folder)
    removed = []
    prefixes = tuple(prefixes)
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        owner = _owner_of(entry.name)
        if not entry.name.startswith(prefixes) or owner is None:
            continue
        pid, host = owner
        if host != socket.gethostname() or _runs(pid, None):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed.append(entry)
        if log is not None:
            log(f"removed {entry}, left by pid {pid}, which no longer runs")
    return removed
