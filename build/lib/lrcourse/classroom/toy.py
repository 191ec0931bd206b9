"""Small problems for the first chapters: a 2-D quadratic and a tiny network on spirals.

Both run in well under a second on a CPU, so a chapter can sweep the learning rate live.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .._validate import check_int, check_lr, check_real
from ..param_groups import set_lr

__all__ = [
    "Quadratic",
    "gradient_descent",
    "spirals",
    "TinyMLP",
    "ToyRun",
    "train_toy",
    "BackboneHead",
]


@dataclass(frozen=True)
class Quadratic:
    """``f(x) = 1/2 x^T A x`` in two dimensions, minimum 0 at the origin.

    ``A`` has the given eigenvalues (curvatures) along axes rotated by ``angle`` degrees, so the
    valley is long, narrow and tilted, like a real loss surface seen up close.
    """

    eigenvalues: tuple[float, float] = (1.0, 10.0)
    angle: float = 30.0

    def __post_init__(self) -> None:
        if len(self.eigenvalues) != 2:
            raise ValueError(f"eigenvalues must hold two curvatures (got eigenvalues={self.eigenvalues!r})")
        for i, value in enumerate(self.eigenvalues):
            check_real(value, f"eigenvalues[{i}]", low=0.0, low_open=True)
        check_real(self.angle, "angle")

    @property
    def matrix(self) -> torch.Tensor:
        theta = math.radians(self.angle)
        rotation = torch.tensor(
            [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], dtype=torch.float64
        )
        return rotation @ torch.diag(torch.tensor(self.eigenvalues, dtype=torch.float64)) @ rotation.T

    @property
    def smoothness(self) -> float:
        """``L``, the largest eigenvalue of ``A``: the steepest curvature, computed from the matrix."""
        return float(torch.linalg.eigvalsh(self.matrix).max())

    @property
    def stability_limit(self) -> float:
        """Gradient descent converges for ``0 < lr < 2 / L`` and diverges above it."""
        return 2.0 / self.smoothness

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x @ self.matrix * x).sum(-1)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.matrix


def gradient_descent(problem: Quadratic, x0: tuple[float, float], lr: float, steps: int) -> torch.Tensor:
    """Run ``x <- x - lr * grad f(x)``; return the ``steps + 1`` iterates (float64), starting at ``x0``."""
    lr = check_lr(lr)
    steps = check_int(steps, "steps", low=0)
    x = torch.tensor(x0, dtype=torch.float64)
    path = [x]
    for _ in range(steps):
        x = x - lr * problem.grad(x)
        path.append(x)
    return torch.stack(path)


def spirals(n_per_class: int = 200, n_classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved 2-D spirals: a classic dataset a linear model cannot fit but a small MLP can."""
    n_per_class = check_int(n_per_class, "n_per_class", low=1)
    n_classes = check_int(n_classes, "n_classes", low=2)
    noise = check_real(noise, "noise", low=0.0)
    gen = torch.Generator().manual_seed(seed)
    radius = torch.linspace(0.05, 1.0, n_per_class).repeat(n_classes)
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    angle = labels * (2 * math.pi / n_classes) + radius * 4.0 + noise * torch.randn(len(labels), generator=gen)
    points = torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=1)
    return points, labels


class TinyMLP(nn.Module):
    """``depth`` hidden layers of ``width`` ReLU units: 2 inputs -> ``n_classes`` logits."""

    def __init__(self, width: int = 64, n_classes: int = 3, depth: int = 2) -> None:
        super().__init__()
        width = check_int(width, "width", low=1)
        depth = check_int(depth, "depth", low=1)
        layers: list[nn.Module] = [nn.Linear(2, width), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class ToyRun:
    """What :func:`train_toy` records: the loss and LR of every step; per epoch, the mean
    training loss, the loss on held-out points and the LR the epoch started at."""

    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_lr: list[float] = field(default_factory=list)
    diverged: bool = False


OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULER_INTERVALS = ("step", "epoch", "metric")


def _make_optimizer(name: str, params: Any, lr: float, momentum: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.AdamW(params, lr=lr)


def train_toy(
    lr: float,
    epochs: int,
    *,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    lr_at_epoch: Mapping[int, float] | None = None,
    make_scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
    scheduler_interval: str = "step",
    width: int = 64,
    depth: int = 2,
    noise: float = 0.2,
    seed: int = 0,
    divergence_threshold: float = 1e3,
) -> ToyRun:
    """Train :class:`TinyMLP` on :func:`spirals` and return a :class:`ToyRun`.

    Args:
        lr: the learning rate at the start (the base LR a scheduler scales).
        epochs: passes over the 600 points.
        batch_size: mini-batch size; ``None`` means full-batch gradient descent.
        optimizer: ``"sgd"`` (with ``momentum``), ``"adam"`` or ``"adamw"`` (torch defaults).
        momentum: SGD momentum.
        lr_at_epoch: manual changes, ``{epoch: new_lr}``, applied with
            :func:`lrcourse.param_groups.set_lr` *before* that epoch's first step (so epoch 0 of a
            warmup really trains at its LR).
        make_scheduler: called with the optimizer, returns the scheduler to use. Cannot be
            combined with ``lr_at_epoch``: a learning rate has one owner.
        scheduler_interval: when the scheduler steps: ``"step"`` after every optimizer step,
            ``"epoch"`` after every epoch, ``"metric"`` after every epoch with the validation loss
            (``scheduler.step(val_loss)``, for ``ReduceLROnPlateau``-style schedulers).
        width, depth: size of the :class:`TinyMLP`.
        noise: angular noise of the spirals; larger values make the classes overlap, so the
            loss has a floor that a large LR keeps bouncing above.
        seed: seeds the weights and the batch order (the data are fixed: seed 0 for the
            training points, seed 1 for the held-out ones).
        divergence_threshold: a loss above this, or a non-finite one, stops the run and sets
            ``diverged``.
    """
    lr = check_lr(lr)
    epochs = check_int(epochs, "epochs", low=1)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS} (got optimizer={optimizer!r})")
    momentum = check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if scheduler_interval not in SCHEDULER_INTERVALS:
        raise ValueError(
            f"scheduler_interval must be one of {SCHEDULER_INTERVALS} (got scheduler_interval={scheduler_interval!r})"
        )
    if make_scheduler is not None and not callable(make_scheduler):
        raise TypeError(f"make_scheduler must be a callable taking the optimizer (got {type(make_scheduler).__name__})")
    changes = dict(lr_at_epoch or {})
    if changes and make_scheduler is not None:
        raise ValueError("give lr_at_epoch or make_scheduler, not both: a learning rate needs a single owner")
    for epoch, new_lr in changes.items():
        check_int(epoch, "lr_at_epoch key", low=0)
        check_lr(new_lr, f"lr_at_epoch[{epoch}]")
    x, y = spirals(noise=noise, seed=0)
    x_val, y_val = spirals(noise=noise, seed=1)
    if batch_size is None:
        batch_size = len(x)
    batch_size = check_int(batch_size, "batch_size", low=1)
    torch.manual_seed(seed)
    model = TinyMLP(width=width, depth=depth)
    opt = _make_optimizer(optimizer, model.parameters(), lr, momentum)
    scheduler = make_scheduler(opt) if make_scheduler is not None else None
    order_gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    run = ToyRun()
    for epoch in range(epochs):
        if epoch in changes:
            set_lr(opt, changes[epoch])
        run.epoch_lr.append(opt.param_groups[0]["lr"])
        order = torch.randperm(len(x), generator=order_gen)
        epoch_losses = []
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            run.step_lr.append(opt.param_groups[0]["lr"])
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if scheduler is not None and scheduler_interval == "step":
                scheduler.step()
            value = loss.item()
            run.step_loss.append(value)
            epoch_losses.append(value)
            if not math.isfinite(value) or value > divergence_threshold:
                run.diverged = True
                run.epoch_loss.append(float("nan"))
                run.val_loss.append(float("nan"))
                return run
        run.epoch_loss.append(sum(epoch_losses) / len(epoch_losses))
        with torch.no_grad():
            run.val_loss.append(loss_fn(model(x_val), y_val).item())
        if scheduler is not None and scheduler_interval == "epoch":
            scheduler.step()
        elif scheduler is not None and scheduler_interval == "metric":
            scheduler.step(run.val_loss[-1])
    return run


class BackboneHead(nn.Module):
    """A model in two named parts, as in fine-tuning: a ``backbone`` and a ``head``.

    The names are what :func:`lrcourse.param_groups.multiplier_groups` matches, so the two parts can train at
    different learning rates.
    """

    def __init__(self, width: int = 32, n_classes: int = 3) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(2, width), nn.LayerNorm(width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))
