"""Read, set and organise the learning rate of an optimizer's parameter groups.

An optimizer keeps its hyper-parameters in ``optimizer.param_groups``: a list of dicts, one per
group, each with its own ``"lr"``. Everything here works on *every* group and never flattens
them, because a model trained with a backbone at 0.1x the head's learning rate must keep that
ratio whatever the code around it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ._validate import check_int, check_lr, check_optimizer, check_real

__all__ = [
    "get_lr",
    "set_lr",
    "scale_lr",
    "decay_groups",
    "multiplier_groups",
    "check_param_groups",
    "param_groups_table",
]


def get_lr(optimizer: torch.optim.Optimizer) -> list[float]:
    """The learning rate of every parameter group, in group order.

    This is what the next ``optimizer.step()`` will use, and what a scheduler's
    ``get_last_lr()`` reports right after it stepped.
    """
    check_optimizer(optimizer)
    return [float(group["lr"]) for group in optimizer.param_groups]


def set_lr(optimizer: torch.optim.Optimizer, lr: float | Sequence[float]) -> None:
    """Set the learning rate: one value for every group, or one value per group.

    The whole input is checked before any group is changed, so a bad value leaves the optimizer
    exactly as it was. A group whose LR is a tensor (``SGD(..., lr=torch.tensor(0.1))``) keeps
    that tensor, updated in place.
    """
    check_optimizer(optimizer)
    n_groups = len(optimizer.param_groups)
    if isinstance(lr, (str, bytes)) or not isinstance(lr, Sequence):
        values = [check_lr(lr)] * n_groups
    else:
        if len(lr) != n_groups:
            raise ValueError(
                f"lr must be one number or a sequence with one number per parameter group "
                f"(got {len(lr)} values for {n_groups} groups: lr={list(lr)!r})"
            )
        values = [check_lr(value, f"lr[{i}]") for i, value in enumerate(lr)]
    for group, value in zip(optimizer.param_groups, values):
        _write_lr(group, value)


def _write_lr(group: dict[str, Any], value: float) -> None:
    # A Tensor LR (the torch.compile recipe) is updated in place, as torch's schedulers do:
    # replacing it with a float would make a compiled step recompile, and code that captured the
    # tensor would go on reading the old value.
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(value)
    else:
        group["lr"] = value


def scale_lr(optimizer: torch.optim.Optimizer, factor: float) -> list[float]:
    """Multiply every group's learning rate by ``factor`` (keeping their ratios); return the new LRs."""
    check_optimizer(optimizer)
    factor = check_real(factor, "factor", low=0.0)
    set_lr(optimizer, [lr * factor for lr in get_lr(optimizer)])
    return get_lr(optimizer)


def _is_no_decay(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    # Biases and the affine weights of normalisation layers are not "weights" that weight decay
    # should pull towards zero: shrinking a LayerNorm gain only fights the layer it belongs to.
    norm_types = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
    return param.ndim < 2 or isinstance(module, norm_types) or name.endswith("bias")


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two parameter groups: weights with ``weight_decay``, and biases/norm parameters without.

    Matrices and convolution kernels (``ndim >= 2``) decay; biases, and the scale and shift of
    BatchNorm, LayerNorm and GroupNorm, do not. Frozen parameters (``requires_grad=False``) are
    left out. A parameter shared by several modules (weight tying) is listed once, classified by
    the first module that holds it. Pass the result straight to an optimizer; each group carries a
    ``"name"`` key that :func:`param_groups_table` prints.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (got model of type {type(model).__name__})")
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    seen: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            # A tied parameter (GPT-2's embedding and output layer share one weight) is held by
            # several modules; listing it twice would make the optimizer update it twice per step.
            # Its first holder decides, as the name model.named_parameters() gives it.
            if param.requires_grad and id(param) not in seen:
                seen.add(id(param))
                (no_decay if _is_no_decay(name, param, module) else decay).append(param)
    return [
        {"name": "decay", "params": decay, "weight_decay": weight_decay},
        {"name": "no_decay", "params": no_decay, "weight_decay": 0.0},
    ]


def multiplier_groups(
    model: nn.Module, base_lr: float, multipliers: Mapping[str, float]
) -> list[dict[str, Any]]:
    """One parameter group per module-name prefix, each at ``base_lr * multiplier``.

    ``multipliers`` maps a prefix of the parameter names (``"backbone"``, ``"head"``,
    ``"layer1.0"``) to a factor. A parameter goes to the longest prefix that matches it; the
    parameters that match none form a last group at ``base_lr`` named ``"rest"`` (left out when
    empty). This is how discriminative learning rates are set: e.g. ``{"backbone": 0.1}`` trains
    a pretrained backbone ten times more gently than a fresh head.

    A tied parameter (one tensor under several names, as GPT-2's ``wte.weight`` and
    ``lm_head.weight``) is placed once, by whichever of its names matches a prefix; if its names
    match two different prefixes, that is an error, since one tensor has one learning rate.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (got model of type {type(model).__name__})")
    base_lr = check_lr(base_lr, "base_lr")
    if not isinstance(multipliers, Mapping) or not multipliers:
        raise TypeError(
            f"multipliers must be a non-empty mapping of name prefix -> factor (got {multipliers!r})"
        )
    for prefix, factor in multipliers.items():
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"multipliers keys must be non-empty module-name prefixes (got {prefix!r})")
        check_real(factor, f"multipliers[{prefix!r}]", low=0.0)
    by_prefix: dict[str, list[nn.Parameter]] = {prefix: [] for prefix in multipliers}
    rest: list[nn.Parameter] = []
    for names, param in _names_of_each_parameter(model):
        # Each name of a tied parameter may match a prefix; all that match must agree.
        chosen = {}
        for name in names:
            matches = [p for p in multipliers if name == p or name.startswith(p + ".")]
            if matches:
                chosen[max(matches, key=len)] = name
        if len(chosen) > 1:
            raise ValueError(
                f"parameter {' = '.join(names)} is tied (one tensor under {len(names)} names) and its "
                f"names match different multipliers prefixes {sorted(chosen)}; one tensor can have "
                "only one learning rate: name only one of these prefixes, or a prefix above both"
            )
        if chosen:
            by_prefix[next(iter(chosen))].append(param)
        else:
            rest.append(param)
    empty = [prefix for prefix, params in by_prefix.items() if not params]
    if empty:
        raise ValueError(
            f"multipliers names prefixes that match no trainable parameter: {empty} "
            f"(top-level modules are {[n for n, _ in model.named_children()]})"
        )
    groups = [
        {"name": prefix, "params": params, "lr": base_lr * float(multipliers[prefix])}
        for prefix, params in by_prefix.items()
    ]
    if rest:
        groups.append({"name": "rest", "params": rest, "lr": base_lr})
    return groups


def _names_of_each_parameter(model: nn.Module) -> list[tuple[list[str], nn.Parameter]]:
    """Every trainable parameter once, with all the names it has (more than one when tied)."""
    names: dict[int, list[str]] = {}
    params: dict[int, nn.Parameter] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        if param.requires_grad:
            names.setdefault(id(param), []).append(name)
            params.setdefault(id(param), param)
    return [(names[key], params[key]) for key in params]


def _groups_of(source: torch.optim.Optimizer | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(source, torch.optim.Optimizer):
        return list(source.param_groups)
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
        raise TypeError(
            "param_groups must be an optimizer or a list of dicts with a 'params' key "
            f"(got {type(source).__name__})"
        )
    groups = list(source)
    for i, group in enumerate(groups):
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"param_groups[{i}] must be a dict with a 'params' key (got {group!r:.80})")
    return groups


def check_param_groups(
    param_groups: torch.optim.Optimizer | Iterable[dict[str, Any]], model: nn.Module | None = None
) -> None:
    """Raise ``ValueError`` naming the parameter if one tensor is listed twice.

    torch refuses a tensor in two groups too, but only says "some parameters appear in more than
    one parameter group", and merely warns about a tensor listed twice in one group (which AdamW
    then updates twice per step). With ``model`` given, this names the parameter and the groups.
    """
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module or None (got model of type {type(model).__name__})")
    names = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    seen: dict[int, int] = {}
    for i, group in enumerate(_groups_of(param_groups)):
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        for param in params:
            if id(param) in seen:
                label = names.get(id(param), f"a tensor of shape {tuple(param.shape)}")
                where = (f"twice in parameter group {i}" if seen[id(param)] == i
                         else f"in parameter groups {seen[id(param)]} and {i}")
                raise ValueError(
                    f"parameter {label} is {where}; each parameter must be listed exactly once "
                    "(tied weights too)"
                )
            seen[id(param)] = i


def param_groups_table(
    optimizer: torch.optim.Optimizer, model: nn.Module | None = None, max_names: int = 3
) -> str:
    """A plain-text table of what each parameter group holds: LR, weight decay, tensors, values.

    With ``model`` given, the first ``max_names`` parameter names of each group are listed too.
    """
    check_optimizer(optimizer)
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module or None (got model of type {type(model).__name__})")
    max_names = check_int(max_names, "max_names", low=0)
    names = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
    rows = [("group", "name", "lr", "weight_decay", "tensors", "parameters", "examples")]
    for i, group in enumerate(optimizer.param_groups):
        params = group["params"]
        examples = [names[id(p)] for p in params if id(p) in names][:max_names]
        more = len(params) - len(examples) if examples else 0
        rows.append((
            str(i),
            str(group.get("name", "-")),
            f"{float(group['lr']):.4g}",  # float(): the LR may be a one-element tensor
            f"{float(group.get('weight_decay', 0.0)):.4g}",
            str(len(params)),
            f"{sum(p.numel() for p in params):,}",
            ", ".join(examples) + (f", ... (+{more})" if more > 0 else "") if examples else "-",
        ))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
