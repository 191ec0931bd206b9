"""Tests for lrcourse.range_test against references written from the formulas and fastai's rules."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
from torch import nn
from validation_table import validation_table_tests

import lrcourse
from lrcourse import RangeTestResult
from lrcourse import range_result as range_result_module
from lrcourse import range_test as range_test_module
from lrcourse.range_test import lr_range_test, range_test_lrs

# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def make_net(seed: int = 0) -> nn.Module:
    """A small net with BatchNorm (running statistics are buffers the test must restore)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def make_batches(n: int = 6, size: int = 16, seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, 4, generator=g), torch.randint(0, 3, (size,), generator=g)) for _ in range(n)]


def two_groups(model: nn.Module, lr: float = 0.01, head_ratio: float = 10.0) -> torch.optim.Optimizer:
    body, head = list(model[:2].parameters()), list(model[3].parameters())
    return torch.optim.SGD([{"params": body}, {"params": head, "lr": lr * head_ratio}], lr=lr, momentum=0.9)


def record_lrs(optimizer: torch.optim.Optimizer) -> tuple[list[list[float]], object]:
    """The LR of every group at every optimizer.step() call, via a pre-step hook."""
    seen: list[list[float]] = []
    handle = optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append([g["lr"] for g in opt.param_groups]))
    return seen, handle


class ScriptedLoss:
    """A loss_fn that returns the next scripted value (with a zero gradient into the model)."""

    def __init__(self, values: list[float]) -> None:
        self.values, self.calls = values, 0

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        value = self.values[self.calls]
        self.calls += 1
        return logits.sum() * 0.0 + value


def reference_smoothed(losses: list[float], beta: float) -> list[float]:
    avg, out = 0.0, []
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def reference_stop(smoothed: list[float], factor: float) -> int | None:
    for i, value in enumerate(smoothed):
        if not math.isfinite(value) or value > factor * min(smoothed[: i + 1]):
            return i
    return None


# ----------------------------------------------------------------------------------------------
# The learning rates
# ----------------------------------------------------------------------------------------------


# 3.79e-05 * (2.54 / 3.79e-05) ** 1.0 is 2.5400000000000005: the end points are pinned, not computed.
@pytest.mark.parametrize("start, end, n", [(1e-7, 10.0, 100), (1e-4, 1.0, 2), (0.5, 0.75, 7), (3.79e-05, 2.54, 9)])
def test_exp_lrs_follow_the_formula_and_hit_both_ends(start, end, n):
    expected = [start * (end / start) ** (i / (n - 1)) for i in range(n)]
    lrs = range_test_lrs(start, end, n, "exp")
    assert lrs[0] == start and lrs[-1] == end
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert all(b > a for a, b in zip(lrs, lrs[1:]))


def test_linear_lrs_follow_the_formula():
    lrs = range_test_lrs(0.001, 1.0, 5, "linear")
    assert lrs == pytest.approx([0.001, 0.25075, 0.5005, 0.75025, 1.0], rel=1e-12)
    assert lrs[0] == 0.001 and lrs[-1] == 1.0


def test_the_optimizer_runs_each_step_at_its_lr_and_groups_keep_their_ratio():
    model = make_net()
    optimizer = two_groups(model, lr=0.01, head_ratio=10.0)
    seen, handle = record_lrs(optimizer)
    result = lr_range_test(model, optimizer, make_batches(), start_lr=1e-5, end_lr=1e-2, num_steps=20,
                           diverge_factor=1e6, device="cpu")
    handle.remove()
    planned = range_test_lrs(1e-5, 1e-2, 20)
    assert result.lrs == planned
    assert [g0 for g0, _ in seen] == planned
    assert [g1 for _, g1 in seen] == [lr * 10.0 for lr in planned]
    assert result.ratios == [1.0, 10.0]
    assert result.group_lrs(0.003) == [0.003, 0.03]
    assert [g["lr"] for g in optimizer.param_groups] == [0.01, 0.1]  # restored


# ----------------------------------------------------------------------------------------------
# Losses, smoothing, stopping
# ----------------------------------------------------------------------------------------------


def test_losses_are_computed_before_the_update_and_batches_are_cycled():
    model, batches = make_net(), make_batches(n=3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before: list[float] = []
    step = {"i": 0}

    def loss_before_update(opt, args, kwargs):
        # The same batch, the same weights, just before optimizer.step(): step i uses batch i % 3.
        x, y = batches[step["i"] % 3]
        with torch.no_grad():
            before.append(nn.functional.cross_entropy(model(x), y).item())
        step["i"] += 1

    handle = optimizer.register_step_pre_hook(loss_before_update)
    result = lr_range_test(model, optimizer, batches, start_lr=1e-4, end_lr=1e-1, num_steps=7, device="cpu")
    handle.remove()
    # BatchNorm in train mode: the hook's forward sees the same batch statistics, so the loss is
    # the same, up to float rounding of a second forward pass.
    assert result.losses == pytest.approx(before, rel=1e-6)


def test_a_one_shot_iterator_is_used_once_and_reiterables_are_reiterated():
    class Counting:
        def __init__(self, batches):
            self.batches, self.passes, self.yielded = batches, 0, 0

        def __iter__(self):
            self.passes += 1
            for batch in self.batches:
                self.yielded += 1
                yield batch

    model, batches = make_net(), Counting(make_batches(n=3))
    lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, num_steps=7,
                  end_lr=1e-2, device="cpu")
    assert (batches.passes, batches.yielded) == (3, 7)
    enough = iter(make_batches(n=7))
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), enough, num_steps=7,
                           end_lr=1e-2, device="cpu")
    assert len(result.lrs) == 7 and next(enough, None) is None


def test_a_short_one_shot_iterator_is_an_error_and_the_model_is_still_restored():
    model = make_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"^batches ran out after 3 batches of the 10 needed, and an iterator "
                                         r"cannot be cycled; pass a list or a DataLoader, or more batches$"):
        lr_range_test(model, optimizer, iter(make_batches(n=3)), num_steps=10, device="cpu")
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert optimizer.state_dict()["state"] == {}


@pytest.mark.parametrize("smooth", [0.0, 0.5, 0.98])
def test_smoothed_is_the_debiased_moving_average(smooth):
    model = make_net()
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), make_batches(), num_steps=30,
                           smooth=smooth, end_lr=1.0, diverge_factor=1e6, device="cpu")
    assert result.smoothed == pytest.approx(reference_smoothed(result.losses, smooth), rel=1e-12)
    if smooth == 0.0:
        assert result.smoothed == result.losses


@pytest.mark.parametrize(
    "script, factor",
    [
        ([2.0, 1.0, 0.5, 0.5, 1.0, 4.0, 8.0, 16.0, 32.0, 64.0], 4.0),   # rises past 4 x the minimum
        ([2.0, 1.0, 0.5, 0.5, 1.0, 4.0, 8.0, 16.0, 32.0, 64.0], 2.0),   # stops earlier
        ([1.0, 0.75, 0.5, 0.25, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125], 4.0),  # never stops
        ([1.0, 0.5, float("nan"), 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 4.0),  # NaN stops at once
        ([1.0, 0.5, float("inf"), 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 4.0),  # so does inf
    ],
)
def test_the_test_stops_at_the_first_step_that_breaks_the_rule(script, factor):
    model = make_net()
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), make_batches(), num_steps=10,
                           smooth=0.5, diverge_factor=factor, loss_fn=ScriptedLoss(script), device="cpu")
    expected = reference_stop(reference_smoothed(script, 0.5), factor)
    assert result.stopped_at == expected
    recorded = 10 if expected is None else expected + 1
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) == recorded
    assert result.num_steps == 10
    assert result.losses == pytest.approx(script[:recorded], nan_ok=True)


def test_a_real_divergence_is_caught():
    model = make_net()
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), make_batches(), num_steps=200,
                           start_lr=1e-4, end_lr=1e4, device="cpu")
    assert result.stopped_at is not None and result.stopped_at < 199
    assert result.stopped_at == reference_stop(result.smoothed, 4.0)


def test_val_losses_are_measured_after_each_update():
    model, val = make_net(), make_batches(n=2, seed=7)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    after: list[float] = []
    handle = optimizer.register_step_post_hook(lambda opt, args, kwargs: after.append(lrcourse.evaluate(model, val)[0]))
    result = lr_range_test(model, optimizer, make_batches(), num_steps=8, end_lr=1.0, val_batches=val, device="cpu")
    handle.remove()
    assert result.val_losses == after
    assert model.training  # evaluate() put it back in train mode each time; restored anyway


# ----------------------------------------------------------------------------------------------
# Accumulation and mixed precision
# ----------------------------------------------------------------------------------------------


def test_accumulation_changes_the_lr_per_optimizer_step_and_averages_micro_batch_losses():
    model = make_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    seen, handle = record_lrs(optimizer)
    script = [float(v) for v in range(1, 19)]  # 6 steps x 3 micro-batches
    loss_fn = ScriptedLoss(script)
    result = lr_range_test(model, optimizer, make_batches(n=4), num_steps=6, accumulation_steps=3, end_lr=1.0,
                           loss_fn=loss_fn, smooth=0.0, diverge_factor=1e6, device="cpu")
    handle.remove()
    assert loss_fn.calls == 18
    assert [lrs[0] for lrs in seen] == range_test_lrs(1e-7, 1.0, 6)
    assert result.losses == [sum(script[3 * i : 3 * i + 3]) / 3 for i in range(6)]


def test_accumulated_gradients_are_the_mean_over_micro_batches():
    # One step of plain SGD over 2 micro-batches moves the weights as one step over both together.
    batches = make_batches(n=2, size=8)
    together = (torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches]))

    def linear_step(batch_list, accumulation):
        torch.manual_seed(3)
        model = nn.Linear(4, 3)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        grads = []
        handle = optimizer.register_step_pre_hook(
            lambda opt, a, k: grads.append([p.grad.clone() for p in model.parameters()]))
        lr_range_test(model, optimizer, batch_list, num_steps=2, start_lr=0.1, end_lr=0.2,
                      accumulation_steps=accumulation, device="cpu")
        handle.remove()
        return grads[0]

    for a, b in zip(linear_step(batches, 2), linear_step([together], 1)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_fp16_skipped_steps_are_recorded_and_do_not_delay_the_schedule():
    model = make_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calls, taken = [], []
    handle = optimizer.register_step_post_hook(lambda opt, a, k: taken.append(len(calls) - 1))

    def huge(logits, targets):  # overflows float16 gradients until GradScaler has backed off
        calls.append(1)
        return nn.functional.cross_entropy(logits, targets) * 1e6

    result = lr_range_test(model, optimizer, make_batches(), num_steps=40, end_lr=1e-3, loss_fn=huge,
                           precision="fp16", device="cpu", diverge_factor=1e9)
    handle.remove()
    assert result.skipped and result.skipped[0] == 0
    recorded = len(result.lrs)
    assert taken and sorted(set(range(recorded)) - set(result.skipped)) == taken  # all others updated
    assert result.lrs == range_test_lrs(1e-7, 1e-3, 40)[:recorded]
    assert result.config["precision"] == "fp16"


def test_bf16_runs_on_cpu_and_takes_every_step():
    model = make_net()
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), make_batches(), num_steps=10,
                           end_lr=1e-2, precision="bf16", device="cpu")
    assert result.skipped == [] and len(result.losses) == 10 and result.config["precision"] == "bf16"


# ----------------------------------------------------------------------------------------------
# Everything is restored
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_optimizer", [
    lambda m: two_groups(m),
    lambda m: torch.optim.AdamW([{"params": list(m[:2].parameters())}, {"params": list(m[3].parameters()),
                                                                        "lr": 3e-3}], lr=1e-3),
], ids=["sgd-momentum", "adamw"])
def test_model_optimizer_and_rng_are_restored_exactly(make_optimizer):
    model = make_net()
    optimizer = make_optimizer(model)
    batches = make_batches()
    for x, y in batches[:3]:  # some optimizer state and BatchNorm statistics to restore
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    model[1].train()  # mixed flags: each module's flag must come back
    model_state = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.grad.clone() for p in model.parameters()]
    opt_state = optimizer.state_dict()
    opt_tensors = {(i, k): v.clone() for i, s in opt_state["state"].items() for k, v in s.items()}
    groups = [{k: v for k, v in g.items()} for g in opt_state["param_groups"]]
    random.seed(11)
    np.random.seed(12)
    torch.manual_seed(13)
    rng = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone())

    result = lr_range_test(model, optimizer, batches, num_steps=60, end_lr=100.0, device="cpu")
    assert result.stopped_at is not None  # the test went all the way to a divergence

    assert all(torch.equal(model_state[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    assert [m.training for m in model] == [False, True, False, False] and not model.training
    after = optimizer.state_dict()
    assert {(i, k): v for i, s in after["state"].items() for k, v in s.items()}.keys() == opt_tensors.keys()
    assert all(torch.equal(opt_tensors[(i, k)], v) for i, s in after["state"].items() for k, v in s.items())
    assert after["param_groups"] == groups
    assert random.getstate() == rng[0]
    assert np.array_equal(np.random.get_state()[1], rng[1])
    assert torch.equal(torch.get_rng_state(), rng[2])


def test_restored_model_trains_exactly_as_if_no_test_had_run():
    def train_a_little(run_test: bool) -> list[torch.Tensor]:
        model = make_net()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        torch.manual_seed(5)
        if run_test:
            lr_range_test(model, optimizer, make_batches(), num_steps=30, end_lr=10.0, device="cpu")
        for x, y in make_batches(seed=9):
            x = x + 0.01 * torch.randn_like(x)  # draws from the global RNG
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        return [t.clone() for t in model.state_dict().values()]

    assert all(torch.equal(a, b) for a, b in zip(train_a_little(False), train_a_little(True)))


def test_the_optimizer_must_belong_to_the_model():
    other = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"^optimizer.param_groups\[0\] holds parameters that are not in model"):
        lr_range_test(make_net(), torch.optim.SGD(other.parameters(), lr=0.1), make_batches(), device="cpu")


# ----------------------------------------------------------------------------------------------
# Suggestions: references transcribed from fastai's rules (fastai/callback/schedule.py)
# ----------------------------------------------------------------------------------------------


def fastai_valley(lrs, losses):
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return lrs[max_start + int(sections) + int(sections / 2)]


def fastai_slide(lrs, losses, lr_diff=15, thresh=0.005):
    loss_grad = np.gradient(np.array(losses))
    r_idx = -1
    l_idx = r_idx - lr_diff
    local_min_lr = lrs[l_idx]
    while (l_idx >= -len(losses)) and (abs(loss_grad[r_idx] - loss_grad[l_idx]) > thresh):
        local_min_lr = lrs[l_idx]
        r_idx -= 1
        l_idx -= 1
    return local_min_lr, l_idx < -len(losses)  # the LR, and whether the loop ran out


def fastai_minimum(lrs, losses):
    return lrs[int(np.argmin(losses))] / 10


def fastai_steep(lrs, losses):
    lrs_a, losses_a = np.array(lrs), np.array(losses)
    grads = (losses_a[1:] - losses_a[:-1]) / (np.log(lrs_a[1:]) - np.log(lrs_a[:-1]))
    return lrs[int(np.argmin(grads))], grads.min()


N = 100
LRS = range_test_lrs(1e-7, 10.0, N)
LOG = np.log10(LRS)
CURVES = {
    # the textbook shape: a plateau, a descent, a minimum, a blow-up
    "diverging": list(2.3 - 1.8 / (1 + np.exp(-3 * (LOG + 3))) + 0.9 * np.exp(2.2 * (LOG - 0.2))),
    "monotone": list(2.3 - 0.2 * np.arange(N) / N - 1.5 / (1 + np.exp(-2 * (LOG + 2)))),
    "noisy": list(2.3 - 1.5 / (1 + np.exp(-3 * (LOG + 3))) + np.exp(2 * (LOG - 0.5))
                  + 0.05 * np.random.default_rng(0).standard_normal(N)),
    "flat": [2.3] * N,
    "rising": list(2.3 + 0.01 * np.arange(N)),
}


def result_for(curve: list[float]) -> RangeTestResult:
    return RangeTestResult(LRS, curve, curve, num_steps=N)


@pytest.mark.parametrize("name", ["diverging", "monotone", "noisy"])
def test_suggestions_match_fastai_on_curves_with_a_descent(name):
    result = result_for(CURVES[name])
    lrs, curve = LRS[N // 10 : N - 5], CURVES[name][N // 10 : N - 5]
    assert result.curve() == (lrs, curve)
    slide, ran_out = fastai_slide(lrs, curve)
    steep, _ = fastai_steep(lrs, curve)
    expected = {"valley": fastai_valley(lrs, curve), "slide": None if ran_out else slide,
                "minimum": fastai_minimum(lrs, curve), "steep": steep}
    assert result.suggest("all") == expected
    for method, lr in expected.items():
        assert result.suggest(method) == lr


def test_suggestions_on_the_textbook_curve_sit_where_they_should():
    result = result_for(CURVES["diverging"])
    s = result.suggest("all")
    lowest = LRS[int(np.argmin(CURVES["diverging"]))]
    assert s["minimum"] == lowest / 10
    for method in ("valley", "steep", "slide"):
        assert 1e-5 < s[method] < lowest, method  # on the descent, below the minimum


def test_monotone_curve_minimum_is_a_tenth_of_the_last_lr_kept():
    result = result_for(CURVES["monotone"])
    assert result.suggest("minimum") == LRS[N - 6] / 10


@pytest.mark.parametrize("name", ["flat", "rising"])
def test_no_descent_means_no_valley_steep_or_minimum(name):
    result = result_for(CURVES[name])
    s = result.suggest("all")
    assert (s["valley"], s["steep"], s["minimum"]) == (None, None, None)
    lrs, curve = result.curve()
    slide, ran_out = fastai_slide(lrs, curve)
    assert not ran_out and s["slide"] == slide  # slopes agree: fastai's rule does find a slide


def test_slide_is_none_when_no_two_slopes_agree_and_when_the_curve_is_short():
    # A parabola: slopes 15 steps apart always differ by 15 * 2 * 0.001 = 0.03 > 0.005.
    bowl = [2.3 + 0.001 * (i - 50) ** 2 for i in range(N)]
    assert fastai_slide(*result_for(bowl).curve())[1]  # fastai's loop runs out
    assert result_for(bowl).suggest("slide") is None
    short = result_for(CURVES["diverging"])
    assert short.suggest("slide", skip_start=0, skip_end=N - 15) is None  # 15 points: too few
    assert short.suggest("slide", skip_start=0, skip_end=N - 16) is not None


def test_suggestions_ignore_the_trimmed_ends_and_stop_at_the_first_nan():
    curve = list(CURVES["diverging"])
    curve[50] = float("nan")
    result = result_for(curve)
    lrs, kept = result.curve()
    assert lrs == LRS[10:50] and kept == curve[10:50]
    assert result.suggest("minimum") == LRS[int(np.argmin(curve[10:50])) + 10] / 10
    assert result_for(CURVES["diverging"]).curve(skip_start=0, skip_end=0)[1] == CURVES["diverging"]


def test_a_stopped_test_still_has_suggestions_and_an_empty_curve_has_none():
    curve = CURVES["diverging"][:70] + [float("inf")]
    result = RangeTestResult(LRS[:71], curve, curve, stopped_at=70, num_steps=N)
    assert result.curve()[0] == LRS[10:66]
    assert all(v is not None for v in result.suggest("all").values())
    tiny = RangeTestResult(LRS[:8], curve[:8], curve[:8], num_steps=N)
    assert tiny.suggest("all") == {"valley": None, "slide": None, "minimum": None, "steep": None}


def test_suggest_and_curve_reject_bad_arguments():
    result = result_for(CURVES["diverging"])
    with pytest.raises(ValueError, match=r"^method must be one of 'valley', 'slide', 'minimum', 'steep', 'all' "
                                         r"\(got method='best'\)$"):
        result.suggest("best")
    with pytest.raises(ValueError, match=r"^skip_end must be an integer >= 0 \(got skip_end=-1\)$"):
        result.suggest(skip_end=-1)
    with pytest.raises(TypeError, match=r"^skip_start must be an integer >= 0 \(got skip_start=1.5 of type float\)$"):
        result.curve(skip_start=1.5)
    with pytest.raises(ValueError, match=r"^lr must be a finite number >= 0 \(got lr=-1.0\)$"):
        result.group_lrs(-1.0)


# ----------------------------------------------------------------------------------------------
# Plot and JSON
# ----------------------------------------------------------------------------------------------


def test_plot_draws_the_curves_and_one_marker_per_existing_suggestion():
    import matplotlib.pyplot as plt

    curve = CURVES["diverging"]
    result = RangeTestResult(LRS, curve, curve, val_losses=curve, num_steps=N)
    ax = result.plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:3] == ["loss of each step", "smoothed loss", "validation loss"]
    assert [label.split(":")[0] for label in labels[3:]] == ["valley", "slide", "minimum", "steep"]
    assert ax.get_xscale() == "log"
    width, _ = ax.figure.get_size_inches()
    assert width <= 7.5
    low, high = ax.get_ylim()
    assert low < min(curve) and high < max(curve)  # the blow-up is clipped
    plt.close(ax.figure)
    flat = result_for(CURVES["flat"]).plot(suggestions=True)
    assert [line.get_label().split(":")[0] for line in flat.get_lines()] == ["loss of each step", "smoothed loss",
                                                                             "slide"]
    plt.close(flat.figure)
    with pytest.raises(TypeError, match=r"^ax must be a matplotlib Axes or None \(got ax of type str\)$"):
        result.plot(ax="left")
    with pytest.raises(TypeError, match=r"^suggestions must be True or False \(got suggestions=1 of type int\)$"):
        result.plot(suggestions=1)


def test_to_dict_survives_strict_json_and_comes_back_equal():
    model = make_net()
    result = lr_range_test(model, two_groups(model), make_batches(), num_steps=20, end_lr=1.0,
                           # two calls a step: the training batch, then the validation batch
                           val_batches=make_batches(n=1), loss_fn=ScriptedLoss([1.0] * 10 + [math.inf] * 30),
                           device="cpu")
    assert result.stopped_at == 5 and math.isinf(result.losses[-1])
    text = json.dumps(result.to_dict(), allow_nan=False)
    back = RangeTestResult.from_dict(json.loads(text))
    assert back.to_dict() == result.to_dict()
    assert back.lrs == result.lrs and back.ratios == [1.0, 10.0] and back.stopped_at == 5
    assert math.isinf(back.losses[-1]) and back.config == result.config
    with pytest.raises(ValueError, match=r"^data must have exactly the keys .* \(missing \['config'\], unknown "
                                         r"\['extra'\]\)$"):
        RangeTestResult.from_dict({**{k: v for k, v in result.to_dict().items() if k != "config"}, "extra": 1})
    with pytest.raises(TypeError, match=r"^data must be a dict from RangeTestResult.to_dict \(got list\)$"):
        RangeTestResult.from_dict([])


def test_exported_from_the_package():
    assert lrcourse.lr_range_test is lr_range_test and lrcourse.RangeTestResult is RangeTestResult
    assert lrcourse.range_test_lrs is range_test_lrs


# ----------------------------------------------------------------------------------------------
# Every argument is validated
# ----------------------------------------------------------------------------------------------


def _test_args():
    model = make_net()
    return {"model": model, "optimizer": torch.optim.SGD(model.parameters(), lr=0.1), "batches": make_batches(n=2),
            "num_steps": 3, "device": "cpu"}


def _zero_lr_args():
    args = _test_args()
    args["optimizer"] = torch.optim.SGD(args["model"].parameters(), lr=0.0)
    return args


_GOOD_RESULT = {"lrs": [1e-3, 1e-2, 1e-1], "losses": [2.0, 1.5, 3.0], "smoothed": [2.0, 1.7, 2.2]}

FUNCTIONS = {
    "lr_range_test": (lr_range_test, _test_args),
    "range_test_lrs": (range_test_lrs, {"start_lr": 1e-7, "end_lr": 10.0, "num_steps": 100, "mode": "exp"}),
    "RangeTestResult": (RangeTestResult, _GOOD_RESULT),
}

T = "lr_range_test"
R = "RangeTestResult"
INVALID = [
    (T, "model", {"model": "net"}, TypeError, "model must be a torch.nn.Module (got model of type str)"),
    (T, "optimizer", {"optimizer": "sgd"}, TypeError,
     "optimizer must be a torch.optim.Optimizer (got optimizer of type str)"),
    (T, "optimizer", _zero_lr_args(), ValueError,
     "optimizer.param_groups[0]['lr'] must be a finite number > 0: the other groups keep their ratio to it "
     "(got 0.0)"),
    (T, "batches", {"batches": 3}, TypeError,
     "batches must be an iterable of (inputs, targets) batches (got batches of type int)"),
    (T, "batches", {"batches": []}, ValueError, "batches is empty: there is nothing to train on"),
    (T, "batches", {"batches": [torch.zeros(2, 4)]}, TypeError,
     "each batch must be an (inputs, targets) pair (got Tensor)"),
    (T, "start_lr", {"start_lr": 0}, ValueError, "start_lr must be a finite number > 0 (got start_lr=0.0)"),
    (T, "start_lr", {"start_lr": "1e-7"}, TypeError,
     "start_lr must be a finite number > 0 (got start_lr='1e-7' of type str)"),
    (T, "end_lr", {"end_lr": 1e-7}, ValueError, "end_lr must be > start_lr (got start_lr=1e-07, end_lr=1e-07)"),
    (T, "end_lr", {"end_lr": math.inf}, ValueError, "end_lr must be a finite number > 0 (got end_lr=inf)"),
    (T, "num_steps", {"num_steps": 1}, ValueError, "num_steps must be an integer >= 2 (got num_steps=1)"),
    (T, "num_steps", {"num_steps": 3.0}, TypeError,
     "num_steps must be an integer >= 2 (got num_steps=3.0 of type float)"),
    (T, "mode", {"mode": "log"}, ValueError, "mode must be one of 'exp', 'linear' (got mode='log')"),
    (T, "smooth", {"smooth": 1.0}, ValueError, "smooth must be a finite number >= 0 and < 1 (got smooth=1.0)"),
    (T, "diverge_factor", {"diverge_factor": 1}, ValueError,
     "diverge_factor must be a finite number > 1 (got diverge_factor=1.0)"),
    (T, "val_batches", {"val_batches": iter(make_batches(n=1))}, TypeError,
     "val_batches must be re-iterable (a list, a DataLoader): it is read after every step, and an iterator "
     "such as list_iterator is exhausted after the first"),
    (T, "val_batches", {"val_batches": 7}, TypeError,
     "val_batches must be an iterable of (inputs, targets) batches (got val_batches of type int)"),
    (T, "val_batches", {"val_batches": []}, ValueError, "val_batches is empty: there is nothing to validate on"),
    (T, "accumulation_steps", {"accumulation_steps": 0}, ValueError,
     "accumulation_steps must be an integer >= 1 (got accumulation_steps=0)"),
    (T, "loss_fn", {"loss_fn": "ce"}, TypeError, "loss_fn must be callable or None (got loss_fn of type str)"),
    (T, "device", {"device": "gpu0"}, ValueError,
     "device must name a torch device such as 'cpu' or 'cuda' (got device='gpu0')"),
    (T, "device", {"device": 0.5}, TypeError, "device must be a str, a torch.device or None (got device of type float)"),
    (T, "precision", {"precision": "fp8"}, ValueError,
     "precision must be one of 'bf16', 'fp16', 'fp32' (got precision='fp8')"),
    (T, "progress", {"progress": 1}, TypeError, "progress must be True or False (got progress=1 of type int)"),
    ("range_test_lrs", "start_lr", {"start_lr": -1.0}, ValueError,
     "start_lr must be a finite number > 0 (got start_lr=-1.0)"),
    ("range_test_lrs", "end_lr", {"end_lr": 1e-8}, ValueError,
     "end_lr must be > start_lr (got start_lr=1e-07, end_lr=1e-08)"),
    ("range_test_lrs", "num_steps", {"num_steps": 0}, ValueError, "num_steps must be an integer >= 2 (got num_steps=0)"),
    ("range_test_lrs", "mode", {"mode": "exponential"}, ValueError,
     "mode must be one of 'exp', 'linear' (got mode='exponential')"),
    (R, "lrs", {"lrs": "0.1"}, TypeError, "lrs must be a list of numbers (got lrs of type str)"),
    (R, "lrs", {"lrs": [1e-3, 0.0, 0.1]}, ValueError, "lrs[1] must be a finite number > 0 (got lrs[1]=0.0)"),
    (R, "lrs", {"lrs": []}, ValueError, "lrs must hold at least one step (got lrs=[])"),
    (R, "losses", {"losses": [2.0, 1.5]}, ValueError, "losses must have one value per step, 3 (got 2)"),
    (R, "losses", {"losses": [2.0, None, 1.0]}, TypeError, "losses[1] must be a number (got losses[1]=None)"),
    (R, "smoothed", {"smoothed": [2.0]}, ValueError, "smoothed must have one value per step, 3 (got 1)"),
    (R, "val_losses", {"val_losses": [1.0]}, ValueError, "val_losses must have one value per step, 3 (got 1)"),
    (R, "stopped_at", {"stopped_at": 1}, ValueError, "stopped_at must be the last step recorded, 2 (got stopped_at=1)"),
    (R, "stopped_at", {"stopped_at": -1}, ValueError, "stopped_at must be an integer >= 0 (got stopped_at=-1)"),
    (R, "skipped", {"skipped": [3]}, ValueError, "skipped must hold step indices < 3 (got skipped=[3])"),
    (R, "skipped", {"skipped": 0}, TypeError, "skipped must be a list of step indices (got skipped of type int)"),
    (R, "num_steps", {"num_steps": 2}, ValueError, "num_steps must be >= the 3 steps recorded (got num_steps=2)"),
    (R, "ratios", {"ratios": [2.0, 1.0]}, ValueError,
     "ratios must start with 1.0 and hold finite numbers >= 0 (got ratios=[2.0, 1.0])"),
    (R, "config", {"config": ["mode", "exp"]}, TypeError, "config must be a dict (got config of type list)"),
]

(
    test_invalid_argument_is_rejected_with_name_and_value,
    test_every_parameter_has_a_validation_case,
    test_every_public_function_is_covered_by_the_table,
) = validation_table_tests([range_test_module, range_result_module], FUNCTIONS, INVALID)
