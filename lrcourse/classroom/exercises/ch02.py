"""Checkers for chapter 2, "Param groups"."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import torch

from ..toy import train_toy
from ._common import (
    as_int,
    failed,
    guarded,
    not_attempted,
    one_thread,
    passed,
    show,
    wrong_form,
)

__all__ = ["check_02_2", "check_02_3", "check_02_4"]

#: ULMFiT depth of each top-level module of torchvision's ResNet-18, from the head down.
DEPTH = {"fc": 0, "layer4": 0, "layer3": 1, "layer2": 2, "layer1": 3, "conv1": 4, "bn1": 4}
BASE_LR = 0.1
FORM_02_2 = "a function make_groups(model) returning param groups or an optimizer"


def _resnet() -> torch.nn.Module:
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=10)


def _group_dicts(result: Any) -> list[dict[str, Any]] | None:
    if isinstance(result, torch.optim.Optimizer):
        return list(result.param_groups)
    if isinstance(result, (str, bytes, dict, torch.Tensor)) or not isinstance(result, Iterable):
        return None
    items = list(result)
    if items and all(isinstance(item, dict) for item in items):
        return items
    if all(isinstance(item, torch.Tensor) for item in items):
        return [{"params": items}]  # plain parameters: one group at the optimizer's default LR
    return None


@guarded
def check_02_2(answer: Any) -> bool:
    """Exercise ch02-layerwise. Answer: a function ``make_groups(model)``.

    Called with a fresh ``torchvision.models.resnet18(num_classes=10)``, it returns the param
    groups (a list of dicts, e.g. from ``multiplier_groups``) or an optimizer built on them. A
    group without ``"lr"`` trains at the default 0.1. Every parameter must be in exactly one group,
    at ``0.1 / 2.6**depth`` with depth 0 for ``fc`` and ``layer4``, 1 for ``layer3`` ... 4 for the
    stem (``conv1``, ``bn1``), within 1e-9 relative.
    """
    if not_attempted(answer, FORM_02_2):
        return False
    if not callable(answer):
        return wrong_form("a function make_groups(model), e.g. lambda model: multiplier_groups(model, ...)", answer)
    model = _resnet()
    try:
        groups = _group_dicts(answer(model))
    except Exception as error:  # noqa: BLE001
        return failed("param groups for the model it is given", f"{type(error).__name__}: {error}",
                      "call it as make_groups(model) and build the groups from that model, not a global one.")
    if groups is None:
        return wrong_form("a list of param-group dicts or an optimizer", answer)
    names = {id(p): name for name, p in model.named_parameters()}
    lr_of: dict[str, float] = {}
    for group in groups:
        lr = float(group.get("lr", BASE_LR))
        params = group.get("params", [])
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        for p in params:
            name = names.get(id(p))
            if name is None:
                return failed("only parameters of the model make_groups is given", "a parameter from another model",
                              "build the groups from the `model` argument, not from the chapter's `resnet`.")
            if name in lr_of:
                return failed("each parameter in one group", f"{name} in two groups",
                              "a parameter may belong to one group only; multiplier_groups takes care of it.")
            lr_of[name] = lr
    missing = [name for name in names.values() if name not in lr_of]
    if missing:
        return failed("every parameter in a group", f"{len(missing)} missing, e.g. {missing[0]}",
                      "a parameter left out of the optimizer never trains: give every top-level module a group.")
    if len(set(lr_of.values())) == 1:
        rate = next(iter(lr_of.values()))
        return failed("five different rates, 0.1 down to 0.1/2.6**4", f"every parameter at {rate:.5g}",
                      "put each depth in its own group with its own rate, e.g. with multiplier_groups.")
    for module, depth in DEPTH.items():
        want = BASE_LR / 2.6**depth
        got = sorted({lr for name, lr in lr_of.items() if name.split(".")[0] == module})
        if len(got) == 1 and math.isclose(got[0], want, rel_tol=1e-9):
            continue
        received = f"{module} at {', '.join(f'{v:.5g}' for v in got)}"
        if any(v > BASE_LR * (1 + 1e-9) for v in got):
            hint = "rates above 0.1: the rate is *divided* by 2.6 per layer going down (multiplier 2.6**-depth)."
        elif len(got) > 1:
            hint = f"all of {module}'s parameters share one rate."
        elif math.isclose(got[0], BASE_LR, rel_tol=1e-9) and depth == 4:
            hint = "the stem (conv1, bn1) trains at 0.1: a module you do not name keeps the base rate; give it depth 4."
        elif math.isclose(got[0], want / 2.6, rel_tol=1e-9) or math.isclose(got[0], want * 2.6, rel_tol=1e-9):
            hint = "your depths are shifted by one: fc and layer4 both train at 0.1 (depth 0), layer3 at 0.1/2.6."
        else:
            hint = f"{module} is at depth {depth}: 0.1 / 2.6**{depth}."
        return failed(f"{module} at {want:.5g}", received, hint)
    return passed("fc and layer4 at 0.1, then 0.1/2.6 per layer down to 0.1/2.6**4 for the stem.")


@functools.lru_cache(maxsize=None)
def _drop_reference() -> dict[int, float]:
    with one_thread():
        return {
            epoch: train_toy(1.0, 30, batch_size=32, noise=0.5, lr_at_epoch={epoch: 0.1}).val_loss[-1]
            for epoch in (5, 10, 20)
        }


FORM_02_3 = "the drop epoch (5, 10 or 20) with the lowest final validation loss"


@guarded
def check_02_3(answer: Any) -> bool:
    """Exercise ch02-when. Answer: a whole number, 5, 10 or 20.

    The epoch of the drop (1.0 -> 0.1, 30 epochs of the chapter's live experiment) that ends with
    the lowest validation loss. The three runs are computed here (some seconds the first time).
    """
    if not_attempted(answer, FORM_02_3):
        return False
    epoch = as_int(answer)
    if epoch is None:
        return wrong_form("a whole number: 5, 10 or 20", answer)
    losses = _drop_reference()
    best = min(losses, key=losses.__getitem__)
    table = ", ".join(f"drop at {e}: {loss:.3f}" for e, loss in losses.items())
    if epoch == best:
        return passed(f"Final validation losses: {table}. Dropping early gives up fast progress at the high rate.")
    if epoch not in losses:
        return failed("one of 5, 10, 20", show(epoch), "the exercise drops the rate at epoch 5, 10 or 20.")
    if epoch == max(losses, key=losses.__getitem__):
        hint = f"that drop ends with the *highest* validation loss; the question asks for the lowest ({table})."
    else:
        hint = (f"compare run.val_loss[-1] of the three runs: the high rate is still making progress at epoch "
                f"{epoch}, and a {'later' if best > epoch else 'earlier'} drop ends lower ({table}).")
    return failed(str(best), str(epoch), hint)


FORM_02_4 = "a function set_lr(optimizer, lr)"


def _optimizer(lrs: tuple[float, ...] = (0.1, 0.01)) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _rates(optimizer: torch.optim.Optimizer) -> list[Any]:
    # A wrong answer may store anything as a rate (a whole list, a string): show it as it is.
    return [group["lr"] if isinstance(group["lr"], (list, tuple, str)) else float(group["lr"])
            for group in optimizer.param_groups]


@guarded
def check_02_4(answer: Any) -> bool:
    """Exercise ch02-setlr. Answer: a function ``set_lr(optimizer, lr)``.

    On a two-group optimizer it must set one number for every group or one number per group (a
    list), accept 0, and raise ``ValueError`` for a negative or non-finite value or a
    wrong count, with a message that shows the bad value, leaving every group as it was.
    """
    if not_attempted(answer, FORM_02_4):
        return False
    if not callable(answer):
        return wrong_form("a function set_lr(optimizer, lr)", answer)
    for value, want in ((0.3, [0.3, 0.3]), ([0.3, 0.03], [0.3, 0.03]), (0, [0, 0])):
        optimizer = _optimizer()
        try:
            answer(optimizer, value)
        except Exception as error:  # noqa: BLE001
            hint = "0 is a valid rate (it freezes a group): reject only values below 0." if value == 0 else (
                "a single number sets every group; a list or tuple gives one number per group.")
            return failed(f"lr={value!r} accepted", f"{type(error).__name__}: {error}", hint)
        if any(isinstance(rate, (list, tuple)) for rate in _rates(optimizer)):
            return failed(f"rates {want}", f"{_rates(optimizer)}",
                          "the whole list was stored as every group's rate: give group i the i-th value.")
        if _rates(optimizer) != want:
            return failed(f"rates {want} after set_lr(optimizer, {value!r})", f"{_rates(optimizer)}",
                          "a single number sets every group; a list or tuple gives one number per group, in order.")
    nan, inf = float("nan"), float("inf")
    bad_values = ((-1.0, -1.0), (nan, nan), (inf, inf), ([0.3, nan], nan), ([0.3, -0.5], -0.5), ([0.1], None),
                  ([0.1, 0.2, 0.3], None))
    for value, bad in bad_values:
        shown = None if bad is None else repr(bad)
        optimizer = _optimizer()
        try:
            answer(optimizer, value)
        except ValueError as error:
            changed = _rates(optimizer) != [0.1, 0.01]
            if changed:
                return failed(f"rates unchanged ([0.1, 0.01]) after the bad lr={value!r}", f"{_rates(optimizer)}",
                              "a group was changed before the bad value was found: check every value "
                              "first, then write them all.")
            if bad is not None and repr(bad) not in str(error) and f"{bad:g}" not in str(error):
                return failed(f"a message that shows the bad value {shown}", f"ValueError({str(error)!r})",
                              "name the value in the message, e.g. f\"... got {value!r}\".")
            continue
        except Exception as error:  # noqa: BLE001
            return failed(f"ValueError for lr={value!r}", f"{type(error).__name__}: {error}",
                          "raise ValueError (a bad value, not a bad type) for this input.")
        if isinstance(value, list) and shown is None:
            hint = "with two groups a list must hold exactly two rates; a wrong count is an error, not a partial set."
        elif isinstance(value, list):
            hint = "check every element of a list, not only single numbers."
        elif bad is not None and bad < 0:
            hint = "negative rates make the optimizer climb the loss: reject values below 0."
        else:
            hint = ("NaN compares False with everything, so `value < 0` lets it through, and an infinity passes "
                    "`value > 0` and `value >= 0` checks: test math.isfinite(value) as well.")
        return failed(f"ValueError for lr={value!r}", f"no error, rates now {_rates(optimizer)}", hint)
    return passed("It sets one or per-group rates, and rejects bad values without changing anything.")
