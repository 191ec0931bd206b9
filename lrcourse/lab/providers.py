"""Where a run's batches come from: a *provider*, ``data(seed) -> RunData``.

:func:`cifar_data` builds one from :mod:`lrcourse.lab.data` (real CIFAR-10 or the synthetic
stand-in, a held-out validation split, loaders on the device); :func:`random_data` is tiny noise
for tests. A provider is called once per run with the run's seed, which fixes the data order and
augmentation, so two recipes with the same seed see the same batches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from .._validate import check_int
from ..device import pick_device

__all__ = ["CIFAR10_TRAIN_IMAGES", "FASHION_MNIST_TRAIN_IMAGES", "RunData", "cifar_data", "fashion_data", "random_data"]



@dataclass
class RunData:
    """The data of one run: see :func:`lrcourse.lab.training.train` for the two batch callables.

    Attributes:
        train_batches: ``train_batches(epoch, start)`` -> training batches of ``epoch`` from ``start``.
        val_batches: ``val_batches()`` -> held-out validation batches (drives ``plateau``).
        test_batches: ``test_batches()`` -> test batches, evaluated once at the end.
        steps_per_epoch: Batches (optimizer steps) per training epoch.
        description: What the data is, e.g. ``"CIFAR-10 (synthetic stand-in) train, 45000 images"``;
            saved with every result, and part of the settings a sweep compares.
        data_files: Where the data's files came from and their checksums, saved with every result
            as ``data_files`` (not a setting: the same files may lie in another folder elsewhere).
    """

    train_batches: Callable[[int, int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    val_batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    test_batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    steps_per_epoch: int
    description: str
    data_files: dict[str, Any] | None = None


class _TensorBatches:
    """The batches of ``x, y`` in ``order`` from batch ``start`` on; sized, so progress bars show a total."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, order: torch.Tensor, start: int = 0):
        self.x, self.y, self.batch_size, self.order, self.start = x, y, batch_size, order, start

    def __len__(self) -> int:
        return max(0, -(-len(self.order) // self.batch_size) - self.start)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(self.start * self.batch_size, len(self.order), self.batch_size):
            idx = self.order[i : i + self.batch_size]
            yield self.x[idx], self.y[idx]


_tensor_batches = _TensorBatches


def random_data(
    n_train: int = 64, n_val: int = 32, n_test: int = 32, image_size: int = 16, batch_size: int = 32,
    num_classes: int = 10,
) -> Callable[[int], RunData]:
    """A provider of Gaussian-noise images with random labels: for tests and smoke runs only.

    Nothing can be learned from it; it exercises the code. The images are fixed (seed 0); the
    shuffling of each epoch depends on ``(seed, epoch)`` only, so runs resume exactly.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test),
                        ("image_size", image_size), ("batch_size", batch_size), ("num_classes", num_classes)):
        check_int(value, name, low=1)
    g = torch.Generator().manual_seed(0)
    n = n_train + n_val + n_test
    x = torch.randn(n, 3, image_size, image_size, generator=g)
    y = torch.randint(0, num_classes, (n,), generator=g)
    xs = torch.split(x, [n_train, n_val, n_test])
    ys = torch.split(y, [n_train, n_val, n_test])

    def provider(seed: int) -> RunData:
        def train_batches(epoch: int, start: int):
            order = torch.randperm(n_train, generator=torch.Generator().manual_seed(1_000_003 * seed + epoch))
            return _tensor_batches(xs[0], ys[0], batch_size, order, start)

        return RunData(
            train_batches=train_batches,
            val_batches=lambda: _tensor_batches(xs[1], ys[1], batch_size, torch.arange(n_val)),
            test_batches=lambda: _tensor_batches(xs[2], ys[2], batch_size, torch.arange(n_test)),
            steps_per_epoch=-(-n_train // batch_size),
            description=f"random noise (tests only), {n_train} train / {n_val} val / {n_test} test images "
                        f"of {image_size}x{image_size} px",
        )

    return provider


def _held_out_provider(
    train_split: Any, test_split: Any, val_size: int, train_size: int | None, batch_size: int,
    device: torch.device, loader_options: dict[str, Any], train_note: str = "",
    data_files: dict[str, Any] | None = None,
) -> Callable[[int], RunData]:
    """The provider both real data sets share: ``val_size`` training images held out once (seed
    0), the first ``train_size`` of the rest kept, and per run a ``TensorLoader`` for each part,
    seeded with the run's seed (``loader_options`` says how the data set is augmented)."""
    from .data import TensorLoader, train_val_split

    train_idx, val_idx = train_val_split(len(train_split), val_size, seed=0)
    if train_size is not None:
        train_idx = train_idx[:train_size]
    fit, val = train_split.subset(train_idx, "train"), train_split.subset(val_idx, "val")
    description = f"{fit.description}{train_note}; {val.description}; {test_split.description}"

    def provider(seed: int) -> RunData:
        def loader(split: Any, train: bool) -> Any:
            return TensorLoader(split, batch_size, train=train, seed=seed, device=device, **loader_options)

        train_loader, val_loader, test_loader = loader(fit, True), loader(val, False), loader(test_split, False)
        return RunData(
            train_batches=train_loader.iter_epoch,
            val_batches=lambda: val_loader.iter_epoch(0),
            test_batches=lambda: test_loader.iter_epoch(0),
            steps_per_epoch=len(train_loader),
            description=description,
            data_files=data_files,
        )

    return provider


CIFAR10_TRAIN_IMAGES = 50_000  # in the real training split, and in the stand-in by default


def _check_sizes(n: int, val_size: int, train_size: int | None) -> None:
    if val_size >= n:
        raise ValueError(f"val_size must be < the {n} training images, leaving some to train on (got val_size={val_size})")
    if train_size is not None and train_size > n - val_size:
        raise ValueError(f"train_size must be <= the {n - val_size} training images left after holding out "
                         f"val_size={val_size} (got train_size={train_size})")


def cifar_data(
    root: str | os.PathLike[str] = "data",
    source: str | None = None,
    batch_size: int = 512,
    val_size: int = 5000,
    device: str | torch.device | None = None,
    channels_last: bool | None = None,
    train_size: int | None = None,
    url: str | None = None,
    progress: bool | None = None,
) -> Callable[[int], RunData]:
    """A provider of CIFAR-10 (or the synthetic stand-in) from :mod:`lrcourse.lab.data`.

    The training split is cut once into ``50 000 - val_size`` training and ``val_size``
    validation images (fixed split, seed 0, the same for every run of a sweep); the test split is
    only evaluated at the end. Training batches are drawn by a ``TensorLoader`` seeded with the
    run's seed (order, crops and flips), on ``device``. ``train_size`` keeps only that many of the
    training images (the same ones in every run): a quick check on a CPU, not a result to compare
    with full-size runs. ``url`` is a mirror of the real archive (default: the official one);
    ``progress`` shows a bar while the stand-in is written. A ``val_size`` or ``train_size`` the
    data does not have is refused before the data is downloaded or written (both sources have
    50 000 training images), and checked again against the data loaded.
    """
    from . import data as lrdata  # imported here: the module is only needed for real sweeps

    device = pick_device() if device is None else torch.device(device)
    channels_last = device.type == "cuda" if channels_last is None else channels_last
    val_size = check_int(val_size, "val_size", low=1)
    if train_size is not None:
        train_size = check_int(train_size, "train_size", low=1)
    _check_sizes(CIFAR10_TRAIN_IMAGES, val_size, train_size)  # before any download
    options = {"source": source, "progress": progress} | ({"url": url} if url else {})
    train_split = lrdata.load_cifar10(root, "train", **options)
    test_split = lrdata.load_cifar10(root, "test", **options)
    _check_sizes(len(train_split), val_size, train_size)  # a stand-in written with other sizes
    return _held_out_provider(train_split, test_split, val_size, train_size, batch_size, device,
                              {"channels_last": channels_last})


FASHION_MNIST_TRAIN_IMAGES = 60_000


def fashion_data(
    root: str | os.PathLike[str] = "data",
    batch_size: int = 256,
    val_size: int = 5000,
    device: str | torch.device | None = None,
    train_size: int | None = None,
    folder: str | os.PathLike[str] | None = None,
    augment: bool = False,
) -> Callable[[int], RunData]:
    """A provider of real Fashion-MNIST (:func:`lrcourse.lab.data.fashion_mnist.load_fashion_mnist`).

    As :func:`cifar_data`: the 60 000 training images are cut once into ``60 000 - val_size``
    for training and ``val_size`` held out (seed 0, the same in every run); ``train_size`` keeps
    that many of the training images; the 10 000 test images are evaluated at the end only.
    Batches of 28×28 grey images come from a ``TensorLoader`` seeded with the run's seed, without
    augmentation by default (d2l trains this way); ``augment=True`` adds a 2-pixel pad-and-crop
    and horizontal flips. The files are found as ``load_fashion_mnist`` finds them (``folder``,
    torchvision's layout under ``root``, Debian's package, else a download), and every result
    records where they came from and their checksums (``RunData.data_files``).
    """
    from .data import load_fashion_mnist

    device = pick_device() if device is None else torch.device(device)
    val_size = check_int(val_size, "val_size", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if train_size is not None:
        train_size = check_int(train_size, "train_size", low=1)
    if not isinstance(augment, bool):
        raise TypeError(f"augment must be True or False (got augment={augment!r})")
    _check_sizes(FASHION_MNIST_TRAIN_IMAGES, val_size, train_size)  # before any download
    train_split = load_fashion_mnist(root, "train", folder=folder)
    test_split = load_fashion_mnist(root, "test", folder=folder)
    files = {"data set": "Fashion-MNIST", "folder": train_split.origin[0], "found": train_split.origin[1],
             "content_md5": {**train_split.md5, **test_split.md5}}
    options = {"pad": 2 if augment else 0, "pad_mode": "zeros", "flip": augment}
    return _held_out_provider(train_split, test_split, val_size, train_size, batch_size, device, options,
                              " (augmented)" if augment else "", files)
