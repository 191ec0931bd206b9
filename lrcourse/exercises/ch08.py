"""Checkers for chapter 8, "Exact resume"."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ._common import failed, guarded, not_attempted, passed, wrong_form

__all__ = ["check_08_3"]

FORM_08_3 = "a function save_atomic(state, path)"


class _FailsHalfway:
    """Raises while being pickled, and notes which files the target's folder held at that moment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: list[str] | None = None

    def __reduce__(self) -> Any:
        self.seen = sorted(p.name for p in self.folder.iterdir())
        raise RuntimeError("simulated failure halfway through the save")


@contextlib.contextmanager
def _counting_fsync() -> Iterator[list[int]]:
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: Any) -> None:
        calls.append(1)
        real(fd)

    os.fsync = fsync
    try:
        yield calls
    finally:
        os.fsync = real


def _load_step(path: Path) -> Any:
    try:
        return torch.load(path, weights_only=True)["step"].item()
    except Exception as error:  # noqa: BLE001 - a damaged file is what we look for
        return f"{type(error).__name__}: {error}"


@guarded
def check_08_3(answer: Any) -> bool:
    """Exercise ch08-atomic. Answer: a function ``save_atomic(state, path)``.

    It is called in an empty folder: a first save must leave exactly one file, ``path``, that
    loads with ``torch.load(path, weights_only=True)``, written through ``os.fsync``; a second
    save whose state fails to pickle halfway must raise, leave the first checkpoint intact and no
    temporary file behind, and must have written its temporary file in the target's folder
    (``os.replace`` is atomic only within one file system).
    """
    if not_attempted(answer, FORM_08_3):
        return False
    if not callable(answer):
        return wrong_form("a function save_atomic(state, path)", answer)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        target = folder / "checkpoint.pt"
        with _counting_fsync() as calls:
            try:
                answer({"step": torch.tensor(50)}, target)
            except Exception as error:  # noqa: BLE001
                return failed("a first save that succeeds", f"{type(error).__name__}: {error}",
                              "save_atomic(state, path) takes the state dict and the target path.")
        files = sorted(p.name for p in folder.iterdir())
        if files != [target.name]:
            hint = ("nothing was written at path." if target.name not in files else
                    "a temporary file was left behind: os.replace it onto the target once it is written.")
            return failed(f"only {target.name} in the folder", str(files), hint)
        if _load_step(target) != 50:
            return failed("a file that torch.load reads back as step 50", str(_load_step(target)),
                          "write the state with torch.save into the temporary file, then replace the target.")
        if not calls:
            return failed("os.fsync before os.replace", "no call of os.fsync",
                          "flush and os.fsync the temporary file before os.replace: otherwise a crash can leave "
                          "an empty file under the target's name.")
        poison = _FailsHalfway(folder)
        try:
            answer({"step": torch.tensor(60), "oops": poison}, target)
        except Exception:  # noqa: BLE001 - any error is the right outcome here
            pass
        else:
            return failed("the failing save to raise", "no error",
                          "let the error propagate after cleaning up: a caller must know the save failed.")
        step = _load_step(target)
        if step != 50:
            return failed("the previous checkpoint intact (step 50)", str(step),
                          "the target was overwritten before the write had succeeded: write a temporary "
                          "file and os.replace it onto the target only at the end.")
        left = sorted(p.name for p in folder.iterdir() if p.name != target.name)
        if left:
            return failed("no temporary file after the failed save", str(left),
                          "remove the temporary file when the write fails (os.unlink in an except block).")
        if poison.seen is not None and poison.seen == [target.name]:
            return failed("the temporary file in the target's folder", "no new file there during the save",
                          "create it with tempfile.mkstemp(dir=path.parent): os.replace is atomic only "
                          "within one file system.")
    return passed("The previous checkpoint survives a failed save, and nothing is left behind.")
