"""Re-execute chapters in place, top to bottom, in a clean kernel, at full size.

Used by ``make notebooks``. The outputs written here are what the site shows, what Colab and
GitHub readers see before running anything, and the references nbval compares against.
Cells tagged ``raises-exception`` may raise; any other error stops with the cell's traceback
and leaves the notebook file untouched.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import chapter_times


def execute(path: Path, save: bool = True) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # record_timing=False keeps wall-clock timestamps out of the committed files.
    # xmode=Minimal: a cell whose point is an exception shows "ValueError: ..." rather than a
    # traceback through site-packages, which would also print this machine's paths.
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=1800,
        record_timing=False,
        extra_arguments=["--InteractiveShell.xmode=Minimal"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    if not save:
        return seconds
    nb.metadata.pop("widgets", None)
    nbformat.validate(nb)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(path)  # atomic: a failed run never leaves a half-written chapter
    return seconds


def execute_smoke(path: Path) -> float:
    """Time the chapter as the test suite runs it (LRCOURSE_SMOKE=1); nothing is saved."""
    os.environ["LRCOURSE_SMOKE"] = "1"  # the kernel inherits the environment when it starts
    try:
        return execute(path, save=False)
    finally:
        os.environ.pop("LRCOURSE_SMOKE", None)


def main(paths: list[str]) -> int:
    for name in ("LRCOURSE_SMOKE",):
        os.environ.pop(name, None)  # committed outputs are always full size
    for name in paths:
        info = chapter_times.machine()
        seconds = execute(Path(name))
        smoke = execute_smoke(Path(name))
        chapter_times.record(Path(name).name, seconds, smoke, info)
        print(f"{name}: executed in {seconds:.1f} s (smoke mode: {smoke:.1f} s)")
    chapter_times.update_page()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
