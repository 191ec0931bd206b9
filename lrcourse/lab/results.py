"""Result files of a sweep: where they go, how they are checked, and the summary table.

One run (a recipe with a seed) gives one JSON file, ``<out>/<recipe>-seed<seed>.json``, of format
``lrcourse-run/1`` (:func:`lrcourse.lab.runs.run_one` documents the fields). A folder of results is
read by its **contents**, not its file names: ``scan_results()`` checks every ``*.json`` file
(:func:`read_result`) and keeps one result per ``(recipe, seed)``. A copy of a result -- a manual
backup, a file-sync tool's ``constant-seed0 (conflicted copy).json`` -- is therefore counted once,
and a file that is not a result, or a truncated one, is named with the reason it was skipped
instead of stopping the summary of the others.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write_text
from .recipes import RECIPE_NAMES, RECIPES

__all__ = [
    "RESULT_FORMAT",
    "ResultError",
    "ResultScan",
    "SETTINGS",
    "RecipeStats",
    "load_results",
    "recipe_stats",
    "read_result",
    "result_path",
    "scan_results",
    "settings_of",
    "summary_table",
    "write_result",
]

RESULT_FORMAT = "lrcourse-run/1"
# The settings that change a run's numbers, read from a result's config. Two results of the same
# recipe and seed with the same settings are the same run; a sweep refuses a result with others.
SETTINGS = ("model", "optimizer", "epochs", "lr", "momentum", "weight_decay", "steps_per_epoch", "data")
# Settings only some runs have (None in the others' results): d2l's re-run has its timing, a run
# whose recipe's knobs were set records them (``recipe_options``), and an anytime run its budgets
# and cooldown (lrcourse.lab.anytime).
OPTIONAL_SETTINGS = ("timing", "recipe_options", "budgets", "decay_fraction", "decay_shape", "warmup_fraction")


class ResultError(ValueError):
    """A file that is not a usable result; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{Path(path).name}: {reason}")
        self.path, self.reason = Path(path), reason


def result_path(out: str | os.PathLike[str], recipe: str, seed: int) -> Path:
    """Where a sweep writes the result of ``recipe`` with ``seed``."""
    return Path(out) / f"{recipe}-seed{seed}.json"


def settings_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`SETTINGS` and :data:`OPTIONAL_SETTINGS` of a result, from its config."""
    return {key: result["config"].get(key) for key in SETTINGS + OPTIONAL_SETTINGS}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check(data: Any, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict) or "format" not in data:
        kind = "an object" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
        raise ResultError(path, f'not a result file ({kind} without "format": "{RESULT_FORMAT}")')
    if data["format"] != RESULT_FORMAT:
        raise ResultError(path, f"format {data['format']!r} is not {RESULT_FORMAT!r} (another lrcourse version?)")
    problems = []
    if not isinstance(data.get("recipe"), str) or not data["recipe"]:
        problems.append("recipe")
    if not isinstance(data.get("seed"), int) or isinstance(data.get("seed"), bool) or data["seed"] < 0:
        problems.append("seed")
    config = data.get("config")
    if not isinstance(config, dict) or any(key not in config for key in SETTINGS):
        problems.append("config (" + ", ".join(SETTINGS) + ")")
    final = data.get("final")
    if not isinstance(final, dict) or not _is_number(final.get("test_acc")):
        problems.append("final.test_acc")
    elif final.get("val_acc") is not None and not _is_number(final["val_acc"]):
        problems.append("final.val_acc")
    if not _is_number(data.get("wall_time")):
        problems.append("wall_time")
    if not isinstance(data.get("diverged"), bool):
        problems.append("diverged")
    if problems:
        raise ResultError(path, f"a result with a missing or invalid {', '.join(problems)}")
    return data


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check one result file.

    Raises:
        ResultError: the file is not JSON (truncated, or garbled), not a result, of another
            format, or lacks a field the summary needs; the message says which.
        OSError: the file cannot be read at all.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise ResultError(path, "empty file") from None
        # It stops where more was expected: at the very end, or inside a string that never closes.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ResultError(path, f"truncated (the JSON stops after {len(text.encode())} bytes)") from None
        raise ResultError(path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return _check(data, path)


def write_result(path: str | os.PathLike[str], result: Mapping[str, Any]) -> Path:
    """Write ``result`` to ``path`` atomically, never over an existing file (``FileExistsError``)."""
    _check(result, Path(path))
    return atomic_write_text(path, json.dumps(result, indent=1, allow_nan=False) + "\n", exclusive=True)


@dataclass
class ResultScan:
    """What ``scan_results()`` found in a folder.

    Attributes:
        results: One ``(path, result)`` per ``(recipe, seed)``, sorted by recipe and seed.
        skipped: ``(path, reason)`` for every ``*.json`` file not counted, sorted by name.
    """

    results: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    return ", ".join(f"{key} {a[key]!r} vs {b[key]!r}" for key in SETTINGS if a[key] != b[key])


def scan_results(out: str | os.PathLike[str]) -> ResultScan:
    """Every valid result in ``out``, one per ``(recipe, seed)``, and every other ``*.json`` with why.

    Of several files holding the same recipe and seed, the one under the name the sweep gives it
    (:func:`result_path`) is counted, else the first by name; each other one is skipped as "a copy"
    (same settings) or "a conflict" (other settings, which are named).
    """
    scan = ResultScan()
    groups: dict[tuple[str, int], list[tuple[Path, dict[str, Any]]]] = {}
    for path in sorted(Path(out).glob("*.json")):
        try:
            result = read_result(path)
        except ResultError as error:
            scan.skipped.append((path, error.reason))
            continue
        except OSError as error:
            scan.skipped.append((path, f"cannot be read ({error.strerror or error})"))
            continue
        groups.setdefault((result["recipe"], result["seed"]), []).append((path, result))
    for (recipe, seed), found in sorted(groups.items()):
        found.sort(key=lambda item: (item[0].name != result_path(out, recipe, seed).name, item[0].name))
        (kept, result), others = found[0], found[1:]
        scan.results.append((kept, result))
        for path, other in others:
            diff = _differences(settings_of(other), settings_of(result))
            reason = (f"a conflict with {kept.name}: the same {recipe} seed {seed} with other settings ({diff})"
                      if diff else f"a copy of {kept.name} (the same {recipe} seed {seed})")
            scan.skipped.append((path, reason))
    scan.skipped.sort(key=lambda item: item[0].name)
    return scan


def load_results(out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The valid results in ``out``, one per ``(recipe, seed)`` (see ``scan_results()``)."""
    return [result for _, result in scan_results(out).results]


def _mean_std(values: list[float]) -> str:
    if not values:
        return "–"
    mean = 100 * statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {100 * statistics.stdev(values):.2f}"


@dataclass
class RecipeStats:
    """One recipe's results over its seeds: the numbers of one row of :func:`summary_table`.

    ``test_acc`` and ``val_acc`` are the final-epoch accuracies in seed order; ``mean`` and
    ``std`` (sample standard deviation, 0 for one seed) are those of ``test_acc``; ``wall_time``
    is the mean seconds per run.
    """

    recipe: str
    seeds: list[int]
    test_acc: list[float]
    val_acc: list[float]
    diverged: int
    wall_time: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.test_acc)

    @property
    def std(self) -> float:
        return statistics.stdev(self.test_acc) if len(self.test_acc) > 1 else 0.0


def recipe_stats(results: list[dict[str, Any]], recipes: tuple[str, ...] = ()) -> dict[str, RecipeStats]:
    """Group ``results`` (from :func:`load_results`) by recipe, in the order of ``recipes``
    and then alphabetically; within a recipe, by seed."""
    by_recipe: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_recipe.setdefault(result["recipe"], []).append(result)
    order = [r for r in recipes if r in by_recipe] + sorted(set(by_recipe) - set(recipes))
    stats = {}
    for recipe in order:
        runs = sorted(by_recipe[recipe], key=lambda r: r["seed"])
        stats[recipe] = RecipeStats(
            recipe=recipe, seeds=[r["seed"] for r in runs], test_acc=[r["final"]["test_acc"] for r in runs],
            val_acc=[r["final"]["val_acc"] for r in runs if r["final"].get("val_acc") is not None],
            diverged=sum(bool(r["diverged"]) for r in runs), wall_time=statistics.fmean(r["wall_time"] for r in runs),
        )
    return stats


def summary_table(out: str | os.PathLike[str], recipes: tuple[str, ...] = RECIPES) -> str:
    """A markdown table: per recipe, runs, diverged runs, final-epoch val and test accuracy (%)
    as mean ± sample std over seeds, mean wall time. Diverged runs count with the accuracy they
    ended with. Lines above the table say what data, model and devices the runs used; lines
    below name every file that was not counted, and why. Recipes are listed in the order of
    ``recipes``, then alphabetically.

    Raises:
        FileNotFoundError: ``out`` holds no valid result.
    """
    scan = scan_results(out)
    results = [result for _, result in scan.results]
    if not results:
        skipped = "".join(f"; {path.name}: {reason}" for path, reason in scan.skipped)
        raise FileNotFoundError(f"no result files (*.json of format {RESULT_FORMAT}) in {out}{skipped}")

    def distinct(key: Callable[[dict[str, Any]], Any]) -> str:
        return "; ".join(sorted({str(key(r)) for r in results}))

    lines = [
        f"Data: {distinct(lambda r: r['config']['data'])}",
        (f"Model: {distinct(lambda r: r['config']['model'])}; optimizer: {distinct(lambda r: r['config']['optimizer'])}; "
         f"epochs: {distinct(lambda r: r['config']['epochs'])}; peak LR: {distinct(lambda r: r['config']['lr'])}; "
         f"weight decay: {distinct(lambda r: r['config']['weight_decay'])}"),
        f"Device: {distinct(lambda r: r.get('device', '?'))}",
    ]
    options = distinct(lambda r: r["config"].get("recipe_options"))
    if options != "None":
        lines.append(f"Recipe options: {options}")
    lines += [
        "",
        "| recipe | runs | diverged | final val acc (%) | final test acc (%) | wall time (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for recipe, st in recipe_stats(results, recipes).items():
        lines.append(f"| {recipe} | {len(st.seeds)} | {st.diverged} | {_mean_std(st.val_acc)} | "
                     f"{_mean_std(st.test_acc)} | {st.wall_time:.1f} |")
    if scan.skipped:
        lines += ["", f"Not counted ({len(scan.skipped)} file{'s' * (len(scan.skipped) > 1)}):"]
        lines += [f"- {path.name}: {reason}" for path, reason in scan.skipped]
    return "\n".join(lines) + "\n"
