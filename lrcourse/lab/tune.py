"""Searching for the schedule with Optuna: :func:`tune`, behind ``python -m lrcourse tune``.

One worker (one process) runs trials of one study until the study has ``n_trials`` finished
trials; start as many workers as there are devices, terminals, SLURM tasks or Colab sessions,
all with the same command and ``--storage``. Each trial trains one lab run (a recipe from
:mod:`lrcourse.lab.tune_space`, trial seed ``trial_seed``) and reports its validation accuracy
after every epoch, where the pruner may stop it; the test split is never evaluated during the
search. The study's value is the last epoch's validation accuracy (0 for a run that diverged).

Every trial saves a checkpoint after each epoch (``<out>/.checkpoints/trial-NNNN.pt``, numbered by
its slot): a retried trial resumes from it exactly -- model, optimizer, scheduler, gradient scaler
and RNG states -- and trains on bit for bit as if never stopped. (Optuna's own PyTorch checkpoint
example saves the model and optimizer only: its resumed trials follow another schedule and
another data order; chapter 8 says why that matters.) On many machines ``--out`` must be a
folder they share for the retry to find the checkpoint; without it, a retry starts over, and
says so. Each finished trial also writes ``<out>/trials/trial-NNNN.json``: its parameters,
state, value and History.

When the budget is full, the best trial's settings are trained again over ``final_seeds`` seeds
(the seeds 0, 1, ...; the trials trained with ``trial_seed``, which no final run uses) by the
sweep engine into ``<out>/final``; their test accuracy is the one number of the search that
sees the test split. ``<out>/summary.md`` and the two plots follow.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, atomic_write_text, read_checkpoint
from .providers import RunData
from .recipes import weight_decay_for
from .results import load_results
from .runs import run_one
from .studies import search_cost
from .sweeps import check_output_folder, sweep
from .tune_space import SearchSpace, TrialSettings, suggest
from .tune_study import (Budget, budget, open_storage, open_study, over_budget, quiet_experimental,
                         reap_local, retry, slot, study_lock, trial_lock)
from . import claims

__all__ = ["PRUNERS", "SAMPLERS", "TuneReport", "tune"]

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "hyperband", "none")


class _OverBudget(Exception):
    """A trial started when the budget was already taken: it ends at once, as failed, unpaid."""


@dataclass
class TuneReport:
    """What a worker leaves behind: the study's budget, the best trial, the final runs' files."""

    study: Any
    budget: Budget
    best: Any | None
    final: list[Path]


def _sampler(name: str, seed: int) -> Any:
    """The study's sampler, seeded per trial (:class:`_SeededPerTrial`)."""
    import optuna

    def make(trial_seed: int) -> Any:
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=trial_seed)
        return optuna.samplers.RandomSampler(seed=trial_seed)

    class _SeededPerTrial(optuna.samplers.BaseSampler):
        """Samples trial ``n`` with a sampler seeded by ``(seed, n)``, whichever worker runs it.

        One seeded sampler per worker would give every worker the same random draws: three workers
        would train each of TPE's random start-up trials three times. Seeded by the trial's number,
        the draws differ between trials, and a study run by one worker is the same every time;
        TPE reads the trials so far from the storage, so nothing else is lost by starting afresh.
        """

        def __init__(self) -> None:
            self._inner = make(seed)

        def before_trial(self, study: Any, trial: Any) -> None:
            self._inner = make(seed * 1_000_003 + trial.number)
            self._inner.before_trial(study, trial)

        def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
            return self._inner.infer_relative_search_space(study, trial)

        def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
            return self._inner.sample_relative(study, trial, search_space)

        def sample_independent(self, study: Any, trial: Any, param_name: str, param_distribution: Any) -> Any:
            return self._inner.sample_independent(study, trial, param_name, param_distribution)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            self._inner.after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            self._inner.reseed_rng()

    return _SeededPerTrial()


def _pruner(name: str, epochs: int) -> Any:
    import optuna

    if name == "median":
        # Not before half the run: a schedule that decays late (WSD, a long warmup) trails early
        # and would be stopped for a shape, not for a worse result.
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, epochs // 2))
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3)
    return optuna.pruners.NopPruner()


def tune(
    out: str | Path,
    data: Callable[[int], RunData],
    *,
    n_trials: int,
    space: SearchSpace,
    model: str,
    optimizer: str = "sgd",
    epochs: int = 10,
    momentum: float = 0.9,
    weight_decay: float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    seed: int = 0,
    trial_seed: int = 100,
    final_seeds: int = 5,
    storage: str | None = None,
    study_name: str = "lrcourse",
    heartbeat: int = 60,
    device: Any = None,
    precision: str | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
    poll: float = 1.0,
) -> TuneReport:
    """Run trials of study ``study_name`` until it has ``n_trials`` finished ones, then re-train
    the best over ``final_seeds`` seeds; see the module docstring.

    Raises:
        TuneError: the storage cannot be used, or the study has other settings.
        ConfigMismatchError: a final run in ``<out>/final`` was trained with other settings.
    """
    import torch

    from ..device import pick_device, pick_precision

    out = check_output_folder(out)
    device = pick_device() if device is None else torch.device(device)
    precision = pick_precision(device) if precision is None else precision
    probe = data(trial_seed)
    settings = {
        "data": probe.description, "steps_per_epoch": probe.steps_per_epoch, "model": model,
        "optimizer": optimizer, "epochs": epochs, "momentum": momentum,
        "weight_decay": None if space.weight_decay else weight_decay_for(optimizer, weight_decay),
        "precision": precision, "torch_threads": torch.get_num_threads(), "space": space.to_dict(),
        "sampler": sampler, "pruner": pruner, "seed": seed, "trial_seed": trial_seed,
    }
    local = storage is None
    where = str(out / "study.journal") if local else "the database"
    study = open_study(open_storage(storage, out, heartbeat=heartbeat), study_name, settings,
                       sampler=_sampler(sampler, seed), pruner=_pruner(pruner, epochs), where=where)
    log(f"Study {study_name!r} in {where}: {n_trials} finished trials wanted; trials in {out / 'trials'}/")
    run = _TrialRunner(out, data, settings, space, n_trials, local, device, progress, log)

    while True:
        if local:
            for number in reap_local(study, out):
                log(f"trial {number}: its worker is gone; queued again, to resume from its checkpoint")
        else:
            import optuna

            with quiet_experimental():
                optuna.storages.fail_stale_trials(study)  # and queues each retry
        state = budget(study.get_trials(deepcopy=False))
        if state.finished >= n_trials:
            break
        if state.taken >= n_trials:  # the rest are running elsewhere; wait, in case a worker dies
            time.sleep(poll)
            continue
        try:
            with quiet_experimental():
                study.optimize(run, n_trials=1, catch=(_OverBudget,), callbacks=[run.after])
        except KeyboardInterrupt:
            run.interrupted(study)
            raise

    state = budget(study.get_trials(deepcopy=False))
    best = _best(study)
    final: list[Path] = []
    if best is not None and final_seeds:
        chosen = TrialSettings.from_params(best.params)
        log(f"Best trial {best.number}: {chosen.describe()}, val acc {100 * best.value:.2f} %; "
            f"training it over seeds 0-{final_seeds - 1} into {out / 'final'}/")
        final = sweep([chosen.recipe], list(range(final_seeds)), out / "final", data, progress=progress, log=log,
                      recipe_options=chosen.recipe_options, model=model, optimizer=optimizer, epochs=epochs,
                      lr=chosen.lr, momentum=momentum,
                      weight_decay=chosen.weight_decay if space.weight_decay else weight_decay,
                      device=device, precision=precision, estimate=False)
    write_summary(out, study, n_trials)
    from .tune_plots import save_plots

    for path in save_plots(out, study):
        log(f"Plot written to {path}")
    return TuneReport(study=study, budget=state, best=best, final=final)


def _best(study: Any) -> Any | None:
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(complete, key=lambda t: (t.value, -t.number)) if complete else None


class _TrialRunner:
    """The objective: one trial, from its checkpoint if it has one, reported epoch by epoch."""

    def __init__(self, out: Path, data: Callable[[int], RunData], settings: dict[str, Any], space: SearchSpace,
                 n_trials: int, local: bool, device: Any, progress: bool | None, log: Callable[[str], None]) -> None:
        self.out, self.data, self.settings, self.space = out, data, settings, space
        self.n_trials, self.local, self.device, self.progress, self.log = n_trials, local, device, progress, log
        self.current: int | None = None

    def __call__(self, trial: Any) -> float:
        import optuna

        self.current = trial.number
        chosen = suggest(trial, self.space)
        with study_lock(self.out, self.local):
            trials = trial.study.get_trials(deepcopy=False)
            frozen = trials[trial.number]  # the stored trial: its system attributes name what it retries
            if over_budget(trials, frozen, self.n_trials):
                trial.set_user_attr("surplus", True)
                raise _OverBudget(f"the study has its {self.n_trials} trials")
            held = claims.claim(trial_lock(self.out, trial.number), {"trial": trial.number}) if self.local else None
        owner = claims.this_owner()
        trial.set_user_attr("worker", {"host": owner["host"], "pid": owner["pid"]})  # who trains it, for people
        own = slot(frozen)
        ckpt = self.out / ".checkpoints" / f"trial-{own:04d}.pt"
        start = self._resumes_at(ckpt, trial, own)
        self.log(f"trial {trial.number}: {chosen.describe()}{start}")
        history: list[Any] = [None]
        reported: list[int] = []

        def epoch_end(h: Any) -> None:  # report every epoch not yet reported (a resumed run's too)
            history[0] = h
            for epoch in range(len(reported), len(h.val_acc)):
                trial.report(h.val_acc[epoch], step=epoch + 1)
                reported.append(epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {len(h.val_acc)}")

        s = self.settings
        try:
            with (held.start_heartbeat() if isinstance(held, claims.Claim) else contextlib.nullcontext()):
                result = run_one(
                    chosen.recipe, s["trial_seed"], self.data, model=s["model"], epochs=s["epochs"], lr=chosen.lr,
                    momentum=s["momentum"],
                    weight_decay=chosen.weight_decay if chosen.weight_decay is not None else s["weight_decay"],
                    optimizer=s["optimizer"], device=self.device, precision=s["precision"], checkpoint_path=ckpt,
                    progress=self.progress, recipe_options=chosen.recipe_options, epoch_end=epoch_end, test=False)
        except optuna.TrialPruned:
            self._record(trial, own, chosen, "pruned", None, history[0].to_dict() if history[0] else None, False)
            ckpt.unlink(missing_ok=True)
            raise
        except (Exception, KeyboardInterrupt) as error:
            if not isinstance(error, KeyboardInterrupt):
                trial.set_user_attr("error", f"{type(error).__name__}: {error}")
            raise
        finally:
            if isinstance(held, claims.Claim):
                held.release()
        value = 0.0 if result["diverged"] else float(result["final"]["val_acc"])
        trial.set_user_attr("diverged", bool(result["diverged"]))
        self._record(trial, own, chosen, "complete", value, result["history"], result["diverged"], result)
        ckpt.unlink(missing_ok=True)
        return value

    def _resumes_at(self, ckpt: Path, trial: Any, own: int) -> str:
        if not ckpt.exists():
            if own != trial.number:
                trial.set_user_attr("resumed_from_epoch", 0)
                return f" (a retry of trial {own}, whose checkpoint is not here: from the start)"
            return ""
        try:
            epoch = int(read_checkpoint(ckpt)["position"]["epoch"])
        except (CheckpointError, KeyError, TypeError, ValueError):
            ckpt.unlink(missing_ok=True)
            return f" (a retry of trial {own}; its checkpoint was damaged: from the start)"
        trial.set_user_attr("resumed_from_epoch", epoch)
        return f" (a retry of trial {own}: resuming after epoch {epoch})"

    def _record(self, trial: Any, own: int, chosen: TrialSettings, state: str, value: float | None,
                history: dict[str, Any] | None, diverged: bool, result: dict[str, Any] | None = None) -> None:
        record = {
            "format": "lrcourse-trial/1", "trial": trial.number, "slot": own, "state": state,
            "params": dict(trial.params), "recipe": chosen.recipe, "lr": chosen.lr,
            "recipe_options": chosen.recipe_options, "value": value, "diverged": diverged,
            "resumed_from_epoch": trial.user_attrs.get("resumed_from_epoch"),
            "epochs_trained": len(history["val_acc"]) if history else 0, "settings": self.settings,
            "history": history,
        } | ({"config": result["config"], "versions": result["versions"], "device": result["device"],
              "git_commit": result["git_commit"], "git_dirty": result["git_dirty"],
              "wall_time": result["wall_time"]} if result else {})
        path = self.out / "trials" / f"trial-{trial.number:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(record, indent=1, allow_nan=False) + "\n")

    def after(self, study: Any, trial: Any) -> None:
        """Progress, one line per trial this worker finished."""
        self.current = None
        if trial.user_attrs.get("surplus"):
            return
        state = budget(study.get_trials(deepcopy=False))
        best = _best(study)
        what = {"COMPLETE": f"val acc {100 * trial.value:.2f} %" if trial.value is not None else "complete",
                "PRUNED": f"pruned after epoch {max(trial.intermediate_values, default=0)}",
                "FAIL": "failed"}.get(trial.state.name, trial.state.name.lower())
        if trial.user_attrs.get("diverged"):
            what = "diverged (scored 0)"
        lead = f", best {100 * best.value:.2f} % (trial {best.number})" if best is not None else ""
        self.log(f"trial {trial.number}: {what} · {state.finished}/{self.n_trials} finished ({state.pruned} pruned), "
                 f"{state.running} running{lead}")

    def interrupted(self, study: Any) -> None:
        """Ctrl-C or SIGTERM: Optuna has failed the running trial; queue it again to resume."""
        if self.current is None:
            return
        trial = study.trials[self.current]
        if trial.state.name == "FAIL" and not trial.user_attrs.get("surplus"):
            retry(study, trial)
        self.current = None


# -- what a search leaves behind -------------------------------------------------------------------


def write_summary(out: Path, study: Any, n_trials: int) -> Path:
    """``<out>/summary.md``: the trials, the budget spent, the best trial, the final runs."""
    from optuna.trial import TrialState

    settings = study.user_attrs.get("lrcourse_settings", {})
    epochs = settings.get("epochs", 0)
    trials = study.get_trials(deepcopy=False)
    state = budget(trials)
    lines = [f"Study: {study.study_name}; sampler {settings.get('sampler')}, pruner {settings.get('pruner')}, "
             f"seed {settings.get('seed')}; trials train with seed {settings.get('trial_seed')}",
             f"Data: {settings.get('data')}",
             f"Model: {settings.get('model')}; optimizer: {settings.get('optimizer')}; epochs: {epochs}",
             f"Finished trials: {state.finished} of {n_trials} ({state.pruned} pruned); "
             f"epochs trained: {search_cost(study).epochs} of {state.finished * epochs} without pruning", "",
             "| trial | state | family | lr | warmup | val acc (%) | epochs |", "|---:|---|---|---:|---:|---:|---:|"]
    for t in trials:
        if t.state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL) or t.user_attrs.get("surplus"):
            continue
        p = t.params
        warmup = f"{p['warmup_fraction']:.2f}" if "warmup_fraction" in p else "-"
        value = f"{100 * t.value:.2f}" if t.value is not None else "-"
        what = t.state.name.lower() + (" (retry of %d)" % slot(t) if slot(t) != t.number else "")
        lines.append(f"| {t.number} | {what} | {p.get('family', '-')} | {p.get('lr', float('nan')):.4g} | {warmup} "
                     f"| {value} | {len(t.intermediate_values)} |")
    best = _best(study)
    if best is not None:
        lines += ["", f"Best trial: {best.number}, {TrialSettings.from_params(best.params).describe()}, "
                  f"val acc {100 * best.value:.2f} %"]
    finals = load_results(out / "final") if any((out / "final").glob("*-seed*.json")) else []
    if finals:
        tests = [100 * r["final"]["test_acc"] for r in finals]
        spread = f" ± {statistics.stdev(tests):.2f}" if len(tests) > 1 else ""
        lines.append(f"Final runs: {len(tests)} seed(s), test acc {statistics.fmean(tests):.2f}{spread} % "
                     f"(min {min(tests):.2f}, max {max(tests):.2f})")
    return atomic_write_text(out / "summary.md", "\n".join(lines) + "\n")
