"""Checkers for chapter 10, "The schedule shoot-out"."""

from __future__ import annotations

import contextlib
import json
import linecache
import math
import os
import statistics
import sysconfig
import tempfile
import traceback
from pathlib import Path
from typing import Any

from ._common import as_int, as_numbers, as_real, failed, guarded, not_attempted, passed, wrong_form

__all__ = ["check_10_1", "check_10_2"]

FORM_10_1 = "a function table(folder) -> {recipe: (mean, std)}"
FORM_10_2 = "a pair (epoch_after_which_it_is_reduced, smallest_run_in_epochs)"

# The made-up sweep the table is checked on: recipe -> test accuracy per seed.
_RUNS = {"cosine": [0.80, 0.86, 0.83], "step": [0.71, 0.75], "wsd": [0.9]}


def _result(recipe: str, seed: int, acc: float) -> dict[str, Any]:
    return {"format": "lrcourse-run/1", "recipe": recipe, "seed": seed, "wall_time": 1.0, "diverged": False,
            "config": {"model": "small", "optimizer": "sgd", "epochs": 4, "lr": 0.4, "momentum": 0.9,
                       "weight_decay": 5e-4, "steps_per_epoch": 10, "data": "made up"},
            "final": {"val_acc": acc, "test_acc": acc, "val_loss": 1.0, "test_loss": 1.0}}


def _write_folder(folder: Path) -> None:
    for recipe, accs in _RUNS.items():
        for seed, acc in enumerate(accs):
            (folder / f"{recipe}-seed{seed}.json").write_text(json.dumps(_result(recipe, seed, acc)))
    # a copy of a result under another name, a file that is not a result, and a summary
    (folder / "cosine-seed1 (copy).json").write_text(json.dumps(_result("cosine", 1, 0.86)))
    (folder / "notes.json").write_text(json.dumps(["not", "a", "result"]))
    (folder / "summary.md").write_text("| recipe | ... |\n")


def _want() -> dict[str, tuple[float, float]]:
    return {r: (statistics.fmean(a), statistics.stdev(a) if len(a) > 1 else 0.0) for r, a in _RUNS.items()}


# Python's own code and installed packages: the line that raised is looked for outside them.
_LIBRARIES = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")})


def _where(error: BaseException, folder: Path) -> tuple[str | None, str | None]:
    """The file of ``folder`` the answer was reading when it raised, and the line of code, if known."""
    reading = line = None
    for frame, lineno in reversed(list(traceback.walk_tb(error.__traceback__))):  # innermost first
        filename = frame.f_code.co_filename
        if line is None and filename != __file__ and not filename.startswith(_LIBRARIES):  # the answer's code
            line = linecache.getline(filename, lineno).strip() or None
        for value in list(frame.f_locals.values()) if reading is None else ():
            if isinstance(value, (str, os.PathLike)) and len(os.fspath(value)) < 4096:
                with contextlib.suppress(TypeError, ValueError, OSError):
                    path = Path(value)
                    if path.parent.resolve() == folder.resolve() and path.is_file():
                        reading = path.name
    return reading, line


def _crashed(error: Exception, folder: Path, expected: str) -> bool:
    """The verdict on a table(folder) of the right form that raised: what it raised, and where."""
    reading, line = _where(error, folder)
    what = f"{type(error).__name__}: {error}" + (f" while reading {reading}" if reading else "")
    where = f" at `{line}`" if line else ""
    if reading == "notes.json":
        hint = ("notes.json is not a result (it holds a JSON list): skip a file whose content is not a "
                "dict with a 'final' entry.")
    elif reading == "summary.md":
        hint = "summary.md is not JSON: read only the folder's *.json files."
    elif reading is not None:
        hint = (f"{reading} is a result: a dict with result['recipe'], result['seed'] and the accuracy in "
                "result['final']['test_acc']; check how your code reads it.")
    elif len(list(traceback.walk_tb(error.__traceback__))) == 1:  # raised by the call itself
        return failed(expected, f"calling table(folder) raised {what}",
                      "it is called with one argument, the folder (a Path; a str works too).")
    else:
        hint = ("A folder can hold files that are not results (a notes.json, a summary.md) and copies of "
                "results: check that your code skips them.")
    return failed(expected, f"table(folder) raised {what}", f"your function raised it{where}. {hint}")


@guarded
def check_10_1(answer: Any) -> bool:
    """Exercise ch10-table. Answer: a function ``table(folder) -> {recipe: (mean, std)}``.

    Called on a folder of made-up results: ``cosine`` with 3 seeds, ``step`` with 2, ``wsd``
    with 1, a copy of one cosine result under another name, a ``notes.json`` that is not a result
    and a ``summary.md``. The means and *sample* standard deviations (0 for one seed) must agree
    within 1e-9; the folder may be given as a ``str`` or a ``Path``.
    """
    if not_attempted(answer, FORM_10_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_10_1, answer)
    want = _want()
    shown = ", ".join(f"{r}: ({m:.4f}, {s:.4f})" for r, (m, s) in want.items())
    expected = f"{{{shown}}}"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _write_folder(folder)
        try:
            got = answer(folder)
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything
            return _crashed(error, folder, expected)
    if not isinstance(got, dict):
        return wrong_form("a dict {recipe: (mean, std)}", got)
    if set(got) != set(want):
        return failed(expected, f"the recipes {sorted(map(str, got))}",
                      "read every *.json file, skip those that are not results (no 'final' entry), and "
                      "group the results by result['recipe'].")
    values = {r: as_numbers(v, 2, as_real) for r, v in got.items()}
    if any(v is None for v in values.values()):
        return wrong_form("a pair (mean, std) of numbers for each recipe", got)
    cos_mean = values["cosine"][0]
    counted_twice = statistics.fmean(_RUNS["cosine"] + [0.86])
    if math.isclose(cos_mean, counted_twice, rel_tol=1e-9):
        return failed(expected, f"cosine mean {cos_mean:.4f}",
                      "the copy of cosine seed 1 was counted twice: key the runs by (recipe, seed).")
    population = {r: statistics.pstdev(a) for r, a in _RUNS.items()}
    for recipe, (mean, std) in values.items():
        want_mean, want_std = want[recipe]
        if not math.isclose(mean, want_mean, rel_tol=1e-9, abs_tol=1e-12):
            return failed(expected, f"{recipe} mean {mean:.4f}", "average the final test accuracies of its seeds.")
        if not math.isclose(std, want_std, rel_tol=1e-9, abs_tol=1e-12):
            if math.isclose(std, population[recipe], rel_tol=1e-9, abs_tol=1e-12):
                hint = "that is the population standard deviation (statistics.pstdev); use statistics.stdev."
            else:
                hint = "use the sample standard deviation, statistics.stdev, and 0 for a single seed."
            return failed(expected, f"{recipe} std {std:.4f}", hint)
    return passed("every recipe once per seed, the copy and the non-results skipped, sample standard deviations.")


@guarded
def check_10_2(answer: Any) -> bool:
    """Exercise ch10-plateau. Answer: a pair ``(epoch_after_which_it_is_reduced, smallest_run_in_epochs)``.

    ``ReduceLROnPlateau(patience=2)`` with the losses 1.00, 0.90, 0.95, 0.93, 0.92, 0.91 first
    reduces the rate after epoch 4; at the earliest it does after epoch 3, so a run needs 5 epochs
    for one of them to train at the reduced rate.
    """
    if not_attempted(answer, FORM_10_2):
        return False
    values = as_numbers(answer, 2, as_int)
    if values is None:
        return wrong_form(FORM_10_2, answer)
    after, shortest = values
    expected = "(4, 5)"
    if after != 4:
        if after == 3:
            hint = ("the best loss is 0.90 at epoch 1, not 1.00 at epoch 0: the bad epochs are counted from "
                    "the last improvement.")
        elif after == 5:
            hint = "the rate drops once num_bad_epochs exceeds patience: after the third bad epoch, epoch 4."
        else:
            hint = "find the best loss, then count the epochs that do not improve on it: three are needed."
        return failed(expected, str(values), hint)
    if shortest != 5:
        hint = ("the reduction after epoch 3 only changes the rate of epoch 4, so the run needs epochs 0 to 4."
                if shortest == 4 else "epoch 0 sets the best; epochs 1, 2 and 3 must fail to improve; epoch 4 "
                "is the first at the reduced rate.")
        return failed(expected, str(values), hint)
    return passed("reduced after epoch 4; a run needs 5 epochs before a plateau recipe trains at a reduced rate.")
