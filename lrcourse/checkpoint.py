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
moment leaves either the previous checkpoint or the new one, never half of one. (A process
killed during the write may leave its hidden temporary file, ``.<name>.<random>.tmp``, behind.)
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import torch

__all__ = [
    "ConfigMismatchError",
    "atomic_write",
    "atomic_write_text",
    "capture_rng_state",
    "check_config",
    "load_checkpoint",
    "restore_rng_state",
    "save_checkpoint",
]

FORMAT_VERSION = 1


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it onto ``path``.

    The temporary file is in the same folder (``os.replace`` is atomic only within a file
    system), flushed and ``fsync``-ed before the rename, and removed if ``write`` raises, so the
    old ``path``, if any, is untouched by a failed write. The folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
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


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def capture_rng_state() -> dict[str, Any]:
    """The state of every global random number generator, as tensors and lists only."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    try:
        import numpy as np
    except ImportError:  # numpy is optional for this module
        return state
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state["numpy"] = [name, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(cached)]
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Restore generators saved by :func:`capture_rng_state` (the CUDA ones if CUDA is present)."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        import numpy as np

        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, keys.numpy().astype("uint32"), pos, has_gauss, cached))


class ConfigMismatchError(ValueError):
    """A checkpoint was made with a different config than the run that tries to resume from it."""


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
    missing = object()
    changes = [
        f"{key}: {saved_name} has {old.get(key, missing)!r}, this run has {new.get(key, missing)!r}".replace(
            repr(missing), "(not set)"
        )
        for key in sorted(old.keys() | new.keys())
        if old.get(key, missing) != new.get(key, missing)
    ]
    if changes:
        raise ConfigMismatchError(
            f"cannot resume: this run's config differs from the {saved_name}'s in "
            f"{len(changes)} setting(s):\n  " + "\n  ".join(changes)
            + "\nStart a new run elsewhere (another checkpoint path or results folder) or restore the saved settings."
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
    return atomic_write(path, lambda f: torch.save(state, f))


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
        ConfigMismatchError: if ``config`` differs from the saved one; the message lists each
            changed setting with both values.
    """
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} is not an lrcourse checkpoint of format {FORMAT_VERSION} "
            f"(got format_version={state.get('format_version')!r})"
        )
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
