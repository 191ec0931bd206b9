"""The exercise checkers: each accepts its reference solution and another correct form, rejects
realistic wrong answers with the hint meant for each, and says "not attempted yet" for None."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import math
import os
import re
import shutil
import statistics
import tempfile
import textwrap
from bisect import bisect_right
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as sched

import lrcourse
import lrcourse.classroom.exercises as exercises
from lrcourse import WarmupLR, multiplier_groups, set_lr, steps_per_epoch
from lrcourse.classroom.exercises import EXERCISES, NOT_ATTEMPTED

BOOK = Path(__file__).resolve().parents[1] / "book"


# ---- answers that need a name (pickling, or reuse) ------------------------------------------

def warmup_exp(step, warmup_steps, gamma):  # the chapter 4 solution's module-level function
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return math.exp(-gamma * (step - warmup_steps + 1))


def warmup_exp_8(step):  # another correct form: no partial, e ** x instead of exp
    return (step + 1) / 8 if step < 8 else math.e ** (-0.05 * (step - 7))


def ramp_from_zero(step):
    return step / 8 if step < 8 else math.exp(-0.05 * (step - 7))


def decay_one_late(step):
    return (step + 1) / 8 if step < 8 else math.exp(-0.05 * (step - 8))


def gamma_power(step):
    return (step + 1) / 8 if step < 8 else 0.05 ** (step - 7)


def my_set_lr(optimizer, lr):  # the chapter 2 solution
    n = len(optimizer.param_groups)
    values = list(lr) if isinstance(lr, (list, tuple)) else [lr] * n
    if len(values) != n:
        raise ValueError(f"expected 1 or {n} rates, got {len(values)}")
    for value in values:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        if not ok or value < 0:
            raise ValueError(f"lr must be a finite number >= 0, got {value!r}")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = value


def _values(optimizer, lr):
    return list(lr) if isinstance(lr, list) else [lr] * len(optimizer.param_groups)


def set_lr_unchecked(optimizer, lr):
    for group, value in zip(optimizer.param_groups, _values(optimizer, lr)):
        group["lr"] = value


def set_lr_assigns_all(optimizer, lr):  # the source article's version
    for group in optimizer.param_groups:
        group["lr"] = lr


def set_lr_negative_only(optimizer, lr):
    values = _values(optimizer, lr)
    if len(values) != len(optimizer.param_groups) or any(v < 0 for v in values):
        raise ValueError(f"bad lr {lr!r}")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = value


def set_lr_while_writing(optimizer, lr):
    values = _values(optimizer, lr)
    if len(values) != len(optimizer.param_groups):
        raise ValueError(f"expected {len(optimizer.param_groups)} values, got {len(values)}")
    for group, value in zip(optimizer.param_groups, values):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"bad lr {value!r}")
        group["lr"] = value


def set_lr_rejects_zero(optimizer, lr):
    values = _values(optimizer, lr)
    if len(values) != len(optimizer.param_groups) or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"bad lr {lr!r}")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = value


def set_lr_silent_message(optimizer, lr):
    values = _values(optimizer, lr)
    if len(values) != len(optimizer.param_groups) or not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError("invalid learning rate")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = value


def set_lr_type_error(optimizer, lr):
    values = _values(optimizer, lr)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise TypeError(f"bad lr {lr!r}")
    set_lr_unchecked(optimizer, lr)


def set_lr_zip_truncates(optimizer, lr):
    values = _values(optimizer, lr)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"bad lr {lr!r}")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = value


DEPTH = {"fc": 0, "layer4": 0, "layer3": 1, "layer2": 2, "layer1": 3, "conv1": 4, "bn1": 4}


def layerwise(depth, base=2.6):
    return lambda model: multiplier_groups(model, 0.1, {name: base**-d for name, d in depth.items()})


def layerwise_by_hand(model):  # another correct form: an optimizer over hand-built groups
    groups = [
        {"params": list(module.parameters()), "lr": 0.1 / 2.6 ** DEPTH[name]}
        for name, module in model.named_children()
        if list(module.parameters())
    ]
    return torch.optim.SGD(groups, lr=0.1)


def he_lambda(optimizer):  # MultiStepLR's schedule written as a LambdaLR
    return sched.LambdaLR(optimizer, lambda t: 0.1 ** bisect_right([32_000, 48_000], t))


def warmup_then(kind, decay="exp", milestone=5):
    def make(opt):
        warm = sched.LinearLR(opt, start_factor=0.2, total_iters=5)
        after = sched.ExponentialLR(opt, gamma=0.9) if decay == "exp" else sched.LambdaLR(opt, lambda t: 0.9**t)
        if kind == "sequential":
            return sched.SequentialLR(opt, [warm, after], milestones=[milestone])
        return sched.ChainedScheduler([warm, after])

    return make


def _warm(t):
    return 0.2 + 0.8 * min(t, 5) / 5


def sequential_as_lambda(opt):
    return sched.LambdaLR(opt, lambda t: _warm(t) if t < 5 else 0.9 ** (t - 5))


def chained_as_lambda(opt):
    return sched.LambdaLR(opt, lambda t: _warm(t) * 0.9**t)


def fix_loop(total_steps=None, step_every_batch=False, record_every_batch=False):
    """The chapter 6 loop: fixed by default, with one of its bugs put back on request."""
    batches, epochs, accum = 20, 3, 2
    per_epoch = steps_per_epoch(batches, 1, grad_accum_steps=accum)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = sched.OneCycleLR(optimizer, max_lr=1.0, total_steps=total_steps or epochs * per_epoch)
    used = []
    for _ in range(epochs):
        for i in range(batches):
            if record_every_batch:
                used.append(optimizer.param_groups[0]["lr"])
            if (i + 1) % accum == 0 or i + 1 == batches:
                if not record_every_batch:
                    used.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                if not step_every_batch:
                    scheduler.step()
            if step_every_batch:
                if i == 0 and not optimizer.state:
                    optimizer.step()  # torch checks the order on the first call only
                scheduler.step()
    return used


def warm_up(optimizer, steps):  # the chapter 6 solution, as a function
    targets = [group["lr"] for group in optimizer.param_groups]
    for step in range(steps):
        for group, target in zip(optimizer.param_groups, targets):
            group["lr"] = target * (step + 1) / 5


def warm_up_initial_lr(optimizer, steps):  # another correct form: keep the targets in the groups
    for step in range(steps):
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * (step + 1) / 5


def warm_up_one_rate(optimizer, steps):  # the hand-written warmup of section 9
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = 0.1 * (step + 1) / 5


def warm_up_compounding(optimizer, steps):
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * (step + 1) / 5


def warm_up_from_zero(optimizer, steps):
    targets = [group["lr"] for group in optimizer.param_groups]
    for step in range(steps):
        for group, target in zip(optimizer.param_groups, targets):
            group["lr"] = target * step / 5


def sync_folder(folder):  # the chapter 8 solution's
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_atomic(state, path):  # the chapter 8 solution
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    sync_folder(path.parent)


def save_atomic_named(state, path):  # another correct form: a file object's fsync, pathlib's replace
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as f:
        tmp = f.name
        try:
            torch.save(state, f)
            f.flush()
            os.fsync(f)
        except Exception:
            f.close()
            os.unlink(tmp)
            raise
    Path(tmp).replace(path)
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            getattr(os, "fdatasync", os.fsync)(folder)  # macOS has no fdatasync
        finally:
            os.close(folder)


def save_atomic_variant(*, fsync=True, same_folder=True, cleanup=True, reraise=True, replace=True,
                        folder_fsync="after"):
    def save(state, target):
        target = Path(target)
        if folder_fsync == "before":
            sync_folder(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent if same_folder else None)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(state, f)
                f.flush()
                if fsync:
                    os.fsync(f.fileno())
            (os.replace if replace else shutil.copyfile)(tmp, target)
        except Exception:
            if cleanup:
                os.unlink(tmp)
            if reraise:
                raise
        if folder_fsync == "after":
            sync_folder(target.parent)

    return save


def save_in_place(state, path):
    with open(path, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())



# ---- other correct forms and the wrong answers of the adversarial review ------------------------

def set_lr_numpy(optimizer, lr):  # another correct form: NumPy does the checks
    values = np.broadcast_to(np.asarray(lr, dtype=float), (len(optimizer.param_groups),)) \
        if np.ndim(lr) == 0 else np.asarray(lr, dtype=float)
    if values.shape != (len(optimizer.param_groups),):
        raise ValueError(f"expected {len(optimizer.param_groups)} rates, got {lr!r}")
    for value in values:
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"lr must be finite and >= 0, got {float(value)!r}")
    for group, value in zip(optimizer.param_groups, values):
        group["lr"] = float(value)


def layerwise_generators(model):  # another correct form: a tuple of groups, generators, NumPy rates
    return tuple({"params": module.parameters(), "lr": np.float64(0.1) / np.float64(2.6) ** DEPTH[name]}
                 for name, module in model.named_children() if list(module.parameters()))


def warm_up_numpy(optimizer, steps):  # another correct form: the targets in a NumPy array
    targets = np.array([group["lr"] for group in optimizer.param_groups])
    for step in range(steps):
        for group, rate in zip(optimizer.param_groups, targets * (step + 1) / 5):
            group["lr"] = rate  # a np.float64


def fix_loop_recorded_after_step():  # the rate read after scheduler.step(): the next step's rate
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = sched.OneCycleLR(optimizer, max_lr=1.0, total_steps=30)
    used = []
    for _ in range(30):
        optimizer.step()
        scheduler.step()
        used.append(optimizer.param_groups[0]["lr"])
    return used


def _from_os(source):
    """A function written in a notebook cell that does `from os import fsync, replace`."""
    namespace = {}
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - the tests' own code
    return namespace["save_atomic"]


SAVE_FROM_OS = """
    import os
    import tempfile
    from os import fdopen, fsync, replace, unlink
    from pathlib import Path

    import torch

    def save_atomic(state, path):
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        try:
            with fdopen(fd, "wb") as f:
                torch.save(state, f)
                f.flush()
                fsync(f.fileno())
            replace(tmp, path)
        except BaseException:
            unlink(tmp)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            fsync(folder)
        finally:
            os.close(folder)
"""


# chapter 7

def fixed_factor(step, base_lr, start_lr=1e-7, end_lr=10, num_it=100):  # the chapter 7 solution
    return start_lr / base_lr * (end_lr / start_lr) ** (step / (num_it - 1))


def fixed_scheduler(opt):
    base = opt.param_groups[0]["lr"]
    return sched.LambdaLR(opt, lambda step: fixed_factor(step, base))


def fixed_by_logs(opt):  # another correct form: the exponent in log space, the rate from defaults
    base = opt.defaults["lr"]
    return sched.LambdaLR(opt, lambda i: math.exp(math.log(1e-7 / base) + i / 99 * math.log(1e8)))


def seed_scheduler(opt, divide_by=None, last=99):
    base = opt.param_groups[0]["lr"] if divide_by is None else divide_by
    return sched.LambdaLR(opt, lambda step: 1e-7 / base * 1e8 ** (step / last))


def first_stop(values, factor=4.0):  # the chapter 7 solution
    best = math.inf
    for i, value in enumerate(values):
        best = min(best, value)
        if not math.isfinite(value) or value > factor * best:
            return i
    return None


def first_stop_numpy(values):  # another correct form: NumPy, returning NumPy integers
    v = np.asarray(values, dtype=float)
    best = np.minimum.accumulate(np.where(np.isnan(v), np.inf, v))
    hits = np.flatnonzero(~np.isfinite(v) | (v > 4 * best))
    return hits[0] if hits.size else None


def first_stop_no_nan(values):
    best = math.inf
    for i, value in enumerate(values):
        best = min(best, value)
        if value > 4 * best:
            return i
    return None


def first_stop_vs_first(values):
    for i, value in enumerate(values):
        if not math.isfinite(value) or value > 4 * values[0]:
            return i
    return None


def first_stop_count(values):
    i = first_stop(values)
    return None if i is None else i + 1


def first_stop_minus_one(values):
    i = first_stop(values)
    return -1 if i is None else i


def first_stop_at_least(values):
    best = math.inf
    for i, value in enumerate(values):
        best = min(best, value)
        if not math.isfinite(value) or value >= 4 * best:
            return i
    return None


def first_stop_seed_literal(values):  # the seed's rule as the exercise states it: loss > 4 * min(losses)
    losses = []
    for i, loss in enumerate(values):
        losses.append(loss)
        if loss > 4 * min(losses):
            return i
    return None


def first_stop_accumulate(values):  # the seed's rule with NumPy: a NaN enters the running minimum
    v = np.asarray(values, dtype=float)
    hits = np.flatnonzero(v > 4 * np.minimum.accumulate(v))
    return int(hits[0]) if hits.size else None


def first_stop_before(values):  # the step before the one that fires
    i = first_stop(values)
    return None if i is None else i - 1



def range_result(start, end, n, mode="exp", stop=None):
    lrs = lrcourse.range_test_lrs(start, end, n, mode)[: stop or n]
    losses = [2.3 - 0.001 * i for i in range(len(lrs))]
    return lrcourse.RangeTestResult(lrs, losses, list(losses), num_steps=n,
                                    stopped_at=None if stop is None else stop - 1)


def to_json(result):  # the chapter 7 solution
    return json.dumps(result.to_dict(), allow_nan=False)


def from_json(text):
    return lrcourse.RangeTestResult.from_dict(json.loads(text))


def to_json_file_form(result):  # another correct form: bytes, indented
    return json.dumps(result.to_dict(), indent=2).encode()


def naive_dump(result, **options):
    return json.dumps(dataclasses.asdict(result), **options)


def to_json_none_for_inf(result):
    data = result.to_dict()
    for name in ("losses", "smoothed", "val_losses"):
        data[name] = [x if isinstance(x, float) else None for x in data[name]]
    return json.dumps(data, allow_nan=False)


# chapter 8 (every-cut, last-epoch)

def exact(a, b):  # the chapter 8 solution
    momenta = [[t for s in o.state.values() for t in s.values()] for o in (a[1], b[1])]
    return (
        all(torch.equal(x, y) for x, y in zip(a[0].state_dict().values(), b[0].state_dict().values()))
        and all(torch.equal(x, y) for x, y in zip(*momenta, strict=True))
        and a[3].lr == b[3].lr
        and a[3].loss == b[3].loss
    )


def exact_by_dicts(a, b):  # another correct form: whole state dicts, compared recursively
    def same(x, y):
        if isinstance(x, torch.Tensor):
            return isinstance(y, torch.Tensor) and torch.equal(x, y)
        if isinstance(x, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(map(same, x, y))
        return x == y

    return all(same(x.state_dict(), y.state_dict()) for x, y in zip(a[:3], b[:3])) and \
        a[3].to_dict() == b[3].to_dict()


def exact_allclose(a, b):
    return all(torch.allclose(x, y) for x, y in zip(a[0].state_dict().values(), b[0].state_dict().values()))


def exact_parameters_only(a, b):
    return all(torch.equal(x, y) for x, y in zip(a[0].parameters(), b[0].parameters())) and \
        a[3].loss == b[3].loss


def exact_model_and_history(a, b):
    return all(torch.equal(x, y) for x, y in zip(a[0].state_dict().values(), b[0].state_dict().values())) and \
        a[3].lr == b[3].lr and a[3].loss == b[3].loss


def exact_no_history(a, b):
    momenta = [[t for s in o.state.values() for t in s.values()] for o in (a[1], b[1])]
    return all(torch.equal(x, y) for x, y in zip(a[0].state_dict().values(), b[0].state_dict().values())) and \
        all(torch.equal(x, y) for x, y in zip(*momenta))


def exact_numpy_bool(a, b):  # another correct form: NumPy's verdict, a np.bool_
    same = [torch.equal(x, y) for x, y in zip(a[0].state_dict().values(), b[0].state_dict().values())]
    momenta = [[t for s in o.state.values() for t in s.values()] for o in (a[1], b[1])]
    same += [torch.equal(x, y) for x, y in zip(*momenta)]
    return np.all(same) & np.array_equal(a[3].lr, b[3].lr) & np.array_equal(a[3].loss, b[3].loss)


ALL_SIX = {"LambdaLR", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR"}

PLATEAU = dict(mode="max", factor=0.5, patience=2, threshold=0.2, threshold_mode="abs")


def plateau(**changes):
    return lambda opt: sched.ReduceLROnPlateau(opt, **{**PLATEAU, **changes})


LIVE = {1: [12, 20], 3: [20, 36, 40], 8: [32, 58]}  # the chapter 5 committed output

# ---- the table: (checker, answer, accepted, text the verdict must contain) -------------------

# -- chapter 9 answers -------------------------------------------------------------------------------


def _mean_loss(reduce_per_batch=False, restore=True, item=True, no_grad=True, float32=False, batch_acc=False):
    def answer(model, batches):
        was = model.training
        model.eval()
        total, correct, count = torch.zeros(()), torch.zeros((), dtype=torch.long), 0
        accuracies = []
        with torch.inference_mode() if no_grad else contextlib.nullcontext():
            for x, y in batches:
                logits = model(x)
                if reduce_per_batch:
                    total += torch.nn.functional.cross_entropy(logits, y).detach()
                else:
                    total += torch.nn.functional.cross_entropy(logits, y, reduction="sum").detach()
                if not no_grad:
                    torch.nn.functional.cross_entropy(logits, y).backward()
                correct += (logits.argmax(1) == y).sum()
                accuracies.append((logits.argmax(1) == y).float().mean().item())
                count += len(y)
        if restore:
            model.train(was)
        loss = total / (len(batches) if reduce_per_batch else count)
        if batch_acc:
            return loss.item(), sum(accuracies) / len(accuracies)
        if float32:  # every division on the device, in float32, one .item() each at the end
            return loss.item(), (correct.float() / count).item()
        return (loss.item(), correct.item() / count) if item else (loss, correct / count)

    return answer


def _mean_loss_no_grad_floats(model, batches):
    """Another right answer: torch.no_grad, Python floats summed per batch, try/finally."""
    was = model.training
    model.eval()
    try:
        loss, correct, count = 0.0, 0, 0
        with torch.no_grad():
            for x, y in batches:
                logits = model(x)
                loss += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
                correct += int((logits.argmax(1) == y).sum())
                count += len(y)
    finally:
        model.train(was)
    return loss / count, correct / count


def _table(dedupe=True, sample=True, skip_non_results=True):
    def answer(folder):
        runs, seen = {}, []
        for path in sorted(Path(folder).glob("*.json")):
            result = json.loads(path.read_text())
            if not isinstance(result, dict):
                if skip_non_results:
                    continue
                result = {"recipe": "notes", "seed": 0, "final": {"test_acc": 0.0}}
            if dedupe:
                runs[result["recipe"], result["seed"]] = result["final"]["test_acc"]
            else:
                seen.append((result["recipe"], result["final"]["test_acc"]))
        pairs = [(r, a) for (r, _), a in sorted(runs.items())] if dedupe else seen
        by = {}
        for recipe, acc in pairs:
            by.setdefault(recipe, []).append(acc)
        spread = statistics.stdev if sample else statistics.pstdev
        return {r: (statistics.fmean(a), spread(a) if len(a) > 1 else 0.0) for r, a in by.items()}

    return answer


def _table_lists(folder):  # another correct form: [mean, std] lists, NumPy's sample std
    runs = {}
    for path in Path(folder).glob("*.json"):
        result = json.loads(path.read_text())
        if isinstance(result, dict) and "final" in result:
            runs[result["recipe"], result["seed"]] = result["final"]["test_acc"]
    by = {}
    for (recipe, _), acc in runs.items():
        by.setdefault(recipe, []).append(acc)
    return {r: [np.mean(a), np.std(a, ddof=1) if len(a) > 1 else 0.0] for r, a in by.items()}


def _table_crash(key="test_acc", pattern="*.json"):  # reads every file as a result
    def answer(folder):
        runs = {}
        for path in sorted(Path(folder).glob(pattern)):
            result = json.loads(path.read_text())
            runs[result["recipe"], result["seed"]] = result["final"][key]
        return runs

    return answer


def _steps_spent(as_list=False):
    def steps_spent(budgets, steps_per_epoch, cooldown):
        anytime = budgets[-1] * steps_per_epoch + sum(round(cooldown * e * steps_per_epoch) for e in budgets)
        pair = (anytime, sum(e * steps_per_epoch for e in budgets))
        return list(pair) if as_list else pair

    return steps_spent


def _scaled_rate():
    def scaled_rate(base_lr, base_batch, batch, rule):
        ratio = batch / base_batch
        return base_lr * (ratio if rule == "linear" else ratio**0.5)

    return scaled_rate


def _near_edge(log10=False):
    def near_edge(value, low, high, share):
        log = math.log10 if log10 else math.log
        where = (log(value) - log(low)) / (log(high) - log(low))
        if where < share:
            return "low"
        return "high" if where > 1 - share else None

    return near_edge


def _trained_at(as_array=False):
    def trained_at(schedule, built_with, epochs):
        rates, lr = [], built_with
        for epoch in range(epochs):
            rates.append(lr)
            lr = schedule(epoch)
        return np.array(rates) if as_array else rates

    return trained_at


CASES = [
    # ch01-limit
    ("check_01_1", (0.5, 7), True, "6.95 orders"),
    ("check_01_1", (np.float64(0.5), 6.95), True, "6.95 orders"),
    ("check_01_1", (0.5, 3.5), True, "distance to the minimum"),
    ("check_01_1", (0.25, 7), False, "1/L is the textbook"),
    ("check_01_1", (4.0, 7), False, "largest* curvature"),
    ("check_01_1", (2 / 4.5, 7), False, "best fixed rate"),
    ("check_01_1", (0.5, 16), False, "natural logarithm"),
    ("check_01_1", (0.5, -7), False, "positive number"),
    ("check_01_1", (0.5, 8.9e6), False, "ratio of the two final values"),
    ("check_01_1", 0.5, False, "a pair of numbers"),
    ("check_01_1", np.array([0.5, 7.0]), True, "6.95 orders"),
    ("check_01_1", torch.tensor([0.5, 7.0]), True, "6.95 orders"),
    ("check_01_1", np.array([0.25, 7.0]), False, "1/L is the textbook"),
    ("check_01_1", np.zeros((2, 1)), False, "a pair of numbers"),
    ("check_01_1", (np.array(0.5), torch.tensor([7.0])), True, "6.95 orders"),  # a 0-d array, a 1-element tensor
    # ch01-edge
    ("check_01_2", (1.0, 0.8), True, "two-point cycle"),
    ("check_01_2", [1, 0.8], True, "two-point cycle"),
    ("check_01_2", (-1.0, 0.8), False, "absolute value"),
    ("check_01_2", (0.8, 1.0), False, "swapped"),
    ("check_01_2", (0.0, 0.9), False, "η = 1/L"),
    ("check_01_2", (0.9, 0.5), False, "compute |1 - ηλ|"),
    ("check_01_2", np.array([1.0, 0.8]), True, "two-point cycle"),
    ("check_01_2", torch.tensor([1.0, 0.8]), True, "two-point cycle"),  # float32: 0.800000012
    ("check_01_2", (np.float32(1.0), torch.tensor(0.8)), True, "two-point cycle"),
    ("check_01_2", torch.tensor([0.8, 1.0]), False, "swapped"),
    # ch01-best
    ("check_01_3", (88, 51), True, "88 steps at 1/L"),
    ("check_01_3", (88.0, 51.0), True, "88 steps at 1/L"),
    ("check_01_3", (89, 52), False, "one too many"),
    ("check_01_3", (87, 50), False, "one short"),
    ("check_01_3", (51, 88), False, "swapped"),
    ("check_01_3", (88, 60), False, "the second count is off"),
    ("check_01_3", (88.5, 51), False, "whole numbers"),
    ("check_01_3", np.array([88, 51]), True, "88 steps at 1/L"),
    ("check_01_3", torch.tensor([88, 51]), True, "88 steps at 1/L"),
    ("check_01_3", np.array([89, 52]), False, "one too many"),
    # ch01-grid
    ("check_01_4", (16, 1), True, "weak criterion"),
    ("check_01_4", (16.0, 1.0), True, "weak criterion"),
    ("check_01_4", (8, 1), False, "does not diverge either"),
    ("check_01_4", (16, 16), False, "they are not the same"),
    ("check_01_4", (16, 2), False, "compare run.step_loss[-1]"),
    ("check_01_4", (32, 1), False, "rates from the grid"),
    ("check_01_4", np.array([16, 1]), True, "weak criterion"),
    ("check_01_4", torch.tensor([16.0, 1.0]), True, "weak criterion"),
    ("check_01_4", np.array([8.0, 1.0]), False, "does not diverge either"),
    # ch02-layerwise
    ("check_02_2", layerwise(DEPTH), True, "0.1/2.6**4 for the stem"),
    ("check_02_2", layerwise_by_hand, True, "0.1/2.6**4 for the stem"),
    ("check_02_2", layerwise(DEPTH, base=1 / 2.6), False, "*divided* by 2.6"),
    ("check_02_2", layerwise({k: d for k, d in DEPTH.items() if k not in ("conv1", "bn1")}), False, "the stem"),
    ("check_02_2", layerwise({**DEPTH, "layer4": 1, "layer3": 2, "layer2": 3, "layer1": 4}), False, "shifted by one"),
    ("check_02_2", lambda model: list(model.parameters()), False, "each depth in its own group"),
    ("check_02_2", lambda model: [{"params": list(model.fc.parameters())}], False, "missing"),
    ("check_02_2", lambda model: torch.nn.Linear(2, 2).parameters(), False, "`model` argument"),
    ("check_02_2", layerwise_generators, True, "0.1/2.6**4 for the stem"),
    # ch02-when
    ("check_02_3", 20, True, "Final validation losses"),
    ("check_02_3", 20.0, True, "Final validation losses"),
    ("check_02_3", 5, False, "the *highest* validation loss"),
    ("check_02_3", 10, False, "a later drop ends lower"),
    ("check_02_3", 20.5, False, "a whole number"),
    ("check_02_3", 15, False, "5, 10 or 20"),
    ("check_02_3", np.int64(20), True, "Final validation losses"),
    ("check_02_3", torch.tensor(20), True, "Final validation losses"),
    # ch02-setlr
    ("check_02_4", set_lr, True, "without changing anything"),
    ("check_02_4", my_set_lr, True, "without changing anything"),
    ("check_02_4", set_lr_assigns_all, False, "whole list was stored"),
    ("check_02_4", set_lr_unchecked, False, "negative rates"),
    ("check_02_4", set_lr_negative_only, False, "math.isfinite"),
    ("check_02_4", set_lr_while_writing, False, "check every value"),
    ("check_02_4", set_lr_rejects_zero, False, "0 is a valid rate"),
    ("check_02_4", set_lr_silent_message, False, "name the value"),
    ("check_02_4", set_lr_type_error, False, "raise ValueError"),
    ("check_02_4", set_lr_zip_truncates, False, "exactly two rates"),
    ("check_02_4", set_lr_numpy, True, "without changing anything"),
    ("check_02_4", set_lr_negative_only, False, "NaN compares False with everything"),
    ("check_02_4", set_lr_negative_only, False, "an infinity passes `value > 0` and `value >= 0` checks"),
    # ch03-resnet
    ("check_03_1", lambda opt: sched.MultiStepLR(opt, milestones=[32000, 48000], gamma=0.1), True, "MultiStepLR"),
    ("check_03_1", he_lambda, True, "MultiStepLR"),
    ("check_03_1", lambda opt: sched.MultiStepLR(opt, milestones=[82, 123]), False, "counted in epochs"),
    ("check_03_1", lambda opt: sched.StepLR(opt, step_size=32000), False, "second drop is missing"),
    ("check_03_1", lambda opt: sched.MultiStepLR(opt, milestones=[32001, 48001]), False, "one iteration off"),
    ("check_03_1", lambda opt: sched.MultiStepLR(opt, [32000, 48000], gamma=0.5), False, "divides it by 10"),
    ("check_03_1", sched.MultiStepLR, False, "not a function of the optimizer"),
    ("check_03_1", lambda opt: sched.MultiStepLR(opt, milestones=np.array([32000, 48000]), gamma=np.float64(0.1)),
     True, "MultiStepLR"),
    # ch03-onecycle-accum
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, max_lr=0.1, epochs=5, steps_per_epoch=8), True, "completes"),
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, 0.1, total_steps=5 * steps_per_epoch(1000, 32, False, 4)),
     True, "completes"),
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, max_lr=0.1, epochs=5, steps_per_epoch=32), False,
     "len(loader) counts micro-batches"),
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, max_lr=0.1, epochs=5, steps_per_epoch=1000 // 128), False,
     "drops the partial window"),
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, max_lr=0.1, total_steps=50), False, "built for 50 steps"),
    ("check_03_2", lambda opt: sched.OneCycleLR(opt, max_lr=1.0, total_steps=40), False, "keep max_lr=0.1"),
    ("check_03_2", functools.partial(sched.OneCycleLR, max_lr=0.1, total_steps=40), True, "completes"),
    # ch03-get-lr
    ("check_03_3", {"LambdaLR", "CosineAnnealingWarmRestarts"}, True, "computes the rate from base_lrs"),
    ("check_03_3", [sched.LambdaLR, "cosineannealingwarmrestarts"], True, "computes the rate from base_lrs"),
    ("check_03_3", {"LambdaLR", "CosineAnnealingWarmRestarts", "StepLR"}, False, "StepLR does not match"),
    ("check_03_3", {"LambdaLR"}, False, "CosineAnnealingWarmRestarts matches"),
    ("check_03_3", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "CosineAnnealingWarmRestarts"],
     False, "CosineAnnealingLR does not match"),
    ("check_03_3", {"LamdaLR"}, False, "spell the class names"),
    ("check_03_3", "LambdaLR", False, "a set of names"),
    ("check_03_3", np.array(["LambdaLR", "CosineAnnealingWarmRestarts"]), True, "computes the rate from base_lrs"),
    ("check_03_3", (sched.LambdaLR, sched.CosineAnnealingWarmRestarts), True, "computes the rate from base_lrs"),
    # ch03-chain-vs-seq
    ("check_03_4", (warmup_then("sequential"), warmup_then("chained")), True, "eats into the warmup"),
    ("check_03_4", (sequential_as_lambda, chained_as_lambda), True, "eats into the warmup"),
    ("check_03_4", (warmup_then("sequential", milestone=4), warmup_then("chained")), False, "one step early"),
    ("check_03_4", (warmup_then("sequential", milestone=6), warmup_then("chained")), False, "one step too long"),
    ("check_03_4", (warmup_then("sequential"), warmup_then("chained", "lambda")), False, "warmup is lost"),
    ("check_03_4", (warmup_then("chained"), warmup_then("sequential")), False, "what ChainedScheduler gives"),
    ("check_03_4", warmup_then("sequential"), False, "a pair (make_sequential, make_chained)"),
    ("check_03_4", [warmup_then("sequential"), warmup_then("chained")], True, "eats into the warmup"),
    # ch04-lambda-warmup
    ("check_04_1", lambda opt: sched.LambdaLR(opt, functools.partial(warmup_exp, warmup_steps=8, gamma=0.05)),
     True, "schedule pickles"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, warmup_exp_8), True, "schedule pickles"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, ramp_from_zero), False,
     "your LR at step 0 is 0.0: did you use t/W where the exercise asks for (t+1)/W?"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, decay_one_late), False, "one step late"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, gamma_power), False, "gamma is a rate"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, lambda t: 0.05 * warmup_exp_8(t)), False,
     "returns a factor that LambdaLR multiplies"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, lambda t: warmup_exp(t, 8, 0.05)), False, "cannot be pickled"),
    ("check_04_1", lambda opt: WarmupLR(opt, 8, 0.05), False, "write WarmupLR's schedule yourself"),
    ("check_04_1", lambda opt: sched.LambdaLR(opt, [functools.partial(warmup_exp, warmup_steps=8, gamma=0.05)] * 2),
     True, "schedule pickles"),
    # ch04-linear-scaling
    ("check_04_2", (245, 0.1, 0.8), True, "49 per epoch"),
    ("check_04_2", [245.0, np.float32(0.1), 0.8000], True, "49 per epoch"),
    ("check_04_2", (240, 0.1, 0.8), False, "partial batch is a step too"),
    ("check_04_2", (1955, 0.1, 0.8), False, "that is batch 128"),
    ("check_04_2", (5, 0.1, 0.8), False, "optimizer steps, not epochs"),
    ("check_04_2", (245, 0.08, 0.8), False, "start_factor multiplies"),
    ("check_04_2", (245, 0.1, 0.1 + 0.7 * 244 / 245), False, "one step after the warmup"),
    ("check_04_2", np.array([245, 0.1, 0.8]), True, "49 per epoch"),
    ("check_04_2", torch.tensor([245.0, 0.1, 0.8]), True, "49 per epoch"),
    ("check_04_2", torch.tensor([240.0, 0.1, 0.8]), False, "partial batch is a step too"),
    # ch04-untuned
    ("check_04_3", [0.95, 0.98, 0.99, 0.999], True, "just below an integer"),
    ("check_04_3", {0.999, 0.99, 0.98, 0.95}, True, "just below an integer"),
    ("check_04_3", [0.9, 0.95, 0.98, 0.99, 0.999], False, "2/(1 - 0.9) = 20.000000000000004"),
    ("check_04_3", [0.98, 0.99, 0.999], False, "2/(1 - 0.95) = 39.99999999999996"),
    ("check_04_3", [39, 99, 199, 1999], False, "not the warmup lengths"),
    ("check_04_3", [0.5], False, "not one of the β2"),
    ("check_04_3", torch.tensor([0.95, 0.98, 0.99, 0.999]), True, "just below an integer"),  # float32
    ("check_04_3", np.array([0.95, 0.98, 0.99, 0.999], dtype=np.float32), True, "just below an integer"),
    ("check_04_3", torch.tensor([0.9, 0.95, 0.98, 0.99, 0.999]), False, "2/(1 - 0.9) = 20.000000000000004"),
    # ch04-largest-lr
    ("check_04_4", 0.05, True, "Warmup moves that edge outwards"),
    ("check_04_4", np.float64(0.05), True, "Warmup moves that edge outwards"),
    ("check_04_4", 0.1, False, "2 of the 3 seeds diverge"),
    ("check_04_4", 0.15, False, "3 of the 3 seeds diverge"),
    ("check_04_4", 0.02, False, "so is a larger rate"),
    ("check_04_4", 0.3, False, "choose among"),
    ("check_04_4", torch.tensor(0.05), True, "Warmup moves that edge outwards"),
    ("check_04_4", torch.tensor(0.05).item(), True, "Warmup moves that edge outwards"),  # 0.05000000074505806
    ("check_04_4", np.float32(0.05), True, "Warmup moves that edge outwards"),
    ("check_04_4", torch.tensor(0.1), False, "2 of the 3 seeds diverge"),
    # ch04-noam-half
    ("check_04_5", 399, True, "4W - 1"),
    ("check_04_5", 399.0, True, "4W - 1"),
    ("check_04_5", 400, False, "counted from 0"),
    ("check_04_5", 199, False, "4 times the steps"),
    ("check_04_5", 99, False, "that is the peak"),
    ("check_04_5", 300, False, "0.576 of the peak"),
    ("check_04_5", np.int64(399), True, "4W - 1"),
    ("check_04_5", torch.tensor(399), True, "4W - 1"),
    ("check_04_5", 49, False, "During the warmup the rate also passes half its peak (at step 49, on the way up), "
     "but the exercise asks where the schedule *falls* to half its peak, after the peak."),
    # ch05-predict
    ("check_05_1", [7], True, "Cut after epoch(s) [7]"),
    ("check_05_1", (7,), True, "Cut after epoch(s) [7]"),
    ("check_05_1", [8], False, "counted epochs from 1"),
    ("check_05_1", [8], False, "not the fourth"),
    ("check_05_1", [3, 6, 11], False, "tolerates 2 bad epochs"),
    ("check_05_1", [4, 8], False, "not below best - 0.01"),
    ("check_05_1", [3, 7, 11], False, "lower is better"),
    ("check_05_1", [], False, "walk the epochs"),
    ("check_05_1", np.array([7]), True, "Cut after epoch(s) [7]"),
    ("check_05_1", torch.tensor([7]), True, "Cut after epoch(s) [7]"),
    # ch05-accuracy
    ("check_05_2", plateau(), True, "threshold_mode='abs'"),
    ("check_05_2", functools.partial(sched.ReduceLROnPlateau, **PLATEAU, cooldown=0, eps=1e-8), True,
     "threshold_mode='abs'"),
    ("check_05_2", plateau(threshold_mode="rel"), False, "fraction of the best"),
    ("check_05_2", plateau(mode="min"), False, "higher accuracy is better"),
    ("check_05_2", plateau(patience=3), False, "3 bad epochs is patience=2"),
    ("check_05_2", plateau(threshold=0.002), False, "in the metric's units"),
    ("check_05_2", plateau(factor=0.1), False, "factor=0.5"),
    ("check_05_2", plateau(cooldown=2), False, "torch's other defaults"),
    ("check_05_2", lambda opt: sched.ReduceLROnPlateau(opt, "max", 0.5, 2, 0.2, "abs"), True, "threshold_mode='abs'"),
    # ch05-live-patience
    ("check_05_4", LIVE, True, "patience 8: cuts after [32, 58]"),
    ("check_05_4", {k: tuple(v) for k, v in LIVE.items()}, True, "patience 8: cuts after [32, 58]"),
    ("check_05_4", {k: [e + 1 for e in v] for k, v in LIVE.items()}, False, "first epochs at the lower rate"),
    ("check_05_4", {1: LIVE[1], 3: LIVE[3]}, False, "one entry per patience"),
    ("check_05_4", {**LIVE, 8: [32]}, False, "read the cuts from run.epoch_lr"),
    ("check_05_4", [LIVE[1], LIVE[3], LIVE[8]], False, "a dict such as"),
    ("check_05_4", {np.int64(k): np.array(v) for k, v in LIVE.items()}, True, "patience 8: cuts after [32, 58]"),
    ("check_05_4", {1: LIVE[8], 3: LIVE[3], 8: LIVE[1]}, False,
     "the patience keys are swapped: under key 1 you gave the cuts of patience=8"),
    # ch06-fix-loop
    ("check_06_1", fix_loop(), True, "the cycle completes"),
    ("check_06_1", fix_loop, True, "the cycle completes"),
    ("check_06_1", fix_loop(total_steps=60), False, "total_steps counts batches"),
    ("check_06_1", fix_loop(total_steps=60, step_every_batch=True), False, "steps on every micro-batch"),
    ("check_06_1", fix_loop(record_every_batch=True), False, "not at every micro-batch"),
    ("check_06_1", [0.04] * 10 + [0.2] * 10 + [0.5] * 10, False, "scheduler.step(epoch)"),
    ("check_06_1", np.array(fix_loop()), True, "the cycle completes"),
    ("check_06_1", torch.tensor(fix_loop()), True, "the cycle completes"),  # float32
    ("check_06_1", fix_loop_recorded_after_step(), False, "shifted by one step, each the rate of the *next*"),
    ("check_06_1", fix_loop()[:1] + fix_loop()[:-1], False, "shifted by one step, each the rate of the *previous*"),
    # ch06-cut-points
    ("check_06_2", [1, 9, 10, 11, 25, 49], True, "every cut but 0"),
    ("check_06_2", {49, 25, 11, 10, 9, 1}, True, "every cut but 0"),
    ("check_06_2", [0, 1, 9, 10, 11, 25, 49], False, "at cut 0"),
    ("check_06_2", [0], False, "stays exact"),
    ("check_06_2", [1, 9, 10, 11], False, "also breaks cut 25"),
    ("check_06_2", [5], False, "the exercise's cut points"),
    ("check_06_2", np.array([1, 9, 10, 11, 25, 49]), True, "every cut but 0"),
    ("check_06_2", torch.tensor([1, 9, 10, 11, 25, 49]), True, "every cut but 0"),
    # ch06-accum-total
    ("check_06_3", (2940, 23460), True, "98 optimizer steps per epoch"),
    ("check_06_3", [2940.0, 23460], True, "98 optimizer steps per epoch"),
    ("check_06_3", (2910, 23460), False, "partial window of each epoch"),
    ("check_06_3", (2932, 23460), False, "do not run across epochs"),
    ("check_06_3", (2940, 23430), False, "781 full micro-batches"),
    ("check_06_3", (23460, 2940), False, "swapped"),
    ("check_06_3", np.array([2940, 23460]), True, "98 optimizer steps per epoch"),
    ("check_06_3", torch.tensor([2940, 23460]), True, "98 optimizer steps per epoch"),
    ("check_06_3", np.array([2910, 23460]), False, "partial window of each epoch"),
    # ch06-manual-warmup
    ("check_06_4", warm_up, True, "ratio between groups holds"),
    ("check_06_4", warm_up_initial_lr, True, "ratio between groups holds"),
    ("check_06_4", warm_up_one_rate, False, "every group gets the same rate"),
    ("check_06_4", warm_up_compounding, False, "you scale the current rate"),
    ("check_06_4", warm_up_from_zero, False, "did you use step/5"),
    ("check_06_4", 0.1, False, "a function warm_up"),
    ("check_06_4", warm_up_numpy, True, "ratio between groups holds"),
    # ch07-fix-seed
    ("check_07_1", fixed_scheduler, True, "whatever rate the optimizer was built with"),
    ("check_07_1", fixed_by_logs, True, "whatever rate the optimizer was built with"),
    ("check_07_1", lambda opt: sched.LambdaLR(opt, lambda step: 1e8 ** (step / 100)), False,
     "Divide start_lr by optimizer.param_groups[0]['lr']"),
    ("check_07_1", lambda opt: seed_scheduler(opt, last=100), False, "Divide by num_it - 1"),
    ("check_07_1", lambda opt: seed_scheduler(opt, divide_by=0.1), False, "right for an optimizer built at 0.1 only"),
    ("check_07_1", lambda opt: sched.LambdaLR(opt, lambda i: 1e-7 / opt.defaults["lr"] * 1e7 ** (i / 99)), False,
     "the factor must be start_lr / base_lr"),
    ("check_07_1", fixed_factor, False, "calling it with an optimizer raised"),
    ("check_07_1", lambda opt: sched.LambdaLR(opt, lambda i: 1e-7 / opt.param_groups[0]["initial_lr"]
                                              * np.power(1e8, i / 99)), True, "whatever rate the optimizer"),
    # ch07-stop-rule
    ("check_07_2", first_stop, True, "None if it never does"),
    ("check_07_2", first_stop_numpy, True, "None if it never does"),
    ("check_07_2", first_stop_no_nan, True, "(the seed's rule); None if it never does. On a NaN loss it goes on"),
    ("check_07_2", first_stop_vs_first, False, "not with the first value"),
    ("check_07_2", first_stop_count, False, "not the number of steps taken"),
    ("check_07_2", first_stop_minus_one, False, "return None when the rule never fires"),
    ("check_07_2", first_stop_at_least, True, "at or above 4x the running minimum, or not finite; None if it never "
     "does. A loss of exactly 4x the minimum stops it (>=); the seed's code, with >, goes on"),
    ("check_07_2", lambda v: next((i for i, x in enumerate(v) if x >= 4 * min(v[: i + 1])), None), True,
     "at or above 4x the running minimum; None if it never does. On a NaN loss it goes on to the next value"),
    ("check_07_2", lambda v: first_stop([x for x in v if math.isfinite(x)]), False,
     "an infinite loss is above 4x any finite minimum"),
    ("check_07_2", lambda v: len(v) if first_stop(v) is None else first_stop(v), False, "not -1, not len(values)"),
    ("check_07_2", lambda v: 0 if v == [1.0, 4.0, 5.0] else first_stop(v), False,
     "or at index 1 if a loss equal to 4x the minimum counts"),
    ("check_07_2", (12, 14), False, "a function first_stop(values)"),
    ("check_07_2", first_stop_seed_literal, True, "On a NaN loss it goes on to the next value"),
    ("check_07_2", first_stop_accumulate, True, "On a NaN loss it never stops"),
    ("check_07_2", first_stop_before, False, "you returned the step before the one that fires; return the index i "
     "of the step whose value fires the rule."),
    # ch07-linear
    ("check_07_3", range_result(1e-3, 1.0, 100, "linear"), True, "steps below lr 0.01"),
    ("check_07_3", range_result(1e-3, 1.0, 20, "linear", stop=13), True, "steps below lr 0.01"),
    ("check_07_3", range_result(1e-3, 1.0, 100), False, 'pass mode="linear"'),
    ("check_07_3", range_result(1e-3, 1e3, 100, "linear"), False, "ends at the chapter's END_LR, 1000"),
    ("check_07_3", range_result(1e-3, 1e2, 100, "linear"), False, "ends at the chapter's END_LR, 100:"),
    ("check_07_3", range_result(1e-4, 1.0, 100, "linear"), False, "pass start_lr=1e-3"),
    ("check_07_3", lrcourse.range_test_lrs(1e-3, 1.0, 100, "linear"), False, "not its rates"),
    ("check_07_3", lrcourse.RangeTestResult.from_dict(json.loads(json.dumps(
        range_result(1e-3, 1.0, 60, "linear").to_dict()))), True, "steps below lr 0.01"),
    # ch07-json
    ("check_07_4", (to_json, from_json), True, "the same rates, losses and suggestions"),
    ("check_07_4", [to_json_file_form, lambda t: lrcourse.RangeTestResult.from_dict(json.loads(t))], True,
     "the same rates, losses and suggestions"),
    ("check_07_4", (naive_dump, from_json), False, "strict JSON readers reject"),
    ("check_07_4", (functools.partial(naive_dump, allow_nan=False), from_json), False,
     "that is the failure the exercise asks about"),
    ("check_07_4", (to_json, json.loads), False, "RangeTestResult.from_dict(json.loads(text))"),
    ("check_07_4", (lambda r: r.to_dict(), from_json), False, "return the text"),
    ("check_07_4", (to_json_none_for_inf, from_json), False, "checking it raised"),
    ("check_07_4", [lambda r: json.dumps(r.to_dict(), allow_nan=False, sort_keys=True), from_json], True,
     "the same rates, losses and suggestions"),
    # ch08-every-cut
    ("check_08_1", exact, True, "one float step anywhere"),
    ("check_08_1", exact_by_dicts, True, "one float step anywhere"),
    ("check_08_1", exact_allclose, False, "compare with torch.equal"),
    ("check_08_1", exact_parameters_only, False, "holds the buffers"),
    ("check_08_1", exact_model_and_history, False, "compare the optimizer's state too"),
    ("check_08_1", exact_no_history, False, "compare the histories too"),
    ("check_08_1", lambda a, b: a == b, False, "compare the values, not the objects"),
    ("check_08_1", exact_numpy_bool, True, "one float step anywhere"),
    ("check_08_1", lambda a, b: torch.tensor(exact(a, b)), True, "one float step anywhere"),
    # ch08-global-order
    ("check_08_2", (False, 50), True, "from the first resumed step"),
    ("check_08_2", [False, np.int64(50)], True, "from the first resumed step"),
    ("check_08_2", (True, None), False, "restoring the global generator does not give back"),
    ("check_08_2", (False, 53), False, "training resumes from the last checkpoint"),
    ("check_08_2", (False, 51), False, "steps are counted from 0"),
    ("check_08_2", (False, 40), False, "come back from it bitwise"),
    ("check_08_2", (False, 60), False, "draws epoch 2's order again"),
    ("check_08_2", ("no", 50), False, "exact as True or False"),
    ("check_08_2", (np.False_, 50), True, "from the first resumed step"),
    ("check_08_2", (torch.tensor(False), torch.tensor(50)), True, "from the first resumed step"),
    ("check_08_2", np.array([False, 50], dtype=object), True, "from the first resumed step"),
    ("check_08_2", (np.True_, None), False, "restoring the global generator does not give back"),
    ("check_08_2", (0, 50), False, "exact as True or False"),
    ("check_08_2", (np.False_, "50"), False, "first_step as a whole number"),
    ("check_08_2", [torch.tensor([False]), 50.0], True, "from the first resumed step"),
    # ch08-last-epoch
    ("check_08_4", (ALL_SIX, {"LambdaLR"}), True, "still needs the optimizer state"),
    ("check_08_4", ([n.lower() for n in ALL_SIX], (sched.LambdaLR,)), True, "still needs the optimizer state"),
    ("check_08_4", (ALL_SIX - {"OneCycleLR"}, {"LambdaLR"}), False, "OneCycleLR's max_lr"),
    ("check_08_4", (ALL_SIX, {"LambdaLR", "StepLR"}), False, "the base rate, as the rate of step 50"),
    ("check_08_4", (ALL_SIX, set()), False, "from initial_lr and the step alone"),
    ("check_08_4", (ALL_SIX, {"LambdaLR", "OneCycleLR"}), False, "building it with last_epoch raises"),
    ("check_08_4", ({"LamdaLR"}, set()), False, "spell the class names"),
    ("check_08_4", [np.array(sorted(ALL_SIX)), [sched.LambdaLR]], True, "still needs the optimizer state"),
    # ch08-atomic
    ("check_08_3", save_atomic, True, "nothing is left behind"),
    ("check_08_3", save_atomic_named, True, "nothing is left behind"),
    ("check_08_3", save_atomic_variant(fsync=False), False, "os.fsync the temporary file"),
    ("check_08_3", save_in_place, False, "the target was overwritten in place, so a crash mid-write destroys"),
    ("check_08_3", lambda state, path: torch.save(state, path), False,
     "the target was overwritten in place, so a crash mid-write destroys the old checkpoint"),
    ("check_08_3", _from_os(SAVE_FROM_OS), True, "nothing is left behind"),
    ("check_08_3", _from_os(SAVE_FROM_OS.replace("fsync(f.fileno())", "pass")), False, "os.fsync the temporary file"),
    ("check_08_3", save_atomic_variant(cleanup=False), False, "remove the temporary file"),
    ("check_08_3", save_atomic_variant(same_folder=False), False, "mkstemp(dir=path.parent)"),
    ("check_08_3", save_atomic_variant(cleanup=True, reraise=False), False, "let the error propagate"),
    ("check_08_3", save_atomic_variant(replace=False), False, "temporary file was left behind"),
    *(  # the folder's fsync is asked for where a folder can be opened
        [
            ("check_08_3", save_atomic_variant(folder_fsync=None), False, "reaches the disk only with it"),
            ("check_08_3", save_atomic_variant(folder_fsync="before"), False, "an fsync of the folder before it"),
            ("check_08_3", _from_os(SAVE_FROM_OS.replace("fsync(folder)", "pass")), False,
             "os.fsync that descriptor"),
        ]
        if os.name == "posix"
        else []
    ),
    ("check_08_3", lambda state, path: None, False, "nothing was written at path"),
    # ch09-evaluate
    ("check_09_1", _mean_loss(), True, "the mode restored in both cases"),
    ("check_09_1", _mean_loss_no_grad_floats, True, "the mode restored in both cases"),
    ("check_09_1", _mean_loss(reduce_per_batch=True), False, "the mean of the batch means"),
    ("check_09_1", _mean_loss(restore=False), False, "model.train(was_training)"),
    ("check_09_1", _mean_loss(item=False), False, "return Python floats"),
    ("check_09_1", _mean_loss(no_grad=False), False, "torch.inference_mode()"),
    ("check_09_1", (0.4, 0.9), False, "a function mean_loss_and_accuracy"),
    ("check_09_1", _mean_loss(float32=True), True, "the mode restored in both cases"),
    ("check_09_1", _mean_loss(batch_acc=True), False, "that is the mean of the batch accuracies"),
    # ch09-steps
    ("check_09_2", (196, 3920, 3920), True, "also the per-batch milestone"),
    ("check_09_2", [196.0, np.int64(3920), 3920], True, "also the per-batch milestone"),
    ("check_09_2", (195, 3900, 3900), False, "round up"),
    ("check_09_2", (196, 3919, 3919), False, "the last step at 0.1"),
    ("check_09_2", (196, 3920, 20), False, "its milestone is a step number"),
    ("check_09_2", (196, 3920.5, 3920), False, "whole batches"),
    ("check_09_2", np.array([196, 3920, 3920]), True, "also the per-batch milestone"),
    ("check_09_2", torch.tensor([196, 3920, 3920]), True, "also the per-batch milestone"),
    ("check_09_2", torch.tensor([195, 3900, 3900]), False, "round up"),
    # ch10-table
    ("check_10_1", _table(), True, "sample standard deviations"),
    ("check_10_1", lambda folder: _table()(str(folder)), True, "sample standard deviations"),
    ("check_10_1", _table(dedupe=False), False, "counted twice"),
    ("check_10_1", _table(sample=False), False, "statistics.pstdev"),
    ("check_10_1", _table(skip_non_results=False), False, "skip those that are not results"),
    ("check_10_1", {"cosine": (0.83, 0.03)}, False, "a function table(folder)"),
    ("check_10_1", _table_lists, True, "sample standard deviations"),
    ("check_10_1", _table_crash(), False, "raised TypeError: list indices must be integers or slices, not str "
     "while reading notes.json"),
    ("check_10_1", _table_crash(), False, "notes.json is not a result"),
    ("check_10_1", _table_crash(key="test_accuracy"), False, "raised KeyError: 'test_accuracy' while reading "
     "cosine-seed0.json"),
    ("check_10_1", _table_crash(key="test_accuracy"), False,
     "your function raised it at `runs[result[\"recipe\"], result[\"seed\"]] = result[\"final\"][key]`"),
    ("check_10_1", _table_crash(pattern="s*"), False, "summary.md is not JSON"),
    # ch10-plateau
    ("check_10_2", (4, 5), True, "a run needs 5 epochs"),
    ("check_10_2", [np.int64(4), 5.0], True, "a run needs 5 epochs"),
    ("check_10_2", (3, 5), False, "counted from the last improvement"),
    ("check_10_2", (5, 5), False, "after the third bad epoch"),
    ("check_10_2", (4, 4), False, "the run needs epochs 0 to 4"),
    ("check_10_2", "four", False, "a pair (epoch_after_which_it_is_reduced"),
    ("check_10_2", np.array([4, 5]), True, "a run needs 5 epochs"),
    ("check_10_2", torch.tensor([4, 5]), True, "a run needs 5 epochs"),
    ("check_10_2", np.array([3, 5]), False, "counted from the last improvement"),
    # ch11-late
    ("check_11_1", _trained_at(), True, "one epoch late"),
    ("check_11_1", _trained_at(as_array=True), True, "one epoch late"),
    ("check_11_1", lambda schedule, built_with, epochs: [schedule(e) for e in range(epochs)], False,
     "those are the rates the schedule means"),
    ("check_11_1", lambda schedule, built_with, epochs: [0.0] + [schedule(e) for e in range(epochs - 1)], False,
     "the rate the optimizer was built with"),
    ("check_11_1", lambda schedule, built_with, epochs: [built_with] + [schedule(e) for e in range(1, epochs)],
     False, "the lag is one epoch for every epoch"),
    ("check_11_1", lambda schedule, built_with, epochs: [built_with] + [schedule(e) for e in range(epochs)], False,
     "one rate per epoch"),
    ("check_11_1", [0.3, 0.0, 0.06], False, "a function trained_at(schedule, built_with, epochs)"),
    # ch12-steps
    ("check_12_1", _steps_spent(), True, "each extra budget costs a cooldown"),
    ("check_12_1", _steps_spent(as_list=True), True, "each extra budget costs a cooldown"),
    ("check_12_1", lambda b, s, c: _steps_spent()(b, s, c)[::-1], False, "the other way round"),
    ("check_12_1", lambda b, s, c: (_steps_spent()(b, s, c)[0], b[-1] * s), False, "every budget in full"),
    ("check_12_1", lambda b, s, c: (b[-1] * s + sum(round(c * e * s) for e in b[:-1]), sum(e * s for e in b)), False,
     "the longest budget needs its cooldown too"),
    ("check_12_1", lambda b, s, c: (b[-1] * s + sum(int(c * e * s) for e in b), sum(e * s for e in b)), False,
     "round each budget's cooldown"),
    ("check_12_1", lambda b, s, c: (sum(e * s for e in b), sum(e * s for e in b)), False, "the stable run is paid once"),
    ("check_12_1", (4515, 6450), False, "a function steps_spent(budgets, steps_per_epoch, cooldown)"),
    # ch13-rules
    ("check_13_1", _scaled_rate(), True, "Linear for SGD, square root"),
    ("check_13_1", lambda lr, b0, b, rule: np.float32(_scaled_rate()(lr, b0, b, rule)), True,
     "Linear for SGD, square root"),
    ("check_13_1", lambda lr, b0, b, rule: lr * (b0 / b if rule == "linear" else (b0 / b) ** 0.5), False, "upside down"),
    ("check_13_1", lambda lr, b0, b, rule: lr * ((b / b0) ** 0.5 if rule == "linear" else b / b0), False,
     "the other rule's rate"),
    ("check_13_1", lambda lr, b0, b, rule: lr, False, "must change with the batch size"),
    ("check_13_1", lambda lr, b0, b, rule: lr * b, False, "base_lr * batch / base_batch"),
    ("check_13_1", 0.32, False, "a function scaled_rate(base_lr, base_batch, batch, rule)"),
    # ch14-edge
    ("check_14_1", _near_edge(), True, "widen the range and search again"),
    ("check_14_1", _near_edge(log10=True), True, "widen the range and search again"),
    ("check_14_1", lambda v, lo, hi, s: "low" if (v - lo) / (hi - lo) < s else "high" if (v - lo) / (hi - lo) > 1 - s
     else None, False, "searched on a log scale"),
    ("check_14_1", lambda v, lo, hi, s: {"low": "high", "high": "low", None: None}[_near_edge()(v, lo, hi, s)], False,
     "the wrong end"),
    ("check_14_1", lambda v, lo, hi, s: None, False, "the lowest and the highest share"),
    ("check_14_1", lambda v, lo, hi, s: "edge" if _near_edge()(v, lo, hi, s) else None, False,
     "a function near_edge(value, low, high, share)"),
    ("check_14_1", "low", False, "a function near_edge(value, low, high, share)"),
]


def _id(case):
    checker, _, accepted, text = case
    return f"{checker}-{'ok' if accepted else 'wrong'}-{re.sub(r'[^a-z0-9]+', '_', text.lower())[:40]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(case) for case in CASES])
def test_verdict(case, capsys):
    checker, answer, accepted, text = case
    assert getattr(exercises, checker)(answer) is accepted
    out = capsys.readouterr().out
    # Verdicts are wrapped to the page's width: compare with the line breaks folded.
    assert " ".join(text.split()) in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= 78, "a verdict must fit the page's code column"
    if accepted:
        assert out.startswith("Correct.")
    else:
        # a rejection says what was expected, what was received and what to try
        assert out.startswith("Not yet. Expected ") and "; received " in " ".join(out.split())
        assert "\nHint: " in out


def test_every_checker_has_enough_cases():
    for exercise in EXERCISES.values():
        cases = [case for case in CASES if case[0] == exercise.checker]
        right = [case for case in cases if case[2]]
        wrong = {case[3] for case in cases if not case[2]}
        assert len(right) >= 2, exercise.checker
        assert len(wrong) >= 3, exercise.checker


@pytest.mark.parametrize("label", sorted(EXERCISES))
def test_none_is_not_attempted(label, capsys):
    exercise = EXERCISES[label]
    assert getattr(exercises, exercise.checker)(None) is False
    out = capsys.readouterr().out
    assert out.startswith(NOT_ATTEMPTED) and " ".join(exercise.form.split()) in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= 78, "a verdict must fit the page's code column"


def _boom(*args):
    raise RuntimeError("student code failed")


@pytest.mark.parametrize("label", sorted(EXERCISES))
@pytest.mark.parametrize(
    "junk", ["0.5", object(), _boom, {"a": 1}, float("nan")], ids=["str", "object", "raises", "dict", "nan"]
)
def test_odd_answers_give_a_verdict_not_an_error(label, junk, capsys):
    assert getattr(exercises, EXERCISES[label].checker)(junk) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet.") and "\nHint: " in out


def _exercise_labels():
    labels = {}
    for path in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            match = re.search(r"```\{exercise\}\s*\n:label: (\S+)", cell.source)
            if cell.cell_type == "markdown" and match:
                labels[match.group(1)] = path.name
    return labels


def test_registry_matches_the_book_and_the_module():
    labels = _exercise_labels()
    checkers = {name for name, _ in inspect.getmembers(exercises, inspect.isfunction) if name.startswith("check_")}
    assert checkers == {exercise.checker for exercise in EXERCISES.values()}
    for label, exercise in EXERCISES.items():
        assert label in labels, label
        chapter, number = re.fullmatch(r"check_(\d\d)_(\d+)", exercise.checker).groups()
        assert labels[label].startswith(chapter)
        # n is the exercise's position in its chapter
        in_chapter = [name for name, nb in labels.items() if nb == labels[label]]
        assert in_chapter.index(label) + 1 == int(number), label
        doc = getattr(exercises, exercise.checker).__doc__
        assert doc.startswith(f"Exercise {label}. Answer: "), exercise.checker


def test_exercises_export_nothing_from_the_package_root():
    assert not any(re.fullmatch(r"check_\d\d_\d+", name) for name in lrcourse.__all__)
    assert set(exercises.__all__) == {"EXERCISES", "Exercise", "NOT_ATTEMPTED"} | {
        exercise.checker for exercise in EXERCISES.values()
    }


def test_reference_computations_restore_the_thread_count():
    before = torch.get_num_threads()
    assert exercises.check_02_3(20)
    assert torch.get_num_threads() == before


def test_expected_and_received_never_look_alike():
    from lrcourse.classroom.exercises._common import show_both

    assert show_both(0.05, 0.05) == ("0.05", "0.05")
    expected, received = show_both(0.05, torch.tensor(0.05))
    assert expected != received and received == repr(torch.tensor(0.05).item())
    assert show_both(0.05, 0.3) == ("0.05", "0.3")


def test_the_atomic_check_restores_what_it_patches(capsys):
    answer = _from_os(SAVE_FROM_OS)
    names = answer.__globals__
    before = (os.fsync, os.replace, names["fsync"], names["replace"])
    assert before[2] is os.fsync and before[3] is os.replace
    assert exercises.check_08_3(answer)
    assert (os.fsync, os.replace, names["fsync"], names["replace"]) == before
    assert exercises.check_08_3(save_atomic)  # os.fsync, through the module
    assert (os.fsync, os.replace) == before[:2]


def test_pairs_are_read_without_numpy(monkeypatch, capsys):
    """The shared helpers look NumPy up in sys.modules: without it, lists, tuples and tensors still work."""
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)
    assert exercises.check_01_3((88, 51))
    assert exercises.check_01_3(torch.tensor([88, 51]))
    assert exercises.check_08_2((torch.tensor(False), 50))
