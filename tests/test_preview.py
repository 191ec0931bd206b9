import math

import fractions

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from lrcourse import get_lr, preview


def test_preview_step_lr_explicit_targets():
    lrs = preview(lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), 8, base_lr=0.4)
    assert lrs == [0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1]


def test_preview_lambda_lr_matches_formula_exactly():
    lrs = preview(lambda opt: lr_scheduler.LambdaLR(opt, lambda s: 1 / (1 + s)), 50, base_lr=0.3)
    assert lrs == [0.3 * (1 / (1 + s)) for s in range(50)]


def test_preview_several_groups_keep_their_ratio():
    per_group = preview(lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9), 20, base_lr=[0.05, 0.5])
    assert len(per_group) == 2 and all(len(lrs) == 20 for lrs in per_group)
    for small, large in zip(*per_group):
        assert math.isclose(large / small, 10.0, rel_tol=1e-12)


def test_preview_plateau_uses_metrics():
    lrs = preview(
        lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1),
        6,
        base_lr=1.0,
        metrics=[3.0, 2.0, 2.0, 2.0, 2.0, 2.0],
    )
    # Best 2.0 at step 1; two bad steps (2, 3) exceed patience 1 -> halve after step 3, again after 5.
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


def test_preview_one_cycle_runs_its_full_length_without_error():
    lrs = preview(lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10), 10)
    assert len(lrs) == 10 and max(lrs) == pytest.approx(1.0, rel=0.05)


def test_preview_zero_steps():
    assert preview(lambda opt: lr_scheduler.StepLR(opt, 1), 0) == []


def test_preview_emits_no_warnings(recwarn):
    preview(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10), 10)
    assert len(recwarn) == 0


def test_preview_refuses_a_scheduler_of_another_optimizer():
    real = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = lr_scheduler.StepLR(real, step_size=1, gamma=0.5)
    with pytest.raises(ValueError, match="must build its scheduler on the optimizer it is given"):
        preview(lambda opt: scheduler, 5)
    assert get_lr(real) == [0.1] and scheduler.last_epoch == 0  # the real one was not stepped


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"make_scheduler": "StepLR"}, TypeError, "make_scheduler must be a callable"),
        ({"steps": -1}, ValueError, r"steps must be an integer >= 0 \(got steps=-1\)"),
        ({"steps": 2.5}, TypeError, r"steps must be an integer"),
        ({"base_lr": -0.1}, ValueError, r"base_lr must be a finite number >= 0 \(got base_lr=-0.1\)"),
        ({"base_lr": math.nan}, ValueError, r"base_lr"),
        ({"base_lr": [0.1, math.inf]}, ValueError, r"base_lr\[1\]"),
        ({"base_lr": []}, ValueError, r"base_lr must hold at least one"),
        ({"metrics": [1.0]}, ValueError, r"metrics must hold one value per step \(got 1 values for steps=3\)"),
        ({"metrics": [1.0, math.nan, 1.0]}, ValueError,
         r"^metrics\[1\] must be finite: NaN and infinities are not metrics a schedule can compare \(got metrics\[1\]=nan\)$"),
        ({"metrics": np.array([1.0, 2.0, np.inf])}, ValueError, r"^metrics\[2\] must be finite: .* \(got metrics\[2\]=np.float64\(inf\)\)$"),
        ({"metrics": [1.0, 10**400, 1.0]}, ValueError, r"^metrics\[1\] must be finite"),
        ({"metrics": [1.0, "2.0", 1.0]}, TypeError, r"^metrics\[1\] must be a real number \(got metrics\[1\]='2.0' of type str\)$"),
        ({"metrics": [1.0, True, 1.0]}, TypeError, r"^metrics\[1\] must be a real number \(got metrics\[1\]=True of type bool\)$"),
        ({"metrics": 3.0}, TypeError, r"^metrics must be a sequence or array of real numbers, one per step \(got metrics of type float\)$"),
    ],
)
def test_preview_validation(kwargs, error, message):
    args = {"make_scheduler": lambda opt: lr_scheduler.StepLR(opt, 1), "steps": 3, **kwargs}
    with pytest.raises(error, match=message):
        preview(**args)


PLATEAU_METRICS = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]
PLATEAU_LRS = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


@pytest.mark.parametrize(
    "metrics",
    [
        np.array(PLATEAU_METRICS),  # a NumPy array: its items are np.float64
        np.array(PLATEAU_METRICS, dtype=np.float32),
        [np.float32(m) for m in PLATEAU_METRICS],
        np.array([3, 2, 2, 2, 2, 2]),  # np.int64
        [fractions.Fraction(int(m)) for m in PLATEAU_METRICS],
        torch.tensor(PLATEAU_METRICS),  # a tensor: its items are 0-d tensors
        (m for m in PLATEAU_METRICS),  # any iterable
    ],
    ids=["ndarray", "ndarray-float32", "np.float32", "ndarray-int", "Fraction", "tensor", "generator"],
)
def test_preview_accepts_every_real_number_type_as_metrics(metrics):
    make = lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)  # noqa: E731
    assert preview(make, 6, base_lr=1.0, metrics=metrics) == PLATEAU_LRS


def test_preview_passes_metrics_on_as_python_floats():
    seen = []

    class Recorder(lr_scheduler.LRScheduler):
        def get_lr(self):
            return [group["lr"] for group in self.optimizer.param_groups]

        def step(self, metric=None):
            if metric is not None:
                seen.append(metric)
            super().step()

    preview(Recorder, 2, metrics=np.array([1.5, 2.5]))
    assert seen == [1.5, 2.5] and all(type(m) is float for m in seen)


def test_preview_refuses_a_scheduler_built_before_a_group_was_added():
    def make(opt):
        scheduler = lr_scheduler.LambdaLR(opt, lambda s: 0.5**s)
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.2})
        return scheduler

    with pytest.raises(RuntimeError, match=(
        r"^the optimizer has 2 param groups but the scheduler make_scheduler returned \(LambdaLR\) was "
        r"built for 1: a group added with optimizer.add_param_group\(\) after the scheduler was built"
    )):
        preview(make, 3)
