"""Tests for lrcourse.resume: resuming a schedule, in either load order, and refusing silent changes."""

from __future__ import annotations

import functools
import inspect
import io
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from validation_table import validation_table_tests
import torch
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)

import lrcourse.resume as resume_module
from lrcourse.resume import load_scheduler_state, resumed_lrs, scheduler_changes
from lrcourse.preview import preview
from lrcourse import WarmupReduceLROnPlateau, inverse_sqrt, warmup_cosine, wsd
from lrcourse.schedulers import WarmupLR

STEPS = 24
GROUPS = [0.05, 0.5]  # two param groups with different LRs, as in torch's own scheduler tests

# Older torch (before pytorch#149392; 2.4.1 among them) steps a SequentialLR's next scheduler with
# the deprecated step(0) at each milestone, and warns although the caller passed no epoch. The
# warning is torch's own; lrcourse passes it on. Tests that step a SequentialLR past a milestone
# tolerate it where torch emits it, and one test holds that it comes exactly from there.
SEQUENTIAL_LR_WARNS = "scheduler.step(0)" in inspect.getsource(SequentialLR.step)
EPOCH_WARNING = "The epoch parameter in `scheduler.step()` was not necessary"
tolerates_sequential_lr_warning = (
    pytest.mark.filterwarnings(f"ignore:{re.escape(EPOCH_WARNING)}:UserWarning")
    if SEQUENTIAL_LR_WARNS
    else (lambda test: test)
)


def _ramp(step: int, warmup: int) -> float:
    return min(1.0, (step + 1) / warmup)


SCHEDULERS: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
    "StepLR": lambda opt: StepLR(opt, step_size=5, gamma=0.5),
    "MultiStepLR": lambda opt: MultiStepLR(opt, milestones=[3, 11], gamma=0.1),
    "ExponentialLR": lambda opt: ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda opt: CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-3),
    "LinearLR": lambda opt: LinearLR(opt, start_factor=0.1, total_iters=10),
    "LambdaLR": lambda opt: LambdaLR(opt, functools.partial(_ramp, warmup=8)),
    "OneCycleLR": lambda opt: OneCycleLR(
        opt, max_lr=[0.1, 1.0][: len(opt.param_groups)], total_steps=STEPS
    ),
    "SequentialLR": lambda opt: SequentialLR(
        opt, [LinearLR(opt, start_factor=0.1, total_iters=6), CosineAnnealingLR(opt, T_max=18)], milestones=[6]
    ),
    "WarmupLR": lambda opt: WarmupLR(opt, warmup_steps=6, gamma=0.1),
    "warmup_cosine": lambda opt: warmup_cosine(opt, warmup_steps=6, total_steps=STEPS),
    "inverse_sqrt": lambda opt: inverse_sqrt(opt, warmup_steps=6),
    "wsd": lambda opt: wsd(opt, warmup_steps=4, stable_steps=10, decay_steps=10),
}


# --- resumed_lrs ------------------------------------------------------------------------------------


@tolerates_sequential_lr_warning
@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_first_resume_equals_an_uninterrupted_run_at_every_cut(name: str) -> None:
    make = SCHEDULERS[name]
    expected = preview(make, STEPS, GROUPS)
    for cut in range(STEPS + 1):
        assert resumed_lrs(make, STEPS, cut, GROUPS) == expected, f"cut at step {cut}"


def test_sequential_lr_warns_only_where_torch_itself_does() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed_lrs(SCHEDULERS["SequentialLR"], STEPS, 3, GROUPS)
    messages = [str(w.message) for w in caught]
    assert all(m.startswith(EPOCH_WARNING) for m in messages), messages
    assert len(messages) == (1 if SEQUENTIAL_LR_WARNS else 0)  # the milestone at 6, after the cut at 3


def test_single_base_lr_returns_a_flat_list() -> None:
    make = SCHEDULERS["warmup_cosine"]
    assert resumed_lrs(make, STEPS, 7, 0.3) == preview(make, STEPS, 0.3)


@pytest.mark.parametrize("name", ["OneCycleLR", "LambdaLR", "warmup_cosine", "WarmupLR"])
def test_optimizer_first_breaks_exactly_the_first_step_of_closed_form_schedulers(name: str) -> None:
    # The rebuilt scheduler writes its step-0 LR into the restored optimizer; the scheduler state
    # then brings back last_epoch, and the next step() computes from it again.
    make = SCHEDULERS[name]
    expected = preview(make, STEPS, GROUPS)
    cut = 9
    wrong = resumed_lrs(make, STEPS, cut, GROUPS, order="optimizer_first")
    for group in range(2):
        assert wrong[group][:cut] == expected[group][:cut]
        assert wrong[group][cut] == expected[group][0] != expected[group][cut]
        assert wrong[group][cut + 1 :] == expected[group][cut + 1 :]


@tolerates_sequential_lr_warning
@pytest.mark.parametrize(("name", "cut"), [("LinearLR", 4), ("SequentialLR", 8)])
def test_optimizer_first_breaks_recursive_schedulers_for_good(name: str, cut: int) -> None:
    # LinearLR multiplies the LR it finds, so the rebuilt scheduler's start_factor is applied to
    # the restored LR and never undone; SequentialLR's CosineAnnealingLR (after its milestone at 6)
    # carries the wrong value along in the same way.
    make = SCHEDULERS[name]
    expected = preview(make, STEPS, GROUPS)
    wrong = resumed_lrs(make, STEPS, cut, GROUPS, order="optimizer_first")
    for group in range(2):
        assert wrong[group][:cut] == expected[group][:cut]
        assert all(not math.isclose(a, b) for a, b in zip(wrong[group][cut:], expected[group][cut:]))
    if name == "LinearLR":
        assert wrong[0][-1] == pytest.approx(0.1 * expected[0][-1])


def test_make_resumed_scheduler_builds_the_resumed_run() -> None:
    def cosine(step: int, total: int) -> float:
        return 0.5 * (1 + math.cos(math.pi * step / total))

    short = lambda opt: LambdaLR(opt, functools.partial(cosine, total=20))  # noqa: E731
    long = lambda opt: LambdaLR(opt, functools.partial(cosine, total=40))  # noqa: E731
    lrs = resumed_lrs(short, 20, 10, 1.0, make_resumed_scheduler=long)
    assert lrs[:11] == preview(short, 11, 1.0)  # step 10's LR was set before the save
    # LambdaLR does not save its function: the resumed run silently follows the longer curve.
    assert lrs[11] == pytest.approx(cosine(11, 40))
    assert lrs[11] > lrs[10] + 0.3


class Opaque:
    """Picklable, but not something torch.load(weights_only=True) accepts."""


def test_checkpoints_go_through_weights_only_loading() -> None:
    # A scheduler whose state holds a non-tensor object cannot be loaded with weights_only=True:
    # resumed_lrs must fail the way a real checkpoint would.
    def make(opt: torch.optim.Optimizer) -> Any:
        scheduler = ExponentialLR(opt, gamma=0.9)
        scheduler.extra = Opaque()  # type: ignore[attr-defined]
        return scheduler

    with pytest.raises(Exception, match="Weights only load failed"):
        resumed_lrs(make, 4, 2)


# --- scheduler_changes / load_scheduler_state ---------------------------------------------------------


def _optimizer(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)


def _stepped(scheduler: Any, steps: int) -> Any:
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
    return scheduler


def _saved(scheduler: Any) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    state: dict[str, Any] = torch.load(buffer, weights_only=True)
    return state


@tolerates_sequential_lr_warning
@pytest.mark.parametrize("name", SCHEDULERS)
def test_progress_is_not_a_change(name: str) -> None:
    saved = _saved(_stepped(SCHEDULERS[name](_optimizer()), 7))
    assert scheduler_changes(SCHEDULERS[name](_optimizer()), saved) == {}


def test_changed_settings_are_named_with_both_values() -> None:
    saved = _saved(_stepped(warmup_cosine(_optimizer(), 10, 100), 30))
    assert scheduler_changes(warmup_cosine(_optimizer(), 10, 200), saved) == {"total_steps": (100, 200)}
    assert scheduler_changes(warmup_cosine(_optimizer(0.2), 10, 100), saved) == {"base_lrs": ([0.1], [0.2])}


@tolerates_sequential_lr_warning
def test_nested_states_are_compared_by_path() -> None:
    def make(opt: torch.optim.Optimizer, t_max: int) -> SequentialLR:
        return SequentialLR(opt, [ConstantLR(opt, factor=0.5, total_iters=3), CosineAnnealingLR(opt, T_max=t_max)], [3])

    saved = _saved(_stepped(make(_optimizer(), 10), 5))
    assert scheduler_changes(make(_optimizer(), 20), saved) == {"_schedulers[1].T_max": (10, 20)}


def test_changed_milestones_are_a_change() -> None:
    saved = _saved(_stepped(MultiStepLR(_optimizer(), milestones=[4, 11]), 2))
    assert scheduler_changes(MultiStepLR(_optimizer(), milestones=[3, 11]), saved) == {"milestones": ([4, 11], [3, 11])}
    assert scheduler_changes(MultiStepLR(_optimizer(), milestones=[11, 4]), saved) == {}


def test_verbose_is_not_a_setting() -> None:
    # torch < 2.7 keeps the deprecated verbose argument in every scheduler's state.
    saved = {**_saved(warmup_cosine(_optimizer(), 10, 100)), "verbose": True}
    current = warmup_cosine(_optimizer(), 10, 100)
    current.verbose = "deprecated"  # what torch 2.4 to 2.6 store
    assert scheduler_changes(current, saved) == {}
    with pytest.raises(ValueError, match="^allow_changes names 'verbose', which is not a top-level setting"):
        load_scheduler_state(current, saved, allow_changes=["verbose"])


def test_plateau_progress_is_not_a_change() -> None:
    scheduler = WarmupReduceLROnPlateau(_optimizer(), warmup_steps=2, patience=1)
    for metric in (3.0, 2.0, 2.0, 2.0, 2.0):
        scheduler.step(metric)
    saved = _saved(scheduler)
    assert scheduler_changes(WarmupReduceLROnPlateau(_optimizer(), warmup_steps=2, patience=1), saved) == {}
    changed = scheduler_changes(WarmupReduceLROnPlateau(_optimizer(), warmup_steps=2, patience=3), saved)
    assert changed == {"patience": (1, 3)}


def test_load_scheduler_state_loads_like_load_state_dict_when_nothing_changed() -> None:
    original = _stepped(warmup_cosine(_optimizer(), 10, 100), 30)
    saved = _saved(original)
    resumed = warmup_cosine(_optimizer(), 10, 100)
    load_scheduler_state(resumed, saved)
    assert resumed.state_dict() == original.state_dict()


def test_load_scheduler_state_refuses_a_silent_change() -> None:
    saved = _saved(_stepped(warmup_cosine(_optimizer(), 10, 100), 30))
    resumed = warmup_cosine(_optimizer(), 10, 200)
    message = (
        "state_dict was saved by a scheduler with different settings: total_steps is 100 in state_dict but "
        "200 in scheduler. Loading it would silently replace this scheduler's settings. Build the scheduler "
        "with the saved settings to continue the same schedule, or pass allow_changes=['total_steps'] to "
        "keep the new ones on purpose"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_scheduler_state(resumed, saved)
    assert resumed.last_epoch == 0  # nothing was loaded


def test_allowed_changes_keep_the_new_value_and_load_the_rest() -> None:
    optimizer = _optimizer()
    original = _stepped(wsd(optimizer, warmup_steps=5, stable_steps=20, decay_steps=10), 12)
    saved = _saved(original)
    resumed = wsd(_optimizer(), warmup_steps=5, stable_steps=50, decay_steps=10)
    load_scheduler_state(resumed, saved, allow_changes=["stable_steps"])
    assert resumed.stable_steps == 50
    assert resumed.last_epoch == 12
    _stepped(resumed, 40)  # still in the (longer) stable phase at step 52 < 55
    assert resumed.get_last_lr() == [0.1]


def test_allowing_an_unchanged_setting_is_harmless() -> None:
    saved = _saved(_stepped(warmup_cosine(_optimizer(), 10, 100), 3))
    resumed = warmup_cosine(_optimizer(), 10, 100)
    load_scheduler_state(resumed, saved, allow_changes=["total_steps"])
    assert resumed.last_epoch == 3


def test_allow_changes_must_name_a_top_level_setting() -> None:
    saved = _saved(warmup_cosine(_optimizer(), 10, 100))
    message = (
        "allow_changes names 'total_step', which is not a top-level setting of this WarmupCosineLR "
        "(settings: base_lrs, min_lr_ratio, num_cycles, total_steps, warmup_steps)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_scheduler_state(warmup_cosine(_optimizer(), 10, 100), saved, allow_changes=["total_step"])
    with pytest.raises(ValueError, match="^allow_changes names 'last_epoch', which is not a top-level setting"):
        load_scheduler_state(warmup_cosine(_optimizer(), 10, 100), saved, allow_changes=["last_epoch"])


# --- argument validation ------------------------------------------------------------------------------


def _resumed_defaults() -> dict[str, Any]:
    return {"make_scheduler": SCHEDULERS["StepLR"], "steps": 10, "resume_at": 5}


def _load_defaults() -> dict[str, Any]:
    return {"scheduler": warmup_cosine(_optimizer(), 10, 100), "state_dict": warmup_cosine(_optimizer(), 10, 100).state_dict()}


def _changes_defaults() -> dict[str, Any]:
    return _load_defaults()


FUNCTIONS: dict[str, tuple[Callable[..., Any], Callable[[], dict[str, Any]]]] = {
    "resumed_lrs": (resumed_lrs, _resumed_defaults),
    "scheduler_changes": (scheduler_changes, _changes_defaults),
    "load_scheduler_state": (load_scheduler_state, _load_defaults),
}

_detached = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

INVALID: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    (
        "resumed_lrs",
        "make_scheduler",
        {"make_scheduler": None},
        TypeError,
        "make_scheduler must be a callable that takes an optimizer and returns a scheduler "
        "(got make_scheduler of type NoneType)",
    ),
    (
        "resumed_lrs",
        "make_scheduler",
        {"make_scheduler": lambda opt: StepLR(_detached, step_size=2)},
        ValueError,
        "make_scheduler must build its scheduler on the optimizer it is given (the returned object is not "
        "attached to it); write e.g. `lambda opt: StepLR(opt, step_size=10)`",
    ),
    ("resumed_lrs", "steps", {"steps": -1}, ValueError, "steps must be an integer >= 0 (got steps=-1)"),
    (
        "resumed_lrs",
        "steps",
        {"steps": 10.0},
        TypeError,
        "steps must be an integer >= 0 (got steps=10.0 of type float)",
    ),
    ("resumed_lrs", "resume_at", {"resume_at": -1}, ValueError, "resume_at must be an integer >= 0 (got resume_at=-1)"),
    (
        "resumed_lrs",
        "resume_at",
        {"resume_at": 11},
        ValueError,
        "resume_at must be <= steps (got resume_at=11, steps=10)",
    ),
    (
        "resumed_lrs",
        "base_lr",
        {"base_lr": -0.1},
        ValueError,
        "base_lr must be a finite number >= 0 (got base_lr=-0.1)",
    ),
    (
        "resumed_lrs",
        "base_lr",
        {"base_lr": [0.1, float("nan")]},
        ValueError,
        "base_lr[1] must be a finite number >= 0 (got base_lr[1]=nan)",
    ),
    (
        "resumed_lrs",
        "base_lr",
        {"base_lr": []},
        ValueError,
        "base_lr must hold at least one learning rate (got an empty sequence)",
    ),
    (
        "resumed_lrs",
        "order",
        {"order": "optimizer-first"},
        ValueError,
        "order must be one of 'scheduler_first', 'optimizer_first' (got order='optimizer-first')",
    ),
    (
        "resumed_lrs",
        "make_resumed_scheduler",
        {"make_resumed_scheduler": "StepLR"},
        TypeError,
        "make_resumed_scheduler must be a callable that takes an optimizer and returns a scheduler "
        "(got make_resumed_scheduler of type str)",
    ),
    (
        "scheduler_changes",
        "scheduler",
        {"scheduler": _detached},
        TypeError,
        "scheduler must be a learning-rate scheduler with state_dict() and load_state_dict() "
        "(got scheduler of type SGD)",
    ),
    (
        "scheduler_changes",
        "state_dict",
        {"state_dict": [("total_steps", 100)]},
        TypeError,
        "state_dict must be a dict returned by a scheduler's state_dict() (got state_dict of type list)",
    ),
    (
        "load_scheduler_state",
        "scheduler",
        {"scheduler": 3},
        TypeError,
        "scheduler must be a learning-rate scheduler with state_dict() and load_state_dict() "
        "(got scheduler of type int)",
    ),
    (
        "load_scheduler_state",
        "state_dict",
        {"state_dict": None},
        TypeError,
        "state_dict must be a dict returned by a scheduler's state_dict() (got state_dict of type NoneType)",
    ),
    (
        "load_scheduler_state",
        "allow_changes",
        {"allow_changes": "total_steps"},
        TypeError,
        "allow_changes must be a list of setting names, not one string "
        "(got allow_changes='total_steps'; write ['total_steps'])",
    ),
    (
        "load_scheduler_state",
        "allow_changes",
        {"allow_changes": [1]},
        TypeError,
        "allow_changes must hold setting names (got 1 of type int)",
    ),
]


(
    test_invalid_argument_is_rejected_with_name_and_value,
    test_every_parameter_has_a_validation_case,
    test_every_public_function_is_covered_by_the_table,
) = validation_table_tests(resume_module, FUNCTIONS, INVALID)