"""d2l's scheduling experiment re-run: its schedules' values, its two bugs reproduced exactly by the
objects d2l builds, the corrected timing at every step, the LR each step really trained at, and the
sweep and command line that run it."""

import math

import pytest
import torch
from torch.optim import lr_scheduler

from lrcourse.lab import sweep
from lrcourse.lab.checkpoint import ConfigMismatchError
from lrcourse.lab.d2l_rerun import (
    D2L_PUBLISHED,
    D2L_RUNS,
    D2LScheduleLR,
    as_run_rate,
    build_d2l_schedule,
    d2l_data,
    d2l_rate,
    run_d2l,
)
from lrcourse.lab.providers import RunData, _tensor_batches
from lrcourse.lab.results import read_result

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


def _sgd(lr=0.3):
    return torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=lr)


def test_the_schedules_at_the_epochs_d2l_plots():
    assert [d2l_rate("sqrt", e) for e in (0, 3, 8)] == [0.1, 0.1 * 4 ** -0.5, 0.1 * 9 ** -0.5]
    assert [d2l_rate("multifactor", e) for e in (0, 14, 14.99, 15, 29, 30)] == [0.5, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert d2l_rate("cosine", 0) == 0.3 and d2l_rate("cosine", 20) == pytest.approx(0.01, abs=1e-15)
    assert d2l_rate("cosine", 10) == pytest.approx(0.01 + 0.29 / 2)  # halfway: cos(pi/2) = 0
    assert d2l_rate("cosine", 25) == d2l_rate("cosine", 20)  # d2l keeps final_lr after max_update
    assert [d2l_rate("warmup", e) for e in (0, 1, 2.5)] == [0.0, pytest.approx(0.06), pytest.approx(0.15)]
    assert d2l_rate("warmup", 5) == 0.3 and d2l_rate("warmup", 12.5) == pytest.approx(0.01 + 0.29 / 2)
    assert set(D2L_PUBLISHED) == set(D2L_RUNS)


def test_as_run_every_schedule_is_one_epoch_late_and_epoch_0_has_the_optimizers_rate():
    warmup = [as_run_rate("warmup", e) for e in range(7)]
    assert warmup[:2] == [0.3, 0.0]  # the first epoch at the full rate, the second at none
    assert warmup[2:] == [d2l_rate("warmup", e) for e in range(1, 6)]
    assert [as_run_rate("sqrt", e) for e in range(3)] == [0.1, 0.1, 0.1 * 2 ** -0.5]
    assert as_run_rate("cosine", 21) == pytest.approx(0.01) and as_run_rate("cosine", 20) > 0.01


def test_the_multifactor_scheduler_stepped_by_the_plot_never_decays():
    opt = _sgd(0.5)
    scheduler, cadence = build_d2l_schedule("multifactor", "as_run", opt, steps_per_epoch=7)
    assert isinstance(scheduler, lr_scheduler.MultiStepLR) and cadence == "epoch"
    seen = []
    for _ in range(30):  # the training loop: an epoch at the current rate, then a step
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert seen == [0.125] * 30 == [as_run_rate("multifactor", e) for e in range(30)]
    fresh = _sgd(0.5)  # the same object not stepped first drops at 15 as intended
    fresh_scheduler, seen = lr_scheduler.MultiStepLR(fresh, milestones=[15, 30], gamma=0.5), []
    for _ in range(30):
        seen.append(fresh.param_groups[0]["lr"])
        fresh.step()
        fresh_scheduler.step()
    assert seen == [d2l_rate("multifactor", e) for e in range(30)]


def test_corrected_steps_every_batch_and_its_state_saves_as_plain_data(tmp_path):
    opt = _sgd()
    scheduler, cadence = build_d2l_schedule("warmup", "corrected", opt, steps_per_epoch=4)
    assert cadence == "step"
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert seen == [d2l_rate("warmup", s / 4) for s in range(12)]
    torch.save(scheduler.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    again = D2LScheduleLR(_sgd(), "warmup", "corrected", 4)
    again.load_state_dict(state)
    assert again.get_last_lr() == scheduler.get_last_lr() and again.last_epoch == 12


@pytest.mark.parametrize(("arguments", "message"), [
    ({"run": "linear"}, r"^run must be one of .*'constant'.* \(got run='linear'\)$"),
    ({"timing": "late"}, r"^timing must be one of .*'as_run'.* \(got timing='late'\)$"),
])
def test_unknown_runs_and_timings_name_what_is_valid(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_d2l_schedule(**({"run": "cosine", "timing": "corrected"} | arguments), optimizer=_sgd(), steps_per_epoch=1)


def _tiny_grey(n_train=64, batch_size=32):
    """A provider of a few noise images of Fashion-MNIST's shape: 2 steps per epoch."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n_train + 32, 1, 28, 28, generator=g), torch.randint(0, 10, (n_train + 32,), generator=g)

    def provider(seed):
        def train_batches(epoch, start):
            order = torch.randperm(n_train, generator=torch.Generator().manual_seed(1000 * seed + epoch))
            return _tensor_batches(x[:n_train], y[:n_train], batch_size, order, start)

        test = lambda: _tensor_batches(x[n_train:], y[n_train:], batch_size, torch.arange(32))  # noqa: E731
        return RunData(train_batches, test, test, -(-n_train // batch_size), "noise, 1x28x28")

    return provider


@pytest.mark.parametrize("timing", ["as_run", "corrected"])
def test_every_step_of_a_whole_run_trains_at_the_rate_d2l_meant_or_ran(timing):
    result = run_d2l("warmup", 0, _tiny_grey(), timing=timing, device="cpu", progress=False)
    lrs, per_epoch = result["history"]["lr"], result["config"]["steps_per_epoch"]
    assert len(lrs) == 30 * per_epoch == 60
    if timing == "as_run":
        expected = [as_run_rate("warmup", s // per_epoch) for s in range(60)]
    else:
        expected = [d2l_rate("warmup", s / per_epoch) for s in range(60)]
    assert lrs == expected
    assert result["config"]["timing"] == timing and result["config"]["lr"] == 0.3
    assert (result["config"]["momentum"], result["config"]["weight_decay"]) == (0.0, 0.0)
    assert len(result["history"]["val_acc"]) == 30  # d2l's test curve, every epoch


@pytest.mark.parametrize(("setting", "value"), [("momentum", 0.9), ("epochs", 10), ("model", "bncnn"),
                                                 ("weight_decay", 5e-4), ("lr", 0.1)])
def test_a_rerun_refuses_settings_that_are_not_d2ls(setting, value):
    with pytest.raises(ValueError, match=rf"^{setting} must be d2l's .* \(got {setting}={value!r}\)$"):
        run_d2l("constant", 0, _tiny_grey(), **{setting: value}, device="cpu")


def test_a_sweep_of_d2l_runs_keeps_as_run_and_corrected_apart(tmp_path):
    out = tmp_path / "r"
    paths = sweep(["multifactor"], [0], out, _tiny_grey(), runner=run_d2l, names=D2L_RUNS, timing="as_run",
                  device="cpu", progress=False, log=lambda _: None, estimate=False, weight_decay=0.0)
    saved = read_result(paths[0])
    assert saved["recipe"] == "multifactor" and saved["history"]["lr"] == [0.125] * 60
    with pytest.raises(ConfigMismatchError, match=r"timing 'as_run' there, 'corrected' here"):
        sweep(["multifactor"], [0], out, _tiny_grey(), runner=run_d2l, names=D2L_RUNS, timing="corrected",
              device="cpu", progress=False, log=lambda _: None, estimate=False, weight_decay=0.0)
    with pytest.raises(ValueError, match=r"^recipes\[0\] must be one of"):
        sweep(["step"], [0], out, _tiny_grey(), runner=run_d2l, names=D2L_RUNS, log=lambda _: None)


def test_d2l_data_is_the_real_files_scaled_like_to_tensor(tmp_path):
    data = d2l_data(tmp_path, device="cpu")(0)
    assert data.steps_per_epoch == math.ceil(60_000 / 256)
    images, labels = next(iter(data.train_batches(0, 0)))
    assert images.shape == (256, 1, 28, 28) and 0.0 <= images.min() and images.max() <= 1.0
    test_images, _ = next(iter(data.test_batches()))
    assert test_images.shape == (256, 1, 28, 28)
    assert torch.equal(next(iter(data.val_batches()))[0], test_images)  # d2l's per-epoch curve is the test split
    assert "evaluated after every epoch as d2l does" in data.description
    assert data.data_files["found"] == "debian"
