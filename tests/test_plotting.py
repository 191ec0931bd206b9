import matplotlib.pyplot as plt
import pytest

from lrcourse import new_axes, plot_curves, plot_quadratic_paths, plot_schedules
from lrcourse.toy import Quadratic, gradient_descent


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_schedules_labels_units_and_log_scale():
    ax = plot_schedules({"a": [1.0, 0.5, 0.25], "b": [0.1, 0.1, 0.1]}, unit="epoch", log=True, title="t")
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "learning rate"
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_legend() is not None


def test_plot_curves_draws_on_given_axes():
    ax = new_axes(2)[1]
    assert plot_curves({"loss": [3.0, 2.0, 1.0]}, ax=ax) is ax
    assert ax.get_xlabel() == "optimizer step" and ax.get_ylabel() == "loss"
    assert list(ax.get_lines()[0].get_ydata()) == [3.0, 2.0, 1.0]
    assert ax.get_legend() is None  # one curve needs no legend


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: plot_schedules({"a": [1.0]}, unit="batch"), ValueError, r"unit must be one of .* \(got unit='batch'\)"),
        (lambda: plot_schedules({}), TypeError, "schedules must be a non-empty mapping"),
        (lambda: plot_schedules([0.1, 0.2]), TypeError, "schedules must be a non-empty mapping"),
        (lambda: plot_curves({"a": []}), ValueError, r"curves\['a'\] is empty"),
    ],
)
def test_plot_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_new_axes_grid_is_flat():
    assert len(new_axes(2, 2)) == 4


def test_plot_quadratic_paths():
    q = Quadratic()
    ax = plot_quadratic_paths(q, {"a": gradient_descent(q, (1.0, 1.0), 0.1, 5)})
    assert len(ax.get_lines()) == 2  # the path and the minimum marker
