"""Tests for lrcourse.schedules: values worked out by hand, shapes, and argument checks.

The step-by-step comparison with float64 references for every schedule is in
``test_schedulers.py``; here each expected number follows from the formula with pencil and paper.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from validation_table import validation_table_tests

import lrcourse.schedules as schedules_module
from lrcourse.schedules import (
    WSD_DECAYS,
    inverse_sqrt_factor,
    warmup_constant_factor,
    warmup_cosine_factor,
    warmup_exp_factor,
    warmup_linear_factor,
    warmup_poly_factor,
    warmup_ramp_factor,
    wsd_factor,
)

# --- values worked out by hand ---------------------------------------------------------------------


def test_ramp_to_full_reaches_one_at_the_last_warmup_step() -> None:
    assert [warmup_ramp_factor(t, 4) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup_ramp_factor(0, 0) == 1.0
    assert warmup_ramp_factor(0, 1) == 1.0


def test_warmup_exp() -> None:
    assert [warmup_exp_factor(t, 4, 0.5) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert warmup_exp_factor(4, 4, 0.5) == math.exp(-0.5)
    assert warmup_exp_factor(7, 4, 0.5) == math.exp(-2.0)
    # log(2) / gamma steps after the peak halve the LR
    gamma = math.log(2) / 10
    assert warmup_exp_factor(3 + 10, 4, gamma) == pytest.approx(0.5, rel=1e-12)
    # without warmup the decay starts one factor below 1, at step 0
    assert warmup_exp_factor(0, 0, 0.5) == math.exp(-0.5)
    assert warmup_exp_factor(100, 4, 0.0) == 1.0


def test_warmup_constant() -> None:
    assert [warmup_constant_factor(t, 4) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert warmup_constant_factor(0, 0) == 1.0
    assert warmup_constant_factor(10**9, 4) == 1.0


def test_warmup_linear() -> None:
    assert [warmup_linear_factor(t, 2, 6) for t in range(9)] == [
        0.0,
        0.5,
        1.0,
        0.75,
        0.5,
        0.25,
        0.0,
        0.0,
        0.0,
    ]
    assert warmup_linear_factor(0, 0, 1) == 1.0
    assert warmup_linear_factor(1, 0, 1) == 0.0
    # warmup over the whole run: the ramp, then 0
    assert [warmup_linear_factor(t, 4, 4) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 0.0, 0.0]


def test_warmup_cosine() -> None:
    assert [warmup_cosine_factor(t, 2, 6) for t in range(2)] == [0.0, 0.5]
    assert warmup_cosine_factor(2, 2, 6) == 1.0
    assert warmup_cosine_factor(4, 2, 6) == pytest.approx(0.5, abs=1e-15)  # cos(pi / 2) = 0
    assert warmup_cosine_factor(6, 2, 6) == 0.0  # cos(pi) = -1 exactly in floating point
    # no clamp after total_steps: the half cosine climbs back, symmetric around the end
    assert warmup_cosine_factor(8, 2, 6) == pytest.approx(0.5, abs=1e-15)
    assert warmup_cosine_factor(10, 2, 6) == 1.0
    # one full cycle: down and up again within the run
    assert warmup_cosine_factor(2, 0, 4, num_cycles=1.0) == 0.0
    assert warmup_cosine_factor(4, 0, 4, num_cycles=1.0) == 1.0
    # a floor maps [0, 1] onto [min_lr_ratio, 1]
    assert warmup_cosine_factor(6, 2, 6, min_lr_ratio=0.2) == 0.2
    assert warmup_cosine_factor(4, 2, 6, min_lr_ratio=0.2) == pytest.approx(0.6, abs=1e-15)
    assert warmup_cosine_factor(5, 2, 6, min_lr_ratio=1.0) == 1.0
    # warmup over the whole run: progress is 0 at total_steps (transformers), so the full LR
    assert warmup_cosine_factor(4, 4, 4) == 1.0


def test_warmup_poly() -> None:
    # lr_init 1, lr_end 0, power 2: the square of the remaining fraction
    assert warmup_poly_factor(4, 2, 6, lr_init=1.0, lr_end=0.0, power=2.0) == 0.25
    assert warmup_poly_factor(2, 2, 6, lr_init=1.0, lr_end=0.0, power=2.0) == 1.0
    # linear from lr_init 2 to lr_end 0.2: halfway the LR is 1.1, the multiplier 0.55
    assert warmup_poly_factor(4, 2, 6, lr_init=2.0, lr_end=0.2) == pytest.approx(0.55, rel=1e-15)
    # at and after total_steps: lr_end / lr_init
    assert warmup_poly_factor(6, 2, 6, lr_init=2.0, lr_end=0.2) == 0.1
    assert warmup_poly_factor(600, 2, 6, lr_init=2.0, lr_end=0.2) == 0.1
    # warmup over the whole run jumps from the ramp to the end value
    assert warmup_poly_factor(3, 4, 4, lr_init=2.0, lr_end=0.2) == 0.75
    assert warmup_poly_factor(4, 4, 4, lr_init=2.0, lr_end=0.2) == 0.1


def test_inverse_sqrt_transformers_form() -> None:
    assert [inverse_sqrt_factor(t, 4) for t in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert inverse_sqrt_factor(16, 4) == 0.5  # 1 / sqrt(16 / 4)
    assert inverse_sqrt_factor(4 + 3 * 5, 4, timescale=5) == 0.5  # 1 / sqrt((3 * 5 + 5) / 5)
    # without warmup the time scale defaults to 10 000
    assert inverse_sqrt_factor(0, 0) == 1.0
    assert inverse_sqrt_factor(30_000, 0) == 0.5


def test_inverse_sqrt_vaswani_form() -> None:
    d_model, warmup = 512, 4000
    peak = (d_model * warmup) ** -0.5
    assert inverse_sqrt_factor(warmup - 1, warmup, d_model=d_model) == pytest.approx(peak, rel=1e-12)
    assert inverse_sqrt_factor(0, warmup, d_model=d_model) == pytest.approx(peak / warmup, rel=1e-12)
    assert inverse_sqrt_factor(4 * warmup - 1, warmup, d_model=d_model) == pytest.approx(peak / 2, rel=1e-12)
    values = [inverse_sqrt_factor(t, warmup, d_model=d_model) for t in range(0, 3 * warmup, 97)]
    assert max(values) <= peak * (1 + 1e-12)


def test_wsd_phases() -> None:
    # warmup 2 from 0.1, stable 3, decay 4, floor 0.1
    args = {"warmup_steps": 2, "stable_steps": 3, "decay_steps": 4, "min_lr_ratio": 0.1}
    assert wsd_factor(0, **args) == 0.1
    assert wsd_factor(1, **args) == pytest.approx(0.55, rel=1e-15)
    assert [wsd_factor(t, **args) for t in (2, 3, 4, 5)] == [1.0, 1.0, 1.0, 1.0]
    assert wsd_factor(7, **args) == pytest.approx(0.55, rel=1e-15)  # linear, halfway
    assert wsd_factor(7, **args, decay="cosine") == pytest.approx(0.55, rel=1e-15)  # cos(pi / 2) = 0
    assert wsd_factor(6, **args, decay="1-sqrt") == pytest.approx(0.55, rel=1e-15)  # 1 - sqrt(1 / 4)
    assert [wsd_factor(t, **args) for t in (9, 10, 1000)] == [0.1, 0.1, 0.1]
    # no decay phase: straight to the floor after the stable phase
    assert wsd_factor(5, 2, 3, 0, min_lr_ratio=0.3) == 0.3


# --- shapes on a grid ------------------------------------------------------------------------------

BOUNDED: dict[str, Callable[[int, int, int], float]] = {
    "ramp": lambda t, w, total: warmup_ramp_factor(t, w),
    "exp": lambda t, w, total: warmup_exp_factor(t, w, 0.01),
    "constant": lambda t, w, total: warmup_constant_factor(t, w),
    "linear": lambda t, w, total: warmup_linear_factor(t, w, total),
    "cosine": lambda t, w, total: warmup_cosine_factor(t, w, total, min_lr_ratio=0.1),
    "poly": lambda t, w, total: warmup_poly_factor(t, w, total, lr_init=0.1, power=2.0),
    "inverse_sqrt": lambda t, w, total: inverse_sqrt_factor(t, w),
    **{
        f"wsd-{decay}": (
            lambda t, w, total, decay=decay: wsd_factor(
                t, w, (total - w) // 2, total - w - (total - w) // 2, decay, 0.1
            )
        )
        for decay in WSD_DECAYS
    },
}


@pytest.mark.parametrize("name", BOUNDED)
def test_multiplier_is_in_unit_interval_rises_in_warmup_and_falls_after(name: str) -> None:
    schedule = BOUNDED[name]
    warmup, total = 10, 100
    values = [schedule(t, warmup, total) for t in range(total)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(a < b for a, b in itertools.pairwise(values[:warmup]))
    assert max(values) == 1.0
    assert all(a >= b for a, b in itertools.pairwise(values[warmup:]))


# --- argument checks -------------------------------------------------------------------------------

FUNCTIONS: dict[str, tuple[Callable[..., float], dict[str, Any]]] = {
    "warmup_ramp_factor": (warmup_ramp_factor, {"step": 0, "warmup_steps": 3}),
    "warmup_exp_factor": (warmup_exp_factor, {"step": 0, "warmup_steps": 3, "gamma": 0.1}),
    "warmup_constant_factor": (warmup_constant_factor, {"step": 0, "warmup_steps": 3}),
    "warmup_linear_factor": (warmup_linear_factor, {"step": 0, "warmup_steps": 3, "total_steps": 10}),
    "warmup_cosine_factor": (warmup_cosine_factor, {"step": 0, "warmup_steps": 3, "total_steps": 10}),
    "warmup_poly_factor": (
        warmup_poly_factor,
        {"step": 0, "warmup_steps": 3, "total_steps": 10, "lr_init": 0.1},
    ),
    "inverse_sqrt_factor": (inverse_sqrt_factor, {"step": 0, "warmup_steps": 3}),
    "wsd_factor": (wsd_factor, {"step": 0, "warmup_steps": 2, "stable_steps": 3, "decay_steps": 4}),
}

STEP_CASES = [
    ("step", {"step": -1}, ValueError, "step must be an integer >= 0 (got step=-1)"),
    ("step", {"step": 1.0}, TypeError, "step must be an integer >= 0 (got step=1.0 of type float)"),
]
WARMUP_CASES = [
    (
        "warmup_steps",
        {"warmup_steps": -1},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-1)",
    ),
    (
        "warmup_steps",
        {"warmup_steps": False},
        TypeError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=False of type bool)",
    ),
]
TOTAL_CASES = [
    (
        "total_steps",
        {"total_steps": 0, "warmup_steps": 0},
        ValueError,
        "total_steps must be an integer >= 1 (got total_steps=0)",
    ),
    (
        "warmup_steps",
        {"warmup_steps": 20},
        ValueError,
        "warmup_steps must be <= total_steps (got warmup_steps=20, total_steps=10)",
    ),
]

# (function, parameter the case checks, arguments replacing the defaults, error, message)
INVALID: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    *[(name, *case) for name in FUNCTIONS for case in STEP_CASES + WARMUP_CASES],
    *[
        (name, *case)
        for name in ("warmup_linear_factor", "warmup_cosine_factor", "warmup_poly_factor")
        for case in TOTAL_CASES
    ],
    (
        "warmup_exp_factor",
        "gamma",
        {"gamma": -1.0},
        ValueError,
        "gamma must be a finite number >= 0 (got gamma=-1.0)",
    ),
    (
        "warmup_exp_factor",
        "gamma",
        {"gamma": float("nan")},
        ValueError,
        "gamma must be a finite number >= 0 (got gamma=nan)",
    ),
    (
        "warmup_cosine_factor",
        "num_cycles",
        {"num_cycles": -0.5},
        ValueError,
        "num_cycles must be a finite number > 0 (got num_cycles=-0.5)",
    ),
    (
        "warmup_cosine_factor",
        "min_lr_ratio",
        {"min_lr_ratio": 1.01},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=1.01)",
    ),
    (
        "warmup_poly_factor",
        "lr_init",
        {"lr_init": 0.0},
        ValueError,
        "lr_init must be a finite number > 0 (got lr_init=0.0)",
    ),
    (
        "warmup_poly_factor",
        "lr_init",
        {"lr_init": None},
        TypeError,
        "lr_init must be a finite number > 0 (got lr_init=None of type NoneType)",
    ),
    (
        "warmup_poly_factor",
        "lr_end",
        {"lr_end": 0.2},
        ValueError,
        "lr_end must be < lr_init (got lr_end=0.2, lr_init=0.1)",
    ),
    (
        "warmup_poly_factor",
        "lr_end",
        {"lr_end": float("inf")},
        ValueError,
        "lr_end must be a finite number >= 0 (got lr_end=inf)",
    ),
    (
        "warmup_poly_factor",
        "power",
        {"power": -1},
        ValueError,
        "power must be a finite number > 0 (got power=-1.0)",
    ),
    (
        "inverse_sqrt_factor",
        "timescale",
        {"timescale": -5},
        ValueError,
        "timescale must be an integer >= 1 (got timescale=-5)",
    ),
    (
        "inverse_sqrt_factor",
        "d_model",
        {"d_model": 512.0},
        TypeError,
        "d_model must be an integer >= 1 (got d_model=512.0 of type float)",
    ),
    (
        "inverse_sqrt_factor",
        "d_model",
        {"d_model": 8, "timescale": 3},
        ValueError,
        "timescale must be None when d_model is given: they select different forms (got timescale=3, d_model=8)",
    ),
    (
        "wsd_factor",
        "stable_steps",
        {"stable_steps": -1},
        ValueError,
        "stable_steps must be an integer >= 0 (got stable_steps=-1)",
    ),
    (
        "wsd_factor",
        "decay_steps",
        {"decay_steps": -1},
        ValueError,
        "decay_steps must be an integer >= 0 (got decay_steps=-1)",
    ),
    (
        "wsd_factor",
        "decay",
        {"decay": "Linear"},
        ValueError,
        "decay must be one of 'linear', 'cosine', '1-sqrt' (got decay='Linear')",
    ),
    (
        "wsd_factor",
        "min_lr_ratio",
        {"min_lr_ratio": float("-inf")},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=-inf)",
    ),
]


(
    test_invalid_argument_is_rejected_with_name_and_value,
    test_every_parameter_has_a_validation_case,
    test_every_public_function_is_covered_by_the_table,
) = validation_table_tests(schedules_module, FUNCTIONS, INVALID)


def test_wsd_decay_names() -> None:
    assert WSD_DECAYS == ("linear", "cosine", "1-sqrt")


# --- counts no float holds are refused, not overflowed ------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: warmup_linear_factor(0, 0, 10**400), "total_steps must be an integer >= 1 and <= 2**53 (got total_steps=1.000e+400)"),
        (lambda: warmup_cosine_factor(10**400, 0, 10), "step must be an integer >= 0 and <= 2**53 (got step=1.000e+400)"),
        (lambda: wsd_factor(0, 0, 10**400, 1), "stable_steps must be an integer >= 0 and <= 2**53 (got stable_steps=1.000e+400)"),
        (lambda: inverse_sqrt_factor(0, 4, d_model=10**400), "d_model must be an integer >= 1 and <= 2**53 (got d_model=1.000e+400)"),
        (lambda: warmup_exp_factor(0, 3, 10**400), "gamma must be a finite number >= 0 (got gamma=1.000e+400)"),
    ],
    ids=["total_steps", "step", "stable_steps", "d_model", "gamma"],
)
def test_huge_values_are_refused_with_the_usual_message(call, message) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


def test_2_53_is_the_largest_count() -> None:
    assert warmup_linear_factor(2**53, 0, 2**53) == 0.0
    with pytest.raises(ValueError, match=re.escape("(got total_steps=9007199254740993)")):
        warmup_linear_factor(0, 0, 2**53 + 1)
