"""Committed results reach a reader without a checkout: read in place in a checkout, downloaded
once (checked against the manifest, nothing half-written) from a loopback server elsewhere."""

import http.server
import json
import threading
from pathlib import Path

import pytest

from lrcourse import __version__
from lrcourse.lab.committed import (
    CommittedResultsError,
    committed_results,
    experiments_url,
    find_experiments,
    write_manifest,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_manifest_lists_every_committed_file_with_its_md5(tmp_path):
    listed = json.loads((ROOT / "experiments" / "MANIFEST.json").read_text())["files"]
    copy = tmp_path / "experiments"
    for key in listed:
        (copy / key).parent.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "experiments").glob("*/**/*"):
        relative = path.relative_to(ROOT / "experiments")
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            (copy / relative).parent.mkdir(parents=True, exist_ok=True)
            (copy / relative).write_bytes(path.read_bytes())
    assert write_manifest(copy) == listed, "experiments/MANIFEST.json is out of date: python scripts/write_manifest.py"


def _experiments(tmp_path):
    folder = tmp_path / "served" / "experiments"
    (folder / "sweep-a").mkdir(parents=True)
    (folder / "sweep-a" / "constant-seed0.json").write_text('{"recipe": "constant"}\n')
    (folder / "sweep-a" / "command.sh").write_text("#!/bin/sh\n")
    (folder / "sweep-b").mkdir()
    (folder / "sweep-b" / "summary.md").write_text("| recipe |\n")
    (folder / "sweep-b" / ".checkpoints").mkdir()
    (folder / "sweep-b" / ".checkpoints" / "trial-0000.json").write_text("{}\n")
    (folder / "search").mkdir()
    (folder / "search" / "study.journal").write_text('{"op_code": 0}\n')
    (folder / "search" / "trials").mkdir()
    (folder / "search" / "trials" / "trial-0000.json").write_text('{"trial": 0}\n')
    (folder / "search" / "history.png").write_bytes(b"\x89PNG")
    write_manifest(folder)
    return folder


class _Server:
    """Serves a folder; under /bad/ every result file comes back altered."""

    def __init__(self, folder):
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits.append(self.path)
                bad = self.path.startswith("/bad/")
                path = folder / self.path.removeprefix("/bad").removeprefix("/experiments/")
                if not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                if bad and path.suffix == ".json" and path.name != "MANIFEST.json":
                    body = body.replace(b"constant", b"CONSTANT")
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server(tmp_path):
    srv = _Server(_experiments(tmp_path))
    yield srv
    srv.close()


def test_in_a_checkout_the_folder_is_read_in_place(tmp_path):
    folder = _experiments(tmp_path)
    assert find_experiments(folder / "sweep-a") == folder
    assert committed_results("sweep-a", start=folder.parent) == folder / "sweep-a"
    with pytest.raises(CommittedResultsError, match=r"^'sweep-c' is not a committed sweep; valid: search, sweep-a, sweep-b$"):
        committed_results("sweep-c", start=folder.parent)


def test_elsewhere_it_is_downloaded_once_and_checked(server, tmp_path, monkeypatch):
    elsewhere = tmp_path / "colab"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr("lrcourse.lab.committed.find_experiments", lambda start=None: None)
    got = committed_results("sweep-a", root=elsewhere / "data", url=f"{server.base}/experiments")
    assert got == elsewhere / "data" / f"experiments-v{__version__}" / "sweep-a"
    assert sorted(p.name for p in got.iterdir()) == [".complete", "command.sh", "constant-seed0.json"]
    assert json.loads((got / "constant-seed0.json").read_text()) == {"recipe": "constant"}
    hits = len(server.hits)
    assert committed_results("sweep-a", root=elsewhere / "data", url=f"{server.base}/experiments") == got
    assert len(server.hits) == hits  # the second time, nothing is fetched


def test_a_search_comes_with_its_study_and_its_subfolders_but_not_its_pictures(server, tmp_path, monkeypatch):
    monkeypatch.setattr("lrcourse.lab.committed.find_experiments", lambda start=None: None)
    got = committed_results("search", root=tmp_path / "data", url=f"{server.base}/experiments")
    assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*") if p.is_file()) == [
        ".complete", "study.journal", "trials/trial-0000.json"]


def test_a_file_that_does_not_match_the_manifest_leaves_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setattr("lrcourse.lab.committed.find_experiments", lambda start=None: None)
    with pytest.raises(CommittedResultsError, match=r"could not download sweep-a/constant-seed0.json from .*nothing was kept"):
        committed_results("sweep-a", root=tmp_path / "data", url=f"{server.base}/bad/experiments")
    assert [p.name for p in (tmp_path / "data").rglob("*")] == [f"experiments-v{__version__}"]


def test_an_unknown_sweep_or_an_unreachable_server_is_one_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.setattr("lrcourse.lab.committed.find_experiments", lambda start=None: None)
    with pytest.raises(CommittedResultsError, match=r"'nope' is not a committed sweep of release .*; valid: search, sweep-a, sweep-b$"):
        committed_results("nope", root=tmp_path / "data", url=f"{server.base}/experiments")
    with pytest.raises(CommittedResultsError, match=r"^could not download http://127.0.0.1:9/x/MANIFEST.json \(.*\); "
                                                    r"nothing was kept"):
        committed_results("sweep-a", root=tmp_path / "data", url="http://127.0.0.1:9/x", timeout=5)
    with pytest.raises(ValueError, match=r"^name must be the name of a folder of experiments/ \(got name='../x'\)$"):
        committed_results("../x")


def test_the_default_address_is_the_release_tag(monkeypatch):
    monkeypatch.delenv("LRCOURSE_RESULTS_URL", raising=False)
    assert experiments_url() == f"https://raw.githubusercontent.com/lrcourse/lrcourse/v{__version__}/experiments"
    monkeypatch.setenv("LRCOURSE_RESULTS_URL", "http://mirror/exp/")
    assert experiments_url() == "http://mirror/exp"
