"""Random number generators: seed them all, and capture and restore their exact state.

A run that resumes from a checkpoint continues bit for bit only if every generator it draws from
continues where it stopped: torch's (CPU and every CUDA device), Python's ``random`` and NumPy's
global one. :func:`capture_rng_state` returns them as tensors and lists only, so a checkpoint
holding them loads with ``torch.load(..., weights_only=True)``. NumPy is optional: it is imported
only when installed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import torch

from ._validate import check_int

__all__ = ["capture_rng_state", "restore_rng_state", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (every device)."""
    seed = check_int(seed, "seed", low=0)
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(seed % 2**32)


def capture_rng_state() -> dict[str, Any]:
    """The state of every global random number generator, as tensors and lists only."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    try:
        import numpy as np
    except ImportError:  # numpy is optional for this module
        return state
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state["numpy"] = [name, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(cached)]
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Restore generators saved by :func:`capture_rng_state` (the CUDA ones if CUDA is present)."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        import numpy as np

        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, keys.numpy().astype("uint32"), pos, has_gauss, cached))
