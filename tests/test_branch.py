"""Cooldowns branched from a run's snapshots: a branch equals, bit for bit, the run trained
straight through with its schedule, and a branch whose schedule differs before its point is refused."""

import pytest
import torch
from torch import nn

from lrcourse import seed_everything, wsd
from lrcourse.lab import train
from lrcourse.lab.checkpoint import ConfigMismatchError

N, BATCH, CLASSES = 64, 16, 10  # 4 steps per epoch
X = torch.randn(N, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, CLASSES, (N,), generator=torch.Generator().manual_seed(1))
WARMUP = 2


def train_batches(epoch, start):
    order = torch.randperm(N, generator=torch.Generator().manual_seed(100 + epoch))
    return [(X[order[i:i + BATCH]], Y[order[i:i + BATCH]]) for i in range(0, N, BATCH)][start:]


def val_batches():
    return [(X[:32], Y[:32])]


def build(stable, decay, shape="linear"):
    """A dropout net (so the RNG matters) with WSD: WARMUP steps up, ``stable`` at the peak, ``decay`` down."""
    seed_everything(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.25),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    return model, optimizer, wsd(optimizer, warmup_steps=WARMUP, stable_steps=stable, decay_steps=decay, decay=shape)


def run(epochs, stable, decay, shape="linear", **kwargs):
    model, optimizer, scheduler = build(stable, decay, shape)
    history = train(model, optimizer, scheduler, train_batches, epochs, val_batches=val_batches, device="cpu",
                    progress=False, **kwargs)
    return model, history


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


@pytest.mark.parametrize(("epochs", "decay", "shape"), [(3, 3, "linear"), (5, 4, "1-sqrt"), (4, 6, "cosine")])
def test_a_branched_cooldown_equals_the_run_trained_straight_through(tmp_path, epochs, decay, shape):
    # The stable run: warmup, then the peak for 6 epochs (24 steps), never decaying; snapshots at
    # the branch points of three budgets (mid-epoch for some).
    budgets = {3: 3, 4: 6, 5: 4}  # epochs -> cooldown steps
    points = {4 * e - d: tmp_path / f"at{4 * e - d}.pt" for e, d in budgets.items()}
    _, stable = run(6, 6 * 4 - WARMUP, 0, snapshots=points)
    point = 4 * epochs - decay
    assert points[point].is_file()
    # The branch: the snapshot, continued with the cooldown to the budget's end.
    branched, history = run(epochs, point - WARMUP, decay, shape, branch_from=points[point])
    straight, reference = run(epochs, point - WARMUP, decay, shape)
    assert same(branched, straight)
    for key in ("lr", "loss", "train_loss", "train_acc", "val_loss", "val_acc"):
        assert getattr(history, key) == getattr(reference, key), key
    assert history.steps == reference.steps == 4 * epochs
    assert history.lr[:point] == stable.lr[:point] and history.lr[point] < 0.1 * (1 + 1e-9)


class Stop(Exception):
    """Stands for the end of a session."""


def test_an_interrupted_branch_resumes_from_its_own_checkpoint(tmp_path):
    snapshot, ckpt = tmp_path / "at10.pt", tmp_path / "branch.pt"
    run(4, 14, 0, snapshots={10: snapshot})

    def stops_in_epoch_3(epoch, start):
        if epoch == 3:
            raise Stop
        return train_batches(epoch, start)

    model, optimizer, scheduler = build(8, 6)
    with pytest.raises(Stop):
        train(model, optimizer, scheduler, stops_in_epoch_3, 4, val_batches=val_batches, device="cpu",
              progress=False, branch_from=snapshot, checkpoint_path=ckpt, resume=True)
    assert ckpt.is_file()  # saved after epoch 2, past the branch point (step 10 is in epoch 2)
    resumed, history = run(4, 8, 6, branch_from=snapshot, checkpoint_path=ckpt, resume=True)
    straight, reference = run(4, 8, 6)
    assert same(resumed, straight) and history.lr == reference.lr


def test_a_branch_whose_schedule_differs_before_its_point_is_refused(tmp_path):
    snapshot = tmp_path / "at10.pt"
    run(4, 14, 0, snapshots={10: snapshot})
    with pytest.raises(ValueError, match=r"rate at step 1 is 0\.0333\d* \(group 0\), the run trained with 0\.05; a branch may change the schedule only after its "
                                         r"branch point, step 10"):
        model, optimizer, _ = build(8, 6)
        scheduler = wsd(optimizer, warmup_steps=WARMUP + 1, stable_steps=7, decay_steps=6)  # another warmup
        train(model, optimizer, scheduler, train_batches, 4, device="cpu", progress=False, branch_from=snapshot)
    with pytest.raises(ValueError, match="rate at step 7 is"):  # a cooldown that starts before the branch point
        run(4, 4, 10, branch_from=snapshot)


def test_branch_arguments_are_checked(tmp_path):
    model, optimizer, scheduler = build(8, 6)
    with pytest.raises(FileNotFoundError, match="branch_from: no snapshot at"):
        train(model, optimizer, scheduler, train_batches, 4, device="cpu", progress=False,
              branch_from=tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="branch_from needs a scheduler"):
        train(model, optimizer, None, train_batches, 4, device="cpu", progress=False, branch_from=tmp_path / "x.pt")
    with pytest.raises(ValueError, match=r"snapshots step must be an integer >= 1 \(got snapshots step=0\)"):
        train(model, optimizer, scheduler, train_batches, 1, device="cpu", progress=False, snapshots={0: "x"})
    snapshot = tmp_path / "at4.pt"
    run(2, 6, 0, snapshots={4: snapshot})
    model, optimizer, scheduler = build(8, 6)
    with pytest.raises(ConfigMismatchError, match="its run was trained with cadence 'step', this one has 'epoch'"):
        train(model, optimizer, scheduler, train_batches, 4, cadence="epoch", device="cpu", progress=False,
              branch_from=snapshot)
    per_epoch = tmp_path / "epoch4.pt"
    run(2, 6, 0, snapshots={4: per_epoch}, cadence="epoch")
    model, optimizer, scheduler = build(8, 6)
    with pytest.raises(ValueError, match=r"a branch needs cadence='step' \(got cadence='epoch'\)"):
        train(model, optimizer, scheduler, train_batches, 4, cadence="epoch", device="cpu", progress=False,
              branch_from=per_epoch)
