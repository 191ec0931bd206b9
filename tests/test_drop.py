"""lrcourse.lab.drop: the loss either side of a drop, and the epoch-to-epoch jumps around it."""

import math

import pytest

from lrcourse.lab.drop import drop_effect


def test_values_either_side_and_the_relative_change():
    losses = [2.0, 1.0, 2.0, 1.0, 0.5, 0.5, 0.25]
    d = drop_effect(losses, 4, window=3)
    assert (d.epoch, d.before, d.after, d.end) == (4, 1.0, 0.5, 0.25)
    assert d.change == -0.5
    # before: epochs 1..3 (1 -> 2 -> 1): jumps +100 % and -50 %
    assert d.jump_before == pytest.approx((1.0 + 0.5) / 2)
    # after: epochs 4..6 (0.5 -> 0.5 -> 0.25): jumps 0 % and -50 %
    assert d.jump_after == pytest.approx((0.0 + 0.5) / 2)


def test_the_window_is_cut_at_the_ends_of_the_run():
    losses = [4.0, 2.0, 1.0, 1.0, 1.0]
    d = drop_effect(losses, 2, window=10)  # before: epochs 0-1 only; after: epochs 2-4
    assert d.jump_before == pytest.approx(0.5)
    assert d.jump_after == 0.0


def test_the_seed_articles_log_jumps_before_its_drop_and_calms_after():
    # the seed's printed validation losses, epochs 10-29 (drop at 20)
    valid = [0.794440, 1.900850, 0.752651, 1.112544, 0.942357, 0.729420, 0.842467, 0.792635,
             1.025345, 0.651725, 0.491904, 0.478969, 0.455259, 0.465930, 0.455458, 0.462319,
             0.442525, 0.457620, 0.451055, 0.448706]
    d = drop_effect([1.0] * 10 + valid, 20)
    assert d.change == pytest.approx(0.491904 / 0.651725 - 1)
    assert d.jump_before > 10 * d.jump_after


@pytest.mark.parametrize("losses, epoch, window, message", [
    ([1.0, 2.0, 3.0], 1, 10, "losses must hold at least 4 epochs"),
    ([1.0, math.nan, 1.0, 1.0], 2, 10, "positive finite numbers (got nan at epoch 1)"),
    ([1.0, 0.0, 1.0, 1.0], 2, 10, "(got 0.0 at epoch 1)"),
    ([1.0] * 6, 1, 10, "epoch must be an integer >= 2 (got epoch=1)"),
    ([1.0] * 6, 5, 10, "epoch must be an integer >= 2 and <= 4 (got epoch=5)"),
    ([1.0] * 6, 3, 1, "window must be an integer >= 2 (got window=1)"),
])
def test_bad_input_names_the_parameter_and_what_is_valid(losses, epoch, window, message):
    with pytest.raises(ValueError) as info:
        drop_effect(losses, epoch, window)
    assert message in str(info.value)


def test_a_non_integer_epoch_is_refused():
    with pytest.raises(TypeError, match="epoch must be an integer"):
        drop_effect([1.0] * 6, 2.0)
