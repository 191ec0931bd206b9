"""CIFAR-10 (real or synthetic), Fashion-MNIST, and a loader that keeps the whole split on the device.

Fashion-MNIST (:mod:`lrcourse.lab.data.fashion_mnist`) is the real data of the experiments' cpu
size: :func:`load_fashion_mnist` finds the official files in a folder you name, torchvision's
layout or Debian's package, or downloads them, and checks each by MD5.

CIFAR-10's two sources share one on-disk format and one parser:

* ``"cifar10"`` -- the real data set, downloaded from ``CIFAR10_URL``, checked against
  ``CIFAR10_MD5`` and extracted into ``<root>/cifar-10-batches-py`` (the folder
  ``torchvision.datasets.CIFAR10(root)`` uses, so an existing download is reused).
* ``"synthetic"`` -- a stand-in written by :func:`write_synthetic_cifar10` in exactly the same
  format (``data_batch_1..5``, ``test_batch``, ``batches.meta``; same keys, dtypes and shapes)
  into ``<root>/synthetic/cifar-10-batches-py``: ten classes of 32x32 colour shapes. Use it where
  the real data cannot be downloaded (the project's own builds and tests). Every object loaded
  from it carries ``source == "synthetic"``, so every result computed on it can say so.

:func:`load_cifar10` picks the source from its ``source`` argument, else from the environment
variable ``LRCOURSE_DATA`` (``cifar10`` or ``synthetic``), else ``"cifar10"``. It never falls back
from one to the other: if the real data is asked for and cannot be found or downloaded, it raises.

Images are returned as ``uint8`` tensors of shape ``N x 3 x 32 x 32`` (channels first: the official
rows are channel-major, so this is a plain reshape, and it is what a conv net consumes); labels as
``int64``. Parsed splits are cached as ``lrcourse_<split>.pt`` next to the batch files.

:class:`TensorLoader` keeps a split on the device as ``uint8`` and makes each batch (pad-and-crop,
flip, normalize) in a few tensor ops, with an order that is a pure function of
``(seed, epoch, batch index)``, so a run can resume mid-epoch. :func:`standard_dataloader` and
:func:`seed_dataloader` keep the classic per-image ``torchvision`` pipelines for comparison.

The modules, one job each:

* :mod:`lrcourse.lab.data.batches` -- the on-disk format: reading the pickled batch files safely, the
  cache of parsed splits;
* :mod:`lrcourse.lab.data.cifar10` -- the real data set: choosing the source, downloading, loading a
  split, holding out a validation split;
* :mod:`lrcourse.lab.data.synthetic` -- the stand-in: its rendering, and its measured accuracy with a
  small CNN under a few schedules;
* :mod:`lrcourse.lab.data.fashion_mnist` -- Fashion-MNIST: where its files are, checking them,
  downloading, loading a split;
* :mod:`lrcourse.lab.data.loaders` -- :class:`TensorLoader` and the classic ``DataLoader`` pipelines.
"""

from __future__ import annotations

# Besides __all__, the file layout constants and the private names the tests read
# (_CACHE_VERSION, _missing_files) stay importable from lrcourse.lab.data, as before the split.
from .batches import (  # noqa: F401
    _CACHE_VERSION,
    ALL_FILES,
    BASE_FOLDER,
    META_FILE,
    TEST_FILES,
    TRAIN_FILES,
    DataFileError,
    _missing_files,
    read_cifar10_batches,
)
from .cifar10 import (  # noqa: F401
    ARCHIVE_NAME,
    CIFAR10_CLASSES,
    CIFAR10_MD5,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR10_URL,
    ENV_VAR,
    SOURCES,
    SYNTHETIC_SUBDIR,
    CIFAR10Split,
    DataUnavailableError,
    data_source,
    download_cifar10,
    load_cifar10,
    train_val_split,
)
from .fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FashionMNISTError,
    FashionMNISTSplit,
    find_fashion_mnist,
    load_fashion_mnist,
)
from .loaders import CIFAR10Dataset, TensorLoader, seed_dataloader, standard_dataloader
from .synthetic import SYNTHETIC_CLASSES, write_synthetic_cifar10

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "SYNTHETIC_CLASSES",
    "CIFAR10Split",
    "CIFAR10Dataset",
    "DataFileError",
    "DataUnavailableError",
    "FASHION_MNIST_CLASSES",
    "FashionMNISTError",
    "FashionMNISTSplit",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "TensorLoader",
    "data_source",
    "download_cifar10",
    "load_cifar10",
    "read_cifar10_batches",
    "seed_dataloader",
    "standard_dataloader",
    "train_val_split",
    "write_synthetic_cifar10",
]
