"""Command line: ``python -m lrcourse sweep ...`` and ``python -m lrcourse summary DIR``.

Examples::

    python -m lrcourse sweep --recipes cosine,step --seeds 3 --epochs 10 --model airbench --out results/
    LRCOURSE_DATA=synthetic python -m lrcourse sweep --out results-synthetic/
    python -m lrcourse summary results/

A sweep that is interrupted (Ctrl-C, a lost Colab session) is finished by running the same
command again: finished runs are skipped, the interrupted one is redone from its last epoch.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from .experiments import RECIPES, cifar_data, random_data, summary_table, sweep
from .models import MODEL_NAMES

DATA_CHOICES = ("cifar10", "synthetic", "random")


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low} (got {text!r})") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low} (got {text!r})")
        return value

    return parse


def _real(low: float, high: float | None = None, high_open: bool = False):
    valid = f"a finite number >= {low:g}" + ("" if high is None else f" and {'<' if high_open else '<='} {high:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {valid} (got {text!r})") from None
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or value < low or too_high:
            raise argparse.ArgumentTypeError(f"must be {valid} (got {text!r})")
        return value

    return parse


def _device(text: str) -> str:
    kind, _, index = text.partition(":")
    if kind not in ("cuda", "mps", "cpu") or (index and not (kind == "cuda" and index.isdigit())):
        raise argparse.ArgumentTypeError(f"must be cuda, cuda:N, mps or cpu (got {text!r})")
    return text


def _recipes(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in RECIPES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown recipe(s) {', '.join(map(repr, unknown)) or repr(text)}; valid: all, {', '.join(RECIPES)}"
        )
    return list(dict.fromkeys(names))  # drop repeats, keep the order


def _recipes_or_all(text: str) -> list[str]:
    return list(RECIPES) if text.strip() == "all" else _recipes(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrcourse",
        description="Learning-rate schedule sweeps on CIFAR-10 (lrcourse).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{sweep,summary}")

    run = commands.add_parser(
        "sweep", help="train every recipe with every seed; rerun to resume",
        description="Train each recipe with each seed at an equal step budget; one JSON file per run in "
        "--out. Rerunning the same command skips finished runs and redoes an interrupted one.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--recipes", type=_recipes_or_all, default="all",
                     help=f"comma-separated recipes, or 'all': {', '.join(RECIPES)}")
    run.add_argument("--seeds", type=_int_at_least(1), default=3, help="number of seeds (0, 1, ..., N-1)")
    run.add_argument("--epochs", type=_int_at_least(1), default=10, help="epochs per run")
    run.add_argument("--model", choices=MODEL_NAMES, default="airbench", help="network")
    run.add_argument("--out", default="results", help="folder for the result files")
    run.add_argument("--lr", type=_real(0.0), default=0.1, help="peak learning rate of every recipe")
    run.add_argument("--momentum", type=_real(0.0, 1.0, high_open=True), default=0.9, help="SGD Nesterov momentum")
    run.add_argument("--weight-decay", type=_real(0.0), default=5e-4, help="SGD weight decay")
    run.add_argument("--batch-size", type=_int_at_least(1), default=512, help="images per batch")
    run.add_argument("--val-size", type=_int_at_least(1), default=5000,
                     help="training images held out for validation (drives 'plateau')")
    run.add_argument("--train-size", type=_int_at_least(1), default=None,
                     help="use only this many training images (quick CPU checks); default: all")
    run.add_argument("--data", choices=DATA_CHOICES, default=None,
                     help="cifar10 (real, downloaded), synthetic (the offline stand-in) or random (noise, "
                     "for tests); default: $LRCOURSE_DATA, else cifar10")
    run.add_argument("--data-root", default="data", help="where the data sets live")
    run.add_argument("--device", type=_device, default=None, help="cuda, mps or cpu (default: the best available)")
    run.add_argument("--precision", choices=("bf16", "fp16", "fp32"), default=None,
                     help="default: bf16 on compute capability >= 8.0, fp16 below, fp32 on cpu/mps")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bars (default: on in a terminal unless $CI is set)")

    show = commands.add_parser("summary", help="print the mean ± std table of a results folder",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    show.add_argument("out", help="folder with the result files of a sweep")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "summary":
        try:
            print(summary_table(args.out), end="")
        except FileNotFoundError as error:
            parser.exit(2, f"error: {error}\n")
        return 0

    kind = args.data or os.environ.get("LRCOURSE_DATA", "").strip() or "cifar10"
    if kind not in DATA_CHOICES:
        parser.error(f"LRCOURSE_DATA must be one of {', '.join(DATA_CHOICES)} (got LRCOURSE_DATA={kind!r})")
    if kind == "random":
        data = random_data(batch_size=args.batch_size)
    else:
        data = cifar_data(args.data_root, source=kind, batch_size=args.batch_size, val_size=args.val_size,
                          device=args.device, train_size=args.train_size)
    sweep(args.recipes, list(range(args.seeds)), args.out, data, progress=args.progress,
          model=args.model, epochs=args.epochs, lr=args.lr, momentum=args.momentum,
          weight_decay=args.weight_decay, device=args.device, precision=args.precision)
    print(summary_table(args.out), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
