"""lrcourse: the helper package of the book *Learning-rate scheduling in PyTorch*.

Everything a chapter runs beyond a few lines lives here, tested, so readers can use it in their
own training code: ``from lrcourse import get_lr, set_lr, preview``.
"""

from .checkpoint import ConfigMismatchError, load_checkpoint, save_checkpoint
from .data import (
    CIFAR10Split,
    TensorLoader,
    data_source,
    load_cifar10,
    seed_dataloader,
    standard_dataloader,
    train_val_split,
    write_synthetic_cifar10,
)
from .env import smoke_mode
from .experiments import RECIPES, load_results, make_recipe, summary_table, sweep
from .history import History
from .history_plots import plot_history
from .models import MODEL_NAMES, build_model, count_parameters
from .param_groups import (
    check_param_groups,
    decay_groups,
    get_lr,
    multiplier_groups,
    param_groups_table,
    scale_lr,
    set_lr,
)
from .pitfalls import load_scheduler_state, resumed_lrs, scheduler_changes
from .plotting import new_axes, plot_curves, plot_quadratic_paths, plot_schedules
from .preview import preview
from .range_test import RangeTestResult, lr_range_test, range_test_lrs
from .schedulers import (
    InverseSqrtLR,
    WarmupConstantLR,
    WarmupCosineLR,
    WarmupLinearLR,
    WarmupLR,
    WarmupPolyLR,
    WarmupReduceLROnPlateau,
    WarmupStableDecayLR,
    inverse_sqrt,
    warmup_constant,
    warmup_cosine,
    warmup_linear,
    warmup_poly,
    wsd,
)
from .steps import epochs_to_steps, scaler_step, steps_per_epoch, steps_to_epochs
# The loop itself stays under its module's name (``from lrcourse.train import train``): a
# function called ``train`` here would hide the module ``lrcourse.train``.
from .train import evaluate, pick_device, pick_precision, seed_everything

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "CIFAR10Split",
    "ConfigMismatchError",
    "History",
    "MODEL_NAMES",
    "RECIPES",
    "TensorLoader",
    "build_model",
    "count_parameters",
    "data_source",
    "evaluate",
    "load_checkpoint",
    "load_cifar10",
    "load_results",
    "make_recipe",
    "pick_device",
    "pick_precision",
    "plot_history",
    "save_checkpoint",
    "seed_dataloader",
    "seed_everything",
    "standard_dataloader",
    "summary_table",
    "sweep",
    "train_val_split",
    "write_synthetic_cifar10",
    "InverseSqrtLR",
    "WarmupConstantLR",
    "WarmupCosineLR",
    "WarmupLR",
    "WarmupLinearLR",
    "WarmupPolyLR",
    "WarmupReduceLROnPlateau",
    "WarmupStableDecayLR",
    "epochs_to_steps",
    "inverse_sqrt",
    "scaler_step",
    "steps_per_epoch",
    "steps_to_epochs",
    "warmup_constant",
    "warmup_cosine",
    "warmup_linear",
    "warmup_poly",
    "wsd",
    "check_param_groups",
    "decay_groups",
    "get_lr",
    "load_scheduler_state",
    "resumed_lrs",
    "scheduler_changes",
    "multiplier_groups",
    "new_axes",
    "param_groups_table",
    "plot_curves",
    "plot_quadratic_paths",
    "plot_schedules",
    "preview",
    "RangeTestResult",
    "lr_range_test",
    "range_test_lrs",
    "scale_lr",
    "set_lr",
    "smoke_mode",
]
