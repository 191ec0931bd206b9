"""The library inside the frameworks engineers use: PyTorch Lightning and the transformers ``Trainer``.

Both frameworks decide with ``isinstance(scheduler, ReduceLROnPlateau)`` whether ``step()`` gets
the monitored metric, so ``WarmupReduceLROnPlateau`` must be one and must follow, in a framework,
the same LRs as a hand-written loop fed the same metrics. The transformers-named functions must
take transformers' argument names and give transformers' LRs. Lightning and transformers are in
the ``test`` extra, so these tests run wherever the suite does (no skip hides a failure).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from lrcourse import WarmupReduceLROnPlateau, inverse_sqrt, warmup_constant, warmup_cosine, warmup_linear, warmup_poly, wsd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # their own deprecation notices are not ours to fix
    import lightning.pytorch as lightning
    import transformers
    from transformers import optimization

# What the frameworks print about a CPU-only, single-process run: true, and not a defect here.
FRAMEWORK_NOTICES = [
    "ignore::UserWarning",
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::lightning.fabric.utilities.warnings.PossibleUserWarning",
]

BASE_LR = 0.4
WARMUP = 3
# Validation metrics, one per epoch: the first two fall inside the warmup and are ignored; the
# plateau then sees 1.0, 0.5, 0.5, 0.5 ... and halves the LR after two epochs without improvement.
METRICS = [9.0, 7.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]


def plateau(optimizer: torch.optim.Optimizer) -> WarmupReduceLROnPlateau:
    return WarmupReduceLROnPlateau(optimizer, warmup_steps=WARMUP, patience=1, factor=0.5)


def lrs_by_hand(metrics: list[float]) -> list[float]:
    """The LR of each epoch in a plain loop: ``scheduler.step(metric)`` after each epoch."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=BASE_LR)
    scheduler = plateau(optimizer)
    lrs = []
    for metric in metrics:
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step(metric)
    return lrs


def test_the_plateau_scheduler_is_a_reduce_lr_on_plateau() -> None:
    scheduler = plateau(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=BASE_LR))
    assert isinstance(scheduler, ReduceLROnPlateau)
    by_hand = lrs_by_hand(METRICS)
    assert by_hand[:WARMUP] == [BASE_LR / 3, 2 * BASE_LR / 3, BASE_LR]
    assert len(set(by_hand[WARMUP:])) >= 2  # the plateau did reduce the LR


# --- PyTorch Lightning -----------------------------------------------------------------------------


class ScriptedModule(lightning.LightningModule):
    """A tiny regression whose validation loss is scripted per epoch, so the plateau's decisions
    are known; it records the LR each epoch trained at."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.lrs: list[float] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return ((self.weight - batch) ** 2).mean()

    def on_train_epoch_start(self) -> None:
        self.lrs.append(self.optimizers().param_groups[0]["lr"])

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        self.log("val_loss", torch.tensor(METRICS[self.current_epoch], dtype=torch.float64))

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.SGD(self.parameters(), lr=BASE_LR)
        # The dictionary chapter 5 recommends: Lightning passes the monitored metric to step().
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": plateau(optimizer), "monitor": "val_loss", "interval": "epoch"},
        }


@pytest.mark.filterwarnings(*FRAMEWORK_NOTICES)
def test_lightning_drives_the_plateau_scheduler_with_its_monitored_metric(tmp_path) -> None:
    data = torch.utils.data.DataLoader(torch.ones(8, 1), batch_size=4)
    module = ScriptedModule()
    trainer = lightning.Trainer(
        max_epochs=len(METRICS), accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path,
    )
    trainer.fit(module, train_dataloaders=data, val_dataloaders=data)
    assert module.lrs == lrs_by_hand(METRICS)


# --- the transformers Trainer ----------------------------------------------------------------------


class ScriptedRegression(nn.Module):
    """A model in the Trainer's calling convention whose evaluation loss is scripted per evaluation."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.evaluations = 0

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.training:
            return {"loss": ((self.weight * x - labels) ** 2).mean()}
        loss = METRICS[self.evaluations] + 0.0 * self.weight.sum()
        return {"loss": loss}


class Rows(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": torch.ones(1), "labels": torch.ones(1)}


class RecordLRs(transformers.TrainerCallback):
    def __init__(self, model: ScriptedRegression) -> None:
        self.model, self.lrs = model, []

    def on_epoch_begin(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append(optimizer.param_groups[0]["lr"])

    def on_evaluate(self, args, state, control, **kwargs):
        self.model.evaluations += 1  # the next evaluation reads the next scripted loss


@pytest.mark.filterwarnings(*FRAMEWORK_NOTICES)
def test_transformers_trainer_drives_the_plateau_scheduler_with_its_metric(tmp_path) -> None:
    model = ScriptedRegression()
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR)
    recorder = RecordLRs(model)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=len(METRICS), per_device_train_batch_size=4,
        per_device_eval_batch_size=8, eval_strategy="epoch", metric_for_best_model="loss", save_strategy="no",
        logging_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True, dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Rows(), eval_dataset=Rows(),
        optimizers=(optimizer, plateau(optimizer)), callbacks=[recorder],
    )
    trainer.train()
    assert recorder.lrs == lrs_by_hand(METRICS)


# --- transformers' names, transformers' numbers ----------------------------------------------------


def lr_sequence(make, steps: int = 30) -> list[list[float]]:
    optimizer = torch.optim.SGD(
        [{"params": [nn.Parameter(torch.zeros(1))], "lr": 0.05}, {"params": [nn.Parameter(torch.zeros(1))]}],
        lr=0.5,
    )
    scheduler = make(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return lrs


# (transformers' function, ours, the keyword arguments both take)
CALLS = [
    (optimization.get_constant_schedule_with_warmup, warmup_constant, {"num_warmup_steps": 4}),
    (optimization.get_linear_schedule_with_warmup, warmup_linear, {"num_warmup_steps": 4, "num_training_steps": 20}),
    (optimization.get_cosine_schedule_with_warmup, warmup_cosine,
     {"num_warmup_steps": 4, "num_training_steps": 20, "num_cycles": 0.7}),
    (optimization.get_polynomial_decay_schedule_with_warmup, warmup_poly,
     {"num_warmup_steps": 4, "num_training_steps": 20, "lr_end": 1e-3, "power": 2.0}),
    (optimization.get_inverse_sqrt_schedule, inverse_sqrt, {"num_warmup_steps": 4, "timescale": 7}),
    (optimization.get_wsd_schedule, wsd, {"num_warmup_steps": 4, "num_decay_steps": 6, "num_training_steps": 20}),
    (optimization.get_wsd_schedule, wsd,
     {"num_warmup_steps": 4, "num_decay_steps": 6, "num_stable_steps": 5, "decay_type": "1-sqrt", "min_lr_ratio": 0.1}),
]


@pytest.mark.filterwarnings(*FRAMEWORK_NOTICES)
@pytest.mark.parametrize(("theirs", "ours", "kwargs"), CALLS, ids=[f"{c[1].__name__}-{i}" for i, c in enumerate(CALLS)])
def test_transformers_call_moves_over_by_changing_the_import(theirs, ours, kwargs) -> None:
    assert lr_sequence(lambda o: ours(o, **kwargs)) == lr_sequence(lambda o: theirs(o, **kwargs))


def test_last_epoch_under_transformers_names_resumes_like_transformers() -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.5)
    optimizer.param_groups[0]["initial_lr"] = 0.5
    ours = warmup_cosine(optimizer, num_warmup_steps=4, num_training_steps=20, last_epoch=7)
    assert ours.last_epoch == 8
