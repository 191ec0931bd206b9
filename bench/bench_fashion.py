"""Seconds per training epoch of the Fashion-MNIST nets on a CPU: what the cpu-size sweeps budget on.

One epoch is the 60 000 training images (or ``--images``), batch 256 as in d2l, plain SGD, no
augmentation, batches from ``TensorLoader`` on the CPU, with the torch thread count given (1 by
default: the sweeps run one process per core). The first epoch is a warm-up and not counted; the
figure is the median of the others.

    python bench/bench_fashion.py                       # lenet and bncnn, 1 thread, 3 timed epochs
    python bench/bench_fashion.py --models lenet --threads 2 --epochs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hardware import cpu_model, loadavg  # noqa: E402

from lrcourse.lab import TensorLoader, build_model, load_fashion_mnist  # noqa: E402
from lrcourse.lab.models import MODEL_INPUTS, MODEL_NAMES  # noqa: E402

GREY_NETS = [name for name in MODEL_NAMES if MODEL_INPUTS[name] == (1, 28, 28)]


def epoch_seconds(model: str, train, batch_size: int, epochs: int) -> list[float]:
    torch.manual_seed(0)
    net = build_model(model)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loader = TensorLoader(train, batch_size, train=True, pad=0, flip=False, seed=0, device="cpu")
    times = []
    for epoch in range(epochs + 1):  # epoch 0 is the warm-up
        start = time.perf_counter()
        for x, y in loader.iter_epoch(epoch):
            loss = torch.nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=GREY_NETS, default=GREY_NETS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--images", type=int, default=60_000, help="training images per epoch")
    parser.add_argument("--data-root", default="data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    split = load_fashion_mnist(args.data_root, "train")
    train = split.subset(torch.arange(min(args.images, len(split))))
    print(f"{cpu_model()}, {os.cpu_count()} cores, {args.threads} torch thread(s); torch {torch.__version__}, "
          f"Python {platform.python_version()}; load average before {loadavg()}")
    print(f"{train.description}, batch {args.batch_size}, SGD, no augmentation; files from {split.origin[0]}")
    for name in args.models:
        times = epoch_seconds(name, train, args.batch_size, args.epochs)
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"{name:<6} median {statistics.median(times):.1f} s per epoch ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
