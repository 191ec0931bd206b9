"""One run: a recipe trained with a seed, returned as a JSON-safe result (:func:`run_one`).

The result records everything needed to say what made it: the config, the versions, the device,
the commit of the package and whether its files differed from it. :mod:`lrcourse.lab.sweeps` runs
many of these and writes each to its own file.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .._validate import check_choice, check_int, check_lr, check_real
from ..device import PRECISIONS, pick_device, pick_precision
from ..evaluation import evaluate
from ..param_groups import decay_groups
from ..rng import seed_everything
from .models import MODEL_NAMES, build_model
from .providers import RunData
from .recipes import (OPTIMIZERS, RECIPE_NAMES, build_optimizer, check_optimizer_recipes, check_recipe_options,
                      make_recipe, weight_decay_for)
from .results import RESULT_FORMAT
from .training import train

__all__ = ["run_one", "run_with_schedule"]


def _versions() -> dict[str, str]:
    from .. import __version__

    versions = {"python": platform.python_version(), "torch": torch.__version__, "lrcourse": __version__}
    try:
        import torchvision

        versions["torchvision"] = torchvision.__version__
    except ImportError:
        versions["torchvision"] = "not installed"
    return versions


@functools.cache
def _git_state() -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the repository ``lrcourse`` is imported from, read once per process
    (the code a process runs is the code it imported): ``dirty`` is True when the package's files
    differ from that commit, so the commit alone does not say what made a result. ``(None, None)``
    without git or outside a repository."""
    package = Path(__file__).resolve().parent

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return None, None
    status = git("status", "--porcelain", "--", ".")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return head.stdout.strip(), dirty


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{device.type} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"




def run_one(
    recipe: str,
    seed: int,
    data: Callable[[int], RunData],
    *,
    model: str = "airbench",
    epochs: int = 10,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float | None = None,
    optimizer: str = "sgd",
    device: str | torch.device | None = None,
    precision: str | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    recipe_options: dict[str, Any] | None = None,
    epoch_end: Callable[[Any], None] | None = None,
    test: bool = True,
) -> dict[str, Any]:
    """Train ``model`` with ``recipe`` and ``seed``; return the result as a JSON-safe dict.

    ``recipe_options`` sets the recipe's knobs (``{"decay_fraction": 0.4, "decay_shape": "1-sqrt"}``:
    :func:`~lrcourse.lab.recipes.make_recipe`); a knob the recipe does not read is refused. The
    config records them as ``recipe_options`` when there are any. ``epoch_end`` and ``test`` are
    :func:`run_with_schedule`'s: a search's trial (:mod:`lrcourse.lab.tune`) reports each epoch
    and never sees the test split.

    ``optimizer`` is ``"sgd"`` (Nesterov ``momentum``) or ``"adamw"`` (``betas=(momentum,
    0.999)``, decoupled decay); ``weight_decay`` defaults to ``DEFAULT_WEIGHT_DECAY`` of the
    optimizer and applies to weights only (:func:`lrcourse.param_groups.decay_groups`). The result holds ``format``,
    ``recipe``, ``seed``, ``config`` (every setting above, and the data's description),
    ``versions`` (python, torch, torchvision, lrcourse), ``device``, ``git_commit`` and ``git_dirty`` (the package's files differ from that commit; both None outside
    a git checkout), ``wall_time`` (s), ``data_files`` (where the data's files came from and their checksums, where the
    provider says: :func:`~lrcourse.lab.providers.fashion_data` does), ``history`` (:meth:`lrcourse.lab.history.History.to_dict`), ``final`` (the
    last epoch's ``val_loss``/``val_acc`` and the test split's ``test_loss``/``test_acc``; a
    diverged run is evaluated as it ended) and ``diverged``.

    ``config`` also records ``torch_threads``, the number of torch intra-op threads: on a CPU,
    1 and 2 threads give different numbers from the second step on, so a run resumes from
    ``checkpoint_path`` only with the same count (else ``ConfigMismatchError`` names it). A loss
    that overflows, even an LR too large for float32 (``lr=1e300``), is a diverged run, not an error.

    Raises:
        CheckpointError: ``checkpoint_path`` exists but is damaged (the caller may delete it and
            start over, as :func:`~lrcourse.lab.sweeps.sweep` does).
        ConfigMismatchError: ``checkpoint_path`` was saved with other settings.
    """
    recipe = check_choice(recipe, "recipe", RECIPE_NAMES)
    options = check_recipe_options(recipe, recipe_options)
    check_optimizer_recipes(optimizer, recipe)
    return run_with_schedule(
        recipe, seed, data, lambda opt, steps: make_recipe(recipe, opt, epochs * steps, steps, **(options or {})),
        model=model, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay, optimizer=optimizer,
        device=device, precision=precision, checkpoint_path=checkpoint_path, progress=progress,
        extra_config={"recipe_options": options} if options else None,
        train_options={"epoch_end": epoch_end} if epoch_end is not None else None, test=test,
    )


def run_with_schedule(
    name: str,
    seed: int,
    data: Callable[[int], RunData],
    build_schedule: Callable[[torch.optim.Optimizer, int], tuple[Any, str]],
    *,
    model: str,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float | None,
    optimizer: str,
    device: str | torch.device | None,
    precision: str | None,
    checkpoint_path: str | os.PathLike[str] | None,
    progress: bool | None,
    extra_config: dict[str, Any] | None = None,
    train_options: dict[str, Any] | None = None,
    test: bool = True,
) -> dict[str, Any]:
    """:func:`run_one` with the schedule made by ``build_schedule(optimizer, steps_per_epoch) ->
    (scheduler, cadence)`` and saved under ``name``; ``extra_config`` is merged into the config
    (after the settings above, so it may restate one, as :func:`~lrcourse.lab.d2l_rerun.run_d2l`
    does with ``lr``); ``train_options`` go to :func:`~lrcourse.lab.training.train` as they are
    (``snapshots``, ``branch_from``: :mod:`lrcourse.lab.anytime`; ``epoch_end``:
    :mod:`lrcourse.lab.tune`). ``test=False`` never evaluates the test split (``final`` holds
    ``None`` for it): a search chooses on the validation split and must not see the test."""
    recipe = name
    seed = check_int(seed, "seed", low=0)
    model_name = check_choice(model, "model", MODEL_NAMES)
    epochs = check_int(epochs, "epochs", low=1)
    lr = check_lr(lr)
    device = pick_device() if device is None else torch.device(device)
    precision = pick_precision(device) if precision is None else check_choice(precision, "precision", PRECISIONS)
    optimizer_name = check_choice(optimizer, "optimizer", OPTIMIZERS)
    weight_decay = weight_decay_for(optimizer_name, weight_decay)
    run_data = data(seed)
    config = {
        "recipe": recipe, "seed": seed, "model": model_name, "epochs": epochs, "lr": lr,
        "momentum": check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True),
        "weight_decay": check_real(weight_decay, "weight_decay", low=0.0),
        "optimizer": optimizer_name, "steps_per_epoch": run_data.steps_per_epoch,
        "data": run_data.description, "precision": precision, "torch_threads": torch.get_num_threads(),
    } | (extra_config or {})
    seed_everything(seed)
    net = build_model(model_name)
    # Weights decay; biases and BatchNorm scales and shifts do not (lrcourse.decay_groups).
    opt = build_optimizer(optimizer_name, decay_groups(net, config["weight_decay"]), lr, config["momentum"],
                          total_steps=epochs * run_data.steps_per_epoch)
    scheduler, cadence = build_schedule(opt, run_data.steps_per_epoch)
    history = train(net, opt, scheduler, run_data.train_batches, epochs, cadence=cadence,
                    val_batches=run_data.val_batches, device=device, precision=precision, config=config,
                    checkpoint_path=checkpoint_path, resume=checkpoint_path is not None, progress=progress,
                    **(train_options or {}))
    if not history.diverged and not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        # The last update overflowed: no later loss was there to show it, but the weights do.
        history.diverged, history.diverged_at = True, max(0, len(history.loss) - 1)
        history.message = f"diverged at step {history.diverged_at}: the weights are no longer finite"
    test_loss: float | None = None
    test_acc: float | None = None
    if test:
        test_loss, test_acc = evaluate(net, run_data.test_batches(), device=device, precision=precision,
                                       channels_last=device.type == "cuda")
    history_dict = history.to_dict()
    final = {
        "val_loss": history_dict["val_loss"][-1] if history.val_loss else None,
        "val_acc": history_dict["val_acc"][-1] if history.val_acc else None,
        "test_loss": test_loss if test_loss is None or math.isfinite(test_loss) else str(test_loss),
        "test_acc": test_acc,
    }
    commit, dirty = _git_state()
    return {
        "format": RESULT_FORMAT, "recipe": recipe, "seed": seed, "config": config, "versions": _versions(),
        "device": _device_name(device), "git_commit": commit, "git_dirty": dirty, "wall_time": history.wall_time,
        "history": history_dict, "final": final, "diverged": history.diverged,
    } | ({"data_files": run_data.data_files} if run_data.data_files is not None else {})
