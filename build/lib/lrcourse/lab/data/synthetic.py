"""The synthetic stand-in for CIFAR-10: ten classes of colour shapes, in the official file format.

:func:`write_synthetic_cifar10` writes a stand-in in exactly the format of the real data set
(``data_batch_1..5``, ``test_batch``, ``batches.meta``; same keys, dtypes and shapes; see
:mod:`lrcourse.lab.data.batches`), so the same parser reads both. Ten classes of 32x32 colour shapes
(disc, ring, square, frame, triangle, plus, bar, pair, crescent, half-disc) at random position,
scale, rotation and colour, with textured fills, background gradients, clutter and noise. Use it
where the real data cannot be downloaded (the project's own builds and tests).
:func:`lrcourse.lab.data.load_cifar10` keeps it in ``<root>/synthetic/cifar-10-batches-py``, and every
object loaded from it carries ``source == "synthetic"``, so every result computed on it can say so.

Accuracy on the stand-in (one quick CPU check, one seed, so only indicative; script and details in
``bench/RESULTS.md``): a 4-conv CNN of ~136 k parameters, SGD (Nesterov, momentum 0.9, weight
decay 5e-4), batch 128, 6 epochs on 10 000 stand-in training images with TensorLoader
augmentation, scored on 2 000 held-out training images (val) and 2 000 test images:

=============================================  =======  ========
schedule                                       val      test
=============================================  =======  ========
warmup (half an epoch) + cosine, peak LR 0.02  73.5 %   74.5 %
constant LR 0.01                               72.8 %   73.0 %
warmup (half an epoch) + cosine, peak LR 0.1   70.0 %   71.0 %
constant LR 0.1                                23.6 %   23.2 %
=============================================  =======  ========

So the stand-in is learnable but far from solved in a few epochs, and the schedule matters: at
the same peak LR of 0.1, warmup + cosine reaches 71 % where a constant LR stalls at 23 %.
The package's default sweep model, ``build_model("airbench")``, through
``python -m lrcourse sweep`` (10 000 training images, 2 000 validation, the full test split,
batch 128, 4 epochs, peak LR 0.05, one seed): 80.4 % test accuracy with warmup + cosine against
73.0 % at a constant LR. Not yet measured: more seeds, the full 50 000 images.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..._validate import check_bool, check_int
from ..claims import owner_tag, remove_dead_leftovers
from .batches import BASE_FOLDER, META_FILE, TEST_FILES, TRAIN_FILES, _is_synthetic

__all__ = ["SYNTHETIC_CLASSES", "write_synthetic_cifar10"]

SYNTHETIC_CLASSES = (
    "disc", "ring", "square", "frame", "triangle", "plus", "bar", "pair", "crescent", "half-disc",
)  # fmt: skip

_SYNTHETIC_MARK = b"lrcourse synthetic stand-in"
_GEN_CHUNK = 2000
TMP_PREFIX = ".lrcourse-synthetic-"  # the folder being written, in root


def _shape_distance(cls: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Signed distance (in object units, < 0 inside) of each pixel to the shape of class ``cls``."""
    if cls in (0, 1, 8, 9):
        r = torch.sqrt(u * u + v * v)
    if cls == 0:  # disc
        return r - 1.0
    if cls == 1:  # ring
        return (r - 0.72).abs() - 0.26
    au, av = u.abs(), v.abs()
    if cls == 2:  # square
        return torch.maximum(au, av) - 0.82
    if cls == 3:  # frame: a hollow square
        return (torch.maximum(au, av) - 0.68).abs() - 0.2
    if cls == 4:  # triangle
        return torch.maximum(au * 0.866 + v * 0.5, -v) - 0.45
    if cls == 5:  # plus
        return torch.minimum(torch.maximum(au - 0.3, av - 1.0), torch.maximum(av - 0.3, au - 1.0))
    if cls == 6:  # bar
        return torch.maximum(au - 1.05, av - 0.28)
    if cls == 7:  # pair of discs
        return torch.sqrt((au - 0.55) ** 2 + v * v) - 0.42
    if cls == 8:  # crescent: a disc with a bite taken out
        return torch.maximum(r - 1.0, 0.78 - torch.sqrt((u - 0.5) ** 2 + v * v))
    return torch.maximum(r - 1.0, -v - 0.1)  # 9 half-disc


def _render(cls: int, b: int, g: torch.Generator) -> torch.Tensor:
    """Render ``b`` stand-in images of class ``cls`` as floats in 0..1, ``b x 3 x 32 x 32``.

    Everything that can be is computed along rows and columns separately (``b x 1 x 32`` and
    ``b x 32 x 1``) and combined once, so a full-size operation is rare.
    """
    coords = torch.arange(32, dtype=torch.float32) + 0.5
    ys, xs = coords.view(1, 32, 1), coords.view(1, 1, 32)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    def col(*shape: int) -> torch.Tensor:
        return rand(*shape).view(*shape, 1, 1)

    def blob(size: float, spread: float) -> torch.Tensor:  # a soft round spot, b x 32 x 32
        cx, cy, s = col(b) * 32, col(b) * 32, size + col(b) * spread
        return torch.exp(-((xs - cx) ** 2) / (2 * s * s)) * torch.exp(-((ys - cy) ** 2) / (2 * s * s))

    def paint(img: torch.Tensor, alpha: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
        return img.lerp_(colour.expand_as(img), alpha.unsqueeze(1))

    # Background: a colour, a linear colour gradient and smooth low-frequency blotches.
    angle = col(b) * 2 * math.pi
    ramp = (xs - 16) * (torch.cos(angle) / 16) + (ys - 16) * (torch.sin(angle) / 16)  # b x 32 x 32
    base = rand(b, 3, 1, 1)
    img = F.interpolate(rand(b, 3, 4, 4) - 0.5, size=(32, 32), mode="bilinear", align_corners=False)
    img.mul_(0.3 * rand(b, 1, 1, 1)).add_(base)
    img.addcmul_(ramp.unsqueeze(1), (rand(b, 3, 1, 1) - 0.5) * 0.4)

    # Clutter behind the object: two soft blobs and, mostly, a thin line; random colours.
    for _ in range(2):
        paint(img, blob(1.0, 2.5) * (0.3 + 0.5 * col(b)), rand(b, 3, 1, 1))
    cx, cy, a = col(b) * 32, col(b) * 32, col(b) * math.pi
    dist = ((xs - cx) * torch.sin(a) - (ys - cy) * torch.cos(a)).abs_()
    paint(img, torch.sigmoid((0.6 - dist) * 3) * (0.6 * (col(b) < 0.6)), rand(b, 3, 1, 1))

    # The object: the class shape at a random place, size, rotation and stretch.
    scale = 5.0 + col(b) * 7.0  # radius in pixels: 5..12
    cx = 16 + (col(b) - 0.5) * (32 - 2 * scale) * 0.9
    cy = 16 + (col(b) - 0.5) * (32 - 2 * scale) * 0.9
    theta = col(b) * 2 * math.pi
    stretch = 0.8 + col(b) * 0.4
    cos, sin = torch.cos(theta) / scale, torch.sin(theta) / scale
    dx, dy = xs - cx, ys - cy
    u = dx * (cos * stretch) + dy * (sin * stretch)
    v = dy * (cos / stretch) - dx * (sin / stretch)
    alpha = torch.sigmoid(_shape_distance(cls, u, v) * (-2.0 * scale)) * (0.7 + 0.3 * col(b))
    # Fill: a colour at least 0.25 away from the background's in every channel; half are striped.
    freq, phase, ta = 0.6 + col(b) * 1.6, col(b) * 2 * math.pi, col(b) * math.pi
    stripes = torch.sin(xs * (torch.cos(ta) * freq) + (ys * (torch.sin(ta) * freq) + phase))
    texture = 1 + stripes.unsqueeze(1) * (0.35 * (rand(b, 1, 1, 1) < 0.5))
    paint(img, alpha, ((base + 0.25 + 0.5 * rand(b, 3, 1, 1)) % 1.0) * texture)

    # Clutter in front: one small blob that may cover part of the object; then sensor noise.
    paint(img, blob(1.0, 1.5) * (0.7 * (col(b) < 0.3)), rand(b, 3, 1, 1))
    return img.add_((rand(b, 3, 32, 32) - 0.5) * (0.05 + 0.2 * rand(b, 1, 1, 1)))


def _generate_chunk(labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Render one chunk of stand-in images, ``uint8`` ``B x 3 x 32 x 32``, class by class."""
    out = torch.empty(labels.numel(), 3, 32, 32, dtype=torch.uint8)
    for cls in range(10):
        idx = (labels == cls).nonzero().flatten()
        if idx.numel():
            out[idx] = (_render(cls, idx.numel(), g).clamp_(0, 1) * 255).round_().to(torch.uint8)
    return out


def _generate(labels: torch.Tensor, seed: int, bar: Any = None) -> torch.Tensor:
    out = torch.empty(labels.numel(), 3, 32, 32, dtype=torch.uint8)
    # One intra-op thread: the ops are small (a ~200-image slice per class), and on a busy machine
    # a multi-threaded op waits for the busiest core -- measured 8.6 CPU-s with 1 thread against
    # 118 CPU-s with 2 on a shared 2-core machine. The result does not depend on the thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for c, start in enumerate(range(0, labels.numel(), _GEN_CHUNK)):
            g = torch.Generator().manual_seed(seed * 1_000_003 + c)
            out[start : start + _GEN_CHUNK] = _generate_chunk(labels[start : start + _GEN_CHUNK], g)
            if bar is not None:
                bar.update(min(_GEN_CHUNK, labels.numel() - start))
    finally:
        torch.set_num_threads(threads)
    return out


def _write_pickle(obj: Any, path: Path) -> None:
    try:
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=2)  # the protocol of the official files
    except OSError as error:
        if error.filename is None and error.errno is not None:  # a failed write() names no file (ENOSPC...)
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def _show_progress() -> bool:
    return not os.environ.get("CI") and sys.stderr.isatty()


def write_synthetic_cifar10(
    root: str | os.PathLike, n_train: int = 50000, n_test: int = 10000, seed: int = 0,
    progress: bool | None = None,
) -> Path:
    """Write the synthetic stand-in to ``<root>/cifar-10-batches-py``; return that folder.

    The files are those of the real data set -- ``data_batch_1..5`` (the training images split into
    five near-equal batches), ``test_batch`` and ``batches.meta`` -- with the same keys
    (``b"data"``: ``N x 3072`` ``uint8``, channel-major rows; ``b"labels"``: list of ints;
    ``b"filenames"``; ``b"batch_label"``), so the same parser reads both. ``batch_label`` says
    "synthetic", and ``batches.meta`` carries the extra key ``b"lrcourse_synthetic": True``.
    Classes are balanced. The output is a pure function of ``(n_train, n_test, seed)``; the folder
    is written in a temporary place and renamed, so an interrupted run leaves nothing half-written;
    that place's name carries the process id and host (``.lrcourse-synthetic-*.~<pid>@<host>``),
    and one left by a process that was killed is removed by the next call (one of a live process
    is left alone). The full 60 000 images take about 9 CPU-seconds (one thread; see
    ``bench/RESULTS.md``), 10--45 s on a busy machine: ``progress`` shows a bar (default: when
    stderr is a terminal and ``CI`` is unset).

    Raises:
        FileExistsError: If ``<root>/cifar-10-batches-py`` holds the real CIFAR-10 (never overwritten).
    """
    n_train = check_int(n_train, "n_train", low=5)
    n_test = check_int(n_test, "n_test", low=1)
    seed = check_int(seed, "seed", low=0)
    progress = _show_progress() if progress is None else check_bool(progress, "progress")
    root = Path(root).expanduser()
    folder = root / BASE_FOLDER
    if folder.exists() and not (
        (folder / META_FILE).is_file() and _is_synthetic(folder)
    ):
        raise FileExistsError(f"{folder} exists and is not the synthetic stand-in; refusing to overwrite it")
    root.mkdir(parents=True, exist_ok=True)
    remove_dead_leftovers(root, (TMP_PREFIX,))  # half-written stand-ins of killed processes
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=TMP_PREFIX, suffix=owner_tag()))
    bar = tqdm(total=n_train + n_test, unit="img", desc=f"writing the stand-in to {folder}",
               disable=not progress, leave=False, dynamic_ncols=True)
    try:
        out = tmp / BASE_FOLDER
        out.mkdir()
        sizes = [n_train // 5 + (1 if i < n_train % 5 else 0) for i in range(5)]
        for split, n, names, split_seed in (
            ("train", n_train, TRAIN_FILES, 2 * seed),
            ("test", n_test, TEST_FILES, 2 * seed + 1),
        ):
            g = torch.Generator().manual_seed(split_seed)
            labels = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]
            images = _generate(labels, split_seed, bar).reshape(n, 3072).numpy()
            bounds = np.cumsum([0] + (sizes if split == "train" else [n]))
            for i, name in enumerate(names):
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                label = f"training batch {i + 1} of 5" if split == "train" else "testing batch 1 of 1"
                _write_pickle(
                    {
                        b"batch_label": f"{label} (synthetic lrcourse stand-in, seed {seed})".encode(),
                        b"labels": [int(x) for x in labels[lo:hi]],
                        b"data": np.ascontiguousarray(images[lo:hi]),
                        b"filenames": [
                            f"synthetic_{SYNTHETIC_CLASSES[int(labels[j])]}_{split}_{j:05d}.png".encode()
                            for j in range(lo, hi)
                        ],
                    },
                    out / name,
                )
        _write_pickle(
            {
                b"num_cases_per_batch": sizes[0],
                b"label_names": [name.encode() for name in SYNTHETIC_CLASSES],
                b"num_vis": 3072,
                b"lrcourse_synthetic": True,
                b"description": _SYNTHETIC_MARK + f" (n_train={n_train}, n_test={n_test}, seed={seed})".encode(),
            },
            out / META_FILE,
        )
        if folder.exists():
            trash = tmp / "old"
            os.replace(folder, trash)
        os.replace(out, folder)
    finally:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
