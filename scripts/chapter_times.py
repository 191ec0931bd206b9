"""Each chapter's measured run time: recorded by ``make notebooks``, shown in the introduction.

``make notebooks`` (scripts/execute_notebooks.py) writes the wall time of every chapter it
executes, at full size and in a clean kernel, into ``bench/chapter_times.json`` together with the
machine it ran on. :func:`render` turns that file into the markdown table between the two markers
in ``book/intro.md``; the executor rewrites the table there, and a test fails when the page and the
file disagree, so no run time in the book is typed by hand.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "bench" / "chapter_times.json"
INTRO = ROOT / "book" / "intro.md"
START, END = "<!-- chapter-times:start -->", "<!-- chapter-times:end -->"
BLOCK = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)


def machine() -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from hardware import cpu_model, loadavg  # noqa: E402 (bench/ is not a package)

    import torch

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__.split("+")[0],
        "loadavg_before": loadavg(),
    }


def load() -> dict:
    return json.loads(TIMES.read_text()) if TIMES.exists() else {"chapters": {}}


def record(chapter: str, seconds: float, info: dict) -> None:
    """Store one chapter's time (atomically: a failed run never leaves half a file)."""
    data = load()
    data["chapters"][chapter] = {"seconds": round(seconds, 1), "machine": info}
    tmp = TIMES.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(TIMES)


def _device(info: dict) -> str:
    if info.get("gpu"):
        return info["gpu"]
    return f"CPU, {info['cores']} cores ({info['cpu']})"


def render(data: dict) -> str:
    rows = [
        START,
        "| chapter | full-size run, top to bottom | measured on |",
        "|---|---|---|",
    ]
    for chapter, entry in sorted(data["chapters"].items()):
        seconds = entry["seconds"]
        shown = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
        rows.append(f"| {{doc}}`{chapter.removesuffix('.ipynb')}` | {shown} | {_device(entry['machine'])} |")
    rows.append(END)
    return "\n".join(rows)


def update_intro() -> None:
    text = INTRO.read_text()
    if not BLOCK.search(text):
        raise SystemExit(f"{INTRO.name} has no {START} ... {END} block to write the table into")
    INTRO.write_text(BLOCK.sub(lambda _: render(load()), text))


if __name__ == "__main__":
    update_intro()
