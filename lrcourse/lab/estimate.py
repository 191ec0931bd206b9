"""How long a sweep will take on this device: a few timed training steps, scaled up.

A sweep prints its estimate before the first run, so that nobody starts 20 hours of CPU work by
accident. The rate comes from the real thing -- the sweep's model, batch size, precision and
device -- over a few steps after one warm-up step (which pays for cuDNN autotuning, allocator
growth and lazy initialisation), with the GPU synchronised before each clock reading. Evaluation
batches are counted at a third of a training step (a forward pass without the backward). The
global random generators are left as they were, so the runs that follow are unchanged.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from torch import nn

from ..device import _autocast, _grad_scaler, _to_device
from .models import build_model

__all__ = ["EVAL_COST", "format_duration", "seconds_per_step"]

EVAL_COST = 1 / 3  # an evaluation batch costs about a third of a training step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def seconds_per_step(
    model: str, run_data: Any, *, device: torch.device, precision: str, lr: float = 0.1, steps: int = 5,
    budget: float = 2.0,
) -> float:
    """Median seconds of one training step of ``model`` on ``run_data``'s first batches.

    ``run_data`` is a ``RunData`` (see :mod:`lrcourse.lab.providers`). Up to ``steps`` steps are timed
    after one warm-up step, fewer (at least two) once ``budget`` seconds have passed; batches are
    reused if an epoch has fewer. The model is thrown away.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        net = build_model(model)
        channels_last = device.type == "cuda"
        net.to(device, memory_format=torch.channels_last) if channels_last else net.to(device)
        optimizer = torch.optim.SGD(net.parameters(), lr=min(lr, 1e-3), momentum=0.9)
        scaler = _grad_scaler(device, precision)
        loss_fn = nn.CrossEntropyLoss()
        batches = list(_first(run_data.train_batches(0, 0), min(steps + 1, run_data.steps_per_epoch)))
        times = []
        for i in range(steps + 1):
            x, y = _to_device(batches[i % len(batches)], device, channels_last)
            _sync(device)
            start = time.perf_counter()
            with _autocast(device, precision):
                loss = loss_fn(net(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            _sync(device)
            if i:  # the first step warms up
                times.append(time.perf_counter() - start)
                if len(times) >= 2 and sum(times) > budget:
                    break
    return sorted(times)[len(times) // 2]


def _first(batches: Any, n: int) -> Any:
    for i, batch in enumerate(batches):
        if i >= n:
            return
        yield batch


def format_duration(seconds: float) -> str:
    """``"about 40 s"``, ``"about 12 min"``, ``"about 3 h 20 min"``."""
    if not math.isfinite(seconds):
        return "an unknown time"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    if seconds >= 10 * 3600:
        return f"about {round(seconds / 3600)} h"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"about {hours} h" + (f" {minutes} min" if minutes else "")
