"""Where and in which precision to train: device and precision selection, autocast and scaler.

:func:`pick_device` picks the best available device (``cuda``, then ``mps``, then ``cpu``) and
:func:`pick_precision` the compute precision for it: ``"bf16"`` (autocast to bfloat16) on CUDA GPUs
of compute capability 8.0 or more, ``"fp16"`` (autocast to float16 with a ``GradScaler``) on older
CUDA GPUs, ``"fp32"`` (no autocast) on MPS and CPU. The private helpers build what the training
loop and :func:`lrcourse.evaluation.evaluate` need for a precision -- the autocast context and the
gradient scaler -- and move a batch to the device.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

__all__ = ["PRECISIONS", "pick_device", "pick_precision"]

PRECISIONS = ("bf16", "fp16", "fp32")


def pick_device() -> torch.device:
    """The best available device: ``cuda``, then Apple's ``mps``, then ``cpu``."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_precision(device: str | torch.device) -> str:
    """The compute precision for ``device``: ``"bf16"``, ``"fp16"`` or ``"fp32"``.

    ============================================  ===========  =================================
    device                                        precision    how
    ============================================  ===========  =================================
    CUDA, compute capability >= 8.0 (A100, H100)  ``"bf16"``   autocast to bfloat16, no scaler
    CUDA, compute capability < 8.0 (T4, V100)     ``"fp16"``   autocast to float16 + GradScaler
    MPS, CPU                                      ``"fp32"``   no autocast
    ============================================  ===========  =================================

    The capability is asked, not ``torch.cuda.is_bf16_supported()``: a T4 (7.5) answers True to
    that but emulates bfloat16, slower than float32; fp16 with its tensor cores is the fast path.
    """
    device = torch.device(device)
    if device.type == "cuda":
        major, _minor = torch.cuda.get_device_capability(device)
        return "bf16" if major >= 8 else "fp16"
    return "fp32"


def _autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _to_device(
    batch: tuple[torch.Tensor, torch.Tensor], device: torch.device, channels_last: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = batch
    x = x.to(device, non_blocking=True)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=True)


def _grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A ``GradScaler`` that scales the loss with ``"fp16"`` and does nothing otherwise."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
