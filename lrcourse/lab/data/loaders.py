"""Batches for training: a loader that keeps the whole split on the device, and the classic pipelines.

:class:`TensorLoader` keeps a split on the device as ``uint8`` and makes each batch (pad-and-crop,
flip, normalize) in a few tensor ops, with an order that is a pure function of
``(seed, epoch, batch index)``, so a run can resume mid-epoch. :func:`standard_dataloader` and
:func:`seed_dataloader` keep the classic per-image ``torchvision`` pipelines (a
:class:`CIFAR10Dataset` in a ``torch.utils.data.DataLoader``) for comparison; ``bench/RESULTS.md``
measures the difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

from ..._validate import check_bool, check_choice, check_int, check_real
from .cifar10 import CIFAR10_MEAN, CIFAR10_STD, CIFAR10Split
from .fashion_mnist import FASHION_MNIST_MEAN, FASHION_MNIST_STD, FashionMNISTSplit

__all__ = ["CIFAR10Dataset", "TensorLoader", "seed_dataloader", "standard_dataloader"]


# --------------------------------------------------------------------------------------------
# The device-resident loader
# --------------------------------------------------------------------------------------------


def _default_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _images_labels(data: Any) -> tuple[torch.Tensor, torch.Tensor, str | None]:
    if isinstance(data, (CIFAR10Split, FashionMNISTSplit)):
        return data.images, data.labels, data.source
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data[0], data[1], None
    raise TypeError(
        "data must be a CIFAR10Split, a FashionMNISTSplit or an (images, labels) pair "
        f"(got data of type {type(data).__name__})"
    )


def _normalization(data: Any, channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The data set's own mean and std: CIFAR-10's for colour images, Fashion-MNIST's for grey."""
    if isinstance(data, FashionMNISTSplit):
        return FASHION_MNIST_MEAN, FASHION_MNIST_STD
    return (CIFAR10_MEAN, CIFAR10_STD) if channels == 3 else ((0.5,) * channels, (0.5,) * channels)


class _EpochBatches:
    """The batches of one epoch from ``start`` on, with a length, so a progress bar knows its total."""

    def __init__(self, loader: TensorLoader, epoch: int, start: int) -> None:
        self.loader, self.epoch, self.start = loader, epoch, start

    def __len__(self) -> int:
        return len(self.loader) - self.start

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.loader._iter(self.epoch, self.start)


class TensorLoader:
    """Batches from a split held on the device as ``uint8``: crop, flip and normalize in tensor ops.

    In training mode (``train=True``) every epoch draws, from a CPU ``torch.Generator`` seeded
    with ``(seed, epoch)``, a permutation of the images, a crop offset in ``0..2*pad`` per image and
    a horizontal flip per image; each batch is then one gather from the padded images (crop and flip
    together), a conversion to float and a normalization. The batches are therefore a pure function
    of ``(seed, epoch, batch index)`` and are the same on every device. Memory: in training mode
    ``2 x N x C x (H + 2 pad) x (W + 2 pad)`` bytes (480 MB for CIFAR-10's 50 000 images). In eval mode
    (``train=False``) there is no augmentation and the order is fixed.

    Iterating yields ``(images, labels)``: float images ``B x C x H x W`` (channels_last memory
    format if asked) normalized with ``mean``/``std``, ``int64`` labels, both on ``device``. The
    loader counts its position: ``state_dict()`` saves ``epoch`` and the next batch index, and a
    loader restored with ``load_state_dict()`` continues with exactly the remaining batches.
    ``iter_epoch(epoch, start_batch)`` gives any part of any epoch without touching that state.

    Args:
        data: A :class:`~lrcourse.lab.data.cifar10.CIFAR10Split`, a
            :class:`~lrcourse.lab.data.fashion_mnist.FashionMNISTSplit` or an ``(images, labels)`` pair
            (``uint8`` ``N x C x H x W``, C = 1 or 3).
        batch_size: Images per batch, >= 1.
        train: Shuffle and augment (True) or fixed order, no augmentation (False).
        seed: Seed of the order and the augmentation, >= 0.
        device: Where the data and batches live; default cuda, else mps, else cpu.
        pad: Padding before the random crop, >= 0 (0 turns cropping off).
        pad_mode: ``"reflect"`` or ``"zeros"``.
        flip: Random horizontal flips in training mode.
        drop_last: Drop the last incomplete batch.
        channels_last: Return images in ``torch.channels_last`` memory format.
        dtype: Floating dtype of the returned images.
        mean, std: Per-channel normalization on the 0..1 scale; by default the data set's own
            (CIFAR-10's for three channels, Fashion-MNIST's for a FashionMNISTSplit).
    """

    def __init__(
        self,
        data: Any,
        batch_size: int,
        *,
        train: bool = True,
        seed: int = 0,
        device: str | torch.device | None = None,
        pad: int = 4,
        pad_mode: str = "reflect",
        flip: bool = True,
        drop_last: bool = False,
        channels_last: bool = False,
        dtype: torch.dtype = torch.float32,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
    ) -> None:
        images, labels, source = _images_labels(data)
        if not (
            isinstance(images, torch.Tensor) and images.dtype == torch.uint8 and images.ndim == 4
            and images.shape[1] in (1, 3)
        ):
            raise ValueError(
                "images must be a uint8 tensor N x C x H x W with C = 1 or 3 (got "
                f"{type(images).__name__} {getattr(images, 'dtype', '')} {tuple(getattr(images, 'shape', ()))})"
            )
        if not isinstance(labels, torch.Tensor) or labels.shape != (images.shape[0],) or labels.is_floating_point():
            raise ValueError(
                f"labels must be an integer tensor of {images.shape[0]} labels "
                f"(got {type(labels).__name__} {getattr(labels, 'dtype', '')} {tuple(getattr(labels, 'shape', ()))})"
            )
        if images.shape[0] == 0:
            raise ValueError("data must hold at least one image (got 0)")
        self.batch_size = check_int(batch_size, "batch_size", low=1)
        self.train = check_bool(train, "train")
        self.seed = check_int(seed, "seed", low=0)
        self.pad = check_int(pad, "pad", low=0)
        self.pad_mode = check_choice(pad_mode, "pad_mode", ("reflect", "zeros"))
        if self.pad_mode == "reflect" and self.pad >= min(images.shape[2:]):
            raise ValueError(
                f"pad must be < the image size for pad_mode='reflect' (got pad={pad}, images {tuple(images.shape[2:])})"
            )
        self.flip = check_bool(flip, "flip")
        self.drop_last = check_bool(drop_last, "drop_last")
        self.channels_last = check_bool(channels_last, "channels_last")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype (got dtype={dtype!r})")
        self.dtype = dtype
        channels = int(images.shape[1])
        default_mean, default_std = _normalization(data, channels)
        mean = default_mean if mean is None else mean
        std = default_std if std is None else std
        for name, value in (("mean", mean), ("std", std)):
            if len(value) != channels:
                raise ValueError(f"{name} must hold {channels} value(s), one per channel (got {name}={value!r})")
            for i, x in enumerate(value):
                check_real(x, f"{name}[{i}]", low=0.0, low_open=(name == "std"))
        if self.drop_last and images.shape[0] < self.batch_size:
            raise ValueError(
                "batch_size must be <= the number of images when drop_last=True "
                f"(got batch_size={batch_size}, images={images.shape[0]})"
            )
        self.device = torch.device(device) if device is not None else _default_device()
        self.source = source
        self.n = int(images.shape[0])
        self.height, self.width = int(images.shape[2]), int(images.shape[3])
        self.labels = labels.to(self.device, torch.int64)
        images = images.to(self.device)
        if self.train:
            if self.pad and self.pad_mode == "reflect":
                rows = _reflect_index(self.height, self.pad, self.device)
                cols = _reflect_index(self.width, self.pad, self.device)
                images = images[:, :, rows][:, :, :, cols]
            elif self.pad:
                images = F.pad(images, (self.pad,) * 4)
            # The padded images, and a mirrored copy when flipping: F x N x C x (H+2p) x (W+2p).
            images = torch.stack([images, images.flip(-1)] if self.flip else [images])
            # A view with every crop as its own index: F x N x (2p+1) x (2p+1) x C x H x W. Indexing
            # it with (flip, image, row offset, column offset) crops and flips a batch in one op.
            s = images.stride()
            span = 2 * self.pad + 1
            self._crops = images.as_strided(
                (images.shape[0], self.n, span, span, channels, self.height, self.width),
                (s[0], s[1], s[3], s[4], s[2], s[3], s[4]),
            )
        self.images = images.contiguous()
        # Normalization on the 0..255 scale: x * scale + shift.
        mean_t = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, channels, 1, 1)
        std_t = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, channels, 1, 1)
        self._scale = 1.0 / (255.0 * std_t)
        self._shift = -mean_t / std_t
        self.epoch = 0
        self.position = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def __repr__(self) -> str:
        return (
            f"TensorLoader({self.n} images, batch_size={self.batch_size}, train={self.train}, seed={self.seed}, "
            f"device={str(self.device)!r}, source={self.source!r}, epoch={self.epoch}, position={self.position})"
        )

    def _epoch_plan(self, epoch: int) -> tuple[torch.Tensor, ...] | tuple[torch.Tensor, None, None, None]:
        if not self.train:
            return torch.arange(self.n, device=self.device), None, None, None
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(self.n, generator=g)
        span = 2 * self.pad + 1
        oy = torch.randint(0, span, (self.n,), generator=g)
        ox = torch.randint(0, span, (self.n,), generator=g)
        flips = torch.rand(self.n, generator=g) < 0.5 if self.flip else torch.zeros(self.n, dtype=torch.bool)
        return order.to(self.device), oy.to(self.device), ox.to(self.device), flips.to(self.device)

    def _batch(
        self, idx: torch.Tensor, oy: torch.Tensor | None, ox: torch.Tensor | None, flips: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if oy is None:
            x = self.images[idx]
        else:
            # In the mirrored copy, column offset ox of the original is 2 * pad - ox.
            ox = torch.where(flips, 2 * self.pad - ox, ox)
            x = self._crops[flips.long(), idx, oy, ox]  # B x C x H x W, uint8
        # uint8 * float promotes to float: conversion and normalization in one kernel.
        x = torch.addcmul(self._shift, x, self._scale).to(self.dtype)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.labels[idx]

    def iter_epoch(self, epoch: int, start_batch: int = 0) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of ``epoch`` from ``start_batch`` on (an iterable with a length); does not
        change the loader's position."""
        epoch = check_int(epoch, "epoch", low=0)
        start_batch = check_int(start_batch, "start_batch", low=0)
        if start_batch > len(self):
            raise ValueError(f"start_batch must be <= {len(self)} batches per epoch (got start_batch={start_batch})")
        return _EpochBatches(self, epoch, start_batch)

    def _iter(self, epoch: int, start_batch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order, oy, ox, flips = self._epoch_plan(epoch)
        for i in range(start_batch, len(self)):
            sl = slice(i * self.batch_size, min((i + 1) * self.batch_size, self.n))
            yield self._batch(order[sl], *(None if t is None else t[order[sl]] for t in (oy, ox, flips)))

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield the rest of the current epoch, then move to the next epoch."""
        for batch in self._iter(self.epoch, self.position):
            self.position += 1
            yield batch
        self.epoch += 1
        self.position = 0

    def set_epoch(self, epoch: int) -> None:
        """Start the next iteration at the beginning of ``epoch``."""
        self.epoch = check_int(epoch, "epoch", low=0)
        self.position = 0

    def state_dict(self) -> dict[str, int]:
        """``{"epoch", "position", "seed"}``: enough to continue with the same batches."""
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a :meth:`state_dict`; the seed must match this loader's."""
        if not isinstance(state, dict) or {"epoch", "position", "seed"} - set(state):
            raise ValueError(f"state must be a dict with keys 'epoch', 'position', 'seed' (got state={state!r})")
        if state["seed"] != self.seed:
            raise ValueError(
                f"state['seed'] must equal this loader's seed {self.seed} (got state['seed']={state['seed']!r})"
            )
        epoch = check_int(state["epoch"], "state['epoch']", low=0)
        position = check_int(state["position"], "state['position']", low=0)
        if position > len(self):
            raise ValueError(f"state['position'] must be <= {len(self)} batches per epoch (got {position})")
        self.epoch, self.position = epoch, position


def _reflect_index(size: int, pad: int, device: torch.device) -> torch.Tensor:
    """Indices that reflect-pad an axis of ``size`` by ``pad`` on both sides (as ``F.pad`` reflect)."""
    idx = torch.arange(-pad, size + pad, device=device).abs()
    return torch.where(idx >= size, 2 * (size - 1) - idx, idx)


# --------------------------------------------------------------------------------------------
# The classic per-image pipelines, for comparison
# --------------------------------------------------------------------------------------------


class CIFAR10Dataset(torch.utils.data.Dataset):
    """A ``torch`` Dataset view of a :class:`~lrcourse.lab.data.cifar10.CIFAR10Split`: ``(transform(PIL image), label)``."""

    def __init__(self, data: CIFAR10Split, transform: Any = None) -> None:
        if not isinstance(data, CIFAR10Split):
            raise TypeError(f"data must be a CIFAR10Split (got data of type {type(data).__name__})")
        self.data = data
        self.source = data.source
        self.transform = transform
        self._hwc = data.images.permute(0, 2, 3, 1).contiguous().numpy()  # PIL wants H x W x C

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        from PIL import Image

        image = Image.fromarray(self._hwc[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.data.labels[index])


def _dataloader(
    data: CIFAR10Split, transform: Any, batch_size: int, train: bool, num_workers: int, seed: int, drop_last: bool
) -> torch.utils.data.DataLoader:
    batch_size = check_int(batch_size, "batch_size", low=1)
    train = check_bool(train, "train")
    num_workers = check_int(num_workers, "num_workers", low=0)
    seed = check_int(seed, "seed", low=0)
    drop_last = check_bool(drop_last, "drop_last")
    return torch.utils.data.DataLoader(
        CIFAR10Dataset(data, transform),
        batch_size=batch_size,
        shuffle=train,
        num_workers=num_workers,
        drop_last=drop_last,
        generator=torch.Generator().manual_seed(seed),
        persistent_workers=False,
    )


def standard_dataloader(
    data: CIFAR10Split,
    batch_size: int = 128,
    *,
    train: bool = True,
    num_workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
) -> torch.utils.data.DataLoader:
    """The usual per-image pipeline: ``RandomCrop(32, padding=4) + RandomHorizontalFlip + ToTensor + Normalize``.

    With ``num_workers=0`` the augmentation draws from the global ``torch`` RNG; with workers,
    each worker is seeded from ``seed``. Eval mode (``train=False``): ``ToTensor + Normalize``, fixed order.
    """
    from torchvision import transforms as T

    steps = [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if train is True else []
    transform = T.Compose(steps + [T.ToTensor(), T.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    return _dataloader(data, transform, batch_size, train, num_workers, seed, drop_last)


def seed_dataloader(
    data: CIFAR10Split,
    batch_size: int = 256,
    *,
    train: bool = True,
    num_workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
) -> torch.utils.data.DataLoader:
    """The seed article's pipeline, 96-pixel output.

    Training: ``Resize(120) + RandomHorizontalFlip + RandomCrop(96) + ColorJitter(brightness=0.5,
    contrast=0.5, hue=0.5) + ToTensor + Normalize(0.5, 0.5)``; eval: ``Resize(96) + ToTensor +
    Normalize(0.5, 0.5)``. Slow on a CPU (hue jitter alone is ~0.5 ms per image): kept to show why.
    """
    from torchvision import transforms as T

    half = [0.5, 0.5, 0.5]
    if train is True:
        jitter = T.ColorJitter(brightness=0.5, contrast=0.5, hue=0.5)
        steps = [T.Resize(120), T.RandomHorizontalFlip(), T.RandomCrop(96), jitter]
    else:
        steps = [T.Resize(96)]
    transform = T.Compose(steps + [T.ToTensor(), T.Normalize(half, half)])
    return _dataloader(data, transform, batch_size, train, num_workers, seed, drop_last)
