"""Fashion-MNIST in the lab: the real files (Debian's package, which `.ci/run` and `make test`
install), the three places it is looked for, the checksums, and the download through torchvision's
utilities against a loopback HTTP server that serves the real files (the project's machines reach
no other server)."""

from __future__ import annotations

import gzip
import http.server
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
import torch

from lrcourse.lab import TensorLoader, fashion_data, run_one, train_val_split
from lrcourse.lab.data.fashion_mnist import (
    DEBIAN_FOLDER,
    FASHION_MNIST_FILES,
    FashionMNISTError,
    find_fashion_mnist,
    load_fashion_mnist,
)

if not all((DEBIAN_FOLDER / name).is_file() for name in FASHION_MNIST_FILES):
    pytest.fail(f"Fashion-MNIST is not in {DEBIAN_FOLDER}: apt-get install dataset-fashion-mnist "
                "(make test and .ci/run do this)", pytrace=False)

NOWHERE = "/nonexistent/fashion-mnist"  # Debian's folder, for the tests that must not find it


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


class _Server:
    """Serves the real files; under /truncated/ it sends half of each and hangs up."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.hits.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                if name not in FASHION_MNIST_FILES:
                    self.send_error(404)
                    return
                body = (DEBIAN_FOLDER / name).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body[: len(body) // 2] if self.path.startswith("/truncated/") else body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # torchvision's first request only looks for a redirect, and hangs up
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    srv = _Server()
    yield srv
    srv.close()


def test_the_real_files_from_debians_package(tmp_path):
    train = load_fashion_mnist(tmp_path, "train", download=False)
    test = load_fashion_mnist(tmp_path, "test", download=False)
    assert train.origin == (str(DEBIAN_FOLDER), "debian")
    assert train.images.shape == (60_000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10_000, 1, 28, 28)
    assert train.labels.bincount().tolist() == [6000] * 10 and test.labels.bincount().tolist() == [1000] * 10
    # The first labels of the official training file, and the normalization constants the loader uses.
    assert train.labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    pixels = train.images.double() / 255
    assert round(pixels.mean().item(), 4) == 0.2860 and round(pixels.std().item(), 4) == 0.3530
    assert train.md5 == {name: FASHION_MNIST_FILES[name][1] for name in FASHION_MNIST_FILES if "train" in name}
    assert train.description == "Fashion-MNIST train, 60000 images" and _tree(tmp_path) == []


def test_torchvisions_folder_comes_before_debians_and_may_be_uncompressed(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FASHION_MNIST_FILES:  # torchvision keeps the extracted files next to the archives
        (raw / name.removesuffix(".gz")).write_bytes(gzip.decompress((DEBIAN_FOLDER / name).read_bytes()))
    split = load_fashion_mnist(tmp_path, "test", download=False)
    assert split.origin == (str(raw), "torchvision")
    assert torch.equal(split.images, load_fashion_mnist(tmp_path / "other", "test", download=False).images)


def test_a_named_folder_is_the_only_place_looked_in(tmp_path):
    assert load_fashion_mnist(tmp_path, "test", folder=DEBIAN_FOLDER).origin == (str(DEBIAN_FOLDER), "folder")
    with pytest.raises(FashionMNISTError, match=r"^folder='.*empty' holds no Fashion-MNIST files"):
        load_fashion_mnist(tmp_path, "test", folder=tmp_path / "empty")


def test_a_damaged_or_incomplete_folder_is_an_error_not_a_reason_to_look_elsewhere(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FASHION_MNIST_FILES:
        shutil.copy(DEBIAN_FOLDER / name, raw / name)
    damaged = raw / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(gzip.compress(b"\0\0\x08\x01" + bytes(10)))
    with pytest.raises(FashionMNISTError, match=r"t10k-labels-idx1-ubyte.gz is not the official Fashion-MNIST file"):
        load_fashion_mnist(tmp_path, "train", download=False)
    damaged.write_bytes(b"not gzip")
    with pytest.raises(FashionMNISTError, match=r"is not a readable gzip file"):
        load_fashion_mnist(tmp_path, "train")
    damaged.unlink()
    with pytest.raises(FashionMNISTError, match=r"holds some Fashion-MNIST files but not t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(tmp_path, "train")


def test_download_through_torchvision_from_a_loopback_server(server, tmp_path):
    server.hits.clear()
    split = load_fashion_mnist(tmp_path, "train", url=server.base + "/files/", debian=NOWHERE)
    raw = tmp_path / "FashionMNIST" / "raw"
    assert split.origin == (str(raw), "download") and len(split) == 60_000
    assert _tree(tmp_path) == ["FashionMNIST", "FashionMNIST/raw", *sorted(f"FashionMNIST/raw/{n}" for n in FASHION_MNIST_FILES)]
    assert set(server.hits) == {f"/files/{name}" for name in FASHION_MNIST_FILES}
    # Found there the next time, with nothing downloaded again.
    server.hits.clear()
    assert find_fashion_mnist(tmp_path, debian=NOWHERE) == (raw, "torchvision")
    assert load_fashion_mnist(tmp_path, "test", url=server.base + "/files/", debian=NOWHERE).origin[1] == "torchvision"
    assert server.hits == []


def test_a_truncated_download_raises_and_leaves_nothing(server, tmp_path):
    with pytest.raises(FashionMNISTError) as error:
        load_fashion_mnist(tmp_path, "train", url=server.base + "/truncated/", debian=NOWHERE)
    assert "is not the official Fashion-MNIST file" in str(error.value) or "not a readable gzip" in str(error.value)
    assert _tree(tmp_path) == ["FashionMNIST"]  # no file, no temporary folder


def test_an_unreachable_server_is_one_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FashionMNISTError, match=r"^could not download train-images-idx3-ubyte.gz from .*nothing was kept"):
        load_fashion_mnist(tmp_path, "train", url=f"http://127.0.0.1:{port}/", debian=NOWHERE, timeout=5)
    assert _tree(tmp_path) == ["FashionMNIST"]
    with pytest.raises(FashionMNISTError, match=r"download=False"):
        load_fashion_mnist(tmp_path, "train", download=False, debian=NOWHERE)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"split": "val"}, ValueError, "split must be one of 'train', 'test' (got split='val')"),
        ({"download": "yes"}, TypeError, "download must be True or False (got download='yes' of type str)"),
        ({"timeout": 0.0}, ValueError, "timeout must be a finite number > 0 (got timeout=0.0)"),
        ({"url": ""}, TypeError, "url must be a non-empty string (got url='')"),
    ],
)
def test_arguments_are_checked(tmp_path, arguments, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        load_fashion_mnist(tmp_path, **arguments)


def test_tensor_loader_serves_grey_images_normalized_with_their_own_statistics(tmp_path):
    train = load_fashion_mnist(tmp_path, "train", download=False)
    fit_idx, val_idx = train_val_split(len(train), 5_000, seed=0)
    val = train.subset(val_idx, "val")
    assert val.description == "Fashion-MNIST val, 5000 images" and val.origin == train.origin
    batches = list(TensorLoader(val, 1000, train=False, device="cpu"))
    x = torch.cat([b for b, _ in batches])
    assert x.shape == (5_000, 1, 28, 28)
    assert abs(x.mean().item()) < 0.02 and abs(x.std().item() - 1) < 0.02  # its own mean and std
    augmented, labels = next(iter(TensorLoader(train.subset(fit_idx[:256]), 256, seed=3, pad=2, device="cpu")))
    assert augmented.shape == (256, 1, 28, 28) and labels.dtype == torch.int64


def test_a_run_on_fashion_mnist_records_its_data_files_and_reruns_bitwise(tmp_path):
    data = fashion_data(tmp_path, batch_size=64, val_size=256, train_size=512, device="cpu")
    first, again = (run_one("constant", 3, data, model="lenet", epochs=1, lr=0.05, device="cpu", progress=False)
                    for _ in range(2))
    assert first["config"]["data"] == ("Fashion-MNIST train, 512 images; Fashion-MNIST val, 256 images; "
                                       "Fashion-MNIST test, 10000 images")
    assert first["config"]["steps_per_epoch"] == 8 and first["config"]["model"] == "lenet"
    files = first["data_files"]
    assert files["data set"] == "Fashion-MNIST" and files["found"] == "debian"
    assert files["content_md5"] == {name: md5 for name, (_, md5) in FASHION_MNIST_FILES.items()}
    assert first["history"]["loss"] == again["history"]["loss"] and first["final"] == again["final"]
    assert 0.1 < first["final"]["test_acc"] <= 1.0


def test_fashion_data_refuses_sizes_the_data_has_not():
    with pytest.raises(ValueError, match=r"^val_size must be < the 60000 training images"):
        fashion_data(val_size=60_000, device="cpu")
    with pytest.raises(ValueError, match=r"^train_size must be <= the 55000 training images"):
        fashion_data(val_size=5_000, train_size=55_001, device="cpu")
    with pytest.raises(TypeError, match=r"^augment must be True or False \(got augment=1\)$"):
        fashion_data(augment=1, device="cpu")
