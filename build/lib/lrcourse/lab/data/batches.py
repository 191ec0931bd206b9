"""The on-disk format of CIFAR-10: the ``cifar-10-batches-py`` folder, read safely, and a parse cache.

The real data set and the synthetic stand-in share this format, and this module reads both. A
folder holds ``data_batch_1..5`` (training), ``test_batch`` and ``batches.meta``, each a Python
pickle (protocol 2) of a dict with ``bytes`` keys:

* batch files: ``b"data"`` (``N x 3072`` ``uint8``; each row is 1024 red, 1024 green, 1024 blue
  values, row-major), ``b"labels"`` (list of ints), ``b"filenames"``, ``b"batch_label"``;
* ``batches.meta``: ``b"label_names"`` (the class names, index = label), and on the stand-in the
  extra key ``b"lrcourse_synthetic": True``.

The pickles are read with an unpickler that may rebuild only numpy arrays, so a tampered archive
cannot run code. :func:`read_cifar10_batches` parses one split into ``uint8`` images
``N x 3 x 32 x 32`` (channels first: a plain reshape of the channel-major rows) and ``int64``
labels. Parsed splits are cached as ``lrcourse_<split>.pt`` next to the batch files, keyed on the
size and modification time of the files they came from; a stale or damaged cache is rebuilt.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..._validate import check_choice
from ..checkpoint import atomic_write

__all__ = [
    "ALL_FILES",
    "BASE_FOLDER",
    "DataFileError",
    "META_FILE",
    "TEST_FILES",
    "TRAIN_FILES",
    "read_cifar10_batches",
]

BASE_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
META_FILE = "batches.meta"
ALL_FILES = TRAIN_FILES + TEST_FILES + (META_FILE,)

_CACHE_VERSION = 1


class DataFileError(RuntimeError):
    """A data file or folder that is damaged, incomplete or of the wrong kind.

    ``path`` is the file (or folder) and ``reason`` what is wrong; the message holds both and
    says to delete the folder so that it is downloaded or written again.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        path = Path(path)
        folder = path if path.name == BASE_FOLDER else path.parent
        super().__init__(f"{path} is damaged: {reason}; delete {folder} and call again, to download or write it anew")
        self.path, self.reason, self.folder = path, reason, folder


# --------------------------------------------------------------------------------------------
# Reading the official pickle format
# --------------------------------------------------------------------------------------------

# The batch files are pickles; only the numpy pieces an array needs may be rebuilt from them,
# so a tampered archive cannot run code when it is parsed.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 writes bytes under pickle protocol 2
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch file")
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict:
    with open(path, "rb") as f:
        try:
            obj = _SafeUnpickler(f, encoding="bytes").load()
        except Exception as exc:  # a truncated or foreign file: say which one
            raise DataFileError(path, f"not a readable CIFAR-10 batch file ({exc or type(exc).__name__})") from exc
    if not isinstance(obj, dict):
        raise DataFileError(path, f"not a CIFAR-10 batch file (holds a {type(obj).__name__}, expected a dict)")
    return obj


def _parse_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    batch = _load_pickle(path)
    missing = [key for key in (b"data", b"labels") if key not in batch]
    if missing:
        raise DataFileError(path, f"it lacks the keys {missing} of a CIFAR-10 batch")
    data = np.asarray(batch[b"data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataFileError(path, f"b'data' must be an N x 3072 uint8 array (got {data.dtype} {data.shape})")
    labels = torch.as_tensor(np.asarray(batch[b"labels"], dtype=np.int64))
    if labels.shape != (data.shape[0],):
        raise DataFileError(path, f"{labels.numel()} labels for {data.shape[0]} images")
    # Each row is 1024 red, 1024 green, 1024 blue values, row-major: a reshape gives N x 3 x 32 x 32.
    images = torch.from_numpy(data.copy()).reshape(-1, 3, 32, 32)
    return images, labels


def _read_meta(folder: Path) -> dict:
    meta = _load_pickle(folder / META_FILE)
    if b"label_names" not in meta:
        raise DataFileError(folder / META_FILE, "it lacks the key b'label_names'")
    return meta


def _is_synthetic(folder: Path) -> bool:
    return bool(_read_meta(folder).get(b"lrcourse_synthetic", False))


def _missing_files(folder: Path) -> list[str]:
    return [name for name in ALL_FILES if not (folder / name).is_file()]


def read_cifar10_batches(
    folder: str | os.PathLike, split: str = "train"
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...], bool]:
    """Parse the pickles of one split in a ``cifar-10-batches-py`` folder (no cache).

    Returns:
        ``(images, labels, classes, synthetic)``: ``uint8`` images ``N x 3 x 32 x 32``, ``int64``
        labels, the class names from ``batches.meta`` and whether the folder is the stand-in.
    """
    folder = Path(folder)
    split = check_choice(split, "split", ("train", "test"))
    missing = _missing_files(folder)
    if missing:
        raise FileNotFoundError(f"{folder} is not a complete CIFAR-10 folder: missing {missing}")
    meta = _read_meta(folder)
    parts = [_parse_batch(folder / name) for name in (TRAIN_FILES if split == "train" else TEST_FILES)]
    images = torch.cat([p[0] for p in parts])
    labels = torch.cat([p[1] for p in parts])
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta[b"label_names"])
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= len(classes)):
        raise DataFileError(folder, f"labels outside 0..{len(classes) - 1}")
    return images, labels, classes, bool(meta.get(b"lrcourse_synthetic", False))


# --------------------------------------------------------------------------------------------
# The cache of parsed splits
# --------------------------------------------------------------------------------------------


def _atomic_torch_save(obj: Any, path: Path) -> None:
    atomic_write(path, lambda f: torch.save(obj, f))  # umask-respecting mode, owner-tagged temporary


def _fingerprint(folder: Path, split: str) -> list[list[Any]]:
    names = (TRAIN_FILES if split == "train" else TEST_FILES) + (META_FILE,)
    return [[name, (folder / name).stat().st_size, (folder / name).stat().st_mtime_ns] for name in names]


def _read_split_cached(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...], bool]:
    cache = folder / f"lrcourse_{split}.pt"
    fingerprint = _fingerprint(folder, split)
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            if saved.get("version") == _CACHE_VERSION and saved.get("fingerprint") == fingerprint:
                return saved["images"], saved["labels"], tuple(saved["classes"]), bool(saved["synthetic"])
        except Exception:  # a damaged cache is rebuilt from the batch files below
            pass
    images, labels, classes, synthetic = read_cifar10_batches(folder, split)
    record = {
        "version": _CACHE_VERSION,
        "fingerprint": fingerprint,
        "images": images,
        "labels": labels,
        "classes": list(classes),
        "synthetic": synthetic,
    }
    try:
        _atomic_torch_save(record, cache)
    except OSError:  # a read-only folder: parse every time instead
        pass
    return images, labels, classes, synthetic
