"""Schedule-free optimizers in the lab's loop: trained in train mode, evaluated and saved in eval
mode, BatchNorm recomputed at the averaged point, and a mid-epoch resume equal bit for bit."""

import pytest
import torch
from torch import nn

import schedulefree
from lrcourse import evaluate, seed_everything
from lrcourse.lab import random_data, run_one, train
from lrcourse.lab.checkpoint import read_checkpoint
from lrcourse.lab.recipes import build_optimizer
from lrcourse.lab.schedule_free import SCHEDULE_FREE, is_schedule_free, recompute_batchnorm

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py

N, BATCH, CLASSES = 64, 16, 10  # 4 steps per epoch
X = torch.randn(N, 3, 8, 8, generator=torch.Generator().manual_seed(0))
Y = torch.randint(0, CLASSES, (N,), generator=torch.Generator().manual_seed(1))


def train_batches(epoch, start):
    order = torch.randperm(N, generator=torch.Generator().manual_seed(100 + epoch))
    return [(X[order[i:i + BATCH]], Y[order[i:i + BATCH]]) for i in range(0, N, BATCH)][start:]


def val_batches():
    return [(X[:32], Y[:32])]


def setup(name="sgd_schedulefree"):
    seed_everything(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.25),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, CLASSES))
    return model, build_optimizer(name, model.parameters(), lr=0.05, momentum=0.9, total_steps=12)


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


@pytest.mark.parametrize("name", SCHEDULE_FREE)
def test_the_loop_trains_in_train_mode_and_ends_in_eval_mode(name):
    model, optimizer = setup(name)
    assert is_schedule_free(optimizer) and not is_schedule_free(torch.optim.SGD(model.parameters(), lr=0.1))
    assert optimizer.param_groups[0]["warmup_steps"] == round(0.1 * 12)
    history = train(model, optimizer, None, train_batches, 3, val_batches=val_batches, device="cpu", progress=False)
    assert not history.diverged and history.steps == 12
    assert optimizer.param_groups[0]["train_mode"] is False  # the model holds x, the averaged point
    # the last validation was at x, with BatchNorm's statistics measured at x
    loss, acc = evaluate(model, val_batches(), device="cpu", precision="fp32")
    assert (loss, acc) == (history.val_loss[-1], history.val_acc[-1])


def test_batchnorm_is_recomputed_at_x_without_touching_the_rng():
    model, optimizer = setup()
    train(model, optimizer, None, train_batches, 1, device="cpu", progress=False)
    bn = model[1]
    after_loop = bn.running_mean.clone(), bn.running_var.clone()
    state, mode = torch.get_rng_state(), model.training
    assert recompute_batchnorm(model, train_batches(0, 0), device=torch.device("cpu")) == 4
    assert torch.equal(torch.get_rng_state(), state)  # no dropout ran
    # a cumulative average over the epoch's batches at x: what the loop left is exactly that
    assert torch.equal(bn.running_mean, after_loop[0]) and torch.equal(bn.running_var, after_loop[1])
    with torch.no_grad():
        h = model[0](torch.cat([x for x, _ in train_batches(0, 0)]))
    assert torch.allclose(bn.running_mean, h.mean(dim=(0, 2, 3)), atol=1e-6)
    assert bn.momentum == 0.1 and model.training == mode  # settings and modes restored


def test_a_mid_epoch_checkpoint_holds_x_and_resumes_bit_for_bit(tmp_path):
    ckpt = tmp_path / "sf.pt"
    model, optimizer = setup()
    reference = train(model, optimizer, None, train_batches, 3, val_batches=val_batches, device="cpu",
                      progress=False, checkpoint_path=tmp_path / "other.pt", checkpoint_every_steps=3,
                      checkpoint_every_epochs=0)

    class Stop(Exception):
        pass

    def stops(epoch, start):
        batches = train_batches(epoch, start)
        if epoch == 1:
            yield from batches[:3]  # steps 5-7; the save after step 6 is the last one
            raise Stop
        yield from batches

    interrupted, opt = setup()
    with pytest.raises(Stop):
        train(interrupted, opt, None, stops, 3, val_batches=val_batches, device="cpu", progress=False,
              checkpoint_path=ckpt, checkpoint_every_steps=3, checkpoint_every_epochs=0)
    saved = read_checkpoint(ckpt)
    assert saved["position"] == {"epoch": 1, "batch": 2}  # after step 6, mid-epoch
    assert saved["optimizer"]["param_groups"][0]["train_mode"] is False  # saved in eval mode: x
    resumed, opt = setup()
    history = train(resumed, opt, None, train_batches, 3, val_batches=val_batches, device="cpu", progress=False,
                    checkpoint_path=ckpt, checkpoint_every_steps=3, checkpoint_every_epochs=0, resume=True)
    assert same(resumed, model)
    assert history.loss == reference.loss and history.val_acc == reference.val_acc


def test_run_one_takes_a_schedule_free_optimizer_with_the_constant_recipe_only():
    data = random_data(n_train=32, batch_size=16)
    result = run_one("constant", 0, data, model="tiny", optimizer="adamw_schedulefree", lr=0.01, epochs=2,
                     device="cpu", progress=False)
    assert result["config"]["optimizer"] == "adamw_schedulefree" and result["config"]["weight_decay"] == 0.05
    with pytest.raises(ValueError, match=r"optimizer 'sgd_schedulefree' is schedule-free: it takes the recipe "
                                         r"'constant' and warms up inside itself \(got recipe 'cosine'\)"):
        run_one("cosine", 0, data, model="tiny", optimizer="sgd_schedulefree", epochs=1, device="cpu")
    with pytest.raises(ValueError, match="needs total_steps"):
        build_optimizer("sgd_schedulefree", [nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def test_the_package_is_the_one_the_chapter_cites():
    assert isinstance(setup()[1], schedulefree.SGDScheduleFree)
