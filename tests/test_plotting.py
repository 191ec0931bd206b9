import matplotlib.pyplot as plt
import pytest

from lrcourse import new_axes, plot_curves, plot_schedules
from lrcourse.classroom import plot_quadratic_paths
from lrcourse.classroom.toy import Quadratic, gradient_descent


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
        (lambda: plot_curves({"a": [1.0]}, styles={"a": "red"}), TypeError, "styles must map labels to dicts"),
    ],
)
def test_plot_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_styles_draw_a_label_alike_on_every_axes():
    styles = {"wsd": {"color": "#123456", "linestyle": ":"}}
    left, right = new_axes(2)
    plot_schedules({"cosine": [1.0, 0.5], "wsd": [1.0, 0.0]}, ax=left, styles=styles)
    plot_curves({"wsd": [2.0, 1.0], "cosine": [2.0, 1.5]}, ax=right, styles=styles)
    for ax in (left, right):
        line = next(line for line in ax.get_lines() if line.get_label() == "wsd")
        assert line.get_color() == "#123456" and line.get_linestyle() == ":"
    other = [line.get_color() for ax in (left, right) for line in ax.get_lines() if line.get_label() == "cosine"]
    assert "#123456" not in other  # a label without a style follows the cycle


def test_new_axes_grid_is_flat():
    assert len(new_axes(2, 2)) == 4


def test_plot_quadratic_paths():
    q = Quadratic()
    ax = plot_quadratic_paths(q, {"a": gradient_descent(q, (1.0, 1.0), 0.1, 5)})
    assert len(ax.get_lines()) == 2  # the path and the minimum marker


def test_new_axes_refuses_figures_wider_than_the_page_column():
    with pytest.raises(ValueError, match=r"figsize must be .* width <= 7.5 .*got figsize=\(12, 3.8\)"):
        new_axes(2, figsize=(12, 3.8))
    with pytest.raises(ValueError, match=r"ncols must be an integer from 1 to 3 \(got ncols=5\)"):
        new_axes(5)
    for ncols, nrows in ((1, 1), (2, 1), (3, 1), (1, 3), (2, 4)):
        width, height = new_axes(ncols, nrows)[0].figure.get_size_inches()
        assert width <= 7.5 and height > 0


def test_curves_differ_in_line_style_as_well_as_colour():
    from lrcourse.plotting import PALETTE

    ax = plot_schedules({f"s{i}": [1.0, 0.5] for i in range(4)})
    lines = ax.get_lines()
    assert len({line.get_linestyle() for line in lines}) == 4
    assert [line.get_color().lower() for line in lines] == [c.lower() for c in PALETTE[:4]]


def test_legend_text_is_not_smaller_than_the_axis_labels():
    ax = plot_curves({"a": [1.0, 0.5], "b": [2.0, 1.0]})
    legend_size = ax.get_legend().get_texts()[0].get_fontsize()
    assert legend_size >= ax.xaxis.label.get_fontsize()
