"""Figures of training runs (:class:`lrcourse.lab.history.History`), in the book's one plot style.

Each function takes one ``History`` or a mapping ``label -> History`` (e.g. one per recipe) and
draws on ``ax`` or on a new figure, through :mod:`lrcourse.plotting`::

    ax_lr, ax_loss, ax_acc = new_axes(3)
    plot_history_lr(runs, ax=ax_lr)
    plot_history_loss(runs, ax=ax_loss)
    plot_history_accuracy(runs, ax=ax_acc)
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.axes import Axes

from ..plotting import new_axes, plot_curves, plot_schedules
from .training import History

__all__ = ["plot_history", "plot_history_accuracy", "plot_history_loss", "plot_history_lr"]

Runs = History | Mapping[str, History]


def _runs(runs: Runs) -> dict[str, History]:
    if isinstance(runs, History):
        return {"run": runs}
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"runs must be a History or a non-empty mapping label -> History (got {type(runs).__name__})")
    for label, history in runs.items():
        if not isinstance(history, History):
            raise TypeError(f"runs[{label!r}] must be a History (got {type(history).__name__})")
    return dict(runs)


def plot_history_lr(runs: Runs, *, log: bool = False, groups: bool = False, ax: Axes | None = None) -> Axes:
    """The LR each batch was trained with, per optimizer step: param group 0, or every group.

    With ``groups=True`` each param group is a curve of its own (``History.group_lrs``), labelled
    ``"group 1"`` or ``"<run> group 1"``; use ``log=True`` when their LRs differ by decades.
    """
    runs = _runs(runs)
    if not isinstance(groups, bool):
        raise TypeError(f"groups must be True or False (got groups={groups!r} of type {type(groups).__name__})")
    if not groups:
        return plot_schedules({label: h.lr for label, h in runs.items()}, log=log, ax=ax, title="learning rate")
    curves = {}
    for label, h in runs.items():
        for g, lrs in enumerate(h.group_lrs or [h.lr]):
            curves[f"{label} group {g}" if len(runs) > 1 else f"group {g}"] = lrs
    return plot_schedules(curves, log=log, ax=ax, title="learning rate per param group")


def plot_history_loss(runs: Runs, *, per: str = "step", log: bool = True, ax: Axes | None = None) -> Axes:
    """Training loss per step (``per="step"``) or training and validation loss per epoch (``"epoch"``)."""
    runs = _runs(runs)
    if per == "step":
        return plot_curves({label: h.loss for label, h in runs.items()}, log=log, ax=ax, title="training loss")
    if per != "epoch":
        raise ValueError(f"per must be one of 'step', 'epoch' (got per={per!r})")
    curves = {}
    for label, h in runs.items():
        curves[f"{label} train" if len(runs) > 1 else "train"] = h.train_loss
        if h.val_loss:
            curves[f"{label} val" if len(runs) > 1 else "validation"] = h.val_loss
    return plot_curves(curves, unit="epoch", log=log, ax=ax, title="loss per epoch")


def plot_history_accuracy(runs: Runs, *, split: str = "val", ax: Axes | None = None) -> Axes:
    """Accuracy per epoch on the validation (``split="val"``) or training split, in %."""
    if split not in ("val", "train"):
        raise ValueError(f"split must be one of 'val', 'train' (got split={split!r})")
    curves = {label: [100 * a for a in (h.val_acc if split == "val" else h.train_acc)]
              for label, h in _runs(runs).items()}
    empty = [label for label, values in curves.items() if not values]
    if empty:
        raise ValueError(f"runs {empty} have no {split} accuracy: train with val_batches to record it")
    return plot_curves(curves, unit="epoch", ylabel="accuracy (%)", ax=ax, title=f"{split} accuracy")


def plot_history(runs: Runs) -> list[Axes]:
    """LR, step loss and (if recorded) validation accuracy side by side."""
    runs = _runs(runs)
    with_val = all(h.val_acc for h in runs.values())
    axes = new_axes(3 if with_val else 2)
    plot_history_lr(runs, ax=axes[0])
    plot_history_loss(runs, ax=axes[1])
    if with_val:
        plot_history_accuracy(runs, ax=axes[2])
    return axes
