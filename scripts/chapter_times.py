"""Each chapter's measured run time: recorded by ``make notebooks``, shown on the time-budget page.

``make notebooks`` (scripts/execute_notebooks.py) executes every chapter in a clean kernel at full
size (the committed outputs) and once more in smoke mode (``LRCOURSE_SMOKE=1``, what the test
suite runs, not saved), and writes both wall times into ``bench/chapter_times.json`` together with
the machine it ran on. :func:`render` turns that file into the markdown table between the two
markers in ``book/time_budgets.md``; the executor rewrites the table there, and a test fails when
the page and the file disagree, so no run time in the book is typed by hand.
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
PAGE = ROOT / "book" / "time_budgets.md"
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


def record(chapter: str, full: float, smoke: float, info: dict) -> None:
    """Store one chapter's times (atomically: a failed run never leaves half a file)."""
    data = load()
    data["chapters"][chapter] = {"full_seconds": round(full, 1), "smoke_seconds": round(smoke, 1), "machine": info}
    tmp = TIMES.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(TIMES)


def _device(info: dict) -> str:
    if info.get("gpu"):
        return info["gpu"]
    return f"CPU, {info['cores']} cores ({info['cpu']})"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


# An experiment chapter prints its Colab T4 estimate in a line like this one; the GPU column
# quotes it from the committed notebook, so the page never holds a typed estimate.
T4_LINE = re.compile(r"estimated gpu size on a T4: ([0-9.]+)-([0-9.]+) min")


def t4_estimate(chapter: str) -> tuple[str, str] | None:
    """The (fast, slow) minutes a chapter's committed outputs estimate for its gpu size on a T4."""
    path = ROOT / "book" / chapter
    if not path.exists():
        return None
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            match = T4_LINE.search("".join(output.get("text", "")))
            if match:
                return match.group(1), match.group(2)
    return None


def _gpu_column(chapter: str, entry: dict) -> str:
    estimate = t4_estimate(chapter)
    if estimate is not None:
        return f"recommended: the gpu size takes {estimate[0]}-{estimate[1]} min on a Colab T4 (estimated)"
    return "optional" if entry["machine"].get("gpu") else "not needed"


def render(data: dict) -> str:
    rows = [
        START,
        "| chapter | smoke size (test suite) | full size (the committed outputs) | measured on | GPU |",
        "|---|---:|---:|---|---|",
    ]
    for chapter, entry in sorted(data["chapters"].items()):
        gpu = _gpu_column(chapter, entry)
        rows.append(
            f"| {{doc}}`{chapter.removesuffix('.ipynb')}` | {_duration(entry['smoke_seconds'])} "
            f"| {_duration(entry['full_seconds'])} | {_device(entry['machine'])} | {gpu} |"
        )
    rows.append(END)
    return "\n".join(rows)


def update_page() -> None:
    text = PAGE.read_text()
    if not BLOCK.search(text):
        raise SystemExit(f"{PAGE.name} has no {START} ... {END} block to write the table into")
    PAGE.write_text(BLOCK.sub(lambda _: render(load()), text))


if __name__ == "__main__":
    update_page()
