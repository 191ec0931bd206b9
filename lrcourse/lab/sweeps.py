"""A sweep: every recipe with every seed, resumable, and shared safely by several processes.

:func:`sweep` writes one result per run (``lrcourse.lab.results``) and keeps these promises:

* **Nothing finished is lost or redone.** A result is written atomically and never over another
  file; a run that has one is skipped. A run that was interrupted resumes from its last epoch
  checkpoint in ``<out>/.checkpoints/`` and ends bitwise equal to an uninterrupted run.
* **Many workers, one folder.** Each run is claimed before it is trained (``<out>/.locks/``,
  ``lrcourse.lab.claims``): other processes skip it, and take it over only once its owner is gone.
  ``shard=(k, n)`` gives a worker every n-th run, for a deterministic split over GPUs or the tasks
  of a job array. Whoever finishes last writes the complete ``summary.md``.
* **No silent mixing.** Before any work, every result already in the folder and every run
  another worker holds is compared with this sweep's settings; a difference is refused, naming
  it. A run resumes only under the same settings, torch thread count included.
* **Damage is repaired, not fatal.** A truncated result file counts as unfinished and the run is
  trained again; a damaged checkpoint is named and its run started over. Leftovers of processes
  that are gone (temporary files, locks, checkpoints of finished runs) are removed at the start;
  a live process's are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from .._validate import check_choice, check_int
from ..device import pick_device, pick_precision
from . import claims
from .checkpoint import CheckpointError, ConfigMismatchError, atomic_write_text, read_checkpoint
from .estimate import EVAL_COST, format_duration, seconds_per_step
from .providers import RunData
from .recipes import RECIPE_NAMES, check_optimizer_recipes, check_recipe_options, weight_decay_for
from .results import OPTIONAL_SETTINGS, ResultError, read_result, result_path, settings_of, summary_table, write_result
from .runs import run_one

__all__ = ["SweepInterrupted", "check_output_folder", "sweep"]

_HOUR = 3600.0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a sweep; ``run`` names the run it was training, if any."""

    def __init__(self, run: str | None, out: Path, checkpoint: Path | None = None) -> None:
        where = f"while training {run}" if run else "before any run started"
        super().__init__(f"interrupted {where} (results in {out}/)")
        self.run, self.out = run, out
        self.checkpoint = checkpoint if checkpoint is not None and checkpoint.exists() else None


def check_output_folder(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and check that files can be written there.

    Raises:
        NotADirectoryError: ``out`` (or a folder above it) is a file.
        OSError: ``out`` cannot be created or written (``PermissionError``, read-only, full...).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it exists and is a file, not a folder", str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (NotADirectoryError, FileExistsError):
        raise NotADirectoryError(errno.ENOTDIR, "a folder above it is a file", str(out)) from None
    fd, probe = tempfile.mkstemp(dir=out, prefix=".lrcourse-probe-", suffix=claims.owner_tag())
    os.close(fd)
    os.unlink(probe)
    return out


def _label(recipe: str, seed: int) -> str:
    return f"{recipe} seed {seed}"


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> str:
    return ", ".join(f"{key} {saved.get(key)!r} there, {current[key]!r} here"
                     for key in current if saved.get(key) != current[key])


def _clean(out: Path, log: Callable[[str], None]) -> None:
    """Remove what processes that are gone left behind; never what a live process owns."""
    gone: list[str] = []
    for folder in (out, out / ".checkpoints", out / ".locks"):
        gone += [str(p) for p in claims.remove_dead_leftovers(folder, (".",))]
    for lock in sorted((out / ".locks").glob("*.lock")):
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(lock.read_text(encoding="utf-8"))
            if isinstance(record, dict) and claims.is_gone(record, lock.stat().st_mtime):
                lock.unlink()
                gone.append(f"{lock} (a lock of {claims.describe(record)}, which no longer runs)")
    for ckpt in sorted((out / ".checkpoints").glob("*.pt")):
        result, lock = out / f"{ckpt.stem}.json", out / ".locks" / f"{ckpt.stem}.lock"
        if lock.exists():
            continue  # its run is being trained (a lock of a gone owner was removed above)
        with contextlib.suppress(ResultError, OSError):
            read_result(result)
            ckpt.unlink()
            gone.append(f"{ckpt} (the checkpoint of a finished run)")
    if gone:
        log(f"Removed {len(gone)} leftover(s) of stopped processes: {'; '.join(gone)}")


def _held_by(lock: Path) -> dict[str, Any] | None:
    """The record of the live owner of ``lock``, or None (no lock, unreadable, owner gone)."""
    try:
        record = json.loads(lock.read_text(encoding="utf-8"))
        mtime = lock.stat().st_mtime
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and not claims.is_gone(record, mtime) else None


def _survey(out: Path, runs: list[tuple[str, int]], settings: dict[str, Any]) -> tuple[dict, dict]:
    """Which runs are done, which have a damaged result; refuse any result or live claim with other settings.

    Called before any work and again after each claim, so that two sweeps with different settings
    started at the same moment refuse each other instead of mixing their runs in one folder.
    """
    done: dict[tuple[str, int], Path] = {}
    redo: dict[tuple[str, int], str] = {}
    for run in runs:
        path = result_path(out, *run)
        try:
            saved = read_result(path)
        except FileNotFoundError:
            saved = None
        except ResultError as error:
            redo[run], saved = error.reason, None
        if saved is not None:
            if (saved["recipe"], saved["seed"]) != run:
                raise ConfigMismatchError(f"{path} holds the result of {_label(saved['recipe'], saved['seed'])}, "
                                          f"not {_label(*run)}: rename it or move it out of {out}/")
            diff = _differences(settings_of(saved), settings)
            if diff:
                raise ConfigMismatchError(f"{path} was made with other settings ({diff}); a sweep never "
                                          "overwrites a result: use another output folder, or the same settings")
            done[run] = path
            continue
        holder = _held_by(out / ".locks" / f"{path.stem}.lock")
        diff = _differences(holder["settings"], settings) if holder and isinstance(holder.get("settings"), dict) else ""
        if diff:
            raise ConfigMismatchError(f"{_label(*run)} is being trained into {out}/ by {claims.describe(holder)} "
                                      f"with other settings ({diff}): use another output folder, or the same settings")
    # Other recipes or seeds in the folder count too: its summary would mix two sweeps' settings.
    ours = {result_path(out, *run) for run in runs}
    for path in sorted(out.glob("*.json")):
        if path in ours:
            continue
        try:
            saved = read_result(path)
        except (ResultError, OSError):
            continue  # not a result of any sweep; the summary names it
        diff = _differences(settings_of(saved), settings)
        if diff:
            raise ConfigMismatchError(f"{path} was made with other settings ({diff}); one folder holds one sweep's "
                                      "settings: use another output folder, or the same settings")
    return done, redo


def sweep(
    recipes: Sequence[str],
    seeds: Sequence[int],
    out: str | os.PathLike[str],
    data: Callable[[int], RunData],
    *,
    shard: tuple[int, int] = (1, 1),
    progress: bool | None = None,
    log: Callable[[str], None] = print,
    estimate: bool = True,
    hint: Callable[[float], str] | None = None,
    runner: Callable[..., dict[str, Any]] = run_one,
    names: Sequence[str] = RECIPE_NAMES,
    **run_kwargs: Any,
) -> list[Path]:
    """Run every recipe with every seed (see :func:`~lrcourse.lab.runs.run_one` for ``run_kwargs``); resumable.

    Results go to ``<out>/<recipe>-seed<seed>.json``; ``<out>/summary.md`` is rewritten at the
    end. See the module docstring for what is guaranteed; in short, run the same call again to
    finish an interrupted sweep, and start as many processes on one ``out`` as there are devices.

    Args:
        recipes, seeds: The runs are every ``(recipe, seed)``, in that order.
        out: The results folder, created if needed.
        data: The provider, ``data(seed) -> RunData``.
        shard: ``(k, n)``: train only runs ``k-1, k-1+n, k-1+2n, ...`` of that order (``1 <= k <= n``).
        progress: Progress bars for each run (default: when stderr is a terminal).
        log: Where the one-line messages go.
        estimate: Time a few steps first and log how long the sweep will take.
        hint: ``hint(seconds)`` -> what to suggest when the estimate is over an hour.
        runner: What trains one run: :func:`~lrcourse.lab.runs.run_one` (the recipes), or
            :func:`~lrcourse.lab.d2l_rerun.run_d2l` with ``names=D2L_RUNS`` (d2l's runs; its
            ``timing`` is a setting compared like the others).
        names: The valid values of ``recipes``.

    Returns:
        The result files of this shard's runs, in sweep order (those trained by other workers
        included, whether or not they are finished yet).

    Raises:
        ConfigMismatchError: A result in ``out``, a run held by another worker, or a checkpoint
            to resume from was made with other settings; nothing was trained.
        SweepInterrupted: ``KeyboardInterrupt`` during the sweep; the claim was released, and
            the same call resumes.
        OSError: ``out`` cannot be written.
    """
    recipes = [check_choice(r, f"recipes[{i}]", tuple(names)) for i, r in enumerate(recipes)]
    seeds = [check_int(s, f"seeds[{i}]", low=0) for i, s in enumerate(seeds)]
    if not recipes or not seeds:
        raise ValueError(f"recipes and seeds must not be empty (got recipes={recipes}, seeds={seeds})")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat (got seeds={list(seeds)})")
    if (not isinstance(shard, tuple) or len(shard) != 2 or not all(isinstance(v, int) for v in shard)
            or not 1 <= shard[0] <= shard[1]):
        raise ValueError(f"shard must be a pair (k, n) of integers with 1 <= k <= n (got shard={shard!r})")
    if runner is run_one:  # a schedule-free optimizer takes the constant recipe only: refused before any work
        check_optimizer_recipes(run_kwargs.get("optimizer", "sgd"), recipes)
    if "recipe_options" in run_kwargs:  # checked against every recipe before any work; {} is None
        run_kwargs["recipe_options"] = check_recipe_options(recipes, run_kwargs["recipe_options"])
    out = check_output_folder(out)
    log(f"Results: {out}/ (one JSON file per run; summary in {out / 'summary.md'})")

    defaults = {name: p.default for name, p in inspect.signature(runner).parameters.items()}
    probe = data(seeds[0])  # the settings that change the numbers, the data's included
    settings = {key: run_kwargs.get(key, defaults[key]) for key in ("model", "optimizer", "epochs", "lr", "momentum")}
    settings["weight_decay"] = weight_decay_for(settings["optimizer"], run_kwargs.get("weight_decay"))
    settings |= {key: run_kwargs.get(key, defaults[key]) for key in OPTIONAL_SETTINGS if key in defaults}
    settings |= {"steps_per_epoch": probe.steps_per_epoch, "data": probe.description}
    runs = [(r, s) for r in recipes for s in seeds]
    mine = runs[shard[0] - 1 :: shard[1]]
    _clean(out, log)

    # -- before any work: refuse other settings anywhere in this sweep's runs --------------------
    done, redo = _survey(out, runs, settings)
    threads = torch.get_num_threads()
    for run in mine:
        ckpt = out / ".checkpoints" / f"{result_path(out, *run).stem}.pt"
        if run in done or not ckpt.exists():
            continue
        with contextlib.suppress(CheckpointError, KeyError, TypeError):
            saved_threads = read_checkpoint(ckpt)["config"]["run"].get("torch_threads")
            if saved_threads is not None and saved_threads != threads:
                raise ConfigMismatchError(
                    f"cannot resume {_label(*run)} from {ckpt}: it was trained with torch_threads {saved_threads}, "
                    f"this process has {threads} (CPU results differ between thread counts); run with "
                    f"{saved_threads} threads, or delete the checkpoint to train the run again from its start"
                )

    pending = [run for run in mine if run not in done]
    if estimate and pending:
        _log_estimate(pending, probe, settings, run_kwargs, log, hint)

    paths: list[Path] = []
    others: list[str] = []
    trained: list[float] = []
    current: str | None = None
    ckpt: Path | None = None
    try:
        for i, run in enumerate(mine, start=1):
            tag, path = f"[{i}/{len(mine)}] {_label(*run)}", result_path(out, *run)
            paths.append(path)
            if run in done:
                log(f"{tag}: done already ({path.name})")
                continue
            lock = out / ".locks" / f"{path.stem}.lock"
            got = claims.claim(lock, {"run": _label(*run), "settings": settings})
            if not isinstance(got, claims.Claim):
                # Claimed since the survey above by a sweep with other settings: refuse, as for its result.
                diff = _differences(got["settings"], settings) if isinstance(got.get("settings"), dict) else ""
                if diff:
                    raise ConfigMismatchError(
                        f"{_label(*run)} is being trained into {out}/ by {claims.describe(got)} with other settings "
                        f"({diff}): use another output folder, or the same settings")
                others.append(f"{_label(*run)} ({claims.describe(got)})")
                log(f"{tag}: being trained by {claims.describe(got)}; skipped")
                continue
            with got.start_heartbeat():
                now_done, redo = _survey(out, runs, settings)  # what other workers did meanwhile
                if run in now_done:
                    log(f"{tag}: finished by another worker meanwhile ({path.name})")
                    continue
                if run in redo:
                    log(f"{tag}: {path.name} is not a complete result: {redo[run]}; training it again")
                current, ckpt = _label(*run), out / ".checkpoints" / f"{path.stem}.pt"
                result = _train(run, tag, path, out, data, runner, progress, log, run_kwargs)
                if path.exists():
                    path.unlink()  # the damaged file found above: the claim makes it ours to replace
                write_result(path, result)
                (out / ".checkpoints" / f"{path.stem}.pt").unlink(missing_ok=True)
                current = None
            trained.append(result["wall_time"])
            left = sum(1 for r in mine[i:] if r not in done) * (sum(trained) / len(trained))
            status = "DIVERGED, " if result["diverged"] else ""
            eta = f"; {format_duration(left)} left" if left else ""
            log(f"{tag}: {status}test acc {result['final']['test_acc']:.4f} ({result['wall_time']:.1f} s){eta}")
    except KeyboardInterrupt:
        raise SweepInterrupted(current, out, ckpt if current else None) from None

    _write_summary(out, tuple(names), others, log)
    return paths


def _train(run, tag, path, out, data, run_one, progress, log, run_kwargs) -> dict[str, Any]:
    """Train one run, resuming from its checkpoint; a damaged checkpoint is named and the run redone."""
    ckpt = out / ".checkpoints" / f"{path.stem}.pt"
    resumed = ""
    if ckpt.exists():
        try:
            resumed = f" (resuming after epoch {read_checkpoint(ckpt)['position']['epoch']})"
        except (CheckpointError, KeyError, TypeError) as error:
            log(f"{tag}: {error}; training it again from its start")
            ckpt.unlink()
    log(f"{tag}: training{resumed}")
    try:
        return run_one(*run, data, checkpoint_path=ckpt, progress=progress, **run_kwargs)
    except CheckpointError as error:  # damaged between the check above and the load
        log(f"{tag}: {error}; training it again from its start")
        ckpt.unlink(missing_ok=True)
        return run_one(*run, data, checkpoint_path=ckpt, progress=progress, **run_kwargs)


def _log_estimate(pending, probe: Any, settings, run_kwargs, log, hint) -> None:

    device = torch.device(run_kwargs.get("device") or pick_device())
    precision = run_kwargs.get("precision") or pick_precision(device)
    per_step = seconds_per_step(settings["model"], probe, device=device, precision=precision, lr=settings["lr"])
    val, test = probe.val_batches(), probe.test_batches()
    evals = settings["epochs"] * (len(val) if hasattr(val, "__len__") else 0) + (len(test) if hasattr(test, "__len__") else 0)
    steps = settings["epochs"] * settings["steps_per_epoch"] + EVAL_COST * evals
    total = len(pending) * steps * per_step
    log(f"Estimated time: {format_duration(total)} for {len(pending)} run(s) on {device} "
        f"({per_step:.3g} s per training step measured, {round(steps)} step(s) per run)")
    if total > _HOUR:
        advice = hint(total) if hint else ("fewer seeds, epochs or recipes, fewer training images, "
                                           "a smaller model, or a GPU")
        log(f"That is more than an hour. For a first look, try smaller settings: {advice}")


def _write_summary(out: Path, recipes: Sequence[str], others: list[str], log: Callable[[str], None]) -> None:
    # One writer at a time, and each scans after its own results are written: whoever writes
    # last has seen every finished run, so the final summary.md is complete.
    guard = claims.wait_for(out / ".locks" / "summary.lock", timeout=60)
    try:
        try:
            table = summary_table(out, tuple(recipes))
        except FileNotFoundError:
            log("No finished run yet, so no summary.")
            return
        atomic_write_text(out / "summary.md", table)
    finally:
        if guard is not None:
            guard.release()
    if others:
        log(f"{len(others)} run(s) are being trained by other workers: {', '.join(others)}. "
            f"Whoever finishes last rewrites {out / 'summary.md'}.")
