"""Checkers for chapter 8, "Exact resume"."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import lr_scheduler as sched

from ...lab.history import History
from ._common import (as_bool, as_int, as_tuple, failed, guarded, names_of, not_attempted, one_thread,
                      passed, wrapping_calls, wrong_form)

__all__ = ["check_08_1", "check_08_2", "check_08_3", "check_08_4"]

FORM_08_3 = "a function save_atomic(state, path)"


class _FailsHalfway:
    """Raises while being pickled, and notes which files the target's folder held at that moment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: list[str] | None = None

    def __reduce__(self) -> Any:
        self.seen = sorted(p.name for p in self.folder.iterdir())
        raise RuntimeError("simulated failure halfway through the save")


#: The os functions check_08_3 watches, and what a call of each counts as.
_WATCHED = {"fsync": "fsync", "fdatasync": "fsync", "replace": "replace", "rename": "replace"}


def _is_folder(fd: Any) -> bool:
    """Whether ``fd`` (a number, or an object with ``fileno()``) is an open folder."""
    try:
        number = fd if isinstance(fd, int) else fd.fileno()
        return stat.S_ISDIR(os.fstat(number).st_mode)
    except (AttributeError, OSError, TypeError, ValueError):
        return False


@contextlib.contextmanager
def _watching_os(answer: Any) -> Iterator[list[str]]:
    """Record, in order, the answer's calls of ``os.fsync`` and ``os.fdatasync`` (as ``"fsync file"``
    or ``"fsync folder"``) and of ``os.replace`` and ``os.rename`` (as ``"replace"``).

    However the answer calls them (:func:`~._common.wrapping_calls`).
    """
    events: list[str] = []

    def watching(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _WATCHED[name] == "fsync":
                fd = args[0] if args else kwargs.get("fd")
                events.append("fsync folder" if _is_folder(fd) else "fsync file")
            else:
                events.append("replace")
            return function(*args, **kwargs)

        return wrapper

    with wrapping_calls(answer, os, _WATCHED, watching):
        yield events


def _load_step(path: Path) -> Any:
    try:
        return torch.load(path, weights_only=True)["step"].item()
    except Exception as error:  # noqa: BLE001 - a damaged file is what we look for
        return f"{type(error).__name__}: {error}"


@guarded
def check_08_3(answer: Any) -> bool:
    """Exercise ch08-atomic. Answer: a function ``save_atomic(state, path)``.

    It is called in an empty folder: a first save must leave exactly one file, ``path``, that
    loads with ``torch.load(path, weights_only=True)``, written through ``os.fsync`` and, on
    POSIX, followed by an ``os.fsync`` of the folder after ``os.replace`` (the rename is durable
    only once the folder is; Windows cannot open a folder, so there it is not asked for); a second
    save whose state fails to pickle halfway must raise, leave the first checkpoint intact and no
    temporary file behind, and must have written its temporary file in the target's folder
    (``os.replace`` is atomic only within one file system). ``os.fsync`` counts however it is
    called (``os.fsync``, or ``fsync`` after ``from os import fsync``; ``os.fdatasync`` too).
    """
    if not_attempted(answer, FORM_08_3):
        return False
    if not callable(answer):
        return wrong_form("a function save_atomic(state, path)", answer)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        target = folder / "checkpoint.pt"
        with _watching_os(answer) as calls:
            try:
                answer({"step": torch.tensor(50)}, target)
            except Exception as error:  # noqa: BLE001
                return failed("a first save that succeeds", f"{type(error).__name__}: {error}",
                              "save_atomic(state, path) takes the state dict and the target path.")
            first = list(calls)  # what the first save did, in order
            files = sorted(p.name for p in folder.iterdir())
            if files != [target.name]:
                hint = ("nothing was written at path." if target.name not in files else
                        "a temporary file was left behind: os.replace it onto the target once it is written.")
                return failed(f"only {target.name} in the folder", str(files), hint)
            if _load_step(target) != 50:
                return failed("a file that torch.load reads back as step 50", str(_load_step(target)),
                              "write the state with torch.save into the temporary file, then replace the target.")
            poison = _FailsHalfway(folder)
            try:
                answer({"step": torch.tensor(60), "oops": poison}, target)
            except Exception:  # noqa: BLE001 - any error is the right outcome here
                raised = True
            else:
                raised = False
        # The gravest mistake first: a save that writes onto the target destroys the old checkpoint.
        step = _load_step(target)
        if step != 50:
            how = ("the target was overwritten in place" if "replace" not in first else
                   "the target was overwritten before the write had succeeded")
            damaged = f"a damaged checkpoint ({step.split(':')[0]} on torch.load)" if isinstance(step, str) else \
                f"a checkpoint of step {step}"
            return failed("the previous checkpoint intact (step 50) after a failed save", damaged,
                          f"{how}, so a crash mid-write destroys the old checkpoint: write a temporary "
                          "file next to it, then os.replace it onto the target only once it is complete.")
        if not raised:
            return failed("the failing save to raise", "no error",
                          "let the error propagate after cleaning up: a caller must know the save failed.")
        if "fsync file" not in first:
            return failed("os.fsync before os.replace", "no call of os.fsync on the file",
                          "flush and os.fsync the temporary file before os.replace: otherwise a crash can leave "
                          "an empty file under the target's name.")
        renamed = first.index("replace") if "replace" in first else len(first)
        if os.name == "posix" and "fsync folder" not in first[renamed:]:
            received = "an fsync of the folder before it" if "fsync folder" in first else "no fsync of the folder"
            return failed("os.fsync of the folder after os.replace", received,
                          "the rename is a change to the folder, and reaches the disk only with it: after "
                          "os.replace, open the folder with os.open(path.parent, os.O_RDONLY), os.fsync that "
                          "descriptor and close it (skip it where a folder cannot be opened, as on Windows).")
        left = sorted(p.name for p in folder.iterdir() if p.name != target.name)
        if left:
            return failed("no temporary file after the failed save", str(left),
                          "remove the temporary file when the write fails (os.unlink in an except block).")
        if poison.seen is not None and poison.seen == [target.name]:
            return failed("the temporary file in the target's folder", "no new file there during the save",
                          "create it with tempfile.mkstemp(dir=path.parent): os.replace is atomic only "
                          "within one file system.")
    return passed("The previous checkpoint survives a failed save, and nothing is left behind.")


FORM_08_1 = "a function exact(a, b) of two runs (model, optimizer, scheduler, history)"


def _toy_run() -> tuple[Any, Any, Any, Any]:
    """A few steps of a tiny network with BatchNorm, momentum and a schedule, as `run()` returns them."""
    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = sched.LambdaLR(optimizer, lambda step: 0.9**step)
    history = History()
    for _ in range(3):
        x, y = torch.randn(8, 2, generator=generator), torch.randint(0, 3, (8,), generator=generator)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.loss.append(loss.item())
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler, history


def _nudged(value: torch.Tensor) -> None:
    """Change ``value`` in place by the smallest step a float can take."""
    with torch.no_grad():
        flat = value.view(-1)
        flat[0] = torch.nextafter(flat[0], flat[0] + 1)


def _perturbed(kind: str) -> tuple[Any, Any, Any, Any]:
    run = copy.deepcopy(_toy_run())
    model, optimizer, _, history = run
    if kind == "weight":
        _nudged(model[0].weight)
    elif kind == "buffer":
        _nudged(model[1].running_mean)
    elif kind == "momentum":
        _nudged(next(iter(optimizer.state.values()))["momentum_buffer"])
    elif kind == "loss":
        history.loss[-1] = float(torch.nextafter(torch.tensor(history.loss[-1], dtype=torch.float64),
                                                 torch.tensor(math.inf, dtype=torch.float64)))
    elif kind == "lr":
        history.lr[1] *= 1 + 1e-12
    return run


PERTURBATIONS = {
    "weight": ("a weight one float step away",
               "compare with torch.equal, which is bitwise, not torch.allclose or a tolerance: a resumed "
               "run that drifts by one rounding is not exact."),
    "buffer": ("a BatchNorm running mean one float step away (every parameter equal)",
               "compare model.state_dict(), which holds the buffers (BatchNorm's running statistics), "
               "not only model.parameters()."),
    "momentum": ("a momentum buffer one float step away (the model equal)",
                 "compare the optimizer's state too (optimizer.state: each parameter's momentum_buffer): "
                 "the next step uses it."),
    "loss": ("the loss of one step different (weights and momenta equal)",
             "compare the histories too: the loss (and lr) of every step, history.loss and history.lr."),
    "lr": ("the lr of one step different (weights, momenta and losses equal)",
           "compare history.lr as well as history.loss: the schedule must be the same at every step."),
}


@guarded
def check_08_1(answer: Any) -> bool:
    """Exercise ch08-every-cut. Answer: a function ``exact(a, b)``.

    ``a`` and ``b`` are runs as the chapter's ``run()`` returns them, ``(model, optimizer,
    scheduler, history)``. ``exact`` must say True for two copies of one run and False when they
    differ by one float step in a weight, a BatchNorm buffer or a momentum buffer, or in the loss
    or lr of one step. It is tried on a tiny network, not on the chapter's run: the resumed runs
    themselves are the exercise's, and all of them end exact.
    """
    if not_attempted(answer, FORM_08_1):
        return False
    if not callable(answer) or isinstance(answer, type):
        return wrong_form("a function exact(a, b)", answer)
    run = _toy_run()
    same = answer(run, copy.deepcopy(run))
    if as_bool(same) is not True and not (isinstance(same, torch.Tensor) and bool(same)):
        return failed("True for two copies of one run", repr(same),
                      "compare the values, not the objects: torch.equal on each tensor of "
                      "state_dict(), and == on the history lists.")
    for kind, (what, hint) in PERTURBATIONS.items():
        verdict = answer(run, _perturbed(kind))
        if bool(verdict):
            return failed(f"False for {what}", repr(verdict), hint)
    return passed("It tells apart runs that differ by one float step anywhere that matters to the rest "
                  "of the run.")


FORM_08_2 = "a pair (exact, first_step): True or False, and the step of the first other loss"
GLOBAL_FIRST = 50  # the checkpoint before the interruption at 53 holds 50 steps


@guarded
def check_08_2(answer: Any) -> bool:
    """Exercise ch08-global-order. Answer: a pair ``(exact, first_step)``.

    ``exact`` is whether the resumed run ends bitwise equal to the uninterrupted one (a bool),
    ``first_step`` the step (counted from 0) of the first loss that differs, ``None`` if none
    does. The run is interrupted before step 53 with a checkpoint every 10 steps, so it resumes
    after 50 steps; the order of epoch 2 is redrawn then, so the answer is ``(False, 50)``.
    """
    if not_attempted(answer, FORM_08_2):
        return False
    pair = as_tuple(answer, 2)
    if pair is None:
        return wrong_form("a pair (exact, first_step), e.g. (True, None)", answer)
    exact, first = as_bool(pair[0]), pair[1]
    if exact is None:
        return wrong_form("exact as True or False", pair[0])
    step = None if first is None else as_int(first)
    if first is not None and step is None:
        return wrong_form("first_step as a whole number, or None", first)
    expected = f"(False, {GLOBAL_FIRST})"
    received = f"({exact}, {step})"
    if exact and step is None:
        hint = ("compare the losses of every step, not only the weights' shapes or the final accuracy: "
                "restoring the global generator does not give back the order drawn at the epoch's start.")
    elif exact:
        hint = "a run whose losses differ at some step is not exact: exact is False."
    elif step is None:
        hint = "if the run is not exact, some step's loss differs: find the first index where they do."
    elif step == GLOBAL_FIRST:
        return passed("Not exact, from the first resumed step: the epoch's order is drawn again, from the "
                      "generator's state at step 50, not at step 40.")
    elif step == 53:
        hint = ("training resumes from the last checkpoint, after 50 steps, not where it was interrupted: "
                "steps 50 to 52 are trained again.")
    elif step == GLOBAL_FIRST + 1:
        hint = "steps are counted from 0: the 51st step is step 50."
    elif step == 40:
        hint = ("epoch 2's order was drawn at step 40, but steps 40 to 49 were trained before the "
                "checkpoint and come back from it bitwise: the first step trained after the resume is 50.")
    elif step > GLOBAL_FIRST:
        hint = ("the difference starts at the first resumed step: train_batches(2, 10) draws epoch 2's "
                "order again, from a later generator state, so batch 10 is already another batch.")
    else:
        hint = "steps before the checkpoint come back from it bitwise; look at the first step after it."
    return failed(expected, received, hint)


FORM_08_4 = 'a pair (loaded, fresh) of the sets of names that resume exactly, e.g. ({"StepLR"}, set())'
LAST_EPOCH_NAMES = {
    "lambdalr": "LambdaLR",
    "steplr": "StepLR",
    "exponentiallr": "ExponentialLR",
    "cosineannealinglr": "CosineAnnealingLR",
    "linearlr": "LinearLR",
    "onecyclelr": "OneCycleLR",
}


def _rebuild_cases() -> dict[str, Any]:
    return {
        "lambdalr": lambda opt, last: sched.LambdaLR(opt, _decay, last_epoch=last),
        "steplr": lambda opt, last: sched.StepLR(opt, 30, last_epoch=last),
        "exponentiallr": lambda opt, last: sched.ExponentialLR(opt, 0.97, last_epoch=last),
        "cosineannealinglr": lambda opt, last: sched.CosineAnnealingLR(opt, 100, last_epoch=last),
        "linearlr": lambda opt, last: sched.LinearLR(opt, 0.1, total_iters=80, last_epoch=last),
        "onecyclelr": lambda opt, last: sched.OneCycleLR(opt, 0.5, total_steps=100, last_epoch=last),
    }


def _decay(step: int) -> float:
    return 0.97**step


def _rebuilt(make: Any, load_state: bool, steps: int = 100, cut: int = 50) -> str:
    """"exact", "N wrong" or "cannot be built": the rates after rebuilding with last_epoch=cut-1."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.5, momentum=0.9)
    scheduler = make(optimizer, -1)
    right = []
    for step in range(steps):
        if step == cut:
            saved = optimizer.state_dict()
        right.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    optimizer = torch.optim.SGD([param], lr=0.5, momentum=0.9)
    if load_state:
        optimizer.load_state_dict(saved)
    else:
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scheduler = make(optimizer, cut - 1)
        except (KeyError, ValueError):
            return "cannot be built"
    wrong = 0
    for step in range(cut, steps):
        wrong += not math.isclose(optimizer.param_groups[0]["lr"], right[step], rel_tol=1e-9, abs_tol=1e-15)
        optimizer.step()
        scheduler.step()
    return "exact" if wrong == 0 else f"{wrong} of {steps - cut} rates wrong"


def _last_epoch_outcomes() -> dict[tuple[str, bool], str]:
    with one_thread():
        return {(key, load): _rebuilt(make, load) for key, make in _rebuild_cases().items() for load in (True, False)}


def _why_08_4(key: str, load: bool, outcome: str) -> str:
    name = LAST_EPOCH_NAMES[key]
    setting = "on the optimizer that loaded its state" if load else "on a fresh optimizer with initial_lr set"
    if outcome == "exact":
        reason = ("the loaded groups carry initial_lr and the rate of step 50 (and OneCycleLR's max_lr and "
                  "min_lr)" if load else "it computes each rate from initial_lr and the step alone")
    elif outcome == "cannot be built":
        reason = "building it with last_epoch raises: the groups lack the max_lr and min_lr it stored there"
    else:
        reason = "it takes the rate it finds in the group, the base rate, as the rate of step 50"
    return f"{name} {setting}: {outcome}; {reason}."


@guarded
def check_08_4(answer: Any) -> bool:
    """Exercise ch08-last-epoch. Answer: a pair ``(loaded, fresh)`` of collections of names.

    ``loaded``: the schedulers among the six of the exercise whose next 50 rates, rebuilt with
    ``last_epoch=49`` on an optimizer that loaded the saved state, match the uninterrupted run;
    ``fresh``: the same on a fresh optimizer whose groups get ``initial_lr`` by hand. Names in
    any case or classes, e.g. ``({"StepLR", LambdaLR}, set())``. The checker replays both
    rebuilds with this torch.
    """
    if not_attempted(answer, FORM_08_4):
        return False
    if not (isinstance(answer, (list, tuple)) and len(answer) == 2):
        return wrong_form('a pair (loaded, fresh), e.g. ({"StepLR"}, set())', answer)
    sets = [names_of(part) for part in answer]
    if any(s is None for s in sets):
        return wrong_form('two sets of names, e.g. ({"StepLR"}, {"LambdaLR"})', answer)
    unknown = sorted(set().union(*sets) - set(LAST_EPOCH_NAMES))  # type: ignore[arg-type]
    if unknown:
        return failed(f"names among {', '.join(LAST_EPOCH_NAMES.values())}", ", ".join(unknown),
                      "spell the class names as in torch.optim.lr_scheduler.")
    outcomes = _last_epoch_outcomes()
    want = [{k for k in LAST_EPOCH_NAMES if outcomes[k, load] == "exact"} for load in (True, False)]

    def show_set(keys: set[str]) -> str:
        return "{" + ", ".join(LAST_EPOCH_NAMES[k] for k in LAST_EPOCH_NAMES if k in keys) + "}"

    if sets == want:
        return passed(f"loaded {show_set(want[0])}, fresh {show_set(want[1])}: last_epoch is a repair that "
                      "still needs the optimizer state.")
    for load, got, right in zip((True, False), sets, want):
        if got != right:
            key = next(k for k in LAST_EPOCH_NAMES if (k in got) != (k in right))
            return failed(f"loaded {show_set(want[0])}, fresh {show_set(want[1])}",
                          f"loaded {show_set(sets[0])}, fresh {show_set(sets[1])}",  # type: ignore[arg-type]
                          _why_08_4(key, load, outcomes[key, load]))
    return False  # unreachable: the sets differ somewhere
