"""Loss and accuracy of a model over a set of batches: :func:`evaluate`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from ._validate import check_choice
from .device import PRECISIONS, _autocast, _to_device, pick_precision

__all__ = ["evaluate"]

Batch = tuple[torch.Tensor, torch.Tensor]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Iterable[Batch],
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
    channels_last: bool = False,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``batches``, in eval mode; one host sync.

    Use a validation split during training and the test split once, for the final number. The
    model's train/eval mode is restored afterwards.

    Returns:
        ``(loss, accuracy)``, averaged over samples; accuracy in ``[0, 1]``.
    """
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = next(model.parameters()).device if device is None else torch.device(device)
    precision = pick_precision(device) if precision is None else check_choice(precision, "precision", PRECISIONS)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    try:
        for batch in batches:
            x, y = _to_device(batch, device, channels_last)
            with _autocast(device, precision):
                out = model(x)
                loss = loss_fn(out.float(), y)
            total_loss += loss.float() * y.shape[0]
            correct += (out.argmax(dim=1) == y).sum()
            count += y.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("batches is empty: there is nothing to evaluate")
    return total_loss.item() / count, correct.item() / count
