import math

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
        ({"metrics": [1.0, math.nan, 1.0]}, ValueError, r"metrics must be finite"),
    ],
)
def test_preview_validation(kwargs, error, message):
    args = {"make_scheduler": lambda opt: lr_scheduler.StepLR(opt, 1), "steps": 3, **kwargs}
    with pytest.raises(error, match=message):
        preview(**args)
