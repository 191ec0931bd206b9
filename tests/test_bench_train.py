"""Smoke test of bench/bench_train.py: its core function times a few steps of the tiny net on a CPU."""

import importlib.util
import math
import sys
from pathlib import Path

import torch

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_train.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_train", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def test_bench_model_tiny_cpu_steps():
    bench = load_bench()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        r = bench.bench_model("tiny", device="cpu", batch_size=16, n_images=100, warmup=1, timed=2, log=lambda m: None)
    finally:
        torch.set_num_threads(threads)
    assert r.model == "tiny" and r.device == "cpu" and r.device_name.startswith("cpu")
    assert r.precision == "fp32"  # pick_precision on a CPU
    assert r.params > 0
    assert r.batch_size == 16 and r.n_images == 100
    assert r.steps_per_epoch == math.ceil(100 / 16)
    assert r.mode == "steps" and r.extrapolated
    assert not r.compiled and r.compile_status == "off" and r.compile_s is None
    assert r.warmup == 1 and r.timed == 2
    assert 0 < r.s_per_step_min <= r.s_per_step <= r.s_per_step_max
    assert math.isclose(r.s_per_epoch, r.s_per_step * r.steps_per_epoch)
    assert math.isclose(r.images_per_s, 100 / r.s_per_epoch)
    assert "extrapolated from 2 steps" in r.label
    table = bench.markdown([r], "test hardware")
    assert "| tiny |" in table and "test hardware" in table
