"""The lab: everything that runs an experiment, on top of the library, ``lrcourse``.

Install with ``pip install "lrcourse[lab]"`` (torchvision, matplotlib, NumPy, tqdm). The lab may
import the library; the library never imports the lab, and the lab never imports
:mod:`lrcourse.classroom`. Inside, each module sits above the ones it uses, with no circle:

* data -- :mod:`~lrcourse.lab.data` (Fashion-MNIST, CIFAR-10, the synthetic stand-in,
  ``TensorLoader``);
* models -- :mod:`~lrcourse.lab.models` (``build_model(name)``);
* one run -- :mod:`~lrcourse.lab.training` (the loop, ``train(...) -> History``, its parts in
  :mod:`~lrcourse.lab.training_run`), :mod:`~lrcourse.lab.history`, :mod:`~lrcourse.lab.history_plots`,
  :mod:`~lrcourse.lab.divergence`, :mod:`~lrcourse.lab.checkpoint` (exact save and resume),
  :mod:`~lrcourse.lab.schedule_free` (schedule-free optimizers in the loop);
* experiments -- :mod:`~lrcourse.lab.recipes` (schedules at an equal budget, the optimizers),
  :mod:`~lrcourse.lab.providers` (the data of a run), :mod:`~lrcourse.lab.runs` (``run_one``),
  :mod:`~lrcourse.lab.results` (result files, tables), ``claims`` (lock files),
  :mod:`~lrcourse.lab.paired`, :mod:`~lrcourse.lab.shootout`, :mod:`~lrcourse.lab.drop` and
  :mod:`~lrcourse.lab.grids` (reading the results: seed-by-seed comparisons, the order of
  recipes, the loss around a drop, the best and the largest stable setting of a grid),
  :mod:`~lrcourse.lab.sweeps` (``sweep``), ``estimate`` and
  :mod:`~lrcourse.lab.gpu_estimate` (how long it will take);
* searching -- :mod:`~lrcourse.lab.tune` (``tune``: an Optuna study shared by many workers),
  :mod:`~lrcourse.lab.tune_space` (what it searches), :mod:`~lrcourse.lab.tune_study` (storage,
  budget, dead workers), :mod:`~lrcourse.lab.studies` and :mod:`~lrcourse.lab.tune_plots`
  (reading finished searches); Optuna is imported only when a search runs (``lrcourse[tune]``);
* the command line -- ``cli`` (``python -m lrcourse sweep|anytime|d2l|tune|summary``).

The names below are the lab's API::

    from lrcourse.lab import build_model, cifar_data, run_one, train
"""

from .checkpoint import CheckpointError, ConfigMismatchError, load_checkpoint, save_checkpoint
from .data import (
    CIFAR10Split,
    FashionMNISTSplit,
    TensorLoader,
    data_source,
    load_cifar10,
    load_fashion_mnist,
    seed_dataloader,
    standard_dataloader,
    train_val_split,
    write_synthetic_cifar10,
)
from .history import History
from .history_plots import plot_history
from .models import MODEL_NAMES, build_model, count_parameters
from .providers import RunData, cifar_data, fashion_data, random_data
from .recipes import OPTIMIZERS, RECIPES, build_optimizer, make_recipe
from .results import load_results, recipe_stats, summary_table
from .runs import run_one
from .sweeps import sweep
from .training import skip_batches, train

__all__ = [
    "CIFAR10Split",
    "CheckpointError",
    "FashionMNISTSplit",
    "ConfigMismatchError",
    "History",
    "MODEL_NAMES",
    "OPTIMIZERS",
    "RECIPES",
    "RunData",
    "TensorLoader",
    "build_model",
    "build_optimizer",
    "cifar_data",
    "count_parameters",
    "fashion_data",
    "data_source",
    "load_checkpoint",
    "load_cifar10",
    "load_fashion_mnist",
    "load_results",
    "make_recipe",
    "plot_history",
    "random_data",
    "recipe_stats",
    "run_one",
    "save_checkpoint",
    "seed_dataloader",
    "skip_batches",
    "standard_dataloader",
    "summary_table",
    "sweep",
    "train",
    "train_val_split",
    "write_synthetic_cifar10",
]
