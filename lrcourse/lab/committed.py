"""The committed results of the book's sweeps, wherever the reader is.

The chapters never retrain what the repository has committed under ``experiments/``. In a
checkout, :func:`committed_results` returns ``experiments/<name>`` in place. Anywhere else (a
Colab session with ``pip install``, a laptop without the repository) it downloads that folder
once, file by file, from the repository at the release tag of the installed package, so the
numbers are the ones the page was built with. ``experiments/MANIFEST.json`` lists every file
with its MD5 (:func:`write_manifest` makes it; a test keeps it current); each download is
checked against it by torchvision's ``download_url`` and lands in a temporary folder that is
moved into place only when every file is there, so nothing half-written is ever read.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import tempfile
import urllib.error
from pathlib import Path
from typing import Any

from .. import __version__

__all__ = ["MANIFEST", "CommittedResultsError", "committed_results", "experiments_url", "find_experiments",
           "read_manifest", "write_manifest"]

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "lrcourse-manifest/1"
URL_VAR = "LRCOURSE_RESULTS_URL"
_REPOSITORY = "https://raw.githubusercontent.com/lrcourse/lrcourse"


class CommittedResultsError(RuntimeError):
    """The committed results could not be had; the message says what to do instead."""


def experiments_url(version: str = __version__) -> str:
    """Where the ``experiments/`` folder of release ``version`` is served from; ``$LRCOURSE_RESULTS_URL`` overrides it."""
    return os.environ.get(URL_VAR, "").strip().rstrip("/") or f"{_REPOSITORY}/v{version}/experiments"


def find_experiments(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The checkout's ``experiments/`` folder: in ``start`` (default: the working directory) or a
    folder above it, or next to the imported package; ``None`` outside a checkout."""
    here = Path.cwd() if start is None else Path(start)
    package_root = Path(__file__).resolve().parents[2]
    for folder in (here.resolve(), *here.resolve().parents, package_root):
        if (folder / "experiments" / MANIFEST).is_file():
            return folder / "experiments"
    return None


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


#: What a chapter reads from a results folder: results, commands, summaries, and a search's study.
LISTED_SUFFIXES = (".json", ".sh", ".md", ".journal")


def _listed(folder: Path) -> list[Path]:
    """The files of one results folder a chapter may read, its subfolders' included (a search's
    ``trials/`` and ``final/``); never checkpoints, locks or temporary files (hidden names)."""
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and path.suffix in LISTED_SUFFIXES
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts))


def write_manifest(experiments: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``experiments/MANIFEST.json``: every committed file of every results folder and its MD5.

    Only what a chapter reads is listed (``LISTED_SUFFIXES``, in the folder or below it; never
    checkpoints, locks or temporary files). Returns the ``{"folder/file": md5}`` written.
    """
    experiments = Path(experiments)
    files = {
        f"{folder.name}/{path.relative_to(folder).as_posix()}": _md5(path)
        for folder in sorted(p for p in experiments.iterdir() if p.is_dir() and not p.name.startswith("."))
        for path in _listed(folder)
    }
    text = json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1, sort_keys=True) + "\n"
    (experiments / MANIFEST).write_text(text, encoding="utf-8")
    return files


def read_manifest(text: str, where: str) -> dict[str, str]:
    """The ``files`` of a manifest's ``text``; ``where`` names it in the error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommittedResultsError(f"{where} is not a manifest ({error.msg})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), dict):
        raise CommittedResultsError(f"{where} is not a manifest of format {MANIFEST_FORMAT!r}")
    return data["files"]


def committed_results(name: str, *, root: str | os.PathLike[str] = "data", url: str | None = None,
                      start: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> Path:
    """The folder of the committed sweep ``name`` (``"d2l-as-run"``, ...), ready to read.

    In a checkout (:func:`find_experiments` from ``start``): ``experiments/<name>``. Otherwise the
    folder is downloaded from ``url`` (default :func:`experiments_url`) into
    ``<root>/experiments-v<version>/<name>`` the first time, and found there afterwards.

    Raises:
        CommittedResultsError: ``name`` is not a committed sweep (the valid names are listed), or
            the download failed or did not match the manifest; nothing is left behind.
    """
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be the name of a folder of experiments/ (got name={name!r})")
    local = find_experiments(start)
    if local is not None:
        names = sorted({key.split("/", 1)[0] for key in read_manifest((local / MANIFEST).read_text(), str(local / MANIFEST))})
        if name not in names:
            raise CommittedResultsError(f"{name!r} is not a committed sweep; valid: {', '.join(names)}")
        return local / name
    target = Path(root) / f"experiments-v{__version__}" / name
    if (target / ".complete").is_file():
        return target
    return _download(name, target, url or experiments_url(), timeout)


def _fetch(url: str, folder: Path, filename: str, md5: str | None) -> None:
    from torchvision.datasets.utils import download_url

    where = folder / filename  # a search's trials/ and final/ are subfolders
    with contextlib.redirect_stdout(io.StringIO()):  # torchvision's own chatter
        download_url(url, str(where.parent), where.name, md5=md5)


def _download(name: str, target: Path, url: str, timeout: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}-download-"))
    previous = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(timeout)
        print(f"Downloading the committed results {name}/ from {url}", flush=True)
        try:
            _fetch(f"{url}/{MANIFEST}", tmp, MANIFEST, None)
        except (urllib.error.URLError, OSError, ValueError, RuntimeError) as error:
            reason = getattr(error, "reason", None) or str(error) or type(error).__name__
            raise CommittedResultsError(
                f"could not download {url}/{MANIFEST} ({reason}); nothing was kept. Run the chapter in a checkout "
                "of the repository, or train the results again with the command in the chapter") from None
        manifest = read_manifest((tmp / MANIFEST).read_text(encoding="utf-8"), f"{url}/{MANIFEST}")
        files = {key.split("/", 1)[1]: md5 for key, md5 in manifest.items() if key.split("/", 1)[0] == name}
        if not files:
            names = sorted({key.split("/", 1)[0] for key in manifest})
            raise CommittedResultsError(f"{name!r} is not a committed sweep of release {__version__}; valid: "
                                        f"{', '.join(names)}")
        (tmp / MANIFEST).unlink()
        for filename, md5 in files.items():
            try:
                _fetch(f"{url}/{name}/{filename}", tmp, filename, md5)
            except (urllib.error.URLError, OSError, ValueError, RuntimeError) as error:
                reason = getattr(error, "reason", None) or str(error) or type(error).__name__
                raise CommittedResultsError(
                    f"could not download {name}/{filename} from {url} ({reason}); nothing was kept. Run the same "
                    "cell again, or run the chapter in a checkout of the repository") from None
        (tmp / ".complete").write_text(json.dumps({"url": url, "files": len(files)}) + "\n")
        if target.exists():  # an incomplete folder from elsewhere: replaced, never mixed
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        socket.setdefaulttimeout(previous)
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def describe(folder: Path) -> dict[str, Any]:
    """Where a results folder came from, for a chapter to print: ``checkout`` or ``download``."""
    marker = folder / ".complete"
    if marker.is_file():
        return {"from": "download"} | json.loads(marker.read_text())
    return {"from": "checkout", "folder": folder.name}
