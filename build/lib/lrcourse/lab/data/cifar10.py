"""The real CIFAR-10: choosing the source, downloading, loading a split, a held-out split.

:func:`load_cifar10` loads one split of the real data set (``source="cifar10"``) or of the
synthetic stand-in (``"synthetic"``, see :mod:`lrcourse.lab.data.synthetic`). It picks the source from
its ``source`` argument, else from the environment variable ``LRCOURSE_DATA`` (``cifar10`` or
``synthetic``), else ``"cifar10"`` (:func:`data_source`). It never falls back from one to the
other: if the real data is asked for and cannot be found or downloaded, it raises.

The real data is downloaded by :func:`download_cifar10` from ``CIFAR10_URL``, checked against
``CIFAR10_MD5`` and extracted into ``<root>/cifar-10-batches-py`` (the folder
``torchvision.datasets.CIFAR10(root)`` uses, so an existing download is reused); the stand-in is
generated into ``<root>/synthetic/cifar-10-batches-py``. Both are parsed by
:mod:`lrcourse.lab.data.batches` and returned as a :class:`CIFAR10Split`: ``uint8`` images
``N x 3 x 32 x 32`` and ``int64`` labels, tagged with their ``source``. :func:`train_val_split`
holds out a validation part of the training split.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..._validate import check_bool, check_choice, check_int, check_real
from ..claims import owner_tag, remove_dead_leftovers
from .batches import BASE_FOLDER, DataFileError, _missing_files, _read_split_cached
from .synthetic import write_synthetic_cifar10

__all__ = [
    "DataUnavailableError",
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "CIFAR10Split",
    "data_source",
    "download_cifar10",
    "load_cifar10",
    "train_val_split",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
SYNTHETIC_SUBDIR = "synthetic"
SOURCES = ("cifar10", "synthetic")
ENV_VAR = "LRCOURSE_DATA"
DOWNLOAD_PREFIX = ".lrcourse-download-"  # temporary folders of downloads in progress, in root

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
# Per-channel mean and std of the real CIFAR-10 training images (scale 0..1), the values
# used throughout the CIFAR literature. The stand-in is normalized with the same constants.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


# --------------------------------------------------------------------------------------------
# Selecting the source
# --------------------------------------------------------------------------------------------


def data_source(source: str | None = None) -> str:
    """The data source to use: ``source`` if given, else ``$LRCOURSE_DATA``, else ``"cifar10"``.

    Raises:
        ValueError: If ``source`` or ``LRCOURSE_DATA`` is not ``"cifar10"`` or ``"synthetic"``.
    """
    if source is not None:
        return check_choice(source, "source", SOURCES)
    raw = os.environ.get(ENV_VAR, "")
    value = raw.strip().lower()
    if value == "":
        return "cifar10"
    if value not in SOURCES:
        raise ValueError(
            f"{ENV_VAR} must be one of 'cifar10', 'synthetic' or unset (got {ENV_VAR}={raw!r})"
        )
    return value


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def _manual_hint(url: str, root: Path) -> str:
    return (
        f"Download {ARCHIVE_NAME} manually from {url} and place it in {root} (or extract it there so "
        f"that {root / BASE_FOLDER} exists), then call again. To work without the real data, pass "
        f"source='synthetic' or set {ENV_VAR}=synthetic; results are then labelled synthetic."
    )


class DataUnavailableError(RuntimeError):
    """The real CIFAR-10 could not be had: the download failed, or the file is corrupted.

    ``url`` is where it was fetched from, ``root`` the data folder, ``reason`` what went wrong
    (the network's error, a checksum mismatch); the message adds how to place the file by hand.
    """

    def __init__(self, message: str, *, url: str, root: Path, reason: str) -> None:
        super().__init__(message)
        self.url, self.root, self.reason = url, root, reason


def _check_md5_string(md5: Any) -> str:
    if not isinstance(md5, str) or len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5.lower()):
        raise ValueError(f"md5 must be a 32-character hexadecimal string (got md5={md5!r})")
    return md5.lower()


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract a .tar.gz, refusing links, devices and paths outside ``dest``."""
    base = dest.resolve()
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            if not (member.isfile() or member.isdir()) or not (base / member.name).resolve().is_relative_to(base):
                raise RuntimeError(f"{archive} holds an unexpected member {member.name!r}; refusing to extract it")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: no DeprecationWarning on 3.12+
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - older Pythons; members were checked above
            tar.extractall(dest, members=members)


def download_cifar10(
    root: str | os.PathLike,
    url: str = CIFAR10_URL,
    md5: str = CIFAR10_MD5,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and extract CIFAR-10 into ``<root>/cifar-10-batches-py``; return that folder.

    Nothing is downloaded if the folder is already complete, and an archive already placed in
    ``root`` by hand is used if its checksum matches. The archive is fetched with
    ``torchvision.datasets.utils.download_url`` (which shows a progress bar) into a temporary
    folder inside ``root``, its MD5 is checked, it is extracted into another temporary folder and
    only then renamed into place, so a failed or corrupted download leaves no file behind. The
    temporary folder's name carries the process id and host (``.lrcourse-download-*.~<pid>@<host>``):
    one left by a process that was killed is removed by the next call, one of a download still
    running in another process is left alone.

    Args:
        root: Folder that holds (or will hold) ``cifar-10-batches-py``.
        url: Where to download ``cifar-10-python.tar.gz`` from.
        md5: The archive's expected MD5, 32 hex digits.
        timeout: Seconds to wait for the server before giving up, > 0.

    Raises:
        DataUnavailableError: The host cannot be reached, or the download is corrupted or
            truncated (checksum mismatch). The message says how to place the file by hand.
        RuntimeError: The archive is not in the CIFAR-10 format.
    """
    from torchvision.datasets.utils import check_integrity, download_url

    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string (got url={url!r})")
    md5 = _check_md5_string(md5)
    timeout = check_real(timeout, "timeout", low=0.0, low_open=True)
    root = Path(root).expanduser()
    folder = root / BASE_FOLDER
    remove_dead_leftovers(root, (DOWNLOAD_PREFIX,))  # partial downloads of killed processes
    if folder.is_dir():
        missing = _missing_files(folder)
        if not missing:
            return folder
        raise DataFileError(folder, f"incomplete (missing {', '.join(missing)})")
    created_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    archive = root / ARCHIVE_NAME
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=DOWNLOAD_PREFIX, suffix=owner_tag()))
    done = False
    try:
        if archive.is_file():
            if not check_integrity(str(archive), md5):
                reason = f"{archive} exists but its MD5 is {_md5_of(archive)}, not {md5}: it is corrupted or truncated"
                raise DataUnavailableError(f"{reason}. Delete it and call again. " + _manual_hint(url, root),
                                           url=url, root=root, reason=reason)
            source_archive = archive
        else:
            source_archive = tmp / ARCHIVE_NAME
            previous = socket.getdefaulttimeout()
            socket.setdefaulttimeout(timeout)
            chatter = io.StringIO()  # torchvision prints "Downloading..." and retry notes; we say it once
            try:
                print(f"Downloading {url} to {root}", flush=True)
                with contextlib.redirect_stdout(chatter):
                    download_url(url, str(tmp), ARCHIVE_NAME, md5=None)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    reason = f"HTTP error {exc.code}: {exc.reason}"
                elif isinstance(exc, urllib.error.URLError):
                    reason = str(exc.reason)  # e.g. "[Errno -3] Temporary failure in name resolution"
                else:
                    reason = str(exc) or type(exc).__name__
                raise DataUnavailableError(f"Could not download CIFAR-10 from {url} ({reason}). " + _manual_hint(url, root),
                                           url=url, root=root, reason=reason) from exc
            finally:
                socket.setdefaulttimeout(previous)
            if not check_integrity(str(source_archive), md5):
                size = source_archive.stat().st_size if source_archive.exists() else 0
                reason = (f"the file downloaded is corrupted or truncated: MD5 "
                          f"{_md5_of(source_archive) if size else 'n/a'} ({size} bytes), expected {md5}")
                raise DataUnavailableError(f"The file downloaded from {url} is corrupted or truncated: MD5 "
                                           f"{_md5_of(source_archive) if size else 'n/a'} ({size} bytes), expected {md5}. "
                                           "Nothing was kept. " + _manual_hint(url, root),
                                           url=url, root=root, reason=reason)
        extracted = tmp / "extracted"
        extracted.mkdir()
        try:
            _safe_extract(source_archive, extracted)
        except (tarfile.TarError, EOFError, OSError) as exc:
            hint = _manual_hint(url, root)
            raise RuntimeError(f"{source_archive.name} could not be extracted ({exc}). " + hint) from exc
        missing = _missing_files(extracted / BASE_FOLDER)
        if missing:
            raise RuntimeError(f"The archive from {url} is not CIFAR-10: {BASE_FOLDER}/ lacks {missing}")
        os.replace(extracted / BASE_FOLDER, folder)
        if source_archive != archive:
            os.replace(source_archive, archive)  # keep the verified archive, as torchvision does
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done and created_root and not any(root.iterdir()):
            root.rmdir()  # a failed first download leaves not even the empty folder
    return folder


# --------------------------------------------------------------------------------------------
# Loading a split
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CIFAR10Split:
    """One split of CIFAR-10 or of its stand-in, in memory.

    Attributes:
        images: ``uint8`` tensor ``N x 3 x 32 x 32`` (channels first).
        labels: ``int64`` tensor ``N``.
        classes: Class names, index = label.
        split: ``"train"``, ``"test"``, or a name given by :meth:`subset` (e.g. ``"val"``).
        source: ``"cifar10"`` or ``"synthetic"``; put it next to every number computed on the data.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    split: str
    source: str

    def __len__(self) -> int:
        return int(self.labels.numel())

    @property
    def description(self) -> str:
        """A label for plots and results, e.g. ``"CIFAR-10 (synthetic stand-in) train, 45000 images"``."""
        name = "CIFAR-10" if self.source == "cifar10" else "CIFAR-10 (synthetic stand-in)"
        return f"{name} {self.split}, {len(self)} images"

    def subset(self, indices: torch.Tensor, split: str | None = None) -> CIFAR10Split:
        """The images at ``indices`` (e.g. from :func:`train_val_split`), under a new split name."""
        indices = torch.as_tensor(indices, dtype=torch.int64)
        return CIFAR10Split(
            self.images[indices], self.labels[indices], self.classes, split or self.split, self.source
        )


def load_cifar10(
    root: str | os.PathLike = "data",
    split: str = "train",
    source: str | None = None,
    download: bool = True,
    url: str = CIFAR10_URL,
    md5: str = CIFAR10_MD5,
    progress: bool | None = None,
) -> CIFAR10Split:
    """Load one split of CIFAR-10 (``source="cifar10"``) or of the stand-in (``"synthetic"``).

    ``source=None`` reads ``$LRCOURSE_DATA`` and defaults to ``"cifar10"``. The real data lives in
    ``<root>/cifar-10-batches-py`` and is downloaded there if absent (``download=True``); the
    stand-in lives in ``<root>/synthetic/cifar-10-batches-py`` and is generated there, with the
    default sizes and seed 0, if absent. There is no fallback: if the real data cannot be had,
    this raises rather than return the stand-in, and a folder of the wrong kind is an error.
    ``url`` and ``md5`` are passed to :func:`download_cifar10` (a mirror, or a test server);
    ``progress`` to :func:`~lrcourse.lab.data.synthetic.write_synthetic_cifar10`.

    Raises:
        DataUnavailableError: The real data is not there and cannot be downloaded.
        DataFileError: A data file is damaged or missing; the message names it.
    """
    split = check_choice(split, "split", ("train", "test"))
    download = check_bool(download, "download")
    if progress is not None:
        check_bool(progress, "progress")
    source = data_source(source)
    root = Path(root).expanduser()
    if source == "cifar10":
        folder = root / BASE_FOLDER
        if _missing_files(folder):
            if not download:
                raise FileNotFoundError(
                    f"CIFAR-10 not found in {folder} and download=False. " + _manual_hint(url, root)
                )
            folder = download_cifar10(root, url=url, md5=md5)
    else:
        folder = root / SYNTHETIC_SUBDIR / BASE_FOLDER
        if _missing_files(folder):
            if folder.exists():
                missing = _missing_files(folder)
                raise DataFileError(folder, f"incomplete (missing {', '.join(missing)})")
            write_synthetic_cifar10(root / SYNTHETIC_SUBDIR, progress=progress)
    images, labels, classes, synthetic = _read_split_cached(folder, split)
    if synthetic != (source == "synthetic"):
        found = "the synthetic stand-in" if synthetic else "real CIFAR-10"
        raise RuntimeError(f"{folder} holds {found}, but source={source!r} was requested; use another root")
    return CIFAR10Split(images, labels, classes, split, source)


def train_val_split(n: int, val_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, val)`` that hold out ``val_size`` of ``n`` examples, chosen by ``seed``.

    Anything that reacts to a metric (``ReduceLROnPlateau``, early stopping, picking a schedule)
    must read it on the held-out part; the test split is for the final number only. Both index
    tensors are sorted ``int64``, disjoint, and together cover ``range(n)``.
    """
    n = check_int(n, "n", low=2)
    val_size = check_int(val_size, "val_size", low=1)
    seed = check_int(seed, "seed", low=0)
    if val_size >= n:
        raise ValueError(f"val_size must be < n, leaving training examples (got val_size={val_size}, n={n})")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values
