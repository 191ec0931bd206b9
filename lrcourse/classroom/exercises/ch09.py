"""Checkers for chapter 9, "The seed's CIFAR-10 experiment, then and now"."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ._common import as_int, as_numbers, as_real, as_tuple, failed, guarded, not_attempted, one_thread, passed, wrong_form

__all__ = ["check_09_1", "check_09_2"]

FORM_09_1 = "a function mean_loss_and_accuracy(model, batches) -> (loss, accuracy)"
FORM_09_2 = "a tuple (steps_per_epoch, first_step_at_0.01, per_batch_milestone)"
SEED_IMAGES, SEED_BATCH, SEED_DROP_EPOCH = 50_000, 256, 20


def _case() -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    """A fixed linear model and four batches (8, 8, 8 and 2 images) whose last batch is all wrong,
    so that a mean of batch means and a mean over images differ by a wide margin."""
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(3, 12, generator=g))
        model[1].bias.zero_()
    x = torch.randn(26, 3, 2, 2, generator=g)
    with torch.no_grad():
        right = model(x).argmax(1)
    y = right.clone()
    y[24:] = (right[24:] + 1) % 3  # the last, small batch: every label wrong
    sizes = [8, 8, 8, 2]
    starts = [0, 8, 16, 24]
    return model, [(x[s : s + n], y[s : s + n]) for s, n in zip(starts, sizes)]


def _reference(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, ...]:
    """The loss and accuracy over images, and the loss and accuracy of a mean of batch means."""
    with torch.no_grad():
        losses = [nn.functional.cross_entropy(model(x), y, reduction="sum").item() for x, y in batches]
        hits = [(model(x).argmax(1) == y).sum().item() for x, y in batches]
    n = sum(len(y) for _, y in batches)
    batch_means = sum(loss / len(y) for loss, (_, y) in zip(losses, batches)) / len(batches)
    batch_accuracy = sum(hit / len(y) for hit, (_, y) in zip(hits, batches)) / len(batches)
    return sum(losses) / n, sum(hits) / n, batch_means, batch_accuracy


REL = 1e-6  # a loss or an accuracy computed in float32 is good to about 7 digits


@guarded
def check_09_1(answer: Any) -> bool:
    """Exercise ch09-evaluate. Answer: a function ``mean_loss_and_accuracy(model, batches)``.

    Called on a fixed linear model and four batches of 8, 8, 8 and 2 images, in train mode and
    again in eval mode, it must return ``(loss, accuracy)`` as Python floats: the mean
    cross-entropy over images and the fraction classified right, each within 1e-6 relative (so
    a float32 computation counts); the model's mode must be what it was before, its weights
    unchanged, and no gradient left on them.
    """
    if not_attempted(answer, FORM_09_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_09_1, answer)
    with one_thread():
        model, batches = _case()
        want_loss, want_acc, batch_means, batch_accuracy = _reference(model, batches)
        before = [p.detach().clone() for p in model.parameters()]
        expected = f"(loss {want_loss:.6f}, accuracy {want_acc:.4f}) as Python floats"
        for mode in (True, False):
            model.train(mode)
            got = as_tuple(answer(model, batches), 2)
            if got is None:
                return wrong_form("a pair (loss, accuracy)", got)
            if not all(isinstance(v, float) for v in got):
                kinds = ", ".join(type(v).__name__ for v in got)
                return failed(expected, f"values of type {kinds}",
                              "return Python floats: call .item() on the sums once, at the end.")
            loss, acc = got
            if math.isclose(loss, batch_means, rel_tol=REL):
                return failed(expected, f"loss {loss:.6f}",
                              "that is the mean of the batch means, the seed's bug: the last batch of 2 "
                              "images counts like one of 8. Sum the per-image losses (reduction='sum') and "
                              "divide by the number of images.")
            if not math.isclose(loss, want_loss, rel_tol=REL, abs_tol=1e-9):
                return failed(expected, f"loss {loss:.6f}", "average the cross-entropy over images.")
            if math.isclose(acc, batch_accuracy, rel_tol=REL) and not math.isclose(acc, want_acc, rel_tol=REL):
                return failed(expected, f"accuracy {acc:.4f}",
                              "that is the mean of the batch accuracies: the last batch of 2 images counts "
                              "like one of 8. Count the right images over all batches, divide by all images.")
            if not math.isclose(acc, want_acc, rel_tol=REL, abs_tol=1e-9):
                return failed(expected, f"accuracy {acc:.4f}",
                              "count the images whose largest logit is the label, over all images.")
            if model.training is not mode:
                return failed(expected + ", the model's mode restored", f"the model left in "
                              f"{'train' if model.training else 'eval'} mode after a call in "
                              f"{'train' if mode else 'eval'} mode",
                              "remember model.training before model.eval() and call model.train(was_training) "
                              "at the end (in a finally block).")
        if any(p.grad is not None for p in model.parameters()):
            return failed(expected, "gradients left on the weights",
                          "evaluate under torch.inference_mode() (or torch.no_grad()) and do not call backward.")
        if not all(torch.equal(a, b) for a, b in zip(before, model.parameters())):
            return failed(expected, "changed weights", "evaluation must not train: no optimizer step.")
    return passed(f"loss {want_loss:.6f} over images (a mean of batch means would give {batch_means:.6f}), "
                  "accuracy right, the mode restored in both cases.")


@guarded
def check_09_2(answer: Any) -> bool:
    """Exercise ch09-steps. Answer: a tuple ``(steps_per_epoch, first_step_at_0.01, per_batch_milestone)``.

    For 50 000 images at batch 256 without ``drop_last``: 196 steps per epoch, step 3 920 the
    first at 0.01, and ``milestones=[3920]`` for a ``MultiStepLR`` stepped after every batch.
    """
    if not_attempted(answer, FORM_09_2):
        return False
    values = as_numbers(answer, 3, as_int)
    if values is None:
        reals = as_numbers(answer, 3, as_real)
        if reals is not None:
            return failed("three whole numbers", str(tuple(reals)), "steps are counted in whole batches.")
        return wrong_form(FORM_09_2, answer)
    steps, first, milestone = values
    want_steps = math.ceil(SEED_IMAGES / SEED_BATCH)
    want_first = SEED_DROP_EPOCH * want_steps
    expected = f"({want_steps}, {want_first}, {want_first})"
    if steps != want_steps:
        hint = ("the last, partial batch of 80 images is an optimizer step too: round up."
                if steps == SEED_IMAGES // SEED_BATCH else "divide the images by the batch size and round up.")
        return failed(expected, str(values), hint)
    if first != want_first:
        hint = ("that is the last step at 0.1: epochs 0 to 19 take steps 0 to 3919."
                if first == want_first - 1 else "epochs 0 to 19 train at 0.1; count their steps.")
        return failed(expected, str(values), hint)
    if milestone != want_first:
        hint = ("a per-batch MultiStepLR counts optimizer steps, not epochs: its milestone is a step number."
                if milestone == SEED_DROP_EPOCH else "after 3 920 calls of scheduler.step() its counter is 3 920.")
        return failed(expected, str(values), hint)
    return passed(f"{want_steps} steps per epoch; the first batch at 0.01 is step {want_first}, which is also "
                  "the per-batch milestone.")
