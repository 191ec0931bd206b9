"""Figures only the book draws: gradient-descent paths on a 2-D quadratic (chapter 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import torch

from ..plotting import LEGEND_FONTSIZE, _check_series, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_quadratic_paths"]


def plot_quadratic_paths(
    problem: object,
    paths: Mapping[str, Sequence[Sequence[float]]],
    *,
    extent: float = 2.0,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Contours of a 2-D quadratic (:class:`lrcourse.classroom.toy.Quadratic`) with gradient-descent paths on top.

    Points outside ``[-extent, extent]`` are clipped by the axes, so a diverging path is seen
    leaving the frame.
    """
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
        ax.legend(frameon=False, fontsize=LEGEND_FONTSIZE, loc="upper left")
    return ax
