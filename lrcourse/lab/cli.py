"""Command line: ``python -m lrcourse sweep ...``, ``python -m lrcourse d2l ...`` and ``python -m lrcourse summary DIR``.

Examples::

    python -m lrcourse sweep --recipes cosine,step --seeds 3 --epochs 10 --model airbench --out results/
    python -m lrcourse sweep --data synthetic --out results-synthetic/
    CUDA_VISIBLE_DEVICES=1 python -m lrcourse sweep --shard 2/4 --out results/
    python -m lrcourse d2l --timing as-run --seeds 1 --out results-d2l-as-run/
    python -m lrcourse summary results/

A sweep that is interrupted (Ctrl-C, a lost Colab session, a killed job) is finished by running
the same command again: finished runs are skipped, the interrupted one resumes from its last
epoch. Errors of the environment (no network, a full disk, no GPU, a damaged file) end with one
line that says what happened and what to do, and exit status 1; Ctrl-C ends with one line and
status 130. ``--debug`` (or ``LRCOURSE_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import signal
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .checkpoint import ConfigMismatchError
from .estimate import format_duration
from .providers import CIFAR10_TRAIN_IMAGES, FASHION_MNIST_TRAIN_IMAGES, cifar_data, fashion_data, random_data
from .recipes import (DEFAULT_WEIGHT_DECAY, EXTRA_RECIPES, KNOB_DEFAULTS, OPTIMIZERS, RECIPE_NAMES, RECIPES,
                      SCHEDULE_FREE_WARMUP, check_optimizer_recipes, check_recipe_options)
from ..schedules import WSD_DECAYS
from .results import load_results, summary_table
from .models import MODEL_INPUTS, MODEL_NAMES
from .sweeps import SweepInterrupted, check_output_folder, sweep

__all__ = ["build_parser", "main"]

DATA_CHOICES = ("cifar10", "fashion-mnist", "synthetic", "random")
# The nets each data set's images fit: colour 3x32x32 (CIFAR-10, the stand-in, the noise) or grey 1x28x28.
COLOUR_NETS = tuple(name for name in MODEL_NAMES if MODEL_INPUTS[name][0] == 3)
GREY_NETS = tuple(name for name in MODEL_NAMES if MODEL_INPUTS[name][0] == 1)
DEFAULT_MODEL = {"cifar10": "airbench", "synthetic": "airbench", "random": "airbench", "fashion-mnist": "lenet"}
DEBUG_VAR, URL_VAR = "LRCOURSE_DEBUG", "LRCOURSE_CIFAR10_URL"
EPILOG = f"""\
environment variables:
  LRCOURSE_DATA          the default of --data
  {URL_VAR}   a mirror to download cifar-10-python.tar.gz from
  {DEBUG_VAR}=1       the same as --debug

Several processes may share one --out folder, one per GPU or one per task of a SLURM job
array: each run is claimed with a lock file before it is trained, so none is trained twice.
--shard K/N splits the runs between them in advance. Run the same command again to finish
an interrupted sweep.
"""


class CliError(Exception):
    """A problem of the environment or of the arguments found by the command line itself."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends "(default: X)" to an option's help unless the help already speaks of its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, argparse.SUPPRESS, False) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


class _Once(argparse.Action):
    """Store the value, refusing an option given twice (argparse would keep the last one)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        given = namespace.__dict__.setdefault("_given", {})
        if self.dest in given:
            parser.error(f"argument {option_string}: given twice ({given[self.dest]} and {option_string} "
                         f"{_show(values)}); give it once")
        given[self.dest] = f"{option_string} {_show(values)}"
        setattr(namespace, self.dest, values)


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else "/".join(map(str, value)) if isinstance(value, tuple) else str(value)


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


def _real(low: float, high: float | None = None, low_open: bool = False, high_open: bool = False):
    valid = (f"a finite number {'>' if low_open else '>='} {low:g}"
             + ("" if high is None else f" and {'<' if high_open else '<='} {high:g}"))

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {valid} (got {text!r})") from None
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {valid} (got {text!r})")
        return value

    return parse


def _device(text: str) -> str:
    kind, _, index = text.partition(":")
    if kind not in ("cuda", "mps", "cpu") or (index and not (kind == "cuda" and index.isdigit())):
        raise argparse.ArgumentTypeError(f"must be cuda, cuda:N, mps or cpu (got {text!r})")
    return text


def _shard(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError(f"must be K/N with 1 <= K <= N, e.g. 2/4 (got {text!r})")
    return int(k), int(n)


def _names(valid: tuple[str, ...], what: str, every: tuple[str, ...] | None = None):
    """Parse "a,b" or "all" into names from ``valid`` (repeats dropped, order kept); "all" is
    ``every`` (default: ``valid``)."""

    def parse(text: str) -> list[str]:
        if text.strip() == "all":
            return list(valid if every is None else every)
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in valid]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what}(s) {', '.join(map(repr, unknown)) or repr(text)}; valid: all, {', '.join(valid)}")
        return list(dict.fromkeys(names))  # drop repeats, keep the order

    return parse


_recipes = _names(RECIPE_NAMES, "recipe", every=RECIPES)


def _add_worker_options(add: Any, shard: bool = True) -> None:
    """The options every training command shares: threads, shards, progress bars, tracebacks."""
    add("--threads", type=_int_at_least(1), default=None, action=_Once,
        help="torch CPU threads; recorded, and a run resumes only with the same count (default: torch's choice)")
    if shard:
        add("--shard", type=_shard, default=(1, 1), action=_Once, metavar="K/N",
            help="train only the K-th of N equal shares of the runs, for N workers (default: all runs)")
    add("--progress", action=argparse.BooleanOptionalAction, default=None,
        help="progress bars (default: on in a terminal unless $CI is set)")
    add("--debug", action="store_true", help=f"show the full traceback of an error (or set {DEBUG_VAR}=1)")


def _add_run_options(add: Any) -> None:
    """The options of a training command that sweeps recipes or budgets: seeds, data, model, optimizer."""
    add("--seeds", type=_int_at_least(1), default=3, action=_Once, help="number of seeds (0, 1, ..., N-1)")
    add("--lr", type=_real(0.0, low_open=True), default=0.1, action=_Once, help="peak learning rate of every recipe")
    _add_training_options(add)
    _add_worker_options(add)


def _add_training_options(add: Any) -> None:
    """What every run of a training command shares: data, model, optimizer, device."""
    add("--model", choices=COLOUR_NETS + GREY_NETS, default=None, action=_Once,
        help=f"network: for CIFAR-10 and the stand-in {', '.join(COLOUR_NETS)}; for Fashion-MNIST "
        f"{', '.join(GREY_NETS)} (default: airbench, or lenet with --data fashion-mnist)")
    add("--out", default="results", action=_Once, help="folder for the result files")
    add("--optimizer", choices=OPTIMIZERS, default="sgd", action=_Once,
        help="sgd (Nesterov momentum), adamw (decoupled weight decay), or their schedule-free versions "
        f"sgd_schedulefree and adamw_schedulefree (recipe constant only; they warm up over "
        f"{100 * SCHEDULE_FREE_WARMUP:g}%% of the run)")
    add("--momentum", type=_real(0.0, 1.0, high_open=True), default=0.9, action=_Once,
        help="SGD's Nesterov momentum, or AdamW's beta1")
    add("--weight-decay", type=_real(0.0), default=None, action=_Once,
        help="weight decay on weights, not biases or BatchNorm (default: "
        + ", ".join(f"{value:g} for {name}" for name, value in DEFAULT_WEIGHT_DECAY.items()) + ")")
    add("--batch-size", type=_int_at_least(1), default=512, action=_Once, help="images per batch")
    add("--val-size", type=_int_at_least(1), default=None, action=_Once,
        help="training images held out for validation, which drives 'plateau' (default: 5000; 32 with --data random)")
    add("--train-size", type=_int_at_least(1), default=None, action=_Once,
        help="use only this many training images, for quick checks (default: all that are left)")
    add("--data", choices=DATA_CHOICES, default=None, action=_Once,
        help="cifar10 (real, downloaded), fashion-mnist (real; from --data-root, Debian's dataset-fashion-mnist "
        "or downloaded), synthetic (an offline CIFAR-10 stand-in in the same format) or random (noise, for tests) "
        "(default: $LRCOURSE_DATA, else cifar10)")
    add("--data-root", default="data", action=_Once, help="where the data sets live")
    add("--device", type=_device, default=None, action=_Once,
        help="cuda, cuda:N, mps or cpu (default: the best available)")
    add("--precision", choices=("bf16", "fp16", "fp32"), default=None, action=_Once,
        help="default: bf16 on compute capability >= 8.0, fp16 below, fp32 on cpu/mps")


def _add_anytime(commands: Any) -> None:
    run = commands.add_parser(
        "anytime", help="one run at the peak rate, a WSD cooldown branched from it for each budget",
        formatter_class=_HelpFormatter,
        description="Per seed: a warmup, then the peak rate for the longest of --budgets epochs, with a snapshot "
        "where each budget's cooldown starts; each snapshot is then continued with its cooldown (a branch, equal "
        "bit for bit to a WSD run of that budget). One JSON file per seed in --out, with every branch; rerunning "
        "the same command resumes.",
        epilog=EPILOG,
    )
    add = run.add_argument
    add("--budgets", type=_int_list, required=True, action=_Once, help="increasing budgets in epochs, e.g. 5,10,15")
    add("--decay-fraction", type=_real(0.0, 1.0, low_open=True), default=0.2, action=_Once,
        help="each branch's cooldown, as a fraction of its budget")
    add("--decay-shape", choices=WSD_DECAYS, default="linear", action=_Once,
        help="the cooldown's shape")
    add("--warmup-fraction", type=_real(0.0, 1.0), default=0.1, action=_Once,
        help="the warmup, as a fraction of the longest budget (the same steps in every branch)")
    _add_run_options(add)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values) or sorted(set(values)) != values:
        raise argparse.ArgumentTypeError(f"must be increasing whole numbers >= 1 joined by commas, e.g. 5,10,15 "
                                         f"(got {text!r})")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lrcourse", formatter_class=_HelpFormatter,
                                     description="Learning-rate schedule sweeps on CIFAR-10 (lrcourse).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{sweep,anytime,d2l,tune,summary}")

    run = commands.add_parser(
        "sweep", help="train every recipe with every seed; rerun to resume", formatter_class=_HelpFormatter,
        description="Train each recipe with each seed at an equal step budget; one JSON file per run in --out.\n"
        "Rerunning the same command skips finished runs and resumes an interrupted one.",
        epilog=EPILOG,
    )
    add = run.add_argument
    add("--recipes", type=_recipes, default="all", action=_Once,
        help=f"comma-separated recipes, or 'all': {', '.join(RECIPES)}; also {', '.join(EXTRA_RECIPES)}")
    # One flag per knob of the recipes (lrcourse.lab.recipes.RECIPE_KNOBS); a knob that one of
    # --recipes does not read is refused before anything trains.
    add("--warmup-fraction", type=_real(0.0, 1.0), default=None, action=_Once,
        help=f"warmup as a fraction of the run (warmup_cosine, warmup_linear, wsd; default {KNOB_DEFAULTS['warmup_fraction']})")
    add("--decay-fraction", type=_real(0.0, 1.0), default=None, action=_Once,
        help=f"wsd's cooldown as a fraction of the run (default {KNOB_DEFAULTS['decay_fraction']})")
    add("--decay-shape", choices=WSD_DECAYS, default=None, action=_Once,
        help="wsd's cooldown shape (default linear)")
    add("--floor", type=_real(0.0, 1.0), default=None, action=_Once,
        help="the rate a decay ends at, as a fraction of the peak (warmup_cosine, warmup_linear, wsd; default 0)")
    add("--final-ratio", type=_real(0.0, 1.0, low_open=True), default=None, action=_Once,
        help=f"exponential's last rate as a fraction of the peak (default {KNOB_DEFAULTS['final_ratio']})")
    add("--epochs", type=_int_at_least(1), default=10, action=_Once, help="epochs per run")
    _add_run_options(add)
    _add_anytime(commands)

    _add_d2l(commands)
    _add_tune(commands)

    show = commands.add_parser("summary", help="print the mean ± std table of a results folder",
                               formatter_class=_HelpFormatter)
    show.add_argument("out", help="folder with the result files of a sweep")
    show.add_argument("--debug", action="store_true", help=f"show the full traceback of an error (or set {DEBUG_VAR}=1)")
    return parser


def _add_d2l(commands: Any) -> None:
    from .d2l_rerun import D2L_RUNS

    d2l = commands.add_parser(
        "d2l", help="re-run d2l's learning-rate scheduling experiment (Fashion-MNIST, LeNet, 30 epochs)",
        formatter_class=_HelpFormatter,
        description="d2l's five runs (LeNet on Fashion-MNIST, batch 256, plain SGD, 30 epochs), as d2l's code ran "
        "them (its schedules one epoch late, its multi-factor scheduler stepped by its plot) or corrected.\n"
        "One JSON file per run in --out; rerunning the same command resumes.",
    )
    add = d2l.add_argument
    add("--timing", choices=("as-run", "corrected"), required=True, action=_Once,
        help="as-run: d2l's code, bugs included; corrected: each schedule on time, at every step")
    add("--runs", type=_names(D2L_RUNS, "run"), default="all", action=_Once, help=f"comma-separated runs, or 'all': {', '.join(D2L_RUNS)}")
    add("--seeds", type=_int_at_least(1), default=1, action=_Once, help="number of seeds (0, 1, ..., N-1)")
    add("--out", required=True, action=_Once, help="folder for the result files")
    add("--data-root", default="data", action=_Once, help="where the data sets live (Fashion-MNIST is also found "
        "in Debian's /usr/share/datasets/fashion-mnist, else downloaded)")
    add("--device", type=_device, default=None, action=_Once, help="cuda, cuda:N, mps or cpu (default: the best available)")
    _add_worker_options(add)


def _add_tune(commands: Any) -> None:
    from .tune import PRUNERS, SAMPLERS
    from .tune_space import DEFAULT_WARMUP_RANGE, DEFAULT_WEIGHT_DECAY_RANGE, FAMILIES

    tune = commands.add_parser(
        "tune", help="search the schedule (family, peak rate, warmup) with Optuna; many workers may share one study",
        formatter_class=_HelpFormatter,
        description="An Optuna study over the schedule family, the peak rate (log scale), the warmup and, with "
        "--search-weight-decay, the weight decay. Each trial reports its validation accuracy after every epoch "
        "(the test split is never seen); when --trials trials have finished, the best is trained again over "
        "--final-seeds seeds and its test accuracy reported once. Run the same command in more terminals, SLURM "
        "tasks or machines (with --storage) to search faster; run it again to resume.",
        epilog="A killed worker's trial is retried and resumes from its checkpoint in --out/.checkpoints: on "
        "several machines, give them an --out they share.",
    )
    add = tune.add_argument
    add("--trials", type=_int_at_least(1), default=30, action=_Once,
        help="finished trials (complete or pruned) the study should have, across all workers")
    add("--sampler", choices=SAMPLERS, default="tpe", action=_Once,
        help="tpe (Optuna's default, seeded) or random (the baseline)")
    add("--pruner", choices=PRUNERS, default="median", action=_Once,
        help="median (stop a trial below the median of earlier trials at the same epoch, from half the run on), "
        "hyperband, or none")
    add("--seed", type=_int_at_least(0), default=0, action=_Once, help="the sampler's seed")
    add("--trial-seed", type=_int_at_least(0), default=100, action=_Once,
        help="the seed every trial trains with (the final runs use seeds 0, 1, ...)")
    add("--final-seeds", type=_int_at_least(0), default=5, action=_Once,
        help="seeds to train the best trial's settings with at the end; 0: none")
    add("--families", type=_names(tuple(FAMILIES), "family"), default="all", action=_Once,
        help=f"schedule families to search, or 'all': {', '.join(FAMILIES)}")
    add("--lr-range", type=_range, default=None, action=_Once, metavar="LOW,HIGH",
        help="the peak rate's range, searched on a log scale (default: 0.003,1 for sgd; 0.0001,0.03 for adamw)")
    add("--warmup-range", type=_range, default=DEFAULT_WARMUP_RANGE, action=_Once, metavar="LOW,HIGH",
        help="the warmup's range, as a fraction of the run")
    add("--search-weight-decay", type=_range, nargs="?", const=DEFAULT_WEIGHT_DECAY_RANGE, default=None,
        action=_Once, metavar="LOW,HIGH", help="search the weight decay too, on a log scale "
        f"(default range when given alone: {DEFAULT_WEIGHT_DECAY_RANGE[0]:g},{DEFAULT_WEIGHT_DECAY_RANGE[1]:g})")
    add("--epochs", type=_int_at_least(1), default=10, action=_Once, help="epochs per trial")
    add("--storage", default=None, action=_Once,
        help="database URL for workers on many machines: postgresql://user@host:port/db (needs psycopg[binary]), "
        "mysql+pymysql://..., sqlite:///file.db (default: a journal file in --out, for one machine)")
    add("--study", default="lrcourse", action=_Once, help="the study's name in the storage")
    add("--heartbeat", type=_int_at_least(1), default=60, action=_Once,
        help="with --storage: seconds between a trial's heartbeats; a trial is retried after two are missed")
    _add_training_options(add)
    tune.set_defaults(batch_size=256)
    _add_worker_options(add, shard=False)


def _range(text: str) -> tuple[float, float]:
    from .tune_space import parse_range

    try:
        return parse_range(text, "the range")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("the range must be", "must be")) from None


def _tune(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .tune import tune
    from .tune_space import DEFAULT_LR_RANGE, SearchSpace

    args.shard, args.seeds = (1, 1), 1
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise CliError("tune searches with Optuna, which is not installed: pip install 'lrcourse[tune]'") from None
    if args.optimizer not in DEFAULT_LR_RANGE:
        _refuse(parser, f"argument --optimizer: tune searches the rate of {' or '.join(DEFAULT_LR_RANGE)} "
                     f"(got {args.optimizer}; a schedule-free optimizer has no schedule to search)")
    try:
        space = SearchSpace(families=tuple(args.families), lr=args.lr_range or DEFAULT_LR_RANGE[args.optimizer],
                            warmup=tuple(args.warmup_range), weight_decay=args.search_weight_decay)
    except ValueError as error:
        message = str(error)
        for name, flag in (("weight_decay", "--search-weight-decay"), ("warmup", "--warmup-range"),
                           ("lr", "--lr-range")):
            message = message.replace(f"{name} must", f"{flag} must").replace(f"{name}=", f"{flag} ")
        _refuse(parser, message)
    if args.search_weight_decay and args.weight_decay is not None:
        _refuse(parser, "argument --weight-decay: not with --search-weight-decay, which searches it")
    kind, model, data, _ = _prepare(args, parser)
    report = tune(args.out, data, n_trials=args.trials, space=space, model=model, optimizer=args.optimizer,
                  epochs=args.epochs, momentum=args.momentum, weight_decay=args.weight_decay, sampler=args.sampler,
                  pruner=args.pruner, seed=args.seed, trial_seed=args.trial_seed, final_seeds=args.final_seeds,
                  storage=args.storage, study_name=args.study, heartbeat=args.heartbeat, device=args.device,
                  precision=args.precision, progress=args.progress)
    print((Path(args.out) / "summary.md").read_text(), end="")
    print(f"Summary written to {Path(args.out) / 'summary.md'}")
    if report.best is None:
        print("No trial completed (every one was pruned or diverged); widen --lr-range or use --pruner none")
    return 0


def _d2l(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .d2l_rerun import D2L_RUNS, d2l_data, run_d2l

    _check_device(args.device)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    check_output_folder(args.out)
    data = d2l_data(args.data_root, device=args.device)
    sweep(args.runs, list(range(args.seeds)), args.out, data, shard=args.shard, progress=args.progress,
          runner=run_d2l, names=D2L_RUNS, timing=args.timing.replace("-", "_"), device=args.device,
          precision="fp32", weight_decay=0.0)
    try:
        print(summary_table(args.out, D2L_RUNS), end="")
    except FileNotFoundError:
        return 0  # every run is still being trained by other workers; the sweep said so
    return 0


# ----------------------------------------------------------------------------------------------
# Checks made before any work
# ----------------------------------------------------------------------------------------------


def _check_device(text: str | None) -> None:
    import torch

    if text is None:
        return
    kind, _, index = text.partition(":")
    if kind == "cuda":
        if not torch.cuda.is_available():
            why = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise CliError(f"--device {text}: CUDA is not available ({why}); use --device cpu, or leave "
                           "--device out to use the best device there is")
        count = torch.cuda.device_count()
        if index and int(index) >= count:
            raise CliError(f"--device {text}: there are {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise CliError(f"--device {text}: Apple's MPS is not available here; use --device cpu")


def _refuse(parser: argparse.ArgumentParser, message: str) -> None:
    """An argument error of a training command, found after parsing: exit 2, like argparse's own,
    under the command's name (``main`` appends it to ``parser.prog``: ``python -m lrcourse anytime``)."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def _check_sizes(parser: argparse.ArgumentParser, kind: str, val_size: int | None, train_size: int | None) -> None:
    if kind == "random":
        return
    n = FASHION_MNIST_TRAIN_IMAGES if kind == "fashion-mnist" else CIFAR10_TRAIN_IMAGES
    name, val = "Fashion-MNIST" if kind == "fashion-mnist" else "CIFAR-10", 5000 if val_size is None else val_size
    if val >= n:
        _refuse(parser, f"argument --val-size: must be < {n}, the training images of {name}, so that some "
                     f"are left to train on (got {val})")
    if train_size is not None and train_size > n - val:
        _refuse(parser, f"argument --train-size: at most {n - val} training images are left after --val-size {val} "
                     f"(got {train_size})")


# ----------------------------------------------------------------------------------------------
# One line for each error of the environment
# ----------------------------------------------------------------------------------------------


def _which_option(path: str | None, args: argparse.Namespace) -> str:
    if path is None:
        return "--out or --data-root"
    resolved = Path(path).resolve()
    for option, folder in (("--out", getattr(args, "out", None)), ("--data-root", getattr(args, "data_root", None))):
        if folder and resolved.is_relative_to(Path(folder).resolve()):
            return option
    return "--out or --data-root"


def _describe(error: BaseException, args: argparse.Namespace) -> str:
    from .data import DataFileError, DataUnavailableError

    if isinstance(error, DataUnavailableError):
        return (f"could not get CIFAR-10 from {error.url} ({error.reason}). To work offline, use --data synthetic "
                f"(a stand-in in the same format; results say so), or put cifar-10-python.tar.gz into "
                f"{error.root}/ by hand")
    if isinstance(error, DataFileError):
        return f"{error.path} is damaged ({error.reason}); delete {error.folder} and run again to write or download it anew"
    if isinstance(error, NotADirectoryError):
        return f"{error.filename}: {error.strerror}; choose another {_which_option(error.filename, args)}"
    if isinstance(error, OSError):
        where = f" writing {error.filename}" if error.filename else ""
        option = _which_option(error.filename, args)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            what = "no space left on the device" if error.errno == errno.ENOSPC else "disk quota exceeded"
            return (f"{what}{where}; free some space (or choose {option} on another disk), then run the same "
                    "command again to resume")
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            target = f" {error.filename}" if error.filename else ""
            return f"cannot write{target} ({error.strerror}); choose a folder you can write to with {option}"
        return f"{error.strerror or error}{': ' + str(error.filename) if error.filename else ''}"
    return str(error)


def _expected() -> tuple[type[BaseException], ...]:
    from .data import DataFileError, DataUnavailableError
    from .data.fashion_mnist import FashionMNISTError

    from .tune_study import TuneError

    return CliError, ConfigMismatchError, DataFileError, DataUnavailableError, FashionMNISTError, TuneError, OSError


# ----------------------------------------------------------------------------------------------
# The commands
# ----------------------------------------------------------------------------------------------


def _summary(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        print(summary_table(args.out), end="")
    except FileNotFoundError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


def _check_model(parser: argparse.ArgumentParser, kind: str, model: str) -> None:
    nets = GREY_NETS if kind == "fashion-mnist" else COLOUR_NETS
    if model not in nets:
        c, h, w = MODEL_INPUTS[model]
        images = "grey 1x28x28" if kind == "fashion-mnist" else "colour 3x32x32"
        _refuse(parser, f"argument --model: {model} takes {'grey' if c == 1 else 'colour'} {c}x{h}x{w} images and "
                     f"--data {kind} has {images} ones; use one of {', '.join(nets)}")


def _hint(args: argparse.Namespace, kind: str, val_size: int) -> Any:
    n = FASHION_MNIST_TRAIN_IMAGES if kind == "fashion-mnist" else CIFAR10_TRAIN_IMAGES
    images = args.train_size or (64 if kind == "random" else n - val_size)
    small = {"seeds": 1, "epochs": min(args.epochs, 3), "train_size": min(images, 5000)}

    def hint(seconds: float) -> str:
        scale = small["seeds"] / args.seeds * small["epochs"] / args.epochs * small["train_size"] / images
        return (f"--seeds {small['seeds']} --epochs {small['epochs']} --train-size {small['train_size']} would take "
                f"{format_duration(seconds * scale)}; or run on a GPU")

    return hint


def _prepare(args: argparse.Namespace, parser: argparse.ArgumentParser,
             check: Callable[[], None] = lambda: None) -> tuple[str, str, Any, int]:
    """Check what can be checked before any work (``check`` adds the command's own checks), set
    the threads, and build the data provider: ``(kind, model, data, val_size)``."""
    kind = args.data or os.environ.get("LRCOURSE_DATA", "").strip() or "cifar10"
    if kind not in DATA_CHOICES:
        _refuse(parser, f"LRCOURSE_DATA must be one of {', '.join(DATA_CHOICES)} (got LRCOURSE_DATA={kind!r})")
    model = args.model or DEFAULT_MODEL[kind]
    _check_model(parser, kind, model)
    _check_sizes(parser, kind, args.val_size, args.train_size)
    _check_device(args.device)
    check()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    check_output_folder(args.out)
    if kind == "random":
        val_size = 32 if args.val_size is None else args.val_size
        data = random_data(n_train=args.train_size or 64, n_val=val_size, batch_size=args.batch_size)
    elif kind == "fashion-mnist":
        val_size = 5000 if args.val_size is None else args.val_size
        data = fashion_data(args.data_root, batch_size=args.batch_size, val_size=val_size, device=args.device,
                            train_size=args.train_size)
    else:
        val_size = 5000 if args.val_size is None else args.val_size
        if kind == "synthetic" and not (Path(args.data_root) / "synthetic" / "cifar-10-batches-py").is_dir():
            print(f"Writing the synthetic CIFAR-10 stand-in (60000 images) to {Path(args.data_root) / 'synthetic'}; "
                  "once, 10-45 s", flush=True)
        try:
            data = cifar_data(args.data_root, source=kind, batch_size=args.batch_size, val_size=val_size,
                              device=args.device, train_size=args.train_size,
                              url=os.environ.get(URL_VAR, "").strip() or None, progress=args.progress)
        except ValueError as error:  # sizes the data on disk does not have
            _refuse(parser, str(error).replace("val_size", "--val-size").replace("train_size", "--train-size"))
    return kind, model, data, val_size


def _sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    options: dict[str, Any] | None = {}

    def check_knobs() -> None:
        nonlocal options
        given = {knob: getattr(args, knob) for knob in KNOB_DEFAULTS if getattr(args, knob) is not None}
        try:
            check_optimizer_recipes(args.optimizer, args.recipes)
        except ValueError as error:
            _refuse(parser, f"--optimizer {args.optimizer}: {error}")
        try:
            options = check_recipe_options(args.recipes, given)
        except ValueError as error:  # name the flags, not the knobs: --decay-fraction, not decay_fraction
            message = str(error)
            for knob in KNOB_DEFAULTS:
                message = message.replace(knob, "--" + knob.replace("_", "-"))
            _refuse(parser, message)

    kind, model, data, val_size = _prepare(args, parser, check_knobs)
    sweep(args.recipes, list(range(args.seeds)), args.out, data, shard=args.shard, progress=args.progress,
          recipe_options=options, model=model, optimizer=args.optimizer, epochs=args.epochs, lr=args.lr, momentum=args.momentum,
          weight_decay=args.weight_decay, device=args.device, precision=args.precision,
          hint=_hint(args, kind, val_size))
    try:
        print(summary_table(args.out), end="")
    except FileNotFoundError:
        return 0  # every run is still being trained by other workers; the sweep said so
    print(f"Summary written to {Path(args.out) / 'summary.md'}")
    return 0


def _anytime(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .anytime import ANYTIME_RUNS, run_anytime

    kind, model, data, val_size = _prepare(args, parser)
    sweep(["anytime"], list(range(args.seeds)), args.out, data, shard=args.shard, progress=args.progress,
          runner=run_anytime, names=ANYTIME_RUNS, budgets=args.budgets, epochs=args.budgets[-1],
          decay_fraction=args.decay_fraction, decay_shape=args.decay_shape, warmup_fraction=args.warmup_fraction,
          model=model, optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
          weight_decay=args.weight_decay, device=args.device, precision=args.precision)
    results = [r for r in load_results(args.out) if r.get("branches")] if any(Path(args.out).glob("*.json")) else []
    if results:
        print(f"Final test accuracy (%) of each budget's branch, {len(results)} seed(s):")
        for budget in args.budgets:
            values = [100 * r["branches"][str(budget)]["final"]["test_acc"] for r in results]
            spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
            print(f"  {budget} epochs: {statistics.fmean(values):.2f}{spread}")
    return 0


def _interrupted(stop: BaseException, args: argparse.Namespace) -> str:
    if args.command == "tune" and not isinstance(stop, SweepInterrupted):
        return ("Interrupted; the trial in progress is queued again and resumes from its last epoch checkpoint "
                "when the same command runs again.")
    if isinstance(stop, SweepInterrupted) and stop.run:
        kept = (f"it resumes from its last epoch checkpoint, {stop.checkpoint}" if stop.checkpoint
                else "it had not finished an epoch, so it starts over")
        return f"Interrupted while training {stop.run} ({kept}); run the same command again to resume."
    return "Interrupted before any run started; run the same command again to resume."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (argument errors exit with status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    parser.prog = f"{parser.prog} {args.command}"  # the errors found after parsing name their command
    debug = args.debug or os.environ.get(DEBUG_VAR, "").strip() not in ("", "0")
    terminated: list[int] = []

    def on_sigterm(signum: int, frame: Any) -> None:  # a job scheduler's stop: end like Ctrl-C
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm) if _main_thread() else None
    try:
        command = {"summary": _summary, "d2l": _d2l, "sweep": _sweep, "anytime": _anytime, "tune": _tune}[args.command]
        return command(args, parser)
    except KeyboardInterrupt as stop:
        if debug:
            raise
        print(_interrupted(stop, args), file=sys.stderr, flush=True)
        return 128 + (terminated[0] if terminated else signal.SIGINT)
    except _expected() as error:
        if debug:
            raise
        print(f"error: {_describe(error, args)}", file=sys.stderr, flush=True)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
