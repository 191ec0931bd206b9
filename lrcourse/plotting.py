"""One plot style for every figure in the book: schedules, loss curves, trajectories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

__all__ = ["new_axes", "plot_schedules", "plot_curves", "plot_quadratic_paths"]

UNITS = ("optimizer step", "epoch")
FIGSIZE = (7.0, 3.6)


def new_axes(ncols: int = 1, nrows: int = 1, *, figsize: tuple[float, float] | None = None) -> list[Axes]:
    """A grid of axes in the book's figure size, returned as a flat list in reading order."""
    if figsize is None:
        figsize = (FIGSIZE[0] if ncols == 1 else 4.2 * ncols, FIGSIZE[1] * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    return list(axes.flat)


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS} (got unit={unit!r})")
    return unit


def _check_series(series: Mapping[str, Sequence[float]], name: str) -> None:
    if not isinstance(series, Mapping) or not series:
        raise TypeError(f"{name} must be a non-empty mapping of label -> list of values (got {type(series).__name__})")
    for label, values in series.items():
        if len(values) == 0:
            raise ValueError(f"{name}[{label!r}] is empty; there is nothing to plot")


def _finish(ax: Axes, *, xlabel: str, ylabel: str, log: bool, title: str | None, legend: bool) -> Axes:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_schedules(
    schedules: Mapping[str, Sequence[float]],
    *,
    unit: str = "optimizer step",
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot learning-rate schedules (e.g. from :func:`lrcourse.preview.preview`) on one axes.

    Args:
        schedules: label -> LR at each step (or epoch), starting at 0.
        unit: what the x axis counts, ``"optimizer step"`` or ``"epoch"``.
        log: logarithmic LR axis, for schedules spanning decades.
        title: optional axes title.
        ax: axes to draw on; a new figure is made when omitted.
    """
    _check_unit(unit)
    _check_series(schedules, "schedules")
    ax = ax if ax is not None else new_axes()[0]
    for label, lrs in schedules.items():
        # A step plot: the LR is constant over each step, and jumps happen between steps.
        ax.step(range(len(lrs)), lrs, where="post", label=label, linewidth=1.6)
    return _finish(ax, xlabel=unit, ylabel="learning rate", log=log, title=title, legend=len(schedules) > 1)


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    unit: str = "optimizer step",
    ylabel: str = "loss",
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot loss (or any metric) curves, one line per label; non-finite values leave a gap."""
    _check_unit(unit)
    _check_series(curves, "curves")
    ax = ax if ax is not None else new_axes()[0]
    for label, values in curves.items():
        ax.plot(range(len(values)), values, label=label, linewidth=1.4)
    return _finish(ax, xlabel=unit, ylabel=ylabel, log=log, title=title, legend=len(curves) > 1)


def plot_quadratic_paths(
    problem: object,
    paths: Mapping[str, Sequence[Sequence[float]]],
    *,
    extent: float = 2.0,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Contours of a 2-D quadratic (:class:`lrcourse.toy.Quadratic`) with gradient-descent paths on top.

    Points outside ``[-extent, extent]`` are clipped by the axes, so a diverging path is seen
    leaving the frame.
    """
    import torch

    _check_series(paths, "paths")
    ax = ax if ax is not None else new_axes()[0]
    grid = torch.linspace(-extent, extent, 201, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="xy")
    zz = problem.value(torch.stack([xx, yy], dim=-1))  # type: ignore[attr-defined]
    ax.contour(xx.numpy(), yy.numpy(), zz.numpy(), levels=12, colors="0.75", linewidths=0.8)
    for label, path in paths.items():
        points = torch.as_tensor(path, dtype=torch.float64)
        ax.plot(points[:, 0].numpy(), points[:, 1].numpy(), marker=".", markersize=4, linewidth=1.2, label=label)
    ax.plot([0], [0], marker="*", color="black", markersize=10, linestyle="none")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    if len(paths) > 1:
        ax.legend(frameon=False, fontsize="small", loc="upper left")
    return ax
