"""The two pictures of a search, drawn by Optuna's own matplotlib plots at the book's width:
which parameters mattered (:func:`plot_importance`), and how the best result grew with the
trials (:func:`plot_history`). :func:`save_plots` writes both next to a search's summary.

The importance is PED-ANOVA's (Watanabe et al. 2023, in Optuna): how much each parameter's
distribution differs between the best trials (the top 10 % by value) and all of them. Unlike
Optuna's default, fANOVA, it needs no scikit-learn, and it copes with the warmup being sampled for
some families only. With 30 trials the "best 10 %" are three trials: a rough guide, not a measurement.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["plot_best_so_far", "plot_history", "plot_importance", "save_plots"]

WIDTH = 7.0  # inches: the content column of the book at 100 dpi


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import matplotlib.pyplot as plt
    import optuna

    # Optuna's plots switch matplotlib to its ggplot style for good (plt.style.use); rc_context
    # gives the reader's style back afterwards.
    with plt.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the plots are "experimental"
        # PED-ANOVA says so when too few trials separate the best from the rest, or fall in one
        # part of a parameter's range; the module docstring says what that means for the plot.
        warnings.filterwarnings("ignore", message="Target and region quantiles", category=UserWarning)
        warnings.filterwarnings("ignore", message="Some regimes for parameter", category=UserWarning)
        yield


def plot_importance(study: Any) -> Any:
    """Optuna's importance plot of ``study`` with PED-ANOVA; returns the Axes."""
    from optuna.importance import PedAnovaImportanceEvaluator
    from optuna.visualization.matplotlib import plot_param_importances

    with _quiet():
        ax = plot_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
    ax.figure.set_size_inches(WIDTH, 2.6)
    ax.set_title("", loc="left")  # Optuna's own title, replaced by one that names the study and the method
    ax.set_title(f"{study.study_name}: parameter importance (PED-ANOVA)", fontsize=10)
    if ax.get_legend() is not None:
        ax.get_legend().remove()  # one bar per parameter; the legend only said "Objective Value"
    ax.figure.tight_layout()
    return ax


def plot_history(study: Any) -> Any:
    """Optuna's optimization history of ``study``: each complete trial's value, and the best so far.

    A diverged trial scores 0; the axis starts just below the lowest trial that trained, so that
    the ones that did stay readable.
    """
    from optuna.trial import TrialState
    from optuna.visualization.matplotlib import plot_optimization_history

    with _quiet():
        ax = plot_optimization_history(study)
    ax.figure.set_size_inches(WIDTH, 3.6)
    ax.set_title("", loc="left")
    ax.set_title("each complete trial's value, and the best so far", fontsize=10)
    ax.set_ylabel("validation accuracy")
    trained = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value > 0]
    if trained:
        ax.set_ylim(max(0.0, min(trained) - 0.02), max(trained) + 0.01)
    ax.legend(loc="lower right", fontsize=8)  # Optuna puts it outside the axes, squeezing them
    ax.figure.tight_layout()
    return ax


def plot_best_so_far(studies: Mapping[str, Any], ax: Any = None, start: float | None = None) -> Any:
    """The best validation accuracy (%) after each finished trial, one line per search in
    ``studies`` (label -> study): how fast each search found what it found."""
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    if ax is None:
        ax = plt.subplots(figsize=(WIDTH, 3.6))[1]
    styles = ("-", "--", "-.", ":")
    for i, (label, study) in enumerate(studies.items()):
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        best, curve = float("-inf"), []
        for t in finished:
            if t.state == TrialState.COMPLETE:
                best = max(best, 100 * t.value)
            curve.append(best)
        ax.step(range(1, len(curve) + 1), curve, where="post", label=label, linestyle=styles[i % len(styles)])
    ax.set(xlabel="finished trials", ylabel="best validation accuracy (%)")
    if start is not None:
        ax.set_ylim(bottom=start)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def save_plots(out: Path, study: Any) -> list[Path]:
    """``importance.png`` and ``history.png`` in ``out``; the importance needs two complete trials."""
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    paths = []
    ax = plot_history(study)
    ax.figure.savefig(out / "history.png", dpi=100)
    plt.close(ax.figure)
    paths.append(out / "history.png")
    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) >= 2:
        ax = plot_importance(study)
        ax.figure.savefig(out / "importance.png", dpi=100)
        plt.close(ax.figure)
        paths.append(out / "importance.png")
    return paths
