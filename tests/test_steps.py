"""Tests for lrcourse.steps: counting optimizer steps and stepping the scheduler under AMP."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from validation_table import validation_table_tests
import torch

import lrcourse.steps as steps_module
from lrcourse import warmup_linear
from lrcourse.steps import epochs_to_steps, scaler_step, steps_per_epoch, steps_to_epochs

# --- steps_per_epoch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset_size", "batch_size", "drop_last", "grad_accum_steps", "expected"),
    [
        (50_000, 512, False, 1, 98),  # 97.66 batches, the last one partial
        (50_000, 512, True, 1, 97),
        (50_000, 512, False, 4, 25),  # 98 micro-batches = 24 full windows + 1 partial
        (50_000, 512, True, 4, 25),  # 97 = 24 * 4 + 1
        (50_000, 500, False, 4, 25),  # 100 micro-batches, no remainder
        (10, 3, False, 2, 2),  # batches 3, 3, 3, 1
        (10, 3, True, 2, 2),  # batches 3, 3, 3
        (10, 3, True, 3, 1),
        (7, 10, False, 1, 1),  # one partial batch
        (1, 1, False, 8, 1),
    ],
)
def test_steps_per_epoch_worked_examples(
    dataset_size: int, batch_size: int, drop_last: bool, grad_accum_steps: int, expected: int
) -> None:
    assert steps_per_epoch(dataset_size, batch_size, drop_last, grad_accum_steps) == expected


def count_optimizer_steps(dataset_size: int, batch_size: int, drop_last: bool, grad_accum_steps: int) -> int:
    """Run the accumulation loop from the docstring over a real DataLoader and count the steps."""
    loader = torch.utils.data.DataLoader(
        torch.arange(dataset_size), batch_size=batch_size, drop_last=drop_last
    )
    steps = 0
    for i, _batch in enumerate(loader):
        if (i + 1) % grad_accum_steps == 0 or i + 1 == len(loader):
            steps += 1
    return steps


@pytest.mark.parametrize("grad_accum_steps", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_steps_per_epoch_matches_the_documented_loop(drop_last: bool, grad_accum_steps: int) -> None:
    for dataset_size in range(1, 40):
        for batch_size in (1, 2, 3, 4, 7, 16):
            if drop_last and dataset_size < batch_size:
                continue
            expected = count_optimizer_steps(dataset_size, batch_size, drop_last, grad_accum_steps)
            assert steps_per_epoch(dataset_size, batch_size, drop_last, grad_accum_steps) == expected


def test_steps_per_epoch_refuses_an_empty_epoch() -> None:
    message = "dataset_size must be >= batch_size when drop_last=True, or the epoch has no batch (got dataset_size=7, batch_size=10)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        steps_per_epoch(7, 10, drop_last=True)


# --- epochs_to_steps / steps_to_epochs -------------------------------------------------------------


def test_epochs_to_steps() -> None:
    assert epochs_to_steps(5, 98) == 490
    assert epochs_to_steps(0, 98) == 0
    assert epochs_to_steps(0.5, 98) == 49
    assert epochs_to_steps(0.1, 30) == 3  # 0.1 * 30 is 3.0000000000000004 in floating point
    assert epochs_to_steps(0.25, 10) == 2  # 2.5 rounds to the even neighbour
    assert epochs_to_steps(np.int64(3), np.int64(7)) == 21
    assert type(epochs_to_steps(0.5, 98)) is int
    assert epochs_to_steps(10**17 + 1, 3) == 3 * 10**17 + 3  # whole epochs never go through a float


def test_steps_to_epochs_round_trips() -> None:
    assert steps_to_epochs(49, 98) == 0.5
    assert steps_to_epochs(0, 98) == 0.0
    for steps in range(0, 300, 7):
        assert epochs_to_steps(steps_to_epochs(steps, 98), 98) == steps


# --- scaler_step -----------------------------------------------------------------------------------


def make_model_and_optimizer() -> tuple[torch.nn.Linear, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def backward(model: torch.nn.Linear, scaler: torch.amp.GradScaler, overflow: bool) -> None:
    loss = model(torch.ones(2, 3)).pow(2).mean()
    scaler.scale(loss).backward()
    if overflow:  # what an fp16 overflow leaves in the gradients
        model.weight.grad[0, 0] = float("inf")


def test_scaler_step_reports_a_skipped_step() -> None:
    model, optimizer = make_model_and_optimizer()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    before = model.weight.detach().clone()
    backward(model, scaler, overflow=True)
    assert scaler_step(scaler, optimizer) is False
    assert torch.equal(model.weight, before)
    assert scaler.get_scale() == 512.0  # the default backoff factor 0.5


def test_scaler_step_reports_a_taken_step() -> None:
    model, optimizer = make_model_and_optimizer()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=1)
    before = model.weight.detach().clone()
    backward(model, scaler, overflow=False)
    assert scaler_step(scaler, optimizer) is True
    assert not torch.equal(model.weight, before)
    assert scaler.get_scale() == 2048.0  # the scale grew: still a taken step


def test_scaler_step_with_a_disabled_scaler_always_steps() -> None:
    model, optimizer = make_model_and_optimizer()
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    before = model.weight.detach().clone()
    backward(model, scaler, overflow=False)
    assert scaler_step(scaler, optimizer) is True
    assert not torch.equal(model.weight, before)


def amp_loop(
    step_scheduler: Callable[[bool], bool], overflows: list[bool]
) -> torch.optim.lr_scheduler.LRScheduler:
    model, optimizer = make_model_and_optimizer()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    scheduler = warmup_linear(optimizer, 2, 10)
    for overflow in overflows:
        optimizer.zero_grad()
        backward(model, scaler, overflow)
        if step_scheduler(scaler_step(scaler, optimizer)):
            scheduler.step()
    return scheduler


def test_stepping_only_taken_steps_emits_no_warning_and_counts_optimizer_steps() -> None:
    overflows = [True, True, False, False, True, False]  # the first steps overflow, as with fp16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = amp_loop(lambda stepped: stepped, overflows)
    assert scheduler.last_epoch == overflows.count(False)


def test_stepping_the_scheduler_regardless_triggers_the_false_warning() -> None:
    """The problem scaler_step solves: torch's order check fires although the order is right."""
    with pytest.warns(
        UserWarning, match=re.escape("Detected call of `lr_scheduler.step()` before `optimizer.step()`")
    ):
        scheduler = amp_loop(lambda stepped: True, [True, False, False])
    assert scheduler.last_epoch == 3  # one step ahead of the two optimizer steps taken


# --- argument checks -------------------------------------------------------------------------------


def valid_scaler_arguments() -> dict[str, Any]:
    return {"scaler": torch.amp.GradScaler("cpu"), "optimizer": make_model_and_optimizer()[1]}


FUNCTIONS: dict[str, tuple[Callable[..., Any], Callable[[], dict[str, Any]]]] = {
    "steps_per_epoch": (steps_per_epoch, lambda: {"dataset_size": 100, "batch_size": 10}),
    "epochs_to_steps": (epochs_to_steps, lambda: {"epochs": 2, "steps_per_epoch": 10}),
    "steps_to_epochs": (steps_to_epochs, lambda: {"steps": 20, "steps_per_epoch": 10}),
    "scaler_step": (scaler_step, valid_scaler_arguments),
}

# (function, parameter the case checks, arguments replacing the defaults, error, message)
INVALID: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    (
        "steps_per_epoch",
        "dataset_size",
        {"dataset_size": 0},
        ValueError,
        "dataset_size must be an integer >= 1 (got dataset_size=0)",
    ),
    (
        "steps_per_epoch",
        "dataset_size",
        {"dataset_size": 100.0},
        TypeError,
        "dataset_size must be an integer >= 1 (got dataset_size=100.0 of type float)",
    ),
    (
        "steps_per_epoch",
        "batch_size",
        {"batch_size": -8},
        ValueError,
        "batch_size must be an integer >= 1 (got batch_size=-8)",
    ),
    (
        "steps_per_epoch",
        "drop_last",
        {"drop_last": 1},
        TypeError,
        "drop_last must be True or False (got drop_last=1 of type int)",
    ),
    (
        "steps_per_epoch",
        "drop_last",
        {"drop_last": True, "batch_size": 101},
        ValueError,
        "dataset_size must be >= batch_size when drop_last=True, or the epoch has no batch (got dataset_size=100, batch_size=101)",
    ),
    (
        "steps_per_epoch",
        "grad_accum_steps",
        {"grad_accum_steps": 0},
        ValueError,
        "grad_accum_steps must be an integer >= 1 (got grad_accum_steps=0)",
    ),
    (
        "epochs_to_steps",
        "epochs",
        {"epochs": -1},
        ValueError,
        "epochs must be an integer >= 0 (got epochs=-1)",
    ),
    (
        "epochs_to_steps",
        "epochs",
        {"epochs": -0.5},
        ValueError,
        "epochs must be a finite number >= 0 (got epochs=-0.5)",
    ),
    (
        "epochs_to_steps",
        "epochs",
        {"epochs": float("nan")},
        ValueError,
        "epochs must be a finite number >= 0 (got epochs=nan)",
    ),
    (
        "epochs_to_steps",
        "epochs",
        {"epochs": "2"},
        TypeError,
        "epochs must be a finite number >= 0 (got epochs='2' of type str)",
    ),
    (
        "epochs_to_steps",
        "steps_per_epoch",
        {"steps_per_epoch": 0},
        ValueError,
        "steps_per_epoch must be an integer >= 1 (got steps_per_epoch=0)",
    ),
    ("steps_to_epochs", "steps", {"steps": -1}, ValueError, "steps must be an integer >= 0 (got steps=-1)"),
    (
        "steps_to_epochs",
        "steps_per_epoch",
        {"steps_per_epoch": 2.5},
        TypeError,
        "steps_per_epoch must be an integer >= 1 (got steps_per_epoch=2.5 of type float)",
    ),
    (
        "scaler_step",
        "scaler",
        {"scaler": None},
        TypeError,
        "scaler must be a torch.amp.GradScaler (got scaler of type NoneType)",
    ),
    (
        "scaler_step",
        "optimizer",
        {"optimizer": torch.nn.Linear(1, 1)},
        TypeError,
        "optimizer must be a torch.optim.Optimizer (got optimizer of type Linear)",
    ),
]


(
    test_invalid_argument_is_rejected_with_name_and_value,
    test_every_parameter_has_a_validation_case,
    test_every_public_function_is_covered_by_the_table,
) = validation_table_tests(steps_module, FUNCTIONS, INVALID)

# --- values too large for a float are refused with the usual message, not an OverflowError -------


def test_epochs_to_steps_refuses_an_overflowing_product() -> None:
    message = (
        "epochs * steps_per_epoch must be a finite number of steps "
        "(got epochs=1e+308, steps_per_epoch=10, whose product overflows)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        epochs_to_steps(1e308, 10)
    assert epochs_to_steps(1e300, 10) == round(1e301)  # large, finite: still converted


def test_epochs_to_steps_refuses_a_huge_integer_given_as_a_fraction() -> None:
    import fractions

    with pytest.raises(ValueError, match=re.escape("epochs must be a finite number >= 0 (got epochs=1.000e+400)")):
        epochs_to_steps(fractions.Fraction(10**400), 10)


def test_steps_to_epochs_refuses_a_quotient_beyond_float() -> None:
    message = "steps / steps_per_epoch must fit in a float (got steps=1.000e+400, steps_per_epoch=10)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        steps_to_epochs(10**400, 10)
    assert steps_to_epochs(10**400, 10**399) == 10.0
