"""What ``import lrcourse`` costs on top of ``import torch``.

Every figure comes from a fresh interpreter, so nothing is cached in the process (the operating
system's file cache is warm after the first, uncounted round). Two measures:

* **in the process**: a fresh interpreter imports torch, then times ``import lrcourse`` with
  ``time.perf_counter`` -- the cost itself, free of the noise of torch's own 2-3 s import;
* **whole processes, paired**: ``python -c "import torch"`` and ``python -c "import torch,
  lrcourse"`` take turns, and the cost is the difference within each round, so a machine that
  slows down during the benchmark hits both alike. On a shared 2-core machine its spread is
  several tenths of a second: read the in-process figure for the cost, this one for a check.

It also lists which heavy modules ``import lrcourse`` loaded beyond those torch loads itself.

    python bench/bench_import.py                  # this checkout
    python bench/bench_import.py --rounds 30
    python bench/bench_import.py --tree OLD_CHECKOUT   # the same figures for another checkout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hardware import cpu_model, loadavg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "torchvision", "tqdm", "PIL", "numpy")


def run(code: str, tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tree)
    return time.perf_counter() - start


def in_process(tree: Path) -> float:
    code = "import torch, time; t = time.perf_counter(); import lrcourse; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree).stdout
    return float(out)


def added_modules(tree: Path) -> list[str]:
    probe = ("import sys, json, torch; before = set(sys.modules); import lrcourse; "
             "print(json.dumps(sorted(m for m in set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds counted (default 15)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose lrcourse is imported")
    args = parser.parse_args()
    tree = args.tree.resolve()
    import torch

    print(f"lrcourse from {tree.name or tree}; torch {torch.__version__}, Python {platform.python_version()}, "
          f"{cpu_model()}, {os.cpu_count()} cores, load average before {loadavg()}")
    torch_only, both = "import torch", "import torch, lrcourse"
    run(torch_only, tree), run(both, tree)  # warm the file cache; not counted
    a, b = [], []
    for _ in range(args.rounds):
        a.append(run(torch_only, tree))
        b.append(run(both, tree))
    diffs = [y - x for x, y in zip(a, b)]
    inside = [in_process(tree) for _ in range(args.rounds)]
    print(f"import lrcourse after import torch, in the process: median {statistics.median(inside):.4f} s "
          f"(min {min(inside):.4f}, max {max(inside):.4f}, {args.rounds} processes)")
    print("whole processes, paired:")
    print(f"import torch            median {statistics.median(a):.3f} s  (min {min(a):.3f}, max {max(a):.3f})")
    print(f"import torch, lrcourse  median {statistics.median(b):.3f} s  (min {min(b):.3f}, max {max(b):.3f})")
    print(f"lrcourse adds           median {statistics.median(diffs):.3f} s  (paired, min {min(diffs):.3f}, "
          f"max {max(diffs):.3f}, {args.rounds} rounds)")
    added = added_modules(tree)
    heavy = sorted({m.split(".")[0] for m in added if m.split(".")[0] in HEAVY})
    print(f"modules import lrcourse adds: {len(added)}; of them heavy: {heavy or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
