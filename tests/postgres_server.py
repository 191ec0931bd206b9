"""A throwaway PostgreSQL server for the tests: Debian's PostgreSQL 15 binaries, a cluster in a
temporary folder, listening on a free loopback port, stopped and removed afterwards.

``initdb`` refuses to run as root, so as root the cluster is made and run by the ``postgres``
user (``runuser``); as anyone else, by that user. Authentication is ``trust`` on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

BIN_DIRS = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def find_bin() -> Path | None:
    """The newest Debian PostgreSQL bin folder with ``initdb``, or one on PATH; None if none."""
    for folder in BIN_DIRS:
        if (folder / "initdb").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield its URL, ``postgresql://postgres@127.0.0.1:PORT/postgres``."""
    bin_dir = find_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="lrcourse-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:  # the postgres user must own the cluster's folder
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = _free_port()
    log = folder / "server.log"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                        "--no-sync"]), **run)
        subprocess.run(_as_server_user([
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off", "start"]), **run)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                            "stop"]), capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)
