"""The training loop: cadences, precision table, syncs, divergence, History, seeds, warnings."""

import json
import math
import warnings

import pytest
import torch
from torch import nn

import lrcourse.lab.training as train_mod
import lrcourse.lab.training_run as training_run
from lrcourse.lab.divergence import DivergenceMonitor
from lrcourse.scheduler_settings import schedule_signature
from lrcourse import WarmupReduceLROnPlateau, warmup_cosine
from lrcourse.schedules import warmup_cosine_factor
from lrcourse import evaluate, pick_device, pick_precision, seed_everything
from lrcourse.lab import History
from lrcourse.lab import train

N, BATCH, CLASSES = 64, 16, 10  # 4 batches per epoch
X = torch.randn(N, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, CLASSES, (N,), generator=torch.Generator().manual_seed(1))


def train_batches(epoch, start):
    order = torch.randperm(N, generator=torch.Generator().manual_seed(100 + epoch))
    return [(X[order[i : i + BATCH]], Y[order[i : i + BATCH]]) for i in range(0, N, BATCH)][start:]


def val_batches():
    return [(X[:32], Y[:32])]


def tiny_model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.25),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, CLASSES))


def setup(seed=0, lr=0.1):
    seed_everything(seed)
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    return model, optimizer


# -- device and precision ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capability", "expected"),
    [((6, 1), "fp16"), ((7, 0), "fp16"), ((7, 5), "fp16"), ((8, 0), "bf16"), ((8, 6), "bf16"), ((9, 0), "bf16")],
)
def test_precision_table_on_cuda(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    # A T4 says it supports bf16 (emulated); the table must not ask that question.
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert pick_precision("cuda") == expected
    assert pick_precision(torch.device("cuda", 0)) == expected


@pytest.mark.parametrize("device", ["cpu", "mps"])
def test_precision_fp32_off_cuda(device):
    assert pick_precision(device) == "fp32"


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_pick_device_order(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device() == torch.device(expected)


# -- cadences ---------------------------------------------------------------------------------


def test_step_cadence_trains_each_batch_at_the_closed_form_lr():
    model, optimizer = setup()
    scheduler = warmup_cosine(optimizer, warmup_steps=3, total_steps=12)
    history = train(model, optimizer, scheduler, train_batches, 3, device="cpu", progress=False)
    # The first batch trains at factor(0): optimizer.step() comes before scheduler.step().
    assert history.lr == [0.1 * warmup_cosine_factor(t, 3, 12) for t in range(12)]
    assert history.steps == 12 and history.skipped_steps == 0
    assert len(history.loss) == 12 and all(math.isfinite(v) for v in history.loss)
    assert len(history.train_loss) == len(history.train_acc) == len(history.epoch_time) == 3
    assert history.val_loss == [] and not history.diverged
    assert scheduler.last_epoch == 12


def test_epoch_cadence_changes_lr_between_epochs_only():
    model, optimizer = setup()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = train(model, optimizer, scheduler, train_batches, 3, cadence="epoch", device="cpu", progress=False)
    assert history.lr == [0.1] * 4 + [0.05] * 4 + [0.025] * 4


class RecordingPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def step(self, metrics):
        self.seen.append(metrics)
        super().step(metrics)


@pytest.mark.parametrize(("metric", "mode"), [("val_loss", "min"), ("val_acc", "max")])
def test_metric_cadence_passes_the_validation_metric(metric, mode):
    model, optimizer = setup()
    # Needs an improvement of 100 to count: every epoch after the first is "bad", patience 0.
    scheduler = RecordingPlateau(optimizer, mode=mode, factor=0.5, patience=0, threshold=100, threshold_mode="abs")
    history = train(model, optimizer, scheduler, train_batches, 3, cadence="metric", metric=metric,
                    val_batches=val_batches, device="cpu", progress=False)
    assert scheduler.seen == getattr(history, metric)
    assert len(history.val_loss) == len(history.val_acc) == 3
    assert history.lr == [0.1] * 8 + [0.05] * 4


def test_metric_cadence_needs_validation_data():
    model, optimizer = setup()
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    with pytest.raises(ValueError, match="cadence='metric' needs val_batches"):
        train(model, optimizer, scheduler, train_batches, 1, cadence="metric", device="cpu", progress=False)
    needs = r"ReduceLROnPlateau is stepped with a metric and needs cadence='metric' \(got cadence='step'\)"
    with pytest.raises(ValueError, match=needs):
        train(model, optimizer, scheduler, train_batches, 1, val_batches=val_batches, device="cpu", progress=False)
    model, optimizer = setup()
    warm = WarmupReduceLROnPlateau(optimizer, warmup_steps=2)
    needs = r"WarmupReduceLROnPlateau is stepped with a metric and needs cadence='metric' \(got cadence='epoch'\)"
    with pytest.raises(ValueError, match=needs):
        train(model, optimizer, warm, train_batches, 1, cadence="epoch", val_batches=val_batches, device="cpu",
              progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, r"epochs must be an integer >= 1 \(got epochs=0\)"),
        ({"cadence": "batch"}, ValueError, r"cadence must be one of 'step', 'epoch', 'metric' \(got cadence='batch'\)"),
        ({"metric": "acc"}, ValueError, r"metric must be one of 'val_loss', 'val_acc' \(got metric='acc'\)"),
        ({"precision": "fp8"}, ValueError, r"precision must be one of 'bf16', 'fp16', 'fp32' \(got precision='fp8'\)"),
        ({"check_every": 0}, ValueError, r"check_every must be an integer >= 1 \(got check_every=0\)"),
        ({"divergence_factor": 1.0}, ValueError, r"divergence_factor must be a finite number > 1"),
        ({"resume": True}, ValueError, r"resume=True needs a checkpoint_path"),
        ({"progress": 1}, TypeError, r"progress must be True or False"),
        ({"checkpoint_every_steps": -1}, ValueError, r"checkpoint_every_steps must be an integer >= 0"),
        ({"checkpoint_every_seconds": -1}, ValueError,
         r"checkpoint_every_seconds must be a finite number >= 0 \(got checkpoint_every_seconds=-1.0\)"),
        ({"checkpoint_every_seconds": math.nan}, ValueError,
         r"checkpoint_every_seconds must be a finite number >= 0 \(got checkpoint_every_seconds=nan\)"),
        ({"checkpoint_every_seconds": math.inf}, ValueError,
         r"checkpoint_every_seconds must be a finite number >= 0 \(got checkpoint_every_seconds=inf\)"),
        ({"checkpoint_every_seconds": "300"}, TypeError,
         r"checkpoint_every_seconds must be a finite number >= 0 \(got checkpoint_every_seconds='300' of type str\)"),
        ({"checkpoint_every_seconds": True}, TypeError,
         r"checkpoint_every_seconds must be a finite number >= 0 \(got checkpoint_every_seconds=True of type bool\)"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    model, optimizer = setup()
    args = {"epochs": 1, "device": "cpu", "progress": False} | kwargs
    epochs = args.pop("epochs")
    with pytest.raises(error, match=message):
        train(model, optimizer, None, train_batches, epochs, **args)


class FakeClock:
    """Stands for time.monotonic: the seconds move only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    ("options", "positions"),
    [
        # A batch takes 1 s: a save after every third step, and the epoch's own save restarts the interval.
        ({"checkpoint_every_seconds": 2.5}, [(0, 3), (1, 0), (1, 3), (2, 0), (2, 3), (3, 0)]),
        # Without epoch saves the interval runs on across the epochs.
        ({"checkpoint_every_seconds": 2.5, "checkpoint_every_epochs": 0}, [(0, 3), (1, 2), (2, 1), (2, 4)]),
        # A save by step count restarts the interval too: after step 4, the next timed save is step 7, not 6.
        ({"checkpoint_every_seconds": 2.5, "checkpoint_every_steps": 4, "checkpoint_every_epochs": 0},
         [(0, 3), (0, 4), (1, 3), (1, 4), (2, 3), (2, 4)]),
        # 0: never by the clock.
        ({"checkpoint_every_seconds": 0}, [(1, 0), (2, 0), (3, 0)]),
    ],
)
def test_checkpoint_every_seconds_saves_when_the_clock_says(tmp_path, monkeypatch, options, positions):
    clock = FakeClock()
    monkeypatch.setattr(training_run, "_clock", clock)
    saved = []
    real_save = training_run.save_checkpoint

    def recording_save(path, **kwargs):
        saved.append((kwargs["position"]["epoch"], kwargs["position"]["batch"]))
        return real_save(path, **kwargs)

    monkeypatch.setattr(training_run, "save_checkpoint", recording_save)

    def one_second_per_batch(epoch, start):
        for batch in train_batches(epoch, start):
            clock.now += 1.0
            yield batch

    model, optimizer = setup()
    history = train(model, optimizer, None, one_second_per_batch, 3, device="cpu", progress=False,
                    checkpoint_path=tmp_path / "run.pt", **options)
    assert history.steps == 12
    assert saved == positions


def test_the_clock_is_read_only_when_it_can_cause_a_save(tmp_path, monkeypatch):
    def no_clock():
        raise AssertionError("the clock was read")

    monkeypatch.setattr(training_run, "_clock", no_clock)
    # Nowhere to save, or no interval: no clock, and so no host copy forced at every step.
    for options in ({"checkpoint_every_seconds": 1}, {"checkpoint_path": tmp_path / "a.pt"}):
        model, optimizer = setup()
        assert train(model, optimizer, None, train_batches, 1, device="cpu", progress=False, **options).steps == 4
    model, optimizer = setup()
    with pytest.raises(AssertionError, match="the clock was read"):
        train(model, optimizer, None, train_batches, 1, device="cpu", progress=False, checkpoint_every_seconds=1,
              checkpoint_path=tmp_path / "b.pt")


def test_wrong_types_are_named():
    model, optimizer = setup()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train("net", optimizer, None, train_batches, 1)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        train(model, "sgd", None, train_batches, 1)
    with pytest.raises(TypeError, match=r"train_batches must be a callable: train_batches\(epoch, start\)"):
        train(model, optimizer, None, [(X, Y)], 1)


# -- synchronisation, divergence --------------------------------------------------------------


def test_host_copies_once_per_check_not_per_step(monkeypatch):
    calls = {"item": 0, "tolist": 0}
    item, tolist = torch.Tensor.item, torch.Tensor.tolist

    def counting(name, real):
        def wrapper(self, *args, **kwargs):
            calls[name] += 1
            return real(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(torch.Tensor, "item", counting("item", item))
    monkeypatch.setattr(torch.Tensor, "tolist", counting("tolist", tolist))
    model, optimizer = setup()
    history = train(model, optimizer, None, train_batches, 2, device="cpu", check_every=50, progress=False)
    # 8 steps: the step losses are copied once per epoch, the epoch sums with 2 .item() each.
    assert len(history.loss) == 8
    assert calls == {"tolist": 2, "item": 4}


def test_monitor_flags_nan_and_blow_up_but_not_a_small_noisy_loss():
    monitor = DivergenceMonitor(4.0)
    assert [monitor.update(v) for v in (2.3, 2.0, 1.5)] == [None, None, None]
    assert "loss is nan" in monitor.update(float("nan"))

    monitor = DivergenceMonitor(4.0)
    losses = [2.3] + [0.001, 0.02] * 20  # 20x its minimum, but far below the first loss
    assert all(monitor.update(v) is None for v in losses)

    monitor = DivergenceMonitor(4.0)
    results = [monitor.update(v) for v in [2.3, 1.0, 0.5, 0.4, 50.0, 500.0]]
    assert results[:4] == [None] * 4 and results[4] is not None and "above 4 x its minimum" in results[4]


@pytest.mark.parametrize("check_every", [1, 5])
def test_divergence_stops_and_records_the_step_and_lr(capsys, check_every):
    model, optimizer = setup(lr=1e6)
    history = train(model, optimizer, None, train_batches, 3, device="cpu", check_every=check_every, progress=False)
    assert history.diverged
    at = history.diverged_at
    assert isinstance(at, int) and 0 <= at < 11
    assert len(history.loss) == len(history.lr) == at + 1  # recorded up to the step that diverged
    assert f"diverged at step {at} " in history.message and "lr 1e+06" in history.message
    assert history.message in capsys.readouterr().out
    # Checking every 5 steps (the GPU way) finds the same step.
    model, optimizer = setup(lr=1e6)
    again = train(model, optimizer, None, train_batches, 3, device="cpu", check_every=1, progress=False)
    assert again.diverged_at == at and again.loss == history.loss


# -- History -----------------------------------------------------------------------------------


def test_history_json_round_trip_with_nan_and_inf():
    history = History(lr=[0.1, 0.2], loss=[1.5, float("nan")], train_loss=[float("inf")], train_acc=[0.5],
                      wall_time=3.0, steps=2, diverged=True, diverged_at=1, message="m", config={"a": [1, 2]})
    text = json.dumps(history.to_dict(), allow_nan=False)
    back = History.from_dict(json.loads(text))
    assert back.to_dict() == history.to_dict()
    assert math.isnan(back.loss[1]) and back.train_loss == [float("inf")] and back.diverged_at == 1
    assert back.epochs == 1
    with pytest.raises(ValueError, match=r"keys that History does not know: \['lrs'\]"):
        History.from_dict({"lrs": []})


def test_history_of_a_run_is_json_safe():
    model, optimizer = setup()
    history = train(model, optimizer, None, train_batches, 1, val_batches=val_batches, device="cpu",
                    progress=False, config={"model": "tiny"})
    data = json.loads(json.dumps(history.to_dict(), allow_nan=False))
    assert data["config"]["run"] == {"model": "tiny"}
    assert data["config"]["trainer"] == {"epochs": 1, "cadence": "step", "metric": None, "precision": "fp32"}
    assert History.from_dict(data).loss == history.loss


# -- evaluate ----------------------------------------------------------------------------------


def test_evaluate_exact_values_and_restores_mode():
    model = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    x = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 0, 0, 2])
    model.train()
    loss, acc = evaluate(model, [(x[:3], y[:3]), (x[3:], y[3:])], device="cpu")
    expected = nn.functional.cross_entropy(model(x), y).item()
    assert loss == pytest.approx(expected, rel=1e-6)
    assert acc == 0.5  # rows 0 and 2 right; row 1 predicts class 1, row 3 ties -> class 0
    assert model.training
    with pytest.raises(ValueError, match="batches is empty"):
        evaluate(model, [], device="cpu")


# -- seeds, warnings, progress ------------------------------------------------------------------


def run(seed):
    model, optimizer = setup(seed)
    scheduler = warmup_cosine(optimizer, warmup_steps=2, total_steps=8)
    history = train(model, optimizer, scheduler, train_batches, 2, val_batches=val_batches, device="cpu",
                    progress=False)
    return model, optimizer, history


def test_seeded_rerun_is_bitwise_equal_and_another_seed_differs():
    m1, o1, h1 = run(0)
    m2, o2, h2 = run(0)
    m3, _, h3 = run(1)
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True))
    for s1, s2 in zip(o1.state.values(), o2.state.values(), strict=True):
        assert torch.equal(s1["momentum_buffer"], s2["momentum_buffer"])
    assert h1.loss == h2.loss and h1.lr == h2.lr and h1.val_acc == h2.val_acc
    assert h1.loss != h3.loss
    assert not all(torch.equal(a, b) for a, b in zip(m1.parameters(), m3.parameters(), strict=True))


def test_a_normal_training_loop_emits_no_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(0)
    assert [str(w.message) for w in caught] == []


def test_progress_default_follows_ci_and_tty(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert train_mod._auto_progress() is True
    monkeypatch.setenv("CI", "true")
    assert train_mod._auto_progress() is False
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert train_mod._auto_progress() is False


def test_progress_bar_runs(capsys):
    model, optimizer = setup()
    history = train(model, optimizer, None, train_batches, 1, device="cpu", progress=True)
    assert len(history.loss) == 4
    assert "epoch 1/1" in capsys.readouterr().err


# -- plots -------------------------------------------------------------------------------------


def test_history_plots_draw_every_run():
    import matplotlib.pyplot as plt

    from lrcourse.lab.history_plots import (
        plot_history,
        plot_history_accuracy,
        plot_history_loss,
        plot_history_lr,
    )

    runs = {"a": History(lr=[0.1, 0.05], loss=[2.0, float("nan")], train_loss=[2.0], val_loss=[1.9], val_acc=[0.25]),
            "b": History(lr=[0.2, 0.1], loss=[2.1, 1.5], train_loss=[1.8], val_loss=[1.7], val_acc=[0.5])}
    axes = plot_history(runs)
    assert len(axes) == 3
    assert [line.get_label() for line in axes[0].get_lines()] == ["a", "b"]
    assert list(axes[0].get_lines()[1].get_ydata()) == [0.2, 0.1]
    assert list(axes[2].get_lines()[1].get_ydata()) == [50.0]
    ax = plot_history_loss(runs, per="epoch")
    assert [line.get_label() for line in ax.get_lines()] == ["a train", "a val", "b train", "b val"]
    assert plot_history_lr(runs["a"]).get_lines()[0].get_label() == "run"
    with pytest.raises(ValueError, match=r"per must be one of 'step', 'epoch' \(got per='batch'\)"):
        plot_history_loss(runs, per="batch")
    with pytest.raises(ValueError, match=r"runs \['c'\] have no val accuracy"):
        plot_history_accuracy({"c": History(lr=[0.1], loss=[1.0])})
    with pytest.raises(TypeError, match=r"runs\['x'\] must be a History"):
        plot_history_lr({"x": [0.1]})
    plt.close("all")


# -- fp16: a step GradScaler skips does not move the schedule -----------------------------------


def test_skipped_fp16_step_does_not_step_the_scheduler():
    calls = {"n": 0}

    class InfGradOnce(torch.autograd.Function):
        """Identity whose first backward returns inf: a float16 gradient overflow."""

        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad):
            calls["n"] += 1
            return grad * float("inf") if calls["n"] == 1 else grad

    def loss_fn(out, y):
        return nn.functional.cross_entropy(InfGradOnce.apply(out), y)

    model, optimizer = setup()
    scheduler = warmup_cosine(optimizer, warmup_steps=0, total_steps=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # CPU autocast in float16 with an enabled GradScaler: the CUDA-below-8.0 path.
        history = train(model, optimizer, scheduler, train_batches, 2, device="cpu", precision="fp16",
                        loss_fn=loss_fn, progress=False)
    assert [str(w.message) for w in caught] == []  # no "lr_scheduler.step() before optimizer.step()"
    assert history.skipped_steps == 1 and history.steps == 7 and scheduler.last_epoch == 7
    # Batch 0 was skipped, so batch 1 still trains at the schedule's step 0.
    assert history.lr == [0.1 * warmup_cosine_factor(t, 0, 8) for t in (0, 0, 1, 2, 3, 4, 5, 6)]
    assert not history.diverged


# -- every param group's LR is recorded --------------------------------------------------------


def two_group_setup(seed=0):
    seed_everything(seed)
    model = tiny_model()
    head = list(model[6].parameters())
    body = [p for p in model.parameters() if all(p is not q for q in head)]
    optimizer = torch.optim.SGD([{"params": body, "lr": 0.01}, {"params": head, "lr": 0.1}], lr=0.1, momentum=0.9)
    return model, optimizer


def test_history_records_every_groups_lr_and_group_0_as_lr():
    model, optimizer = two_group_setup()
    scheduler = warmup_cosine(optimizer, 2, 8)
    history = train(model, optimizer, scheduler, train_batches, 2, device="cpu", progress=False)
    expected = [[base * warmup_cosine_factor(t, 2, 8) for t in range(8)] for base in (0.01, 0.1)]
    assert history.group_lrs == expected
    assert history.lr == history.group_lrs[0]
    restored = History.from_dict(json.loads(json.dumps(history.to_dict())))
    assert restored.group_lrs == expected and restored.lr == expected[0]


def test_a_history_written_before_group_lrs_reads_as_group_0():
    old = History(lr=[0.1, 0.05], loss=[1.0, 0.9]).to_dict()
    del old["group_lrs"]
    assert History.from_dict(old).group_lrs == [[0.1, 0.05]]
    del old["lr"]
    assert History.from_dict(old).group_lrs == []


def test_a_diverged_run_cuts_every_groups_record_at_the_step(capsys):
    model, optimizer = two_group_setup()
    for group in optimizer.param_groups:
        group["lr"] *= 500
    history = train(model, optimizer, None, train_batches, 3, device="cpu", progress=False)
    assert history.diverged
    assert [len(values) for values in history.group_lrs] == [history.diverged_at + 1] * 2
    assert len(history.lr) == len(history.loss) == history.diverged_at + 1
    capsys.readouterr()


def test_plot_history_lr_draws_every_group():
    import matplotlib.pyplot as plt

    from lrcourse.lab.history_plots import plot_history_lr

    runs = {"a": History(lr=[0.1, 0.2], group_lrs=[[0.1, 0.2], [1.0, 2.0]]), "b": History(lr=[0.3])}
    ax = plot_history_lr(runs, groups=True)
    assert [line.get_label() for line in ax.get_lines()] == ["a group 0", "a group 1", "b group 0"]
    assert list(ax.get_lines()[1].get_ydata()) == [1.0, 2.0]
    assert [line.get_label() for line in plot_history_lr(runs["a"], groups=True).get_lines()] == ["group 0", "group 1"]
    with pytest.raises(TypeError, match=r"^groups must be True or False \(got groups=1 of type int\)$"):
        plot_history_lr(runs, groups=1)
    plt.close("all")


# -- a param group added after the scheduler was built -------------------------------------------


def test_train_refuses_a_scheduler_built_before_a_group_was_added():
    model, optimizer = setup()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    optimizer.add_param_group({"params": [nn.Parameter(torch.zeros(1))], "lr": 0.1})
    with pytest.raises(RuntimeError, match=(
        r"^the optimizer has 2 param groups but scheduler \(LambdaLR\) was built for 1: a group added "
        r"with optimizer.add_param_group\(\) after the scheduler was built has no base LR"
    )):
        train(model, optimizer, scheduler, train_batches, 1, device="cpu", progress=False)
    assert scheduler.last_epoch == 0


# -- one reading of a scheduler's settings, for resume checks and for pitfalls ------------------


def test_schedule_signature_and_scheduler_changes_read_the_same_settings():
    from lrcourse.resume import scheduler_changes
    from lrcourse.scheduler_settings import settings

    def make(t_max, milestones):
        optimizer = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
        return torch.optim.lr_scheduler.SequentialLR(
            optimizer, [torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones),
                        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t_max)], [5])

    base = make(10, [2, 4])
    signature = schedule_signature(base)
    assert signature == {"class": "SequentialLR", **settings(base.state_dict())}
    assert signature["_schedulers"][0]["milestones"] == [2, 4]
    json.dumps(signature)  # a config must be JSON-safe
    for other, change in [(make(20, [2, 4]), "_schedulers[1].T_max"), (make(10, [2, 3]), "_schedulers[0].milestones")]:
        assert schedule_signature(other) != signature
        assert list(scheduler_changes(other, base.state_dict())) == [change]
    assert schedule_signature(make(10, [2, 4])) == signature
    assert scheduler_changes(make(10, [2, 4]), base.state_dict()) == {}
