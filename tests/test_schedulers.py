"""Tests for lrcourse.schedulers: exact LRs, param groups, resume, warnings, argument checks.

The reference formulas below are written from the published schedules (transformers'
``optimization.py`` for the ``warmup_*``, ``inverse_sqrt`` and ``wsd`` schedules, the seed article
for ``WarmupLR``, Vaswani et al. for the ``d_model`` form) in plain float64 Python, without
importing ``lrcourse.schedules``. Where our schedulers promise to equal transformers, the
reference uses transformers' order of operations, so the comparison is ``==``.
"""

from __future__ import annotations

import inspect
import io
import itertools
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

import lrcourse.factories as factories_module
import lrcourse.plateau as plateau_module
import lrcourse.schedulers as schedulers_module
from lrcourse import (
    WarmupReduceLROnPlateau,
    inverse_sqrt,
    warmup_constant,
    warmup_cosine,
    warmup_linear,
    warmup_poly,
    wsd,
)
from lrcourse.schedulers import (
    InverseSqrtLR,
    WarmupConstantLR,
    WarmupCosineLR,
    WarmupLinearLR,
    WarmupLR,
    WarmupPolyLR,
    WarmupStableDecayLR,
)

BASE_LRS = (0.05, 0.5)  # two param groups, as in torch's own scheduler tests
DEFAULT_LR = 0.5  # optimizer.defaults["lr"], the lr_init of the polynomial schedule
TOTALS = (1, 2, 10, 1000)


# --- independent float64 references --------------------------------------------------------------


def ref_ramp_from_zero(t: int, w: int) -> float:
    return t / max(1, w)


def ref_warmup_exp(t: int, w: int, gamma: float) -> float:
    # Seed article: (last_epoch + 1) / warmup_steps, then exp(-(last_epoch - warmup_steps + 1) * gamma)
    if t < w:
        return (t + 1) / w
    return math.exp(-(t - w + 1) * gamma)


def ref_constant(t: int, w: int) -> float:
    return ref_ramp_from_zero(t, w) if t < w else 1.0


def ref_linear(t: int, w: int, total: int) -> float:
    if t < w:
        return ref_ramp_from_zero(t, w)
    return max(0.0, (total - t) / max(1, total - w))


def ref_cosine(t: int, w: int, total: int, cycles: float = 0.5, floor: float = 0.0) -> float:
    if t < w:
        return ref_ramp_from_zero(t, w)
    progress = (t - w) / max(1, total - w)
    half_cos = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))  # transformers' order
    return max(0.0, half_cos * (1 - floor) + floor)


def ref_poly(t: int, w: int, total: int, lr_init: float, lr_end: float, power: float) -> float:
    if t < w:
        return ref_ramp_from_zero(t, w)
    if t >= total:
        return lr_end / lr_init
    remaining = 1 - (t - w) / (total - w)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def ref_inverse_sqrt(t: int, w: int, timescale: int | None = None) -> float:
    timescale = timescale if timescale is not None else (w if w > 0 else 10_000)
    if t < w:
        return ref_ramp_from_zero(t, w)
    return 1.0 / math.sqrt((t - w + timescale) / timescale)


def ref_vaswani(t: int, w: int, d_model: int) -> float:
    n = t + 1  # step_num in the paper counts from 1
    return d_model**-0.5 * min(n**-0.5, n * w**-1.5)


def ref_wsd(t: int, w: int, stable: int, decay_steps: int, decay: str, floor: float) -> float:
    if t < w:
        return max(0.0, (t / max(1, w)) * (1.0 - floor) + floor)
    if t < w + stable:
        return 1.0
    if t < w + stable + decay_steps:
        progress = (t - w - stable) / max(1, decay_steps)
        shape = {
            "linear": lambda: 1.0 - progress,
            "cosine": lambda: 0.5 * (1.0 + math.cos(math.pi * progress)),
            "1-sqrt": lambda: 1.0 - math.sqrt(progress),
        }[decay]()
        return max(0.0, shape * (1.0 - floor) + floor)
    return floor


def wsd_phases(w: int, total: int) -> tuple[int, int]:
    """Split the steps after warmup into stable and decay halves that add up to ``total``."""
    stable = (total - w) // 2
    return stable, total - w - stable


# --- the schedulers under test, each with its reference -------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[torch.optim.Optimizer, int, int], LRScheduler]  # (optimizer, warmup, total)
    reference: Callable[[int, int, int], float]  # (step, warmup, total) -> multiplier of the base LR
    min_warmup: int = 0


CASES = [
    Case(
        "WarmupLR",
        lambda o, w, total: WarmupLR(o, w, gamma=0.01),
        lambda t, w, total: ref_warmup_exp(t, w, 0.01),
    ),
    Case(
        "WarmupLR-gamma0",
        lambda o, w, total: WarmupLR(o, w, gamma=0.0),
        lambda t, w, total: ref_warmup_exp(t, w, 0.0),
    ),
    Case(
        "warmup_constant", lambda o, w, total: warmup_constant(o, w), lambda t, w, total: ref_constant(t, w)
    ),
    Case("warmup_linear", lambda o, w, total: warmup_linear(o, w, total), ref_linear),
    Case("warmup_cosine", lambda o, w, total: warmup_cosine(o, w, total), ref_cosine),
    Case(
        "warmup_cosine-cycles-floor",
        lambda o, w, total: warmup_cosine(o, w, total, num_cycles=1.7, min_lr_ratio=0.1),
        lambda t, w, total: ref_cosine(t, w, total, 1.7, 0.1),
    ),
    Case(
        "warmup_poly",
        lambda o, w, total: warmup_poly(o, w, total),
        lambda t, w, total: ref_poly(t, w, total, DEFAULT_LR, 1e-7, 1.0),
    ),
    Case(
        "warmup_poly-power2",
        lambda o, w, total: warmup_poly(o, w, total, lr_end=0.01, power=2.0),
        lambda t, w, total: ref_poly(t, w, total, DEFAULT_LR, 0.01, 2.0),
    ),
    Case("inverse_sqrt", lambda o, w, total: inverse_sqrt(o, w), lambda t, w, total: ref_inverse_sqrt(t, w)),
    Case(
        "inverse_sqrt-timescale",
        lambda o, w, total: inverse_sqrt(o, w, timescale=7),
        lambda t, w, total: ref_inverse_sqrt(t, w, 7),
    ),
    Case(
        "inverse_sqrt-d_model",
        lambda o, w, total: inverse_sqrt(o, w, d_model=512),
        lambda t, w, total: ref_vaswani(t, w, 512),
        min_warmup=1,
    ),
    *[
        Case(
            f"wsd-{decay}",
            lambda o, w, total, decay=decay: wsd(o, w, *wsd_phases(w, total), decay=decay, min_lr_ratio=0.1),
            lambda t, w, total, decay=decay: ref_wsd(t, w, *wsd_phases(w, total), decay, 0.1),
        )
        for decay in ("linear", "cosine", "1-sqrt")
    ],
]
CASE_IDS = [case.name for case in CASES]


def warmups_for(total: int, case: Case) -> list[int]:
    return sorted(w for w in {0, 1, total // 4, total} if w >= case.min_warmup)


def grid(totals: tuple[int, ...]) -> list[Any]:
    return [
        pytest.param(case, total, w, id=f"{case.name}-T{total}-W{w}")
        for case in CASES
        for total in totals
        for w in warmups_for(total, case)
    ]


def make_optimizer() -> torch.optim.Optimizer:
    """SGD with two param groups at 0.05 and 0.5; parameters without gradients keep steps cheap."""
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))]
    groups = [{"params": [param], "lr": lr} for param, lr in zip(params, BASE_LRS, strict=True)]
    return torch.optim.SGD(groups, lr=DEFAULT_LR, momentum=0.9)


def group_lrs(optimizer: torch.optim.Optimizer) -> list[float]:
    return [group["lr"] for group in optimizer.param_groups]


def lr_sequence(scheduler: LRScheduler, optimizer: torch.optim.Optimizer, steps: int) -> list[list[float]]:
    """The LRs in force at steps 0..steps-1, stepping the optimizer then the scheduler."""
    lrs = []
    for _ in range(steps):
        lrs.append(list(scheduler.get_last_lr()))
        optimizer.step()
        scheduler.step()
    return lrs


# --- exact LR at every step ------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "total", "warmup"), grid(TOTALS))
def test_lr_at_every_step_equals_reference(case: Case, total: int, warmup: int) -> None:
    optimizer = make_optimizer()
    scheduler = case.build(optimizer, warmup, total)
    # Steps 0 .. total + 5 cover 0, warmup - 1, warmup, warmup + 1, total - 1 and past the end.
    for t in range(total + 6):
        expected = [base_lr * case.reference(t, warmup, total) for base_lr in BASE_LRS]
        assert scheduler.last_epoch == t
        assert scheduler.get_last_lr() == expected, f"step {t}"
        assert group_lrs(optimizer) == expected, f"step {t}"
        assert scheduler.get_lr() == expected, f"step {t}"
        assert scheduler._get_closed_form_lr() == expected, f"step {t}"
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_two_param_groups_keep_their_ratio(case: Case) -> None:
    optimizer = make_optimizer()
    scheduler = case.build(optimizer, 3, 20)
    for low, high in lr_sequence(scheduler, optimizer, 25):
        assert high == pytest.approx(10 * low, rel=1e-12, abs=0.0)


def test_warmup_lr_keeps_the_seed_indexing() -> None:
    optimizer = make_optimizer()
    scheduler = WarmupLR(optimizer, warmup_steps=4, gamma=0.5)
    lrs = [low for low, _ in lr_sequence(scheduler, optimizer, 7)]
    base = BASE_LRS[0]
    # The first step already trains at base / 4; the base LR is used once, at step 3.
    assert lrs[:4] == [base * 1 / 4, base * 2 / 4, base * 3 / 4, base * 4 / 4]
    assert lrs.count(base) == 1
    # Decay starts right after the peak with one factor exp(-gamma) per step.
    assert lrs[4:] == [base * math.exp(-0.5), base * math.exp(-1.0), base * math.exp(-1.5)]


def test_warmup_lr_without_warmup_starts_one_decay_factor_below_base() -> None:
    optimizer = make_optimizer()
    lrs = [low for low, _ in lr_sequence(WarmupLR(optimizer, 0, gamma=0.25), optimizer, 3)]
    assert lrs == [BASE_LRS[0] * math.exp(-0.25 * k) for k in (1, 2, 3)]


def test_warmup_lr_uses_the_public_base_class_and_requires_gamma() -> None:
    optimizer = make_optimizer()
    scheduler = WarmupLR(optimizer, 3, 0.1)
    assert isinstance(scheduler, LRScheduler)
    assert torch.optim.lr_scheduler._LRScheduler not in type(scheduler).__mro__
    # The seed article's usage example, WarmupLR(optimizer, warmup_steps=1000), lacks gamma.
    with pytest.raises(TypeError, match="gamma"):
        WarmupLR(make_optimizer(), warmup_steps=1000)  # type: ignore[call-arg]


def test_transformers_warmup_starts_at_zero_and_reaches_base_at_warmup_steps() -> None:
    optimizer = make_optimizer()
    lrs = [low for low, _ in lr_sequence(warmup_linear(optimizer, 4, 8), optimizer, 9)]
    base = BASE_LRS[0]
    assert lrs[0] == 0.0
    assert lrs[4] == base
    assert max(lrs) == base and lrs.count(base) == 1


def test_past_the_end_behaviour() -> None:
    """What each schedule does after total_steps: the documented, transformers-compatible choice."""
    total, base = 10, BASE_LRS[0]

    def low_lrs(build: Callable[[torch.optim.Optimizer], LRScheduler], steps: int) -> list[float]:
        optimizer = make_optimizer()
        return [low for low, _ in lr_sequence(build(optimizer), optimizer, steps)]

    # linear: 0 from total_steps on
    assert low_lrs(lambda o: warmup_linear(o, 2, total), total + 5)[total:] == [0.0] * 5
    # polynomial: the end value from total_steps on
    assert (
        low_lrs(lambda o: warmup_poly(o, 2, total, lr_end=0.01), total + 5)[total:]
        == [base * (0.01 / DEFAULT_LR)] * 5
    )
    # wsd: the floor after warmup + stable + decay
    assert low_lrs(lambda o: wsd(o, 2, 3, 5, min_lr_ratio=0.2), total + 5)[total:] == [base * 0.2] * 5
    # cosine with a half cycle is not clamped: it bottoms out at total_steps and climbs back,
    # mirror-symmetric around total_steps.
    cosine = low_lrs(lambda o: warmup_cosine(o, 0, total), total + 5)
    assert cosine[total] == 0.0
    for k in range(1, 5):
        assert cosine[total + k] == pytest.approx(cosine[total - k], rel=1e-12)
        assert cosine[total + k] > cosine[total + k - 1]
    # inverse square root has no end: it keeps decaying
    inv = low_lrs(lambda o: inverse_sqrt(o, 2), 50)
    assert all(later < earlier for earlier, later in itertools.pairwise(inv[2:]))


def test_poly_decays_towards_lr_end_relative_to_the_optimizer_default_lr() -> None:
    # Group 0 has base LR 0.05, group 1 has 0.5 == optimizer.defaults["lr"].
    optimizer = make_optimizer()
    end = lr_sequence(warmup_poly(optimizer, 2, 10, lr_end=1e-3), optimizer, 11)[10]
    assert end == [BASE_LRS[0] * (1e-3 / DEFAULT_LR), BASE_LRS[1] * (1e-3 / DEFAULT_LR)]
    assert end[1] == pytest.approx(1e-3, rel=1e-15)  # the group at the default LR ends at lr_end
    assert end[0] == pytest.approx(1e-4, rel=1e-12)  # the other group keeps its ratio instead

    # lr_init is the optimizer's default lr, even when no group uses it.
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [param], "lr": 0.5}], lr=0.1)
    end = lr_sequence(warmup_poly(optimizer, 0, 4, lr_end=0.01), optimizer, 5)[4]
    assert end == [0.5 * (0.01 / 0.1)]


def test_warmup_equals_total_steps_is_defined() -> None:
    base = BASE_LRS[0]
    for build, after in [
        (lambda o: warmup_linear(o, 4, 4), 0.0),
        (lambda o: warmup_cosine(o, 4, 4), 1.0),  # transformers: progress 0 at the end, so cos(0)
        (lambda o: warmup_poly(o, 4, 4, lr_end=0.05), 0.05 / DEFAULT_LR),  # transformers divides by zero
    ]:
        optimizer = make_optimizer()
        lrs = [low for low, _ in lr_sequence(build(optimizer), optimizer, 5)]
        assert lrs[:4] == [base * t / 4 for t in range(4)]
        assert lrs[4] == base * after


def test_transformers_gives_the_same_lrs_when_installed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimization = pytest.importorskip("transformers.optimization")
    pairs = [
        (lambda o: optimization.get_constant_schedule_with_warmup(o, 3), lambda o: warmup_constant(o, 3)),
        (lambda o: optimization.get_linear_schedule_with_warmup(o, 3, 12), lambda o: warmup_linear(o, 3, 12)),
        (
            lambda o: optimization.get_cosine_schedule_with_warmup(o, 3, 12, 0.7),
            lambda o: warmup_cosine(o, 3, 12, 0.7),
        ),
        (
            lambda o: optimization.get_cosine_with_min_lr_schedule_with_warmup(o, 3, 12, min_lr_rate=0.1),
            lambda o: warmup_cosine(o, 3, 12, min_lr_ratio=0.1),
        ),
        (
            lambda o: optimization.get_polynomial_decay_schedule_with_warmup(o, 3, 12, 1e-3, 2.0),
            lambda o: warmup_poly(o, 3, 12, 1e-3, 2.0),
        ),
        (lambda o: optimization.get_inverse_sqrt_schedule(o, 3), lambda o: inverse_sqrt(o, 3)),
        (lambda o: optimization.get_inverse_sqrt_schedule(o, 0), lambda o: inverse_sqrt(o, 0)),
        (
            lambda o: optimization.get_wsd_schedule(
                o, 3, 4, num_stable_steps=5, decay_type="1-sqrt", min_lr_ratio=0.1
            ),
            lambda o: wsd(o, 3, 5, 4, decay="1-sqrt", min_lr_ratio=0.1),
        ),
    ]
    for theirs, ours in pairs:
        optimizer_a, optimizer_b = make_optimizer(), make_optimizer()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = lr_sequence(theirs(optimizer_a), optimizer_a, 20)
        assert lr_sequence(ours(optimizer_b), optimizer_b, 20) == expected


# --- resume from a state_dict ----------------------------------------------------------------------


def cut_points(warmup: int, total: int) -> list[int]:
    return sorted(
        {c for c in (0, 1, warmup - 1, warmup, warmup + 1, total // 2, total - 1) if 0 <= c < total}
    )


def save_and_load(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("total", [10, 100])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_resume_at_any_cut_point_continues_identically(case: Case, total: int) -> None:
    warmup = 3 if total == 10 else 10
    optimizer = make_optimizer()
    reference = lr_sequence(case.build(optimizer, warmup, total), optimizer, total + 3)
    for cut in cut_points(warmup, total):
        optimizer = make_optimizer()
        scheduler = case.build(optimizer, warmup, total)
        assert lr_sequence(scheduler, optimizer, cut) == reference[:cut]
        checkpoint = save_and_load({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})

        # Build everything first, then load the optimizer state, then the scheduler state.
        resumed_optimizer = make_optimizer()
        resumed = case.build(resumed_optimizer, warmup, total)
        resumed_optimizer.load_state_dict(checkpoint["optimizer"])
        resumed.load_state_dict(checkpoint["scheduler"])

        assert resumed.last_epoch == cut
        assert lr_sequence(resumed, resumed_optimizer, total + 3 - cut) == reference[cut:], f"cut {cut}"


PLATEAU_METRICS = [
    9.0,
    8.0,
    7.0,
    5.0,
    4.0,
    4.0,
    4.0,
    3.0,
    3.0,
    3.0,
    3.0,
    3.0,
    2.9,
    2.9,
    2.9,
    2.9,
    1.0,
    1.0,
    1.0,
    1.0,
]


def build_plateau(optimizer: torch.optim.Optimizer, warmup: int = 3) -> WarmupReduceLROnPlateau:
    return WarmupReduceLROnPlateau(optimizer, warmup, patience=1, cooldown=1, factor=0.5, threshold=0.05)


def plateau_sequence(
    scheduler: WarmupReduceLROnPlateau, optimizer: torch.optim.Optimizer, metrics: list[float]
) -> list[list[float]]:
    lrs = []
    for metric in metrics:
        lrs.append(list(scheduler.get_last_lr()))
        optimizer.step()
        scheduler.step(metric)
    lrs.append(list(scheduler.get_last_lr()))
    return lrs


def test_plateau_resume_at_any_cut_point_continues_identically() -> None:
    warmup, total = 3, len(PLATEAU_METRICS)
    optimizer = make_optimizer()
    reference_scheduler = build_plateau(optimizer, warmup)
    reference = plateau_sequence(reference_scheduler, optimizer, PLATEAU_METRICS)
    assert len({tuple(lrs) for lrs in reference}) >= 5  # the sequence has warmup and several reductions
    for cut in cut_points(warmup, total):
        optimizer = make_optimizer()
        scheduler = build_plateau(optimizer, warmup)
        assert plateau_sequence(scheduler, optimizer, PLATEAU_METRICS[:cut]) == reference[: cut + 1]
        checkpoint = save_and_load({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})

        resumed_optimizer = make_optimizer()
        resumed = build_plateau(resumed_optimizer, warmup)
        resumed_optimizer.load_state_dict(checkpoint["optimizer"])
        resumed.load_state_dict(checkpoint["scheduler"])

        assert plateau_sequence(resumed, resumed_optimizer, PLATEAU_METRICS[cut:]) == reference[cut:], (
            f"cut {cut}"
        )
        for name in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(resumed, name) == getattr(reference_scheduler, name)


# --- WarmupReduceLROnPlateau semantics -------------------------------------------------------------


def test_plateau_warmup_ramps_to_base_then_hands_over() -> None:
    optimizer = make_optimizer()
    scheduler = build_plateau(optimizer, warmup=4)
    lrs = plateau_sequence(scheduler, optimizer, [5.0, 5.0, 5.0])
    assert [low for low, _ in lrs] == [BASE_LRS[0] * k / 4 for k in (1, 2, 3, 4)]
    assert scheduler.best == math.inf  # no metric reached the plateau yet
    scheduler.step(5.0)  # the first epoch trained at the full LR
    assert scheduler.last_epoch == 4
    assert scheduler.best == 5.0


@pytest.mark.parametrize("warmup", [0, 1, 2, 5])
def test_plateau_after_warmup_equals_a_fresh_reduce_lr_on_plateau(warmup: int) -> None:
    optimizer = make_optimizer()
    ours = plateau_sequence(build_plateau(optimizer, warmup), optimizer, PLATEAU_METRICS)

    # A torch ReduceLROnPlateau started at the base LRs on the metrics the warmup does not ignore.
    ignored = max(warmup - 1, 0)
    torch_optimizer = make_optimizer()
    plateau = ReduceLROnPlateau(torch_optimizer, patience=1, cooldown=1, factor=0.5, threshold=0.05)
    theirs = plateau_sequence(plateau, torch_optimizer, PLATEAU_METRICS[ignored:])
    assert ours[ignored:] == theirs
    if warmup <= 1:
        assert ours[0] == list(BASE_LRS)


def test_plateau_ignores_metrics_during_warmup() -> None:
    runs = []
    for warmup_metrics in ([100.0, 0.001, float("nan")], [1.0, 2.0, 3.0]):
        optimizer = make_optimizer()
        scheduler = build_plateau(optimizer, warmup=4)
        runs.append(
            (plateau_sequence(scheduler, optimizer, warmup_metrics + PLATEAU_METRICS), scheduler.best)
        )
    assert runs[0] == runs[1]


def test_plateau_keeps_the_group_ratio_and_accepts_tensor_metrics() -> None:
    optimizer = make_optimizer()
    scheduler = build_plateau(optimizer, warmup=3)
    for metric in PLATEAU_METRICS:
        optimizer.step()
        scheduler.step(torch.tensor(metric))
        low, high = scheduler.get_last_lr()
        assert high == pytest.approx(10 * low, rel=1e-12)
    assert scheduler.get_last_lr()[0] < BASE_LRS[0] / 4  # several reductions happened


def test_plateau_step_rejects_a_non_number() -> None:
    scheduler = build_plateau(make_optimizer())
    with pytest.raises(
        TypeError, match=r"metrics must be a number or a one-element tensor \(got metrics=None\)"
    ):
        scheduler.step(None)  # type: ignore[arg-type]


# --- warnings and closed forms in a real training loop --------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_normal_training_loop_emits_no_warning(case: Case) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = case.build(optimizer, 2, 6)
        for _ in range(8):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(inputs), targets).backward()
            optimizer.step()
            scheduler.step()
            assert scheduler.get_lr() == scheduler._get_closed_form_lr() == scheduler.get_last_lr()


def test_a_plateau_training_loop_emits_no_warning() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = WarmupReduceLROnPlateau(optimizer, 2, patience=0)
        for _epoch in range(6):
            for _batch in range(3):
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(inputs), targets).backward()
                optimizer.step()
            with torch.no_grad():
                scheduler.step(torch.nn.functional.mse_loss(model(inputs), targets))


# --- argument checks -------------------------------------------------------------------------------

CONSTRUCTORS: dict[str, tuple[type, dict[str, Any]]] = {
    "WarmupLR": (WarmupLR, {"warmup_steps": 3, "gamma": 0.1}),
    "WarmupConstantLR": (WarmupConstantLR, {"warmup_steps": 3}),
    "WarmupLinearLR": (WarmupLinearLR, {"warmup_steps": 3, "total_steps": 10}),
    "WarmupCosineLR": (WarmupCosineLR, {"warmup_steps": 3, "total_steps": 10}),
    "WarmupPolyLR": (WarmupPolyLR, {"warmup_steps": 3, "total_steps": 10}),
    "InverseSqrtLR": (InverseSqrtLR, {"warmup_steps": 3}),
    "WarmupStableDecayLR": (WarmupStableDecayLR, {"warmup_steps": 2, "stable_steps": 3, "decay_steps": 4}),
    "WarmupReduceLROnPlateau": (WarmupReduceLROnPlateau, {"warmup_steps": 3}),
}

# (constructor, parameter the case checks, arguments replacing the defaults, error, message)
INVALID: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    (
        "WarmupLR",
        "warmup_steps",
        {"warmup_steps": -1},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-1)",
    ),
    (
        "WarmupLR",
        "warmup_steps",
        {"warmup_steps": 2.0},
        TypeError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=2.0 of type float)",
    ),
    ("WarmupLR", "gamma", {"gamma": -0.1}, ValueError, "gamma must be a finite number >= 0 (got gamma=-0.1)"),
    (
        "WarmupLR",
        "gamma",
        {"gamma": float("nan")},
        ValueError,
        "gamma must be a finite number >= 0 (got gamma=nan)",
    ),
    (
        "WarmupLR",
        "gamma",
        {"gamma": float("inf")},
        ValueError,
        "gamma must be a finite number >= 0 (got gamma=inf)",
    ),
    (
        "WarmupLR",
        "gamma",
        {"gamma": "0.1"},
        TypeError,
        "gamma must be a finite number >= 0 (got gamma='0.1' of type str)",
    ),
    (
        "WarmupConstantLR",
        "warmup_steps",
        {"warmup_steps": -3},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-3)",
    ),
    (
        "WarmupConstantLR",
        "warmup_steps",
        {"warmup_steps": True},
        TypeError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=True of type bool)",
    ),
    (
        "WarmupLinearLR",
        "warmup_steps",
        {"warmup_steps": 20},
        ValueError,
        "warmup_steps must be <= total_steps (got warmup_steps=20, total_steps=10)",
    ),
    (
        "WarmupLinearLR",
        "warmup_steps",
        {"warmup_steps": None},
        TypeError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=None of type NoneType)",
    ),
    (
        "WarmupLinearLR",
        "total_steps",
        {"total_steps": 0, "warmup_steps": 0},
        ValueError,
        "total_steps must be an integer >= 1 (got total_steps=0)",
    ),
    (
        "WarmupLinearLR",
        "total_steps",
        {"total_steps": 10.5},
        TypeError,
        "total_steps must be an integer >= 1 (got total_steps=10.5 of type float)",
    ),
    (
        "WarmupCosineLR",
        "warmup_steps",
        {"warmup_steps": 11},
        ValueError,
        "warmup_steps must be <= total_steps (got warmup_steps=11, total_steps=10)",
    ),
    (
        "WarmupCosineLR",
        "total_steps",
        {"total_steps": -5},
        ValueError,
        "total_steps must be an integer >= 1 (got total_steps=-5)",
    ),
    (
        "WarmupCosineLR",
        "num_cycles",
        {"num_cycles": 0.0},
        ValueError,
        "num_cycles must be a finite number > 0 (got num_cycles=0.0)",
    ),
    (
        "WarmupCosineLR",
        "num_cycles",
        {"num_cycles": float("inf")},
        ValueError,
        "num_cycles must be a finite number > 0 (got num_cycles=inf)",
    ),
    (
        "WarmupCosineLR",
        "min_lr_ratio",
        {"min_lr_ratio": 1.5},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=1.5)",
    ),
    (
        "WarmupCosineLR",
        "min_lr_ratio",
        {"min_lr_ratio": -0.1},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=-0.1)",
    ),
    (
        "WarmupCosineLR",
        "min_lr_ratio",
        {"min_lr_ratio": float("nan")},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=nan)",
    ),
    (
        "WarmupPolyLR",
        "warmup_steps",
        {"warmup_steps": 12},
        ValueError,
        "warmup_steps must be <= total_steps (got warmup_steps=12, total_steps=10)",
    ),
    (
        "WarmupPolyLR",
        "total_steps",
        {"total_steps": "10"},
        TypeError,
        "total_steps must be an integer >= 1 (got total_steps='10' of type str)",
    ),
    (
        "WarmupPolyLR",
        "lr_end",
        {"lr_end": 0.6},
        ValueError,
        "lr_end must be < optimizer.defaults['lr'], the LR the decay starts from (got lr_end=0.6, optimizer.defaults['lr']=0.5)",
    ),
    (
        "WarmupPolyLR",
        "lr_end",
        {"lr_end": 0.5},
        ValueError,
        "lr_end must be < optimizer.defaults['lr'], the LR the decay starts from (got lr_end=0.5, optimizer.defaults['lr']=0.5)",
    ),
    (
        "WarmupPolyLR",
        "lr_end",
        {"lr_end": -1e-7},
        ValueError,
        "lr_end must be a finite number >= 0 (got lr_end=-1e-07)",
    ),
    (
        "WarmupPolyLR",
        "power",
        {"power": 0.0},
        ValueError,
        "power must be a finite number > 0 (got power=0.0)",
    ),
    (
        "WarmupPolyLR",
        "power",
        {"power": float("nan")},
        ValueError,
        "power must be a finite number > 0 (got power=nan)",
    ),
    (
        "InverseSqrtLR",
        "warmup_steps",
        {"warmup_steps": -1},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-1)",
    ),
    (
        "InverseSqrtLR",
        "timescale",
        {"timescale": 0},
        ValueError,
        "timescale must be an integer >= 1 (got timescale=0)",
    ),
    (
        "InverseSqrtLR",
        "timescale",
        {"timescale": 10.0},
        TypeError,
        "timescale must be an integer >= 1 (got timescale=10.0 of type float)",
    ),
    (
        "InverseSqrtLR",
        "d_model",
        {"d_model": 0},
        ValueError,
        "d_model must be an integer >= 1 (got d_model=0)",
    ),
    (
        "InverseSqrtLR",
        "d_model",
        {"d_model": 512, "timescale": 10},
        ValueError,
        "timescale must be None when d_model is given: they select different forms (got timescale=10, d_model=512)",
    ),
    (
        "InverseSqrtLR",
        "d_model",
        {"d_model": 512, "warmup_steps": 0},
        ValueError,
        "warmup_steps must be >= 1 when d_model is given (got warmup_steps=0)",
    ),
    (
        "WarmupStableDecayLR",
        "warmup_steps",
        {"warmup_steps": -2},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-2)",
    ),
    (
        "WarmupStableDecayLR",
        "stable_steps",
        {"stable_steps": -1},
        ValueError,
        "stable_steps must be an integer >= 0 (got stable_steps=-1)",
    ),
    (
        "WarmupStableDecayLR",
        "decay_steps",
        {"decay_steps": 1.5},
        TypeError,
        "decay_steps must be an integer >= 0 (got decay_steps=1.5 of type float)",
    ),
    (
        "WarmupStableDecayLR",
        "decay",
        {"decay": "exp"},
        ValueError,
        "decay must be one of 'linear', 'cosine', '1-sqrt' (got decay='exp')",
    ),
    (
        "WarmupStableDecayLR",
        "decay",
        {"decay": None},
        TypeError,
        "decay must be one of 'linear', 'cosine', '1-sqrt' (got decay=None of type NoneType)",
    ),
    (
        "WarmupStableDecayLR",
        "min_lr_ratio",
        {"min_lr_ratio": 2},
        ValueError,
        "min_lr_ratio must be a finite number >= 0 and <= 1 (got min_lr_ratio=2.0)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "warmup_steps",
        {"warmup_steps": -1},
        ValueError,
        "warmup_steps must be an integer >= 0 (got warmup_steps=-1)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "mode",
        {"mode": "minimum"},
        ValueError,
        "mode must be one of 'min', 'max' (got mode='minimum')",
    ),
    (
        "WarmupReduceLROnPlateau",
        "factor",
        {"factor": 1.0},
        ValueError,
        "factor must be a finite number >= 0 and < 1 (got factor=1.0)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "factor",
        {"factor": -0.5},
        ValueError,
        "factor must be a finite number >= 0 and < 1 (got factor=-0.5)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "patience",
        {"patience": -1},
        ValueError,
        "patience must be an integer >= 0 (got patience=-1)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "patience",
        {"patience": 2.5},
        TypeError,
        "patience must be an integer >= 0 (got patience=2.5 of type float)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "threshold",
        {"threshold": -1e-4},
        ValueError,
        "threshold must be a finite number >= 0 (got threshold=-0.0001)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "threshold_mode",
        {"threshold_mode": "relative"},
        ValueError,
        "threshold_mode must be one of 'rel', 'abs' (got threshold_mode='relative')",
    ),
    (
        "WarmupReduceLROnPlateau",
        "cooldown",
        {"cooldown": -2},
        ValueError,
        "cooldown must be an integer >= 0 (got cooldown=-2)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "min_lr",
        {"min_lr": -0.1},
        ValueError,
        "min_lr must be a finite number >= 0 (got min_lr=-0.1)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "min_lr",
        {"min_lr": [0.0]},
        ValueError,
        "min_lr must be a number or have one entry per param group (got min_lr=[0.0] for 2 param groups)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "min_lr",
        {"min_lr": [0.0, float("nan")]},
        ValueError,
        "min_lr[1] must be a finite number >= 0 (got min_lr[1]=nan)",
    ),
    (
        "WarmupReduceLROnPlateau",
        "eps",
        {"eps": float("-inf")},
        ValueError,
        "eps must be a finite number >= 0 (got eps=-inf)",
    ),
]

# (constructor, arguments replacing the defaults): boundary values that must be accepted
VALID: list[tuple[str, dict[str, Any]]] = [
    ("WarmupLR", {"warmup_steps": 0, "gamma": 0}),
    ("WarmupConstantLR", {"warmup_steps": 0}),
    ("WarmupLinearLR", {"warmup_steps": 0, "total_steps": 1}),
    ("WarmupLinearLR", {"warmup_steps": 10, "total_steps": 10}),
    ("WarmupCosineLR", {"warmup_steps": 10, "min_lr_ratio": 0}),
    ("WarmupCosineLR", {"min_lr_ratio": 1, "num_cycles": 1e-9}),
    ("WarmupPolyLR", {"warmup_steps": 10, "lr_end": 0.0, "power": 1e-9}),
    ("WarmupPolyLR", {"lr_end": 0.4999}),
    ("InverseSqrtLR", {"warmup_steps": 0}),
    ("InverseSqrtLR", {"warmup_steps": 0, "timescale": 1}),
    ("InverseSqrtLR", {"warmup_steps": 1, "d_model": 1}),
    ("WarmupStableDecayLR", {"warmup_steps": 0, "stable_steps": 0, "decay_steps": 0, "min_lr_ratio": 1}),
    *[("WarmupStableDecayLR", {"decay": decay}) for decay in ("linear", "cosine", "1-sqrt")],
    (
        "WarmupReduceLROnPlateau",
        {
            "warmup_steps": 0,
            "factor": 0.0,
            "patience": 0,
            "threshold": 0.0,
            "cooldown": 0,
            "min_lr": 0,
            "eps": 0,
        },
    ),
    ("WarmupReduceLROnPlateau", {"mode": "max", "threshold_mode": "abs", "min_lr": [0.0, 1e-4]}),
]


def build(name: str, overrides: dict[str, Any], optimizer: Any = None) -> LRScheduler:
    cls, defaults = CONSTRUCTORS[name]
    return cls(make_optimizer() if optimizer is None else optimizer, **{**defaults, **overrides})


@pytest.mark.parametrize(
    ("name", "parameter", "overrides", "error", "message"),
    INVALID,
    ids=[f"{name}-{parameter}-{i}" for i, (name, parameter, *_) in enumerate(INVALID)],
)
def test_invalid_argument_is_rejected_with_name_and_value(
    name: str, parameter: str, overrides: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        build(name, overrides)


@pytest.mark.parametrize(
    ("name", "overrides"), VALID, ids=[f"{name}-{i}" for i, (name, _) in enumerate(VALID)]
)
def test_boundary_values_are_accepted(name: str, overrides: dict[str, Any]) -> None:
    optimizer = make_optimizer()
    scheduler = build(name, overrides, optimizer)
    optimizer.step()
    if isinstance(scheduler, WarmupReduceLROnPlateau):
        scheduler.step(1.0)
    else:
        scheduler.step()
    assert all(math.isfinite(lr) and lr >= 0 for lr in scheduler.get_last_lr())


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_every_constructor_parameter_has_a_validation_case(name: str) -> None:
    cls, _ = CONSTRUCTORS[name]
    parameters = set(inspect.signature(cls).parameters) - {"optimizer", "last_epoch"}
    checked = {parameter for constructor, parameter, *_ in INVALID if constructor == name}
    assert parameters <= checked, f"{name}: no invalid-value case for {sorted(parameters - checked)}"


def test_every_public_scheduler_is_covered_by_the_tables() -> None:
    public = {getattr(module, name) for module in (schedulers_module, plateau_module) for name in module.__all__}
    assert public == {cls for cls, _ in CONSTRUCTORS.values()}


def test_the_transformers_named_functions_build_the_schedulers() -> None:
    built = {
        warmup_constant: warmup_constant(make_optimizer(), 2),
        warmup_linear: warmup_linear(make_optimizer(), 2, 10),
        warmup_cosine: warmup_cosine(make_optimizer(), 2, 10),
        warmup_poly: warmup_poly(make_optimizer(), 2, 10),
        inverse_sqrt: inverse_sqrt(make_optimizer(), 2),
        wsd: wsd(make_optimizer(), 2, 3, 5),
    }
    classes = [WarmupConstantLR, WarmupLinearLR, WarmupCosineLR, WarmupPolyLR, InverseSqrtLR, WarmupStableDecayLR]
    assert [type(scheduler) for scheduler in built.values()] == classes
    assert set(factories_module.__all__) == {function.__name__ for function in built}


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_optimizer_must_be_an_optimizer(name: str) -> None:
    model = torch.nn.Linear(2, 1)
    with pytest.raises(
        TypeError, match=r"^optimizer must be a torch\.optim\.Optimizer \(got optimizer of type Linear\)$"
    ):
        build(name, {}, optimizer=model)


@pytest.mark.parametrize(
    "name",
    [name for name, (cls, _) in CONSTRUCTORS.items() if "last_epoch" in inspect.signature(cls).parameters],
)
def test_last_epoch_is_checked(name: str) -> None:
    with pytest.raises(
        ValueError, match=re.escape("last_epoch must be an integer >= -1 (got last_epoch=-2)")
    ):
        build(name, {"last_epoch": -2})
    with pytest.raises(
        TypeError, match=re.escape("last_epoch must be an integer >= -1 (got last_epoch=0.0 of type float)")
    ):
        build(name, {"last_epoch": 0.0})


def test_numpy_arguments_are_stored_as_plain_python_numbers() -> None:
    """A numpy scalar in the state_dict would make torch.load(weights_only=True) fail."""
    scheduler = warmup_cosine(
        make_optimizer(), np.int64(2), np.int64(10), num_cycles=np.float64(0.5), min_lr_ratio=np.float32(0.25)
    )
    state = save_and_load(scheduler.state_dict())
    assert type(state["warmup_steps"]) is int and type(state["min_lr_ratio"]) is float
    state = save_and_load(WarmupLR(make_optimizer(), np.int32(2), gamma=np.float32(0.5)).state_dict())
    assert type(state["warmup_steps"]) is int and type(state["gamma"]) is float
    state = save_and_load(build_plateau(make_optimizer(), warmup=np.int64(2)).state_dict())
    assert type(state["warmup_steps"]) is int


# --- huge values are refused before the optimizer is touched ----------------------------------------

HUGE = 10**400  # no float holds it: float(HUGE) raises OverflowError
# (constructor, parameter, lowest valid value) for every integer count a constructor takes
HUGE_CASES = [
    (name, parameter, 1 if parameter in ("total_steps", "timescale", "d_model") else 0)
    for name, (cls, _) in CONSTRUCTORS.items()
    for parameter in inspect.signature(cls).parameters
    if parameter in ("warmup_steps", "total_steps", "stable_steps", "decay_steps", "timescale", "d_model")
]


@pytest.mark.parametrize(("name", "parameter", "low"), HUGE_CASES, ids=[f"{n}-{p}" for n, p, _ in HUGE_CASES])
def test_a_huge_count_is_refused_up_front_and_leaves_the_optimizer_untouched(name: str, parameter: str, low: int) -> None:
    optimizer = make_optimizer()
    before = [dict(group) for group in optimizer.param_groups]
    overrides = {parameter: HUGE}
    if parameter == "warmup_steps" and "total_steps" in inspect.signature(CONSTRUCTORS[name][0]).parameters:
        overrides["total_steps"] = HUGE  # so that warmup_steps <= total_steps is not what fails
    if parameter == "d_model":
        overrides["warmup_steps"] = 3
    message = f"{parameter} must be an integer >= {low} and <= 2**53 (got {parameter}=1.000e+400)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        build(name, overrides, optimizer)
    assert [dict(group) for group in optimizer.param_groups] == before  # no initial_lr written


def test_warmup_linear_with_a_huge_total_names_it() -> None:
    optimizer = make_optimizer()
    with pytest.raises(ValueError, match=re.escape(
        "total_steps must be an integer >= 1 and <= 2**53 (got total_steps=1.000e+400)"
    )):
        warmup_linear(optimizer, 0, 10**400)
    assert all("initial_lr" not in group for group in optimizer.param_groups)


def test_a_huge_real_is_refused_like_any_non_finite_value() -> None:
    optimizer = make_optimizer()
    with pytest.raises(ValueError, match=re.escape("gamma must be a finite number >= 0 (got gamma=1.000e+400)")):
        WarmupLR(optimizer, 3, gamma=HUGE)
    assert all("initial_lr" not in group for group in optimizer.param_groups)


@pytest.mark.parametrize(
    "name", [name for name, (cls, _) in CONSTRUCTORS.items() if "last_epoch" in inspect.signature(cls).parameters]
)
def test_a_huge_last_epoch_is_refused(name: str) -> None:
    optimizer = make_optimizer()
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    with pytest.raises(ValueError, match=re.escape(
        "last_epoch must be an integer >= -1 and <= 2**53 - 1 (got last_epoch=1.000e+400)"
    )):
        build(name, {"last_epoch": HUGE}, optimizer)


def test_the_largest_count_still_builds() -> None:
    scheduler = warmup_linear(make_optimizer(), 2**53, 2**53)
    assert scheduler.get_last_lr() == [0.0, 0.0]  # step 0 of a ramp from zero


# --- resuming with last_epoch: torch's convention, steps taken - 1 -----------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda opt, **kw: warmup_cosine(opt, warmup_steps=5, total_steps=30, **kw),
        lambda opt, **kw: WarmupLR(opt, warmup_steps=5, gamma=0.1, **kw),
        lambda opt, **kw: wsd(opt, warmup_steps=3, stable_steps=4, decay_steps=10, **kw),
    ],
    ids=["warmup_cosine", "WarmupLR", "wsd"],
)
def test_resuming_with_last_epoch_after_8_steps_passes_7(make: Callable[..., LRScheduler]) -> None:
    optimizer = make_optimizer()
    scheduler = make(optimizer)
    uninterrupted = []
    for _ in range(20):
        uninterrupted.append(group_lrs(optimizer))
        optimizer.step()
        scheduler.step()
    # A run stopped after 8 steps, whose optimizer state (with each group's initial_lr) was kept.
    optimizer = make_optimizer()
    scheduler = make(optimizer)
    for _ in range(8):
        optimizer.step()
        scheduler.step()
    saved = save_and_load(optimizer.state_dict())
    assert [group["initial_lr"] for group in saved["param_groups"]] == list(BASE_LRS)

    resumed_optimizer = make_optimizer()
    resumed_optimizer.load_state_dict(saved)
    resumed = make(resumed_optimizer, last_epoch=7)
    assert resumed.last_epoch == 8
    resumed_lrs = []
    for _ in range(8, 20):
        resumed_lrs.append(group_lrs(resumed_optimizer))
        resumed_optimizer.step()
        resumed.step()
    assert resumed_lrs == uninterrupted[8:]
    # last_epoch=8 ("8 steps taken") would resume one step ahead, at step 9's LR.
    ahead_optimizer = make_optimizer()
    ahead_optimizer.load_state_dict(saved)
    make(ahead_optimizer, last_epoch=8)
    assert group_lrs(ahead_optimizer) == uninterrupted[9] != uninterrupted[8]


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    optimizer = make_optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        warmup_cosine(optimizer, warmup_steps=5, total_steps=30, last_epoch=7)


def test_every_last_epoch_docstring_states_the_convention() -> None:
    for cls, _ in CONSTRUCTORS.values():
        if "last_epoch" in inspect.signature(cls).parameters:
            doc = " ".join(cls.__doc__.split())
            assert "last_epoch: ``-1`` for a new run. To resume after ``n`` optimizer steps, ``n - 1``" in doc, cls
            assert "steps already taken" not in doc, cls


# --- param groups added after the scheduler was built -------------------------------------------------


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_a_group_added_after_the_scheduler_is_refused_with_the_fix(name: str) -> None:
    optimizer = make_optimizer()
    scheduler = build(name, {}, optimizer)
    optimizer.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.3})
    optimizer.step()
    message = (
        f"the optimizer has 3 param groups but scheduler ({type(scheduler).__name__}) was built for 2: "
        "a group added with optimizer.add_param_group() after the scheduler was built has no base LR "
        "and would not be scheduled. Add every param group before building the scheduler, or build "
        "a new scheduler after adding the group"
    )
    last_epoch = scheduler.last_epoch
    with pytest.raises(RuntimeError, match=f"^{re.escape(message)}$"):
        scheduler.step(1.0) if isinstance(scheduler, WarmupReduceLROnPlateau) else scheduler.step()
    assert scheduler.last_epoch == last_epoch  # refused before anything moved
