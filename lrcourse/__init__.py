"""lrcourse: learning-rate schedulers and helpers for PyTorch, and the package of the book
*Learning-rate scheduling in PyTorch*.

The package has three wings, one per audience; imports run one way only, classroom -> lab ->
library, and nothing imports upwards:

* **the library**, ``lrcourse`` itself (this namespace): schedules as pure functions, the
  schedulers, param-group helpers, ``preview``, step counting, the range test, resuming a
  schedule, device, precision and RNG helpers, and the plot style. ``import lrcourse`` needs torch
  alone; matplotlib is imported only by the functions that draw, tqdm only for a progress bar.
* **the lab**, :mod:`lrcourse.lab`: data sets and loaders, models, the training loop, exact
  checkpoints, recipes, sweeps and their results, time estimates, the command line
  (``python -m lrcourse``). Install with ``pip install "lrcourse[lab]"``.
* **the classroom**, :mod:`lrcourse.classroom`: what only the book's chapters need -- the toy
  problems, the exercise checkers, the smoke switch.

``__all__`` below is the library's API::

    from lrcourse import decay_groups, preview, warmup_cosine
"""

from .device import pick_device, pick_precision
from .evaluation import evaluate
from .factories import inverse_sqrt, warmup_constant, warmup_cosine, warmup_linear, warmup_poly, wsd
from .param_groups import (
    check_param_groups,
    decay_groups,
    get_lr,
    multiplier_groups,
    param_groups_table,
    scale_lr,
    set_lr,
)
from .plateau import WarmupReduceLROnPlateau
from .plotting import new_axes, plot_curves, plot_schedules
from .preview import preview
from .range_result import RangeTestResult
from .range_test import lr_range_test, range_test_lrs
from .resume import load_scheduler_state, resumed_lrs, scheduler_changes
from .rng import capture_rng_state, restore_rng_state, seed_everything
from .schedulers import (
    InverseSqrtLR,
    WarmupConstantLR,
    WarmupCosineLR,
    WarmupLinearLR,
    WarmupLR,
    WarmupPolyLR,
    WarmupStableDecayLR,
)
from .steps import epochs_to_steps, scaler_step, steps_per_epoch, steps_to_epochs

__version__ = "0.6.0"

__all__ = [
    "__version__",
    # schedulers, and the transformers-named functions that build them
    "InverseSqrtLR",
    "WarmupConstantLR",
    "WarmupCosineLR",
    "WarmupLR",
    "WarmupLinearLR",
    "WarmupPolyLR",
    "WarmupReduceLROnPlateau",
    "WarmupStableDecayLR",
    "inverse_sqrt",
    "warmup_constant",
    "warmup_cosine",
    "warmup_linear",
    "warmup_poly",
    "wsd",
    # param groups
    "check_param_groups",
    "decay_groups",
    "get_lr",
    "multiplier_groups",
    "param_groups_table",
    "scale_lr",
    "set_lr",
    # looking at a schedule, counting its steps, resuming it
    "preview",
    "epochs_to_steps",
    "scaler_step",
    "steps_per_epoch",
    "steps_to_epochs",
    "load_scheduler_state",
    "resumed_lrs",
    "scheduler_changes",
    # the range test
    "RangeTestResult",
    "lr_range_test",
    "range_test_lrs",
    # device, precision, evaluation, random number generators
    "evaluate",
    "pick_device",
    "pick_precision",
    "capture_rng_state",
    "restore_rng_state",
    "seed_everything",
    # the plot style
    "new_axes",
    "plot_curves",
    "plot_schedules",
]
