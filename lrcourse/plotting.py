"""One plot style for every figure in the book: schedules and loss curves.

Figures are drawn for the page they end up on. The book's content column is about 700 pixels
wide; a figure drawn wider is shrunk to fit, and its text with it, so :func:`new_axes` refuses
figures wider than :data:`MAX_WIDTH` inches (at 100 dpi) and multi-panel figures are stacked in
rows rather than spread in columns. Curves are told apart by colour *and* line style: the colours
are the Okabe-Ito palette, which stays distinct under the common forms of colour blindness.

Matplotlib is imported by the functions that draw, not by this module, so ``import lrcourse``
needs torch alone; drawing without matplotlib installed raises an error that says what to install.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MAX_WIDTH", "PALETTE", "new_axes", "plot_schedules", "plot_curves"]

UNITS = ("optimizer step", "epoch")
#: Widest figure, in inches at 100 dpi, that fits the page column without shrinking its text.
MAX_WIDTH = 7.5
FIGSIZE = (7.0, 3.6)
# Okabe & Ito (2008), "Color universal design": blue, vermillion, bluish green, orange,
# reddish purple, sky blue, black (yellow is left out: it is unreadable on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))
# Matplotlib's "small" legend (8.3 pt) ends up below the size of the page's footnotes.
LEGEND_FONTSIZE = "medium"


def pyplot() -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "drawing needs matplotlib, which lrcourse's library does not install: "
            "pip install 'lrcourse[plot]' (or matplotlib)", name=error.name
        ) from None
    return plt


def style_cycle() -> Any:
    """The book's property cycle: :data:`PALETTE` colours paired with :data:`LINESTYLES`."""
    pyplot()  # the same message when matplotlib (which brings cycler) is missing
    from cycler import cycler

    return cycler(color=PALETTE) + cycler(linestyle=LINESTYLES)


def new_axes(ncols: int = 1, nrows: int = 1, *, figsize: tuple[float, float] | None = None) -> list[Axes]:
    """A grid of axes in the book's figure size and style, as a flat list in reading order.

    Args:
        ncols: panels side by side, at most 3 (more would be too narrow to read).
        nrows: panels stacked; prefer this to columns for anything with a legend.
        figsize: ``(width, height)`` in inches; the width must be at most :data:`MAX_WIDTH`.
            Default: 7.0 wide, 3.6 high per row (2.8 per row when there are several columns).
    """
    for name, value, high in (("ncols", ncols, 3), ("nrows", nrows, 12)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ValueError(f"{name} must be an integer from 1 to {high} (got {name}={value!r})")
    if figsize is None:
        figsize = (FIGSIZE[0], (FIGSIZE[1] if ncols == 1 else 2.8) * nrows)
    if len(figsize) != 2 or not 0 < figsize[0] <= MAX_WIDTH or not 0 < figsize[1] <= 24:
        raise ValueError(
            f"figsize must be (width, height) with 0 < width <= {MAX_WIDTH} and 0 < height <= 24 inches "
            f"(got figsize={tuple(figsize)!r}); a wider figure is shrunk to the page column and its "
            "text becomes unreadable: stack the panels with nrows instead"
        )
    fig, axes = pyplot().subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    cycle = style_cycle()
    for ax in axes.flat:
        ax.set_prop_cycle(cycle)
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


def _check_styles(styles: Mapping[str, Mapping[str, Any]] | None,
                  series: Mapping[str, Sequence[float]]) -> Mapping[str, Mapping[str, Any]]:
    if styles is None:
        return {}
    if not isinstance(styles, Mapping) or not all(isinstance(v, Mapping) for v in styles.values()):
        raise TypeError(f"styles must map labels to dicts of line keywords, e.g. {{'cosine': {{'color': 'C0'}}}} "
                        f"(got {styles!r})")
    return styles


def _finish(ax: Axes, *, xlabel: str, ylabel: str, log: bool, title: str | None, legend: bool) -> Axes:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(frameon=False, fontsize=LEGEND_FONTSIZE)
    return ax


def plot_schedules(
    schedules: Mapping[str, Sequence[float]],
    *,
    unit: str = "optimizer step",
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Axes:
    """Plot learning-rate schedules (e.g. from :func:`lrcourse.preview.preview`) on one axes.

    Args:
        schedules: label -> LR at each step (or epoch), starting at 0.
        unit: what the x axis counts, ``"optimizer step"`` or ``"epoch"``.
        log: logarithmic LR axis, for schedules spanning decades.
        title: optional axes title.
        ax: axes to draw on; a new figure is made when omitted.
        styles: label -> line keywords (``color``, ``linestyle``...), to draw a label alike on
            every axes of a figure; labels without one follow the style cycle.
    """
    _check_unit(unit)
    _check_series(schedules, "schedules")
    styles = _check_styles(styles, schedules)
    ax = ax if ax is not None else new_axes()[0]
    for label, lrs in schedules.items():
        # A step plot: the LR is constant over each step, and jumps happen between steps.
        ax.step(range(len(lrs)), lrs, where="post", label=label, **{"linewidth": 1.8, **styles.get(label, {})})
    return _finish(ax, xlabel=unit, ylabel="learning rate", log=log, title=title, legend=len(schedules) > 1)


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    unit: str = "optimizer step",
    ylabel: str = "loss",
    log: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Axes:
    """Plot loss (or any metric) curves, one line per label; non-finite values leave a gap.
    ``styles`` as in :func:`plot_schedules`."""
    _check_unit(unit)
    _check_series(curves, "curves")
    styles = _check_styles(styles, curves)
    ax = ax if ax is not None else new_axes()[0]
    for label, values in curves.items():
        ax.plot(range(len(values)), values, label=label, **{"linewidth": 1.6, **styles.get(label, {})})
    return _finish(ax, xlabel=unit, ylabel=ylabel, log=log, title=title, legend=len(curves) > 1)
