import math

import pytest
import torch

from lrcourse.classroom.toy import Quadratic, gradient_descent, spirals, train_toy


def test_stability_limit_is_two_over_largest_eigenvalue():
    q = Quadratic(eigenvalues=(0.5, 4.0), angle=17.0)
    assert q.smoothness == pytest.approx(4.0, rel=1e-12)
    assert q.stability_limit == pytest.approx(0.5, rel=1e-12)
    eig = torch.linalg.eigvalsh(q.matrix)
    assert eig.tolist() == pytest.approx([0.5, 4.0], rel=1e-12)


def test_gradient_matches_autograd():
    q = Quadratic()
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    q.value(x).backward()
    assert torch.allclose(x.grad, q.grad(x.detach()), rtol=0, atol=1e-14)


@pytest.mark.parametrize("factor, converges", [(0.5, True), (0.99, True), (1.01, False), (1.5, False)])
def test_gradient_descent_converges_exactly_below_the_limit(factor, converges):
    q = Quadratic()
    path = gradient_descent(q, (1.0, -0.5), factor * q.stability_limit, 300)
    assert path.shape == (301, 2)
    ratio = q.value(path[-1]).item() / q.value(path[0]).item()
    assert (ratio < 1e-3) if converges else (ratio > 1e3)


def test_gradient_descent_first_step_by_hand():
    q = Quadratic(eigenvalues=(1.0, 10.0), angle=0.0)  # A = diag(1, 10)
    path = gradient_descent(q, (1.0, 1.0), 0.1, 1)
    assert path[1].tolist() == [1.0 - 0.1 * 1.0, 1.0 - 0.1 * 10.0]


@pytest.mark.parametrize("kwargs", [{"eigenvalues": (0.0, 1.0)}, {"eigenvalues": (1.0, -2.0)}, {"eigenvalues": (1.0,)}])
def test_quadratic_rejects_bad_curvatures(kwargs):
    with pytest.raises(ValueError, match="eigenvalues"):
        Quadratic(**kwargs)


def test_spirals_shapes_and_determinism():
    x, y = spirals(n_per_class=50, n_classes=4, seed=3)
    assert x.shape == (200, 2) and y.tolist() == [c for c in range(4) for _ in range(50)]
    assert torch.equal(x, spirals(n_per_class=50, n_classes=4, seed=3)[0])
    assert not torch.equal(x, spirals(n_per_class=50, n_classes=4, seed=4)[0])


def test_train_toy_seeded_rerun_is_bitwise_equal_and_seed_matters():
    a = train_toy(0.5, 3, batch_size=64, seed=1)
    b = train_toy(0.5, 3, batch_size=64, seed=1)
    c = train_toy(0.5, 3, batch_size=64, seed=2)
    assert a.step_loss == b.step_loss and a.val_loss == b.val_loss
    assert a.step_loss != c.step_loss
    assert len(a.step_loss) == 3 * math.ceil(600 / 64) and len(a.epoch_loss) == len(a.val_loss) == 3


def test_train_toy_applies_manual_change_before_the_epoch():
    run = train_toy(1.0, 4, batch_size=200, lr_at_epoch={2: 0.1})
    assert run.epoch_lr == [1.0, 1.0, 0.1, 0.1]
    same_start = train_toy(1.0, 2, batch_size=200)
    assert run.step_loss[:7] == same_start.step_loss + [run.step_loss[6]]


def test_train_toy_records_divergence():
    run = train_toy(100.0, 50)
    assert run.diverged
    assert len(run.step_loss) < 50
    assert math.isnan(run.epoch_loss[-1]) and math.isnan(run.val_loss[-1])


@pytest.mark.parametrize(
    "kwargs, message",
    [({"lr": -1.0}, "lr must be"), ({"epochs": 0}, "epochs must be an integer >= 1"),
     ({"batch_size": 0}, "batch_size must be an integer >= 1"), ({"lr_at_epoch": {1: -0.1}}, r"lr_at_epoch\[1\]")],
)
def test_train_toy_validation(kwargs, message):
    args = {"lr": 0.1, "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        train_toy(**args)


def test_train_toy_with_a_scheduler_per_step_records_each_steps_lr():
    from torch.optim.lr_scheduler import LambdaLR

    run = train_toy(0.5, 2, batch_size=200, make_scheduler=lambda opt: LambdaLR(opt, lambda s: 1 / (1 + s)))
    assert run.step_lr == [0.5 * (1 / (1 + s)) for s in range(6)]
    assert run.epoch_lr == [0.5, 0.5 * (1 / 4)]


def test_train_toy_metric_scheduler_sees_the_validation_loss():
    seen = []

    class Spy(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    run = train_toy(0.1, 3, batch_size=300, make_scheduler=Spy, scheduler_interval="metric")
    assert seen == run.val_loss


def test_train_toy_epoch_interval_and_optimizers():
    from torch.optim.lr_scheduler import StepLR

    run = train_toy(0.01, 3, batch_size=300, optimizer="adam",
                    make_scheduler=lambda opt: StepLR(opt, 1, 0.5), scheduler_interval="epoch")
    assert run.epoch_lr == [0.01, 0.005, 0.0025]
    assert train_toy(0.01, 1, optimizer="adamw", depth=3, width=8).step_loss


def test_tiny_mlp_depth():
    from lrcourse.classroom.toy import TinyMLP

    assert sum(isinstance(m, torch.nn.Linear) for m in TinyMLP(depth=4).modules()) == 5


@pytest.mark.parametrize(
    "kwargs, error, message",
    [({"optimizer": "lion"}, ValueError, r"optimizer must be one of .* \(got optimizer='lion'\)"),
     ({"scheduler_interval": "batch"}, ValueError, "scheduler_interval must be one of"),
     ({"momentum": 1.0}, ValueError, "momentum must be"),
     ({"make_scheduler": 3}, TypeError, "make_scheduler must be a callable"),
     ({"make_scheduler": lambda o: None, "lr_at_epoch": {1: 0.1}}, ValueError, "not both")],
)
def test_train_toy_scheduler_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_toy(0.1, 1, **kwargs)
