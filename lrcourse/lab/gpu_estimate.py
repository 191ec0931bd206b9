"""How long a run would take on a GPU that is not at hand: FLOPs divided by an assumed rate.

The experiment chapters say how long their gpu size takes on a Colab T4. Where no T4 was at hand
to measure it, the figure is an *estimate*, and this module is the whole of it, so that every
assumption is written down once:

1. the FLOPs of a run: the model's forward FLOPs per image, counted by
   ``torch.utils.flop_counter`` on one image, times 3 for a training image (forward + backward)
   and 1 for an evaluated one;
2. a sustained training throughput in FLOP/s, given as a low-high range (:class:`GpuRates`);
3. a fixed cost per optimizer step that does not shrink with the model (kernel launches, the
   optimizer's update, Python): for a net as small as ``"small"`` it is most of the time;
4. optionally, the images per second the input pipeline delivers: an epoch cannot be faster than
   its data (the seed article's per-image pipeline on 2 CPU cores, for instance).

The result is a range, ``(fast, slow)``, and every chapter prints it as "estimated".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._validate import check_choice, check_int, check_real
from .models import MODEL_INPUTS, MODEL_NAMES, build_model

__all__ = ["COLAB_T4", "GpuRates", "forward_flops", "training_seconds"]


@dataclass(frozen=True)
class GpuRates:
    """Assumed rates of one GPU: ``tflops`` (low, high) sustained in mixed-precision training,
    ``step_overhead`` (low, high) seconds per optimizer step, and where the numbers come from."""

    name: str
    tflops: tuple[float, float]
    step_overhead: tuple[float, float]
    source: str


COLAB_T4 = GpuRates(
    name="Colab T4 (fp16 autocast)",
    tflops=(8.0, 12.0),
    step_overhead=(0.002, 0.004),
    source=(
        "assumed, not measured: 8-12 TFLOP/s is 12-18 % of the T4's 65 TFLOP/s fp16 tensor-core peak, the "
        "rate that published T4 epoch times of CIFAR ResNets imply; 2-4 ms per step is a few hundred kernel "
        "launches of about 10 us each"
    ),
)


def forward_flops(model: str, image_size: int | None = None) -> float:
    """Forward FLOPs of one image through ``build_model(model)`` (a multiply-add is 2 FLOP).

    ``image_size`` defaults to the net's own input (:data:`~lrcourse.lab.models.MODEL_INPUTS`):
    96 for ``"seed_resnet"``, 28 for the grey-image nets, 32 otherwise.
    """
    from torch.utils.flop_counter import FlopCounterMode

    channels, height, _ = MODEL_INPUTS[check_choice(model, "model", MODEL_NAMES)]
    size = height if image_size is None else check_int(image_size, "image_size", low=8)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        build_model(model).eval()(torch.zeros(1, channels, size, size))
    return float(counter.get_total_flops())


def training_seconds(
    model: str,
    train_images: int,
    epochs: int,
    batch_size: int,
    *,
    eval_images: int = 0,
    rates: GpuRates = COLAB_T4,
    data_images_per_s: tuple[float, float] | None = None,
    image_size: int | None = None,
) -> tuple[float, float]:
    """Estimated ``(fast, slow)`` seconds for ``epochs`` epochs of ``train_images`` images.

    Each epoch also evaluates ``eval_images`` images (validation and test). Compute is
    ``3 x forward_flops x train_images + forward_flops x eval_images`` per epoch at ``rates``,
    plus ``rates.step_overhead`` per optimizer step; with ``data_images_per_s`` (high, low
    throughput of the training pipeline) an epoch takes at least its training images at that rate.
    """
    train_images = check_int(train_images, "train_images", low=1)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    eval_images = check_int(eval_images, "eval_images", low=0)
    flops = forward_flops(model, image_size)
    per_epoch = 3 * flops * train_images + flops * eval_images
    steps = math.ceil(train_images / batch_size)
    bounds = []
    for tflops, overhead, data_rate in zip(
        sorted(rates.tflops, reverse=True), sorted(rates.step_overhead),
        sorted(data_images_per_s, reverse=True) if data_images_per_s else (None, None),
    ):
        seconds = per_epoch / (check_real(tflops, "tflops", low=0.0, low_open=True) * 1e12) + steps * overhead
        if data_rate is not None:
            seconds = max(seconds, train_images / check_real(data_rate, "data_images_per_s", low=0.0, low_open=True))
        bounds.append(seconds * epochs)
    return bounds[0], bounds[1]
