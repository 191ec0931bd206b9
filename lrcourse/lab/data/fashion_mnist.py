"""Fashion-MNIST: the real data set of the experiments' cpu size, found on disk or downloaded.

:func:`load_fashion_mnist` returns one split as a :class:`FashionMNISTSplit`: ``uint8`` images
``N x 1 x 28 x 28``, ``int64`` labels, and where the files came from. It looks, in this order, in:

1. ``folder``, when given: a folder you name, and then only there;
2. ``<root>/FashionMNIST/raw``: the layout of ``torchvision.datasets.FashionMNIST(root)``, so a
   download made by torchvision is reused;
3. ``/usr/share/datasets/fashion-mnist``: Debian's package ``dataset-fashion-mnist``;
4. else it downloads the four files into ``<root>/FashionMNIST/raw`` with torchvision's
   ``download_url``, from ``url`` (torchvision's mirror by default).

A folder that holds the files but a damaged or foreign one is an error that names the file, not
a reason to look further: which data a result was computed on never depends on what else
happens to lie on the disk. Every file is checked by the MD5 of its decompressed bytes, which is
the same for the official ``.gz`` files and for copies compressed again (Debian's are), and
every split records its ``origin`` and those checksums, for the result files to carry.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import shutil
import socket
import tempfile
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..._validate import check_bool, check_choice, check_real
from ..claims import owner_tag, remove_dead_leftovers

__all__ = [
    "DEBIAN_FOLDER",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "FASHION_MNIST_URL",
    "FashionMNISTError",
    "FashionMNISTSplit",
    "find_fashion_mnist",
    "load_fashion_mnist",
]

# torchvision's mirror of the official files (torchvision.datasets.FashionMNIST.mirrors).
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_SUBDIR = Path("FashionMNIST") / "raw"
DOWNLOAD_PREFIX = ".lrcourse-fashion-mnist-"

#: File -> (MD5 of the official .gz, MD5 of its decompressed bytes). The first pair is
#: torchvision's; the second is what a copy compressed again (Debian's) still matches.
FASHION_MNIST_FILES: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}
_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
# Mean and std of the 60 000 training images on the 0..1 scale (computed from the files).
FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)


class FashionMNISTError(RuntimeError):
    """Fashion-MNIST could not be had: a file is damaged or missing, or the download failed.

    ``where`` is the folder or address concerned; the message names the file and the fix.
    """

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True, eq=False)
class FashionMNISTSplit:
    """One split of Fashion-MNIST, in memory.

    Attributes:
        images: ``uint8`` tensor ``N x 1 x 28 x 28``.
        labels: ``int64`` tensor ``N``.
        split: ``"train"``, ``"test"``, or a name given by :meth:`subset` (e.g. ``"val"``).
        origin: The folder the files were read from (after a download, the folder they were
            saved in) and how it was found: ``"folder"``, ``"torchvision"``, ``"debian"`` or
            ``"download"``.
        md5: File name -> MD5 of its decompressed bytes, each checked against the official value.
    """

    images: torch.Tensor
    labels: torch.Tensor
    split: str
    origin: tuple[str, str]
    md5: dict[str, str] = field(default_factory=dict)
    classes: tuple[str, ...] = FASHION_MNIST_CLASSES
    source: str = "fashion-mnist"

    def __len__(self) -> int:
        return int(self.labels.numel())

    @property
    def description(self) -> str:
        """A label for plots and results, e.g. ``"Fashion-MNIST train, 55000 images"``."""
        return f"Fashion-MNIST {self.split}, {len(self)} images"

    def subset(self, indices: torch.Tensor, split: str | None = None) -> FashionMNISTSplit:
        """The images at ``indices`` (e.g. from ``train_val_split``), under a new split name."""
        indices = torch.as_tensor(indices, dtype=torch.int64)
        return FashionMNISTSplit(self.images[indices], self.labels[indices], split or self.split, self.origin,
                                 dict(self.md5))


# --------------------------------------------------------------------------------------------
# Finding and checking the files
# --------------------------------------------------------------------------------------------


def _read(folder: Path, name: str) -> bytes | None:
    """The decompressed bytes of ``name`` in ``folder`` (``name`` or its uncompressed twin), or None."""
    packed, plain = folder / name, folder / name.removesuffix(".gz")
    if packed.is_file():
        try:
            return gzip.decompress(packed.read_bytes())
        except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
            raise FashionMNISTError(f"{packed} is not a readable gzip file ({error}): delete it and try again",
                                    where=str(folder)) from None
    if plain.is_file():
        return plain.read_bytes()
    return None


# Checked files, by folder, name and (size, mtime) of what is on disk: decompressing and hashing
# the 26 MB of training images takes a second or two, once per process rather than per split.
_CACHE: dict[tuple[str, str, tuple[int, int]], bytes] = {}


def _stat(folder: Path, name: str) -> tuple[int, int] | None:
    for path in (folder / name, folder / name.removesuffix(".gz")):
        if path.is_file():
            info = path.stat()
            return info.st_size, info.st_mtime_ns
    return None


def _checked(folder: Path, names: tuple[str, ...]) -> dict[str, bytes] | None:
    """The decompressed bytes of ``names`` in ``folder``, each MD5-checked; None if none is there.

    Raises:
        FashionMNISTError: Some files are there and some are not, or one has the wrong checksum.
    """
    keys = {name: (str(folder.resolve()), name, _stat(folder, name)) for name in names}
    if all(key[2] is not None and key in _CACHE for key in keys.values()):
        return {name: _CACHE[key] for name, key in keys.items()}  # type: ignore[index]
    found = {name: _read(folder, name) for name in names}
    if all(data is None for data in found.values()):
        return None
    missing = [name for name, data in found.items() if data is None]
    if missing:
        raise FashionMNISTError(f"{folder} holds some Fashion-MNIST files but not {', '.join(missing)}: "
                                "complete it or delete it", where=str(folder))
    for name, data in found.items():
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if digest != FASHION_MNIST_FILES[name][1]:
            raise FashionMNISTError(
                f"{folder / name} is not the official Fashion-MNIST file: its content has MD5 {digest}, "
                f"expected {FASHION_MNIST_FILES[name][1]}; delete it and try again", where=str(folder))
        _CACHE[keys[name]] = data  # type: ignore[index]
    return found  # type: ignore[return-value]


def find_fashion_mnist(root: str | os.PathLike[str] = "data", folder: str | os.PathLike[str] | None = None,
                       debian: str | os.PathLike[str] = DEBIAN_FOLDER) -> tuple[Path, str] | None:
    """Where the four files are, checked, and how that folder was found; None if nowhere.

    Looks in ``folder`` alone when it is given, else in torchvision's layout under ``root``, then
    in ``debian`` (see the module docstring).
    """
    names = tuple(FASHION_MNIST_FILES)
    if folder is not None:
        place = Path(folder).expanduser()
        if _checked(place, names) is None:
            raise FashionMNISTError(f"folder={str(place)!r} holds no Fashion-MNIST files "
                                    f"({', '.join(names)})", where=str(place))
        return place, "folder"
    for place, how in ((Path(root).expanduser() / TORCHVISION_SUBDIR, "torchvision"), (Path(debian), "debian")):
        if _checked(place, names) is not None:
            return place, how
    return None


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def _download(root: Path, url: str, timeout: float) -> Path:
    """Fetch the four files into ``<root>/FashionMNIST/raw`` with torchvision's ``download_url``.

    They go to a temporary folder first and are moved into place once all four are checked, so a
    failed or corrupted download leaves nothing behind.
    """
    from torchvision.datasets.utils import download_url

    target = root / TORCHVISION_SUBDIR
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_leftovers(target.parent, (DOWNLOAD_PREFIX,))
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=DOWNLOAD_PREFIX, suffix=owner_tag()))
    previous = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(timeout)
        print(f"Downloading Fashion-MNIST from {url} to {target}", flush=True)
        for name in FASHION_MNIST_FILES:
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # torchvision's own chatter
                    download_url(url.rstrip("/") + "/" + name, str(tmp), name, md5=None)
            except (urllib.error.URLError, OSError, ValueError) as error:
                reason = getattr(error, "reason", None) or str(error) or type(error).__name__
                raise FashionMNISTError(
                    f"could not download {name} from {url} ({reason}); nothing was kept. Install Debian's "
                    f"dataset-fashion-mnist, or place the four files in {target}, or pass folder=",
                    where=url) from None
        _checked(tmp, tuple(FASHION_MNIST_FILES))  # a corrupted download raises here
        target.mkdir(exist_ok=True)
        for name in FASHION_MNIST_FILES:
            os.replace(tmp / name, target / name)
    finally:
        socket.setdefaulttimeout(previous)
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------------------------
# Loading a split
# --------------------------------------------------------------------------------------------


def _idx(data: bytes, name: str, dims: int) -> torch.Tensor:
    """An IDX array of unsigned bytes (the MNIST format): magic 0x0000080N, N sizes, the data."""
    if len(data) < 4 + 4 * dims or data[:4] != bytes((0, 0, 8, dims)):
        raise FashionMNISTError(f"{name} is not an IDX file of {dims} dimension(s)", where=name)
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    body = data[4 + 4 * dims:]
    expected = 1
    for size in shape:
        expected *= size
    if len(body) != expected:
        raise FashionMNISTError(f"{name} holds {len(body)} bytes of data, its header says {expected}", where=name)
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def load_fashion_mnist(
    root: str | os.PathLike[str] = "data",
    split: str = "train",
    folder: str | os.PathLike[str] | None = None,
    download: bool = True,
    url: str = FASHION_MNIST_URL,
    timeout: float = 60.0,
    debian: str | os.PathLike[str] = DEBIAN_FOLDER,
) -> FashionMNISTSplit:
    """Load the ``"train"`` (60 000 images) or ``"test"`` (10 000) split of Fashion-MNIST.

    Args:
        root: The data folder; torchvision's layout ``<root>/FashionMNIST/raw`` is looked in, and
            a download is saved there.
        split: ``"train"`` or ``"test"``.
        folder: A folder holding the four files (``.gz`` or uncompressed); when given, the only
            place looked in.
        download: Download when the files are nowhere; False raises instead.
        url: Where to download from (a mirror, or a test server).
        timeout: Seconds to wait for the server, > 0.
        debian: Debian's folder (a parameter so that tests can point it elsewhere).

    Raises:
        FashionMNISTError: A file is damaged, foreign or missing (the message names it), or the
            download failed, or the files are nowhere and ``download`` is False.
    """
    split = check_choice(split, "split", tuple(_SPLIT_FILES))
    download = check_bool(download, "download")
    timeout = check_real(timeout, "timeout", low=0.0, low_open=True)
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string (got url={url!r})")
    found = find_fashion_mnist(root, folder, debian)
    if found is None:
        if not download:
            raise FashionMNISTError(
                f"Fashion-MNIST is not in {Path(root) / TORCHVISION_SUBDIR} nor in {debian}, and download=False. "
                f"Install Debian's dataset-fashion-mnist, or pass folder=, or download=True.", where=str(root))
        found = (_download(Path(root).expanduser(), url, timeout), "download")
    place, how = found
    names = _SPLIT_FILES[split]
    data = _checked(place, names)
    assert data is not None  # found above
    images = _idx(data[names[0]], names[0], 3).unsqueeze(1)  # N x 1 x 28 x 28
    labels = _idx(data[names[1]], names[1], 1).to(torch.int64)
    if images.shape[0] != labels.shape[0]:
        raise FashionMNISTError(f"{place}: {images.shape[0]} images but {labels.shape[0]} labels", where=str(place))
    md5 = {name: FASHION_MNIST_FILES[name][1] for name in names}
    return FashionMNISTSplit(images, labels, split, (str(place), how), md5)
