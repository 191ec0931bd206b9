"""Training time per epoch (50 000 images, batch 512) for the package's nets, eager and compiled.

    python bench/bench_train.py                                  # airbench, resnet9, resnet18, timed steps
    python bench/bench_train.py --full-epochs --compile both     # on a GPU: real epochs, eager and compiled
    python bench/bench_train.py --models airbench --compile on --compile-timeout 300
    python bench/bench_train.py --markdown                       # also print a markdown table to paste

One training step is what ``lrcourse.lab.train`` does per batch, without its bookkeeping:
forward under autocast (precision from ``pick_precision``: bf16 on CUDA with compute capability
>= 8, fp16 + ``GradScaler`` below, fp32 on CPU/MPS), cross-entropy, backward, SGD step
(Nesterov momentum 0.9, weight decay 5e-4) and a ``WarmupCosineLR`` step. Model and batches are
in channels_last memory format. The batches come from a ``TensorLoader`` (reflect-pad 4 + random
crop + flip + normalize on the device) over **random ``uint8`` images** of CIFAR-10's shape
(50 000 x 3 x 32 x 32, labels 0..9) already on the device: the time of a step does not depend on
the pixel values, and this skips writing the synthetic stand-in.

Two modes:

* steps (default; for CPUs, where an epoch takes many minutes): ``--warmup-steps`` untimed
  steps, then ``--steps`` timed steps, each timed alone; the median seconds per step times the
  steps in an epoch (``ceil(50 000 / batch)`` = 98 at batch 512) is the epoch time, printed as
  "extrapolated from N steps" (the last, partial batch of a real epoch is counted as a full one);
* ``--full-epochs`` (for GPUs): ``--warmup-epochs`` untimed whole epochs, then ``--epochs`` timed
  whole epochs; the median epoch is reported.

On CUDA each timed interval is measured with CUDA events (and the device synchronized before the
clock is read); elsewhere with ``time.perf_counter``, which is exact there since CPU ops run
synchronously. ``--compile on|both`` wraps the model in ``torch.compile``; compilation happens at
the first call, so the first compiled step is timed on its own ("compile s", which includes that
step) and excluded from the figures. A compile that raises, or runs past ``--compile-timeout``
seconds, is recorded as failed (or timed out) and the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hardware import cpu_model, loadavg, synchronize  # noqa: E402
from lrcourse import WarmupCosineLR  # noqa: E402
from lrcourse.lab.data import TensorLoader  # noqa: E402
from lrcourse.lab.models import MODEL_INPUTS, MODEL_NAMES, build_model, count_parameters  # noqa: E402
from lrcourse.steps import scaler_step  # noqa: E402
from lrcourse import pick_device, pick_precision  # noqa: E402

N_IMAGES = 50_000


@dataclasses.dataclass
class Record:
    """One (model, compile) measurement. Times in seconds; ``None`` where nothing was measured."""

    model: str
    params: int
    device: str
    device_name: str
    precision: str
    batch_size: int
    n_images: int
    steps_per_epoch: int
    mode: str  # "steps" or "full-epochs"
    compiled: bool
    compile_status: str  # "off", "ok", "failed: ...", "timeout after N s"
    compile_s: float | None  # first compiled step, compilation included
    warmup: int  # untimed steps (mode "steps") or epochs (mode "full-epochs")
    timed: int  # timed steps or epochs
    s_per_step: float | None  # median
    s_per_step_min: float | None
    s_per_step_max: float | None
    s_per_epoch: float | None  # median epoch, or median step x steps_per_epoch
    extrapolated: bool  # s_per_epoch from steps, not whole epochs
    images_per_s: float | None
    data: str = "random uint8 tensors (N x 3 x 32 x 32) on the device, TensorLoader pad-crop-flip-normalize"
    loadavg_before: tuple[float, float, float] | None = None
    loadavg_after: tuple[float, float, float] | None = None

    @property
    def label(self) -> str:
        if self.s_per_epoch is None:
            return "-"
        value = f"{self.s_per_epoch:.1f}" if self.s_per_epoch >= 10 else f"{self.s_per_epoch:.3f}"
        if self.extrapolated:
            return f"{value} (extrapolated from {self.timed} steps)"
        return f"{value} (median of {self.timed} epochs)"


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return f"{torch.cuda.get_device_name(device)} (compute capability {major}.{minor})"
    if device.type == "cpu":
        return f"cpu ({cpu_model()})"
    return device.type


def random_cifar(n: int, device: torch.device, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random uint8 images 3 x 32 x 32 and int64 labels 0..9, made on the CPU, moved to ``device``."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), dtype=torch.int64, generator=g)
    return images.to(device), labels.to(device)


class _Timer:
    """Seconds of one interval: CUDA events on CUDA (read after a synchronize), else perf_counter."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def __enter__(self) -> _Timer:
        if self.device.type == "cuda":
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)
            self._start.record()
        else:
            synchronize(self.device)
            self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            self._end.record()
            torch.cuda.synchronize(self.device)
            self.seconds = self._start.elapsed_time(self._end) / 1000.0
        else:
            synchronize(self.device)
            self.seconds = time.perf_counter() - self._t0


_DEADLINE_FIRED: list[bool] = []  # non-empty once the last _deadline's alarm went off


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError in the main thread after ``seconds`` (Unix; no limit elsewhere or if None)."""
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        fired.append(True)
        raise TimeoutError(f"timeout after {seconds:g} s")

    fired = _DEADLINE_FIRED
    fired.clear()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def bench_model(
    name: str,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 512,
    n_images: int = N_IMAGES,
    compile: bool = False,
    compile_timeout: float | None = 300.0,
    full_epochs: bool = False,
    warmup: int = 2,
    timed: int = 3,
    precision: str | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> Record:
    """Time training steps (or whole epochs, ``full_epochs=True``) of ``build_model(name)``.

    ``warmup`` untimed and ``timed`` timed steps (or epochs). Returns a :class:`Record`; a failed
    or timed-out compile gives a record with ``compile_status`` saying so and no times.
    """
    device = torch.device(device) if device is not None else pick_device()
    precision = precision or pick_precision(device)
    before = loadavg()
    torch.manual_seed(seed)
    model = build_model(name).to(device, memory_format=torch.channels_last)
    model.train()
    params = count_parameters(model)
    loader = TensorLoader(random_cifar(n_images, device, seed), batch_size, device=device, seed=seed,
                          channels_last=True)
    steps_per_epoch = len(loader)
    total_steps = (warmup + timed) * steps_per_epoch if full_epochs else warmup + timed + 1
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = WarmupCosineLR(optimizer, max(1, total_steps // 10), total_steps + steps_per_epoch)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    net: Callable[[torch.Tensor], torch.Tensor] = model

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(net(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if scaler_step(scaler, optimizer):
            scheduler.step()

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = 0
        while True:
            yield from loader.iter_epoch(epoch)
            epoch += 1

    def record(**kw: Any) -> Record:
        fields: dict[str, Any] = dict(
            model=name, params=params, device=device.type, device_name=device_description(device),
            precision=precision, batch_size=batch_size, n_images=n_images, steps_per_epoch=steps_per_epoch,
            mode="full-epochs" if full_epochs else "steps", compiled=compile, compile_status="off",
            compile_s=None, warmup=warmup, timed=timed, s_per_step=None, s_per_step_min=None,
            s_per_step_max=None, s_per_epoch=None, extrapolated=not full_epochs, images_per_s=None,
            loadavg_before=before, loadavg_after=loadavg(),
        )
        fields.update(kw)
        return Record(**fields)

    compile_status, compile_s = "off", None
    it = batches()
    if compile:
        net = torch.compile(model)
        x, y = next(it)
        try:
            with _deadline(compile_timeout), _Timer(device) as t:
                step(x, y)  # compiles forward and backward, then runs the step
        except Exception as e:  # noqa: BLE001 - any compiler failure is a result to record
            if _DEADLINE_FIRED:  # the compiler may wrap our TimeoutError in its own exception
                msg = f"timeout after {compile_timeout:g} s"
                log(f"{name}: torch.compile {msg}")
                return record(compile_status=msg)
            msg = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            log(f"{name}: torch.compile {msg}")
            return record(compile_status=msg)
        compile_status, compile_s = "ok", t.seconds
        log(f"{name}: compile + first step {compile_s:.1f} s")

    if full_epochs:
        epoch_s: list[float] = []
        for e in range(warmup + timed):
            with _Timer(device) as t:
                for x, y in loader.iter_epoch(1000 + e):  # the compile step above used epoch 0
                    step(x, y)
            log(f"{name}: epoch {e} {'(warm-up) ' if e < warmup else ''}{t.seconds:.3f} s")
            if e >= warmup:
                epoch_s.append(t.seconds)
        per_epoch = statistics.median(epoch_s)
        per_step = [s / steps_per_epoch for s in epoch_s]
        s_epoch = per_epoch
    else:
        per_step = []
        for i in range(warmup + timed):
            x, y = next(it)
            with _Timer(device) as t:
                step(x, y)
            log(f"{name}: step {i} {'(warm-up) ' if i < warmup else ''}{t.seconds:.3f} s")
            if i >= warmup:
                per_step.append(t.seconds)
        s_epoch = statistics.median(per_step) * steps_per_epoch
    med = statistics.median(per_step)
    return record(
        compile_status=compile_status, compile_s=compile_s, s_per_step=med, s_per_step_min=min(per_step),
        s_per_step_max=max(per_step), s_per_epoch=s_epoch, images_per_s=n_images / s_epoch,
    )


def markdown(records: list[Record], hardware: str) -> str:
    lines = [
        f"Hardware: {hardware}.",
        "",
        "| model | params | device | precision | compile | compile s (1st step incl.) | s/step median (min - max) "
        "| s/epoch | images/s | load avg before -> after |",
        "|---|---:|---|---|---|---:|---:|---|---:|---|",
    ]
    for r in records:
        step = (f"{r.s_per_step:.3f} ({r.s_per_step_min:.3f} - {r.s_per_step_max:.3f})"
                if r.s_per_step is not None else "-")
        lines.append(
            f"| {r.model} | {r.params / 1e6:.2f} M | {r.device_name} | {r.precision} | {r.compile_status} "
            f"| {f'{r.compile_s:.1f}' if r.compile_s is not None else '-'} | {step} | {r.label} "
            f"| {f'{r.images_per_s:,.0f}' if r.images_per_s else '-'} "
            f"| {r.loadavg_before} -> {r.loadavg_after} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # The colour nets: the images below are 3 x 32 x 32.
    cifar_nets = [name for name in MODEL_NAMES if MODEL_INPUTS[name][0] == 3]
    parser.add_argument("--models", nargs="+", choices=cifar_nets, default=["airbench", "resnet9", "resnet18"],
                        help="space-separated model names")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--n-images", type=int, default=N_IMAGES, help="images per epoch")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (step mode)")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed steps first (step mode)")
    parser.add_argument("--full-epochs", action="store_true", help="time whole epochs (use on a GPU)")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs with --full-epochs")
    parser.add_argument("--warmup-epochs", type=int, default=1, help="untimed epochs first with --full-epochs")
    parser.add_argument("--compile", choices=["off", "on", "both"], default="off",
                        help="torch.compile the model: off, on (compiled only) or both (eager, then compiled)")
    parser.add_argument("--compile-models", nargs="+", default=None,
                        help="models to compile (default: all of --models)")
    parser.add_argument("--compile-timeout", type=float, default=300.0,
                        help="seconds before a compile counts as failed")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: pick_device())")
    parser.add_argument("--precision", choices=["bf16", "fp16", "fp32"], default=None,
                        help="override pick_precision (default: bf16 on CUDA cc >= 8, fp16 below, fp32 else)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table to paste")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else pick_device()
    precision = args.precision or pick_precision(device)
    hardware = (
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores (torch threads: {torch.get_num_threads()}); "
        f"device: {device_description(device)}; precision: {precision}; torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at start: {loadavg()}; "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )
    print(hardware, flush=True)
    if device.type == "cpu" and args.full_epochs:
        print("warning: --full-epochs on a CPU takes many minutes per epoch", flush=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    plan = []
    for name in args.models:
        if args.compile in ("off", "both"):
            plan.append((name, False))
        if args.compile in ("on", "both") and (args.compile_models is None or name in args.compile_models):
            plan.append((name, True))
    records = []
    for name, compiled in plan:
        warmup, timed = (args.warmup_epochs, args.epochs) if args.full_epochs else (args.warmup_steps, args.steps)
        r = bench_model(name, device=device, batch_size=args.batch_size, n_images=args.n_images, compile=compiled,
                        compile_timeout=args.compile_timeout, full_epochs=args.full_epochs, warmup=warmup,
                        timed=timed, precision=precision, log=log)
        records.append(r)
        step = f"{r.s_per_step:.3f} s/step (median), " if r.s_per_step is not None else ""
        print(f"RESULT {name} compile={r.compile_status} {step}s/epoch {r.label}", flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    print(f"load average at end: {loadavg()}", flush=True)
    if args.markdown:
        print()
        print(markdown(records, hardware))


if __name__ == "__main__":
    main()
