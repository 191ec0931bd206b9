"""Schedule recipes at an equal step budget, seeded sweeps over them, and their results files.

A **recipe** is a named schedule with fixed, documented choices, built by :func:`make_recipe` for
a run of ``total_steps`` optimizer steps; every recipe uses the same budget and starts from (or
peaks at) the optimizer's LR, so recipes differ in the shape of the curve only.

:func:`run_one` trains one recipe with one seed and returns its result. A **sweep**
(:func:`sweep`) trains every recipe with every seed and writes one JSON file per run,
``<out>/<recipe>-seed<seed>.json``, atomically and never over another. It can be interrupted
(Ctrl-C, a lost Colab session, SIGKILL) and finished by running it again, and several sweep
processes can share one folder -- one per GPU, or the tasks of a cluster job array: each run is
claimed with a lock file first, so it is trained once. :func:`summary_table` reports the mean ±
std of the final-epoch accuracies per recipe, as markdown, counting each recipe and seed once.

Data comes from a *provider*: ``data(seed) -> RunData``. :func:`cifar_data` builds one from
:mod:`lrcourse.data` (real CIFAR-10 or the synthetic stand-in, a held-out validation split, GPU
loaders); :func:`random_data` is tiny noise for tests. The command line is ``python -m lrcourse``.

The pieces live in their own modules and are re-exported here: the sweep in ``lrcourse.sweeps``,
result files and the summary in ``lrcourse.results``, the lock files in ``lrcourse.claims``, the
time estimate in ``lrcourse.estimate``, the command line in ``lrcourse.cli``.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.optim import lr_scheduler

from ._validate import check_choice, check_int, check_lr, check_optimizer, check_real
from .models import MODEL_NAMES, build_model
from .param_groups import decay_groups
from .schedulers import warmup_cosine, wsd
from .results import RESULT_FORMAT, ResultError, load_results, read_result, result_path
from .results import summary_table as _summary_table
from .sweeps import SweepInterrupted, sweep
from .train import PRECISIONS, evaluate, pick_device, pick_precision, seed_everything, train

__all__ = [
    "DEFAULT_WEIGHT_DECAY",
    "OPTIMIZERS",
    "RECIPES",
    "ResultError",
    "RunData",
    "SweepInterrupted",
    "cifar_data",
    "build_optimizer",
    "load_results",
    "make_recipe",
    "random_data",
    "read_result",
    "result_path",
    "run_one",
    "summary_table",
    "sweep",
    "weight_decay_for",
]

RECIPES: tuple[str, ...] = (
    "constant", "step", "multistep", "exponential", "cosine", "warmup_cosine", "onecycle", "plateau", "wsd",
)


# ----------------------------------------------------------------------------------------------
# Recipes
# ----------------------------------------------------------------------------------------------


def make_recipe(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    steps_per_epoch: int,
    *,
    warmup_fraction: float = 0.1,
    decay_fraction: float = 0.2,
    final_ratio: float = 0.01,
) -> tuple[Any, str]:
    """Build recipe ``name`` for a run of ``total_steps`` optimizer steps.

    Returns ``(scheduler, cadence)``, the cadence being what :func:`lrcourse.train.train` expects:
    ``"step"`` (``scheduler.step()`` after every optimizer step), ``"epoch"`` or ``"metric"``
    (``scheduler.step(val_loss)`` after each validation). ``T = total_steps``, ``E = T //
    steps_per_epoch`` epochs, and "the LR" is each param group's LR when the recipe is built.

    1. ``constant`` -- the LR throughout (``ConstantLR`` with factor 1), per step.
    2. ``step`` -- ×0.1 once, after 2/3 of the epochs (the seed: 0.1 → 0.01 at epoch 20 of 30), per epoch.
    3. ``multistep`` -- ×0.1 after 1/2 and 3/4 of the epochs (He et al. 2016), per epoch.
    4. ``exponential`` -- ×γ every step, γ chosen to reach ``final_ratio`` × the LR at step ``T``.
    5. ``cosine`` -- half cosine from the LR to 0 over ``T`` steps (``CosineAnnealingLR``).
    6. ``warmup_cosine`` -- linear warmup over ``warmup_fraction`` × T steps, then half cosine to 0.
    7. ``onecycle`` -- ``OneCycleLR`` with the LR as peak (30 % rise from LR/25, then cosine down to
       LR/25/10⁴); ``cycle_momentum=False``, so only the LR differs from the other recipes.
    8. ``plateau`` -- ``ReduceLROnPlateau`` on the validation loss: ×0.1 after 2 epochs without
       improvement, per validation.
    9. ``wsd`` -- warmup over ``warmup_fraction`` × T, the LR, then a linear decay to 0 over the
       last ``decay_fraction`` × T steps (``lrcourse.wsd``).

    Raises:
        ValueError: for an unknown name (listing the valid ones), or a budget shorter than one
            epoch.
    """
    name = check_choice(name, "name", RECIPES)
    check_optimizer(optimizer)
    total_steps = check_int(total_steps, "total_steps", low=1)
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", low=1)
    warmup_fraction = check_real(warmup_fraction, "warmup_fraction", low=0.0, high=1.0)
    decay_fraction = check_real(decay_fraction, "decay_fraction", low=0.0, high=1.0)
    final_ratio = check_real(final_ratio, "final_ratio", low=0.0, high=1.0, low_open=True)
    if warmup_fraction + decay_fraction > 1.0:
        raise ValueError(
            "warmup_fraction + decay_fraction must be <= 1 "
            f"(got warmup_fraction={warmup_fraction}, decay_fraction={decay_fraction})"
        )
    epochs = total_steps // steps_per_epoch
    if epochs < 1:
        raise ValueError(
            f"total_steps must be >= steps_per_epoch, a budget of at least one epoch "
            f"(got total_steps={total_steps}, steps_per_epoch={steps_per_epoch})"
        )
    warmup = round(warmup_fraction * total_steps)
    if name == "constant":
        return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0), "step"
    if name == "step":
        return lr_scheduler.MultiStepLR(optimizer, milestones=[max(1, round(2 * epochs / 3))], gamma=0.1), "epoch"
    if name == "multistep":
        milestones = sorted({max(1, round(epochs / 2)), max(1, round(3 * epochs / 4))})
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1), "epoch"
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=final_ratio ** (1 / total_steps)), "step"
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps), "step"
    if name == "warmup_cosine":
        return warmup_cosine(optimizer, warmup_steps=warmup, total_steps=total_steps), "step"
    if name == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps, cycle_momentum=False), "step"
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2), "metric"
    decay = round(decay_fraction * total_steps)
    return wsd(optimizer, warmup_steps=warmup, stable_steps=total_steps - warmup - decay, decay_steps=decay), "step"


# ----------------------------------------------------------------------------------------------
# Data providers
# ----------------------------------------------------------------------------------------------


@dataclass
class RunData:
    """The data of one run: see :func:`lrcourse.train.train` for the two batch callables.

    Attributes:
        train_batches: ``train_batches(epoch, start)`` -> training batches of ``epoch`` from ``start``.
        val_batches: ``val_batches()`` -> held-out validation batches (drives ``plateau``).
        test_batches: ``test_batches()`` -> test batches, evaluated once at the end.
        steps_per_epoch: Batches (optimizer steps) per training epoch.
        description: What the data is, e.g. ``"CIFAR-10 (synthetic stand-in) train, 45000 images"``;
            saved with every result.
    """

    train_batches: Callable[[int, int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    val_batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    test_batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    steps_per_epoch: int
    description: str


class _TensorBatches:
    """The batches of ``x, y`` in ``order`` from batch ``start`` on; sized, so progress bars show a total."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, order: torch.Tensor, start: int = 0):
        self.x, self.y, self.batch_size, self.order, self.start = x, y, batch_size, order, start

    def __len__(self) -> int:
        return max(0, -(-len(self.order) // self.batch_size) - self.start)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(self.start * self.batch_size, len(self.order), self.batch_size):
            idx = self.order[i : i + self.batch_size]
            yield self.x[idx], self.y[idx]


_tensor_batches = _TensorBatches


def random_data(
    n_train: int = 64, n_val: int = 32, n_test: int = 32, image_size: int = 16, batch_size: int = 32,
    num_classes: int = 10,
) -> Callable[[int], RunData]:
    """A provider of Gaussian-noise images with random labels: for tests and smoke runs only.

    Nothing can be learned from it; it exercises the code. The images are fixed (seed 0); the
    shuffling of each epoch depends on ``(seed, epoch)`` only, so runs resume exactly.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test),
                        ("image_size", image_size), ("batch_size", batch_size), ("num_classes", num_classes)):
        check_int(value, name, low=1)
    g = torch.Generator().manual_seed(0)
    n = n_train + n_val + n_test
    x = torch.randn(n, 3, image_size, image_size, generator=g)
    y = torch.randint(0, num_classes, (n,), generator=g)
    xs = torch.split(x, [n_train, n_val, n_test])
    ys = torch.split(y, [n_train, n_val, n_test])

    def provider(seed: int) -> RunData:
        def train_batches(epoch: int, start: int):
            order = torch.randperm(n_train, generator=torch.Generator().manual_seed(1_000_003 * seed + epoch))
            return _tensor_batches(xs[0], ys[0], batch_size, order, start)

        return RunData(
            train_batches=train_batches,
            val_batches=lambda: _tensor_batches(xs[1], ys[1], batch_size, torch.arange(n_val)),
            test_batches=lambda: _tensor_batches(xs[2], ys[2], batch_size, torch.arange(n_test)),
            steps_per_epoch=-(-n_train // batch_size),
            description=f"random noise (tests only), {n_train} train / {n_val} val / {n_test} test images "
                        f"of {image_size}x{image_size} px",
        )

    return provider


CIFAR10_TRAIN_IMAGES = 50_000  # in the real training split, and in the stand-in by default


def _check_sizes(n: int, val_size: int, train_size: int | None) -> None:
    if val_size >= n:
        raise ValueError(f"val_size must be < the {n} training images, leaving some to train on (got val_size={val_size})")
    if train_size is not None and train_size > n - val_size:
        raise ValueError(f"train_size must be <= the {n - val_size} training images left after holding out "
                         f"val_size={val_size} (got train_size={train_size})")


def cifar_data(
    root: str | os.PathLike[str] = "data",
    source: str | None = None,
    batch_size: int = 512,
    val_size: int = 5000,
    device: str | torch.device | None = None,
    channels_last: bool | None = None,
    train_size: int | None = None,
    url: str | None = None,
    progress: bool | None = None,
) -> Callable[[int], RunData]:
    """A provider of CIFAR-10 (or the synthetic stand-in) from :mod:`lrcourse.data`.

    The training split is cut once into ``50 000 - val_size`` training and ``val_size``
    validation images (fixed split, seed 0, the same for every run of a sweep); the test split is
    only evaluated at the end. Training batches are drawn by a ``TensorLoader`` seeded with the
    run's seed (order, crops and flips), on ``device``. ``train_size`` keeps only that many of the
    training images (the same ones in every run): a quick check on a CPU, not a result to compare
    with full-size runs. ``url`` is a mirror of the real archive (default: the official one);
    ``progress`` shows a bar while the stand-in is written. A ``val_size`` or ``train_size`` the
    data does not have is refused before the data is downloaded or written (both sources have
    50 000 training images), and checked again against the data loaded.
    """
    from . import data as lrdata  # imported here: the module is only needed for real sweeps

    device = pick_device() if device is None else torch.device(device)
    channels_last = device.type == "cuda" if channels_last is None else channels_last
    val_size = check_int(val_size, "val_size", low=1)
    if train_size is not None:
        train_size = check_int(train_size, "train_size", low=1)
    _check_sizes(CIFAR10_TRAIN_IMAGES, val_size, train_size)  # before any download
    options = {"source": source, "progress": progress} | ({"url": url} if url else {})
    train_split = lrdata.load_cifar10(root, "train", **options)
    test_split = lrdata.load_cifar10(root, "test", **options)
    _check_sizes(len(train_split), val_size, train_size)  # a stand-in written with other sizes
    train_idx, val_idx = lrdata.train_val_split(len(train_split), val_size, seed=0)
    if train_size is not None:
        train_idx = train_idx[:train_size]
    fit, val = train_split.subset(train_idx, "train"), train_split.subset(val_idx, "val")

    def provider(seed: int) -> RunData:
        def loader(split: Any, train: bool) -> Any:
            return lrdata.TensorLoader(split, batch_size, train=train, seed=seed, device=device,
                                       channels_last=channels_last)

        train_loader, val_loader, test_loader = loader(fit, True), loader(val, False), loader(test_split, False)
        return RunData(
            train_batches=train_loader.iter_epoch,
            val_batches=lambda: val_loader.iter_epoch(0),
            test_batches=lambda: test_loader.iter_epoch(0),
            steps_per_epoch=len(train_loader),
            description=f"{fit.description}; {val.description}; {test_split.description}",
        )

    return provider


# ----------------------------------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from . import __version__

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


class _OverflowToNaN:
    """An optimizer whose update, when the LR does not even fit the parameters' dtype
    (``lr=1e300`` in float32), makes the parameters NaN instead of raising, as an update of that
    size would in exact arithmetic. The loop then sees a NaN loss and records a diverged run."""

    def step(self, closure: Any = None) -> Any:
        try:
            return super().step(closure)  # type: ignore[misc]
        except RuntimeError as error:
            if "without overflow" not in str(error):
                raise
        with torch.no_grad():
            for group in self.param_groups:  # type: ignore[attr-defined]
                for p in group["params"]:
                    if p.grad is not None:
                        p.fill_(math.nan)
        return None


class _SGD(_OverflowToNaN, torch.optim.SGD):
    """``torch.optim.SGD``, diverging instead of raising on an LR too large for the dtype."""


class _AdamW(_OverflowToNaN, torch.optim.AdamW):
    """``torch.optim.AdamW``, diverging instead of raising on an LR too large for the dtype."""


OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw")
# AdamW decays the weights by lr x weight_decay per step, apart from the gradient (decoupled), so
# its usual values are ~100x SGD's coupled L2 term (Loshchilov & Hutter 2019 use 0.025-0.05 on CIFAR).
DEFAULT_WEIGHT_DECAY: dict[str, float] = {"sgd": 5e-4, "adamw": 0.05}


def weight_decay_for(optimizer: str, weight_decay: float | None = None) -> float:
    """``weight_decay``, or the default of ``optimizer`` (``DEFAULT_WEIGHT_DECAY``) when it is None."""
    optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
    return DEFAULT_WEIGHT_DECAY[optimizer] if weight_decay is None else weight_decay


def build_optimizer(name: str, groups: Any, lr: float, momentum: float) -> torch.optim.Optimizer:
    """``"sgd"``: SGD with Nesterov ``momentum`` (plain SGD at 0); ``"adamw"``: AdamW with
    ``betas=(momentum, 0.999)``. ``groups`` carry their weight decay (:func:`lrcourse.param_groups.decay_groups`)."""
    name = check_choice(name, "optimizer", OPTIMIZERS)
    if name == "sgd":
        return _SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    return _AdamW(groups, lr=lr, betas=(momentum, 0.999))


def summary_table(out: str | os.PathLike[str]) -> str:
    """A markdown table of the results in ``out``: per recipe, runs, diverged runs, final-epoch
    val and test accuracy (%) as mean ± sample std over seeds, mean wall time. Each recipe and
    seed counts once, whatever copies of its file lie around; lines below the table name every
    ``*.json`` file that was not counted and why. Diverged runs count with the accuracy they
    ended with. Lines above the table say what data, model and devices the runs used.

    Raises:
        FileNotFoundError: ``out`` holds no valid result.
    """
    return _summary_table(out, RECIPES)


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
) -> dict[str, Any]:
    """Train ``model`` with ``recipe`` and ``seed``; return the result as a JSON-safe dict.

    ``optimizer`` is ``"sgd"`` (Nesterov ``momentum``) or ``"adamw"`` (``betas=(momentum,
    0.999)``, decoupled decay); ``weight_decay`` defaults to ``DEFAULT_WEIGHT_DECAY`` of the
    optimizer and applies to weights only (:func:`lrcourse.param_groups.decay_groups`). The result holds ``format``,
    ``recipe``, ``seed``, ``config`` (every setting above, and the data's description),
    ``versions`` (python, torch, torchvision, lrcourse), ``device``, ``git_commit`` and ``git_dirty`` (the package's files differ from that commit; both None outside
    a git checkout), ``wall_time`` (s), ``history`` (:meth:`lrcourse.history.History.to_dict`), ``final`` (the
    last epoch's ``val_loss``/``val_acc`` and the test split's ``test_loss``/``test_acc``; a
    diverged run is evaluated as it ended) and ``diverged``.

    ``config`` also records ``torch_threads``, the number of torch intra-op threads: on a CPU,
    1 and 2 threads give different numbers from the second step on, so a run resumes from
    ``checkpoint_path`` only with the same count (else ``ConfigMismatchError`` names it). A loss
    that overflows, even an LR too large for float32 (``lr=1e300``), is a diverged run, not an error.

    Raises:
        CheckpointError: ``checkpoint_path`` exists but is damaged (the caller may delete it and
            start over, as :func:`sweep` does).
        ConfigMismatchError: ``checkpoint_path`` was saved with other settings.
    """
    recipe = check_choice(recipe, "recipe", RECIPES)
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
    }
    seed_everything(seed)
    net = build_model(model_name)
    # Weights decay; biases and BatchNorm scales and shifts do not (lrcourse.decay_groups).
    opt = build_optimizer(optimizer_name, decay_groups(net, config["weight_decay"]), lr, config["momentum"])
    scheduler, cadence = make_recipe(recipe, opt, epochs * run_data.steps_per_epoch, run_data.steps_per_epoch)
    history = train(net, opt, scheduler, run_data.train_batches, epochs, cadence=cadence,
                    val_batches=run_data.val_batches, device=device, precision=precision, config=config,
                    checkpoint_path=checkpoint_path, resume=checkpoint_path is not None, progress=progress)
    if not history.diverged and not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        # The last update overflowed: no later loss was there to show it, but the weights do.
        history.diverged, history.diverged_at = True, max(0, len(history.loss) - 1)
        history.message = f"diverged at step {history.diverged_at}: the weights are no longer finite"
    test_loss, test_acc = evaluate(net, run_data.test_batches(), device=device, precision=precision,
                                   channels_last=device.type == "cuda")
    history_dict = history.to_dict()
    final = {
        "val_loss": history_dict["val_loss"][-1] if history.val_loss else None,
        "val_acc": history_dict["val_acc"][-1] if history.val_acc else None,
        "test_loss": test_loss if math.isfinite(test_loss) else str(test_loss), "test_acc": test_acc,
    }
    commit, dirty = _git_state()
    return {
        "format": RESULT_FORMAT, "recipe": recipe, "seed": seed, "config": config, "versions": _versions(),
        "device": _device_name(device), "git_commit": commit, "git_dirty": dirty, "wall_time": history.wall_time,
        "history": history_dict, "final": final, "diverged": history.diverged,
    }


