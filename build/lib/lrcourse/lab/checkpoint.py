"""Exact save and resume: everything a run needs to continue as if it had never stopped.

A checkpoint holds the model, optimizer, scheduler and ``GradScaler`` states, every random
number generator the run draws from (torch CPU, every CUDA device, Python's ``random``, NumPy's
global generator), the position in the data (epoch and index of the next batch) and the run's
config. It holds nothing but tensors, numbers, strings, lists, tuples and dicts, so it loads with
``torch.load(path, weights_only=True)``, which cannot run code hidden in a file.

Resume in the order that works for every built-in scheduler (OneCycleLR, SequentialLR and
LinearLR break otherwise): build model, optimizer and scheduler as for a new run, then call
:func:`load_checkpoint`, which loads the model, then the optimizer, then the scheduler state::

    model = build_model("airbench")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = warmup_cosine(optimizer, warmup_steps=100, total_steps=1000)
    state = load_checkpoint("run.pt", model=model, optimizer=optimizer, scheduler=scheduler,
                            config=config)          # refuses a changed config
    restore_rng_state(state["rng"])

Files are written atomically (:func:`atomic_write`): to a temporary file in the same folder,
flushed and ``fsync``-ed, then renamed over the old file with ``os.replace``. A crash at any
moment leaves either the previous checkpoint or the new one, never half of one. A process killed
during the write may leave its hidden temporary file, ``.<name>.<random>.~<pid>@<host>.tmp``;
the name says whose it is, so a later process can remove it once that pid has gone
(``lrcourse.lab.claims.remove_dead_leftovers``). Files get the permissions the umask allows, like any
other file the user writes. The checkpoint is serialized in memory first and then written with
plain file writes, so a full disk raises ``OSError`` (``ENOSPC``) rather than an opaque torch error.

A checkpoint that cannot be read -- empty, truncated, garbled, of another format -- raises
:class:`CheckpointError`, which names the file and what is wrong with it; a caller can then
start the run over (the sweeps do).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import torch

from ..rng import capture_rng_state

__all__ = [
    "CheckpointError",
    "ConfigMismatchError",
    "atomic_write",
    "atomic_write_text",
    "check_config",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
]

FORMAT_VERSION = 1


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], *, exclusive: bool = False
) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it onto ``path``.

    The temporary file is in the same folder (``os.replace`` is atomic only within a file
    system), flushed and ``fsync``-ed before the rename, and removed if ``write`` raises, so the
    old ``path``, if any, is untouched by a failed write. The folder is created if needed. The
    file's mode is ``0o666`` less the umask (``mkstemp`` alone would make it ``0o600``).

    With ``exclusive=True`` an existing ``path`` is never replaced: the file is moved into place
    with a hard link, which fails with ``FileExistsError`` if ``path`` exists, even when another
    process creates it a moment earlier.
    """
    from .claims import owner_tag  # the temporary name says whose it is, for later clean-ups

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f"{owner_tag()}.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            _link_into_place(tmp, path)
        else:
            os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if error.filename is None and error.errno is not None:  # a failed write() names no file (ENOSPC...)
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable (POSIX; Windows cannot open a folder).
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def _link_into_place(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)  # atomic, and refuses an existing path
    except FileExistsError:
        raise FileExistsError(f"{path} exists; refusing to overwrite it") from None
    except OSError:  # a file system without hard links (some FUSE and SMB mounts)
        if path.exists():
            raise FileExistsError(f"{path} exists; refusing to overwrite it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, exclusive: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")), exclusive=exclusive)


class ConfigMismatchError(ValueError):
    """A checkpoint was made with a different config than the run that tries to resume from it.

    ``changes`` lists ``(setting, saved value, current value)`` for every setting that differs.
    """

    def __init__(self, message: str, changes: list[tuple[str, Any, Any]] | None = None) -> None:
        super().__init__(message)
        self.changes = list(changes or [])


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: empty, truncated, garbled or of another format.

    ``path`` is the file and ``reason`` what is wrong with it; the message holds both.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path} is damaged: {reason}")
        self.path, self.reason = Path(path), reason


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = list(value) if isinstance(value, tuple) else value
    return flat


def check_config(saved: Mapping[str, Any], current: Mapping[str, Any], saved_name: str = "checkpoint") -> None:
    """Raise :class:`ConfigMismatchError` naming every setting that differs between two configs.

    Nested dicts are compared key by key (``schedule.total_steps``); a key present in only one
    of them counts as changed. Resuming with another length or schedule would move the run along
    a different LR curve from the middle on, so it is refused rather than silently accepted.
    ``saved_name`` says where ``saved`` came from, in the message.
    """
    old, new = _flatten(saved), _flatten(current)
    missing = "(not set)"
    changes = [(key, old.get(key, missing), new.get(key, missing)) for key in sorted(old.keys() | new.keys())
               if old.get(key, missing) != new.get(key, missing)]
    lines = [f"{key}: {saved_name} has {a!r}, this run has {b!r}".replace(repr(missing), missing)
             for key, a, b in changes]
    if changes:
        raise ConfigMismatchError(
            f"cannot resume: this run's config differs from the {saved_name}'s in "
            f"{len(changes)} setting(s):\n  " + "\n  ".join(lines)
            + "\nStart a new run elsewhere (another checkpoint path or results folder) or restore the saved settings.",
            changes,
        )


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    position: Mapping[str, int] | None = None,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save a complete, resumable state to ``path``, atomically.

    Args:
        path: The checkpoint file; the folder is created if needed.
        model, optimizer, scheduler, scaler: Saved with their ``state_dict()``.
        position: Where the data stands, e.g. ``{"epoch": 2, "batch": 17, "step": 113}``: the
            next batch to train on.
        config: The run's settings, compared on resume by :func:`check_config`.
        extra: Anything else the trainer needs (its history), as weights-only-safe values.

    Returns:
        ``path`` as a ``Path``.
    """
    state = {
        "format_version": FORMAT_VERSION,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scaler": None if scaler is None else scaler.state_dict(),
        "rng": capture_rng_state(),
        "position": dict(position or {}),
        "config": dict(config or {}),
        "extra": dict(extra or {}),
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)  # in memory: torch's own file writer hides ENOSPC behind an enforce message
    return atomic_write(path, lambda f: f.write(buffer.getbuffer()))


_KEYS = ("model", "optimizer", "scheduler", "scaler", "rng", "position", "config", "extra")


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state saved in ``path`` (``weights_only=True``), checked to be a whole lrcourse checkpoint.

    Raises:
        FileNotFoundError, PermissionError, OSError: the file cannot be read (not a damage).
        CheckpointError: it was read, but is empty, truncated, garbled or of another format.
    """
    data = Path(path).read_bytes()  # an I/O error is the environment's, and propagates as such
    if not data:
        raise CheckpointError(path, "the file is empty")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, IndexError...
        # The first sentence: torch appends a paragraph of advice to some of its messages.
        reason = str(exc).strip().splitlines()[0].split(". ")[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(path, f"torch.load failed after {len(data)} bytes ({reason})") from exc
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        got = state.get("format_version") if isinstance(state, dict) else f"a {type(state).__name__}"
        raise CheckpointError(
            path, f"not an lrcourse checkpoint of format {FORMAT_VERSION} (got format_version={got!r})"
        )
    missing = [key for key in _KEYS if key not in state]
    if missing:
        raise CheckpointError(path, f"it lacks {', '.join(missing)}")
    return state


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Load ``path`` (``weights_only=True``) into already-built objects; return the whole state.

    The config is checked first (when ``config`` is given), so a mismatch changes nothing. Then
    the model, the optimizer and the scheduler are loaded, in that order. The RNG states are
    *not* restored here: call ``restore_rng_state(state["rng"])`` just before training resumes.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is empty, truncated, garbled or not an lrcourse checkpoint.
        ConfigMismatchError: if ``config`` differs from the saved one; the message lists each
            changed setting with both values.
    """
    state = read_checkpoint(path)
    if config is not None:
        check_config(state["config"], config)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if state["scheduler"] is None:
            raise ValueError(f"{path} was saved without a scheduler, but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state["scaler"] is not None:
        scaler.load_state_dict(state["scaler"])
    return state
