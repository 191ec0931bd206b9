"""Data-pipeline throughput: the device-resident TensorLoader against the per-image pipelines.

    python bench/bench_data.py                      # synthetic stand-in, 10 000 images
    python bench/bench_data.py --out table.md       # also write the markdown table to a file
    python bench/bench_data.py --time-generation    # also time writing the full 60 000-image stand-in

Three pipelines, side by side in one run, on the same uint8 images:

* ``TensorLoader`` on the best device present (cuda, else mps, else cpu): pad-crop, flip and
  normalize a whole batch in a few tensor ops;
* ``standard_dataloader``: ``RandomCrop(32, padding=4) + RandomHorizontalFlip + ToTensor +
  Normalize`` per image in a ``torch.utils.data.DataLoader``, with 0 and 2 worker processes;
* ``seed_dataloader``: the seed article's ``Resize(120) + RandomHorizontalFlip + RandomCrop(96) +
  ColorJitter(0.5, 0.5, hue=0.5)``, 0 and 2 workers, on a subset (it is ~10x slower).

Each measurement is whole passes (epochs) over its images for at least ``--min-seconds``,
consuming every batch and moving it to the device; repeats are interleaved across pipelines so
that load from other processes hits them alike; the first measurement of each is a warm-up and
not counted; medians are reported. On a GPU
the clock is read after ``torch.cuda.synchronize()``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hardware import cpu_model, synchronize  # noqa: E402
from lrcourse.device import pick_device  # noqa: E402
from lrcourse.lab.data import (
    CIFAR10Split,
    TensorLoader,
    load_cifar10,
    seed_dataloader,
    standard_dataloader,
    write_synthetic_cifar10,
)


def measure(loader, device: torch.device, min_seconds: float) -> tuple[float, int]:
    """Full passes over ``loader`` until ``min_seconds`` have passed: (seconds, images produced).

    Whole passes, so a DataLoader's worker start-up counts as it does in training; at least
    ``min_seconds`` so that fast and slow pipelines are timed over similar windows.
    """
    synchronize(device)
    start = time.perf_counter()
    n = 0
    while True:
        for x, y in loader:
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            n += y.numel()
        synchronize(device)
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            return seconds, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="images for the TensorLoader and the standard pipeline")
    parser.add_argument("--n-seed", type=int, default=2_000, help="images for the (slow) seed pipeline")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5, help="measured passes per pipeline (after one warm-up)")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="shortest timed window per measurement")
    # One thread by default: on a shared machine a 2-thread op waits for the busier core. On a
    # quiet machine pass --threads 2 (or more).
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads in the main process")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader num_workers to try")
    parser.add_argument("--root", default=None, help="data root holding synthetic/ (default: a temporary folder)")
    parser.add_argument("--time-generation", action="store_true", help="also time writing the 60k stand-in")
    parser.add_argument("--out", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = pick_device()
    device_name = torch.cuda.get_device_name() if device.type == "cuda" else device.type
    hardware = (
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores (torch threads: {args.threads}); "
        f"device: {device_name}; torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(hardware, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        if args.time_generation:
            start, cpu_start = time.perf_counter(), time.process_time()
            write_synthetic_cifar10(Path(tmp) / "gen60k", n_train=50_000, n_test=10_000, seed=0)
            gen_s, gen_cpu = time.perf_counter() - start, time.process_time() - cpu_start
            print(f"write_synthetic_cifar10, 50 000 + 10 000 images: {gen_s:.1f} s ({gen_cpu:.1f} CPU-s)", flush=True)
        if args.root is None:
            root = Path(tmp)
            write_synthetic_cifar10(root / "synthetic", n_train=max(args.n, args.n_seed), n_test=10, seed=0)
        else:
            root = Path(args.root)
        full = load_cifar10(root, "train", source="synthetic")
        idx = torch.arange(min(args.n, len(full)))
        data = full.subset(idx)
        data_seed = full.subset(idx[: args.n_seed])
        assert isinstance(data, CIFAR10Split)

        pipelines = {("TensorLoader", device.type): TensorLoader(data, args.batch_size, device=device, seed=0)}
        for w in args.workers:
            pipelines[("standard (RandomCrop+Flip)", f"{w} workers")] = standard_dataloader(
                data, args.batch_size, num_workers=w, seed=0
            )
        for w in args.workers:
            pipelines[("seed (Resize+Crop96+ColorJitter)", f"{w} workers")] = seed_dataloader(
                data_seed, args.batch_size, num_workers=w, seed=0
            )
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in pipelines}
        images: dict[tuple[str, str], int] = {}
        for r in range(args.repeats + 1):
            for key, loader in pipelines.items():
                seconds, n = measure(loader, device, args.min_seconds)
                images[key] = len(loader.dataset) if hasattr(loader, "dataset") else loader.n
                if r > 0:  # the first pass warms up caches, workers and kernels
                    rates[key].append(n / seconds)
                print(f"pass {r} {key[0]:34s} {key[1]:10s} {n / seconds:12.0f} images/s", flush=True)

    medians = {key: statistics.median(v) for key, v in rates.items()}
    standard = {k: v for k, v in medians.items() if k[0].startswith("standard")}
    best_standard = max(standard.values())
    fast = medians[("TensorLoader", device.type)]
    lines = [
        f"Hardware: {hardware}.",
        "",
        f"Synthetic stand-in, batch {args.batch_size}, median of {args.repeats} measurements after one warm-up, "
        f"each >= {args.min_seconds:g} s of whole passes, interleaved across pipelines.",
        "",
        "| pipeline | config | images per pass | images/s (median) | min - max | TensorLoader is x faster |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key, rate in medians.items():
        lo, hi = min(rates[key]), max(rates[key])
        lines.append(
            f"| {key[0]} | {key[1]} | {images[key]} | {rate:,.0f} | {lo:,.0f} - {hi:,.0f} | {fast / rate:.1f} |"
        )
    lines += ["", f"TensorLoader vs the best standard configuration: {fast / best_standard:.1f}x."]
    if args.time_generation:
        lines.append(
            f"Writing the 60 000-image stand-in (write_synthetic_cifar10 defaults, {torch.get_num_threads()} torch "
            f"thread(s)): {gen_s:.1f} s wall, {gen_cpu:.1f} CPU-s."
        )
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        out = Path(args.out)
        tmp_out = out.with_name(f".{out.name}.tmp")
        tmp_out.write_text(table + "\n")
        os.replace(tmp_out, out)


if __name__ == "__main__":
    main()
