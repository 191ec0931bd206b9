"""lrcourse.lab.data: download (against a loopback server), parsing, the stand-in, selection, loaders.

Nothing here reaches the internet: the "download" tests serve a tarball in the official format
from http.server on 127.0.0.1, and the unreachable host is a closed local port.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lrcourse.lab import data as D
from lrcourse.lab.data import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR10Split,
    TensorLoader,
    data_source,
    download_cifar10,
    load_cifar10,
    read_cifar10_batches,
    seed_dataloader,
    standard_dataloader,
    train_val_split,
    write_synthetic_cifar10,
)

N_TRAIN, N_TEST = 60, 20


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_cifar10(root, n_train=N_TRAIN, n_test=N_TEST, seed=0)
    return root


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> bytes:
    """cifar-10-python.tar.gz in the official format: the stand-in's batches, official meta."""
    root = tmp_path_factory.mktemp("official")
    folder = write_synthetic_cifar10(root, n_train=N_TRAIN, n_test=N_TEST, seed=1)
    with open(folder / "batches.meta", "wb") as f:
        meta = {b"num_cases_per_batch": N_TRAIN // 5, b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
        pickle.dump(meta, f, protocol=2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    return buffer.getvalue()


class _Server:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.hits: list[str] = []
        self.closing = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.hits.append(self.path)
                body = outer.payload
                if self.path.startswith("/missing"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # /truncated promises the whole file and sends half of it, then hangs up;
                # /stall sends half of it and then nothing, like a network that went away.
                half = self.path.startswith(("/truncated", "/stall"))
                self.wfile.write(body[: len(body) // 2] if half else body)
                self.wfile.flush()
                if self.path.startswith("/stall"):
                    outer.closing.wait(60)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tarball):
    srv = _Server(tarball)
    yield srv
    srv.close()


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


def _md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


# --------------------------------------------------------------------------- download


def test_download_extract_parse(server, tarball, tmp_path):
    root = tmp_path / "data"
    url = server.base + "/ok/cifar-10-python.tar.gz"
    folder = download_cifar10(root, url=url, md5=_md5(tarball))
    assert folder == root / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == sorted(D.ALL_FILES)
    assert (root / "cifar-10-python.tar.gz").read_bytes() == tarball  # verified archive kept
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary left
    train = load_cifar10(root, "train", source="cifar10", url=url, md5=_md5(tarball))
    test = load_cifar10(root, "test", source="cifar10")
    assert (train.source, train.classes, len(train), len(test)) == ("cifar10", CIFAR10_CLASSES, N_TRAIN, N_TEST)
    assert train.images.dtype == torch.uint8 and train.images.shape == (N_TRAIN, 3, 32, 32)
    assert train.labels.dtype == torch.int64
    hits = len(server.hits)
    assert download_cifar10(root, url=url, md5=_md5(tarball)) == folder  # present: no new request
    assert len(server.hits) == hits


def test_archive_placed_by_hand_is_used(tarball, tmp_path, closed_url):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(tarball)
    folder = download_cifar10(tmp_path, url=closed_url, md5=_md5(tarball))
    assert not D._missing_files(folder)


def test_wrong_md5_raises_and_leaves_nothing(server, tmp_path):
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="corrupted or truncated.*expected 0{32}.*manually"):
        download_cifar10(root, url=server.base + "/ok/cifar-10-python.tar.gz", md5="0" * 32)
    assert not root.exists()  # not even the folder it created


def test_truncated_download_raises_and_leaves_nothing(server, tarball, tmp_path):
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"corrupted or truncated: MD5 \w+ \(\d+ bytes\).*manually from"):
        download_cifar10(root, url=server.base + "/truncated/cifar-10-python.tar.gz", md5=_md5(tarball))
    assert _files(root) == []


def test_http_error_raises_and_leaves_nothing(server, tarball, tmp_path):
    with pytest.raises(RuntimeError, match="Could not download.*404"):
        download_cifar10(tmp_path, url=server.base + "/missing/cifar-10-python.tar.gz", md5=_md5(tarball))
    assert _files(tmp_path) == []


def test_unreachable_host_raises_clear_error(tmp_path, closed_url):
    with pytest.raises(RuntimeError, match=r"Could not download CIFAR-10 from .*place it in"):
        download_cifar10(tmp_path, url=closed_url)
    assert _files(tmp_path) == []


def test_a_killed_download_leaves_nothing_behind_and_a_live_one_is_left_alone(server, tarball, tmp_path):
    root, md5 = tmp_path / "data", _md5(tarball)
    code = (f"from lrcourse.lab.data import download_cifar10; download_cifar10({str(root)!r}, "
            f"url={server.base + '/stall/cifar-10-python.tar.gz'!r}, md5={md5!r})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, partial = time.monotonic() + 120, []
        while not partial and proc.poll() is None and time.monotonic() < deadline:
            partial = [p for p in root.glob(".lrcourse-download-*/*") if p.stat().st_size > 0]
            time.sleep(0.02)
        assert partial, proc.stderr.read().decode() if proc.poll() is not None else "no partial download"
        # Another process's download in progress is not a leftover: a download next to it keeps it.
        folder = download_cifar10(root, url=server.base + "/ok/cifar-10-python.tar.gz", md5=md5)
        assert partial[0].exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert partial[0].exists()  # killed midway: its partial tarball is still there
    assert download_cifar10(root, url=server.base + "/ok/cifar-10-python.tar.gz", md5=md5) == folder
    assert not partial[0].parent.exists()  # the next call removed it
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def _cli_with_url(url, tmp_path, capsys, monkeypatch):
    from lrcourse.lab.cli import main

    monkeypatch.setenv("LRCOURSE_CIFAR10_URL", url)
    status = main(["sweep", "--data", "cifar10", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "r"),
                   "--device", "cpu", "--no-progress"])
    return status, capsys.readouterr()


def test_cli_without_network_says_use_data_synthetic_in_one_line(tmp_path, closed_url, capsys, monkeypatch):
    status, (out, err) = _cli_with_url(closed_url, tmp_path, capsys, monkeypatch)
    assert status == 1
    assert re.fullmatch(rf"error: could not get CIFAR-10 from {re.escape(closed_url)} \(\[Errno 111\] Connection "
                        rf"refused\). To work offline, use --data synthetic \(a stand-in in the same format; results "
                        rf"say so\), or put cifar-10-python.tar.gz into {re.escape(str(tmp_path / 'data'))}/ by hand\n",
                        err), err
    assert "source='synthetic'" not in err and "Traceback" not in out + err
    assert _files(tmp_path / "data") == []


def test_cli_truncated_download_is_one_line(server, tmp_path, capsys, monkeypatch):
    status, (_, err) = _cli_with_url(server.base + "/truncated/cifar-10-python.tar.gz", tmp_path, capsys, monkeypatch)
    last = err.rstrip("\n").split("\n")[-1]  # above it: torchvision's download bar, on stderr
    assert status == 1 and err.count("error") == 1 and "Traceback" not in err
    assert last.startswith("error: could not get CIFAR-10 from ") and "corrupted or truncated" in last
    assert "use --data synthetic" in last


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"cifar-10-batches-py/data_batch_1": b"x"}, "is not CIFAR-10"),
        ({"../escape": b"x"}, "unexpected member '../escape'"),
    ],
)
def test_foreign_archive_is_refused_and_leaves_nothing(tmp_path, closed_url, members, message):
    payload = _tar_gz(members)
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(payload)  # placed by hand, checksum matches
    with pytest.raises(RuntimeError, match=message):
        download_cifar10(tmp_path / "", url=closed_url, md5=_md5(payload))
    assert _files(tmp_path) == ["cifar-10-python.tar.gz"] and not (tmp_path.parent / "escape").exists()


def test_download_argument_validation(tmp_path):
    with pytest.raises(ValueError, match="md5 must be a 32-character hexadecimal string .*md5='abc'"):
        download_cifar10(tmp_path, md5="abc")
    with pytest.raises(ValueError, match="timeout must be"):
        download_cifar10(tmp_path, timeout=0)
    with pytest.raises(TypeError, match="url must be"):
        download_cifar10(tmp_path, url=None)
    assert _files(tmp_path) == []


# --------------------------------------------------------------------------- format and parser


def test_synthetic_pickles_have_the_official_format(synthetic_root):
    folder = synthetic_root / "cifar-10-batches-py"
    sizes = []
    for name in D.TRAIN_FILES + D.TEST_FILES:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
        assert isinstance(batch[b"data"], np.ndarray) and batch[b"data"].dtype == np.uint8
        assert batch[b"data"].ndim == 2 and batch[b"data"].shape[1] == 3072
        assert all(type(x) is int for x in batch[b"labels"]) and len(batch[b"labels"]) == len(batch[b"data"])
        assert all(isinstance(x, bytes) for x in batch[b"filenames"]) and len(batch[b"filenames"]) == len(batch[b"data"])
        assert b"synthetic" in batch[b"batch_label"]
        sizes.append(len(batch[b"data"]))
    assert sizes == [N_TRAIN // 5] * 5 + [N_TEST]
    with open(folder / "batches.meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert {b"num_cases_per_batch", b"label_names", b"num_vis"} <= set(meta) and meta[b"lrcourse_synthetic"] is True
    assert [n.decode() for n in meta[b"label_names"]] == list(D.SYNTHETIC_CLASSES)


def test_parser_round_trip(synthetic_root):
    folder = synthetic_root / "cifar-10-batches-py"
    images, labels, classes, synthetic = read_cifar10_batches(folder, "train")
    with open(folder / "data_batch_2", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    n = N_TRAIN // 5
    row = batch[b"data"][3]
    assert synthetic and classes == D.SYNTHETIC_CLASSES
    assert torch.equal(images[n + 3], torch.from_numpy(row).reshape(3, 32, 32))  # channel-major rows
    assert torch.equal(images[n + 3, 1, 0], torch.from_numpy(row[1024:1056]))  # green, first row
    assert labels[n + 3] == batch[b"labels"][3]
    assert torch.equal(torch.bincount(labels, minlength=10), torch.full((10,), N_TRAIN // 10))


def test_synthetic_is_deterministic_and_seeded(tmp_path):
    a = write_synthetic_cifar10(tmp_path / "a", n_train=10, n_test=5, seed=3)
    b = write_synthetic_cifar10(tmp_path / "b", n_train=10, n_test=5, seed=3)
    c = write_synthetic_cifar10(tmp_path / "c", n_train=10, n_test=5, seed=4)
    for name in D.ALL_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "data_batch_1").read_bytes() != (c / "data_batch_1").read_bytes()
    # Rewriting replaces the folder atomically; the real data set is never overwritten.
    write_synthetic_cifar10(tmp_path / "a", n_train=10, n_test=5, seed=4)
    assert (a / "data_batch_1").read_bytes() == (c / "data_batch_1").read_bytes()
    assert _files(tmp_path / "a") == sorted(["cifar-10-batches-py"] + [f"cifar-10-batches-py/{n}" for n in D.ALL_FILES])


def test_synthetic_refuses_to_overwrite_real_data(tarball, tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(tarball)
    download_cifar10(tmp_path, url="http://127.0.0.1:1/x", md5=_md5(tarball))
    before = (tmp_path / "cifar-10-batches-py" / "data_batch_1").read_bytes()
    with pytest.raises(FileExistsError, match="not the synthetic stand-in"):
        write_synthetic_cifar10(tmp_path, n_train=10, n_test=5)
    assert (tmp_path / "cifar-10-batches-py" / "data_batch_1").read_bytes() == before


def test_synthetic_argument_validation(tmp_path):
    with pytest.raises(ValueError, match=r"n_train must be an integer >= 5 \(got n_train=4\)"):
        write_synthetic_cifar10(tmp_path, n_train=4)
    with pytest.raises(TypeError, match="seed must be an integer"):
        write_synthetic_cifar10(tmp_path, seed=1.5)
    assert _files(tmp_path) == []


def test_unsafe_pickle_is_refused(synthetic_root, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in D.ALL_FILES:
        (folder / name).write_bytes((synthetic_root / "cifar-10-batches-py" / name).read_bytes())

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": Evil()}, f)
    with pytest.raises(RuntimeError, match="refusing to load builtins.print"):
        read_cifar10_batches(folder, "train")


def test_parsed_splits_are_cached(tmp_path):
    write_synthetic_cifar10(tmp_path / "synthetic", n_train=10, n_test=5)
    first = load_cifar10(tmp_path, "test", source="synthetic")
    cache = tmp_path / "synthetic" / "cifar-10-batches-py" / "lrcourse_test.pt"
    assert cache.is_file()
    again = load_cifar10(tmp_path, "test", source="synthetic")
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    cache.write_bytes(b"garbage")  # a damaged cache is rebuilt
    assert torch.equal(load_cifar10(tmp_path, "test", source="synthetic").images, first.images)
    assert torch.load(cache, weights_only=True)["version"] == D._CACHE_VERSION


# --------------------------------------------------------------------------- selection


def test_source_from_argument_and_environment(monkeypatch):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    assert data_source() == "cifar10"
    monkeypatch.setenv("LRCOURSE_DATA", "synthetic")
    assert data_source() == "synthetic"
    assert data_source("cifar10") == "cifar10"  # the argument wins
    monkeypatch.setenv("LRCOURSE_DATA", "imagenet")
    with pytest.raises(ValueError, match=r"LRCOURSE_DATA must be one of .*got LRCOURSE_DATA='imagenet'"):
        data_source()
    with pytest.raises(ValueError, match=r"source must be one of 'cifar10', 'synthetic' \(got source='real'\)"):
        data_source("real")


def test_load_selects_by_environment(synthetic_root, monkeypatch, tmp_path):
    shutil.copytree(synthetic_root, tmp_path / "synthetic")
    monkeypatch.setenv("LRCOURSE_DATA", "synthetic")
    split = load_cifar10(tmp_path, "train")
    assert split.source == "synthetic" and "synthetic" in split.description and len(split) == N_TRAIN
    monkeypatch.setenv("LRCOURSE_DATA", "bogus")
    with pytest.raises(ValueError, match="LRCOURSE_DATA"):
        load_cifar10(tmp_path, "train")
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'"):
        load_cifar10(tmp_path, "valid", source="synthetic")


def test_no_fallback_to_synthetic(synthetic_root, tmp_path, closed_url, monkeypatch):
    shutil.copytree(synthetic_root, tmp_path / "synthetic")
    monkeypatch.setenv("LRCOURSE_DATA", "synthetic")  # the argument must still win
    with pytest.raises(RuntimeError, match="Could not download CIFAR-10"):
        load_cifar10(tmp_path, "train", source="cifar10", url=closed_url)
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_cifar10(tmp_path, "train", source="cifar10", download=False)
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_folder_of_the_wrong_kind_is_an_error(synthetic_root, tmp_path):
    shutil.copytree(synthetic_root / "cifar-10-batches-py", tmp_path / "cifar-10-batches-py")
    with pytest.raises(RuntimeError, match="holds the synthetic stand-in, but source='cifar10'"):
        load_cifar10(tmp_path, "test", source="cifar10")


def test_synthetic_generated_on_first_use(tmp_path, monkeypatch):
    calls = []
    real = D.write_synthetic_cifar10
    # load_cifar10 looks the writer up in lrcourse.lab.data.cifar10, so that is where to patch it.
    monkeypatch.setattr(D.cifar10, "write_synthetic_cifar10", lambda root, progress=None: calls.append(root) or real(root, n_train=10, n_test=5))
    split = load_cifar10(tmp_path, "test", source="synthetic")
    assert calls == [tmp_path / "synthetic"] and len(split) == 5 and split.source == "synthetic"


def test_train_val_split():
    train, val = train_val_split(100, 20, seed=0)
    assert len(val) == 20 and len(train) == 80
    assert torch.equal(torch.cat([train, val]).sort().values, torch.arange(100))
    assert torch.equal(train_val_split(100, 20, seed=0)[1], val)
    assert not torch.equal(train_val_split(100, 20, seed=1)[1], val)
    with pytest.raises(ValueError, match=r"val_size must be < n.*val_size=100, n=100"):
        train_val_split(100, 100)
    with pytest.raises(ValueError, match="val_size must be an integer >= 1"):
        train_val_split(100, 0)


def test_subset_keeps_the_source():
    data = CIFAR10Split(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.arange(4), D.SYNTHETIC_CLASSES, "train", "synthetic")
    val = data.subset(torch.tensor([1, 3]), "val")
    assert (val.split, val.source, val.labels.tolist()) == ("val", "synthetic", [1, 3])


# --------------------------------------------------------------------------- TensorLoader


def _identity_data(n: int = 37) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images whose label is their index, so a batch says which images it holds."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(n)


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return (x.float() * std * 255 + mean * 255).round().to(torch.uint8)


def _collect(batches) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(x.clone(), y.clone()) for x, y in batches]


def test_loader_shapes_and_length():
    images, labels = _identity_data(37)
    loader = TensorLoader((images, labels), 8, device="cpu")
    assert len(loader) == 5 and len(TensorLoader((images, labels), 8, device="cpu", drop_last=True)) == 4
    batches = _collect(loader)
    assert [len(y) for _, y in batches] == [8, 8, 8, 8, 5]
    x, y = batches[0]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.is_contiguous()
    cl = next(iter(TensorLoader((images, labels), 8, device="cpu", channels_last=True)))[0]
    assert cl.is_contiguous(memory_format=torch.channels_last)
    assert [len(y) for _, y in TensorLoader((images, labels), 8, device="cpu", drop_last=True)] == [8] * 4


def test_loader_every_image_once_per_epoch():
    images, labels = _identity_data(37)
    loader = TensorLoader((images, labels), 8, device="cpu", seed=5)
    for _ in range(2):
        seen = torch.cat([y for _, y in loader])
        assert torch.equal(seen.sort().values, labels)
    assert loader.epoch == 2


def test_loader_really_crops_and_flips():
    images, labels = _identity_data(64)
    padded = torch.nn.functional.pad(images.float(), (4, 4, 4, 4), mode="reflect").to(torch.uint8)
    offsets, flips = set(), set()
    for x, y in TensorLoader((images, labels), 16, device="cpu", seed=1):
        for img, i in zip(_to_uint8(x), y.tolist()):
            match = [
                (dy, dx, f)
                for dy in range(9)
                for dx in range(9)
                for f in (False, True)
                if torch.equal(img, (lambda c: c.flip(-1) if f else c)(padded[i, :, dy : dy + 32, dx : dx + 32]))
            ]
            assert match, f"image {i} is not a crop of its padded source"
            offsets.add(match[0][:2])
            flips.add(match[0][2])
    assert flips == {False, True} and len(offsets) > 10


def test_loader_zero_padding_and_no_flip():
    images, labels = _identity_data(16)
    for x, y in TensorLoader((images, labels), 16, device="cpu", pad_mode="zeros", flip=False, pad=2):
        img = _to_uint8(x)
        padded = torch.nn.functional.pad(images[y], (2, 2, 2, 2))
        for k in range(16):
            assert any(torch.equal(img[k], padded[k, :, dy : dy + 32, dx : dx + 32]) for dy in range(5) for dx in range(5))


def test_loader_eval_mode_is_plain_and_ordered():
    images, labels = _identity_data(20)
    loader = TensorLoader((images, labels), 8, train=False, device="cpu")
    x = torch.cat([b for b, _ in loader])
    y = torch.cat([b for _, b in loader])
    assert torch.equal(y, labels) and torch.equal(_to_uint8(x), images)
    assert torch.equal(torch.cat([b for b, _ in loader]), x)  # same every epoch


def test_loader_seeded_determinism():
    images, labels = _identity_data(40)
    a = _collect(TensorLoader((images, labels), 8, device="cpu", seed=3).iter_epoch(0))
    b = _collect(TensorLoader((images, labels), 8, device="cpu", seed=3).iter_epoch(0))
    c = _collect(TensorLoader((images, labels), 8, device="cpu", seed=4).iter_epoch(0))
    d = _collect(TensorLoader((images, labels), 8, device="cpu", seed=3).iter_epoch(1))
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    assert not all(torch.equal(p[1], q[1]) for p, q in zip(a, c))
    assert not all(torch.equal(p[1], q[1]) for p, q in zip(a, d))


@pytest.mark.parametrize("cut", [0, 1, 3, 5])
def test_loader_resume_mid_epoch(cut):
    images, labels = _identity_data(37)
    reference = TensorLoader((images, labels), 8, device="cpu", seed=9)
    full = _collect(reference) + _collect(reference)  # epochs 0 and 1
    first = TensorLoader((images, labels), 8, device="cpu", seed=9)
    it = iter(first)
    done = [next(it) for _ in range(cut)]
    state = first.state_dict()
    assert state == {"epoch": 0, "position": cut, "seed": 9}
    resumed = TensorLoader((images, labels), 8, device="cpu", seed=9)
    resumed.load_state_dict(state)
    rest = _collect(resumed) + _collect(resumed)
    assert len(done) + len(rest) == len(full)
    for (x1, y1), (x2, y2) in zip(full[cut:], rest):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    # iter_epoch(epoch, start_batch) gives the same batches without touching the position.
    part = _collect(reference.iter_epoch(0, cut))
    assert len(part) == len(reference) - cut and reference.position == 0
    assert all(torch.equal(p[0], q[0]) for p, q in zip(full[cut : len(reference)], part))


def test_loader_validation():
    images, labels = _identity_data(8)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1 \(got batch_size=0\)"):
        TensorLoader((images, labels), 0, device="cpu")
    with pytest.raises(ValueError, match="pad_mode must be one of 'reflect', 'zeros'"):
        TensorLoader((images, labels), 4, device="cpu", pad_mode="edge")
    with pytest.raises(TypeError, match="data must be a CIFAR10Split, a FashionMNISTSplit or an"):
        TensorLoader(images, 4, device="cpu")
    with pytest.raises(ValueError, match="images must be a uint8 tensor"):
        TensorLoader((images.float(), labels), 4, device="cpu")
    with pytest.raises(ValueError, match="drop_last=True"):
        TensorLoader((images, labels), 9, device="cpu", drop_last=True)
    loader = TensorLoader((images, labels), 4, device="cpu", seed=1)
    with pytest.raises(ValueError, match="seed"):
        loader.load_state_dict({"epoch": 0, "position": 0, "seed": 2})
    with pytest.raises(ValueError, match="position"):
        loader.load_state_dict({"epoch": 0, "position": 3, "seed": 1})
    with pytest.raises(ValueError, match="start_batch must be <= 2"):
        loader.iter_epoch(0, 3)


def test_loader_carries_the_source(synthetic_root):
    data = read_cifar10_batches(synthetic_root / "cifar-10-batches-py", "test")
    split = CIFAR10Split(data[0], data[1], data[2], "test", "synthetic")
    loader = TensorLoader(split, 8, device="cpu", train=False)
    assert loader.source == "synthetic" and "synthetic" in repr(loader)


# --------------------------------------------------------------------------- per-image pipelines


def test_per_image_pipelines(synthetic_root):
    images, labels, classes, _ = read_cifar10_batches(synthetic_root / "cifar-10-batches-py", "test")
    split = CIFAR10Split(images, labels, classes, "test", "synthetic")
    x, y = next(iter(standard_dataloader(split, 8)))
    assert x.shape == (8, 3, 32, 32) and y.dtype == torch.int64
    x, _ = next(iter(seed_dataloader(split, 4)))
    assert x.shape == (4, 3, 96, 96)
    x, _ = next(iter(seed_dataloader(split, 4, train=False)))
    assert x.shape == (4, 3, 96, 96)
    # Eval mode of the classic pipeline and of the tensor loader agree to float precision.
    plain = torch.cat([b for b, _ in standard_dataloader(split, 8, train=False)])
    fast = torch.cat([b for b, _ in TensorLoader(split, 8, train=False, device="cpu")])
    torch.testing.assert_close(plain, fast, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
        standard_dataloader(split, 8, num_workers=-1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_loader_same_batches_on_cuda_as_on_cpu():
    images, labels = _identity_data(40)
    cpu = _collect(TensorLoader((images, labels), 16, device="cpu", seed=2))
    gpu = _collect(TensorLoader((images, labels), 16, device="cuda", seed=2, channels_last=True))
    for (x1, y1), (x2, y2) in zip(cpu, gpu):
        assert torch.equal(y1, y2.cpu())
        torch.testing.assert_close(x1, x2.cpu(), rtol=0, atol=1e-5)
