import math
import re

import pytest
import torch
from torch import nn

from lrcourse import (
    check_param_groups,
    decay_groups,
    get_lr,
    multiplier_groups,
    param_groups_table,
    scale_lr,
    set_lr,
)


def two_group_optimizer():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    return torch.optim.SGD([{"params": [a], "lr": 0.05}, {"params": [b], "lr": 0.5}], lr=0.1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
        self.neck = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(torch.ones(4))  # 1-D, no module of its own


def test_get_lr_reads_every_group_in_order():
    assert get_lr(two_group_optimizer()) == [0.05, 0.5]


def test_set_lr_one_value_sets_every_group():
    opt = two_group_optimizer()
    set_lr(opt, 0.2)
    assert get_lr(opt) == [0.2, 0.2]


def test_set_lr_per_group_values():
    opt = two_group_optimizer()
    set_lr(opt, [0.01, 0.02])
    assert get_lr(opt) == [0.01, 0.02]
    set_lr(opt, (0, 1))  # ints and tuples are fine; stored as floats
    assert get_lr(opt) == [0.0, 1.0]
    assert all(type(lr) is float for lr in get_lr(opt))


@pytest.mark.parametrize(
    "lr, error, message",
    [
        (-0.1, ValueError, r"lr must be a finite number >= 0 \(got lr=-0.1\)"),
        (math.nan, ValueError, r"got lr=nan"),
        (math.inf, ValueError, r"got lr=inf"),
        ("0.1", TypeError, r"lr must be .* \(got lr='0.1' of type str\)"),
        (True, TypeError, r"got lr=True of type bool"),
        (None, TypeError, r"got lr=None"),
        ([0.1], ValueError, r"got 1 values for 2 groups"),
        ([0.1, 0.2, 0.3], ValueError, r"got 3 values for 2 groups"),
        ([0.1, -1.0], ValueError, r"lr\[1\] must be a finite number >= 0 \(got lr\[1\]=-1.0\)"),
        ([0.1, math.nan], ValueError, r"lr\[1\]"),
    ],
)
def test_set_lr_rejects_bad_input_and_changes_nothing(lr, error, message):
    opt = two_group_optimizer()
    with pytest.raises(error, match=message):
        set_lr(opt, lr)
    assert get_lr(opt) == [0.05, 0.5]


@pytest.mark.parametrize("fn", [get_lr, lambda o: set_lr(o, 0.1), lambda o: scale_lr(o, 0.5), param_groups_table])
def test_functions_reject_a_non_optimizer(fn):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"optimizer must be a torch.optim.Optimizer \(got optimizer of type Linear\)"):
        fn(model)


def test_scale_lr_keeps_ratios_and_returns_new_lrs():
    opt = two_group_optimizer()
    assert scale_lr(opt, 0.1) == [0.05 * 0.1, 0.5 * 0.1]
    assert get_lr(opt) == [0.05 * 0.1, 0.5 * 0.1]


@pytest.mark.parametrize("factor, error", [(-1.0, ValueError), (math.nan, ValueError), ("2", TypeError)])
def test_scale_lr_rejects_bad_factor(factor, error):
    opt = two_group_optimizer()
    with pytest.raises(error, match="factor must be"):
        scale_lr(opt, factor)
    assert get_lr(opt) == [0.05, 0.5]


def test_decay_groups_split_weights_from_biases_and_norms():
    net = Net()
    groups = decay_groups(net, 5e-4)
    names = {id(p): n for n, p in net.named_parameters()}
    decay = sorted(names[id(p)] for p in groups[0]["params"])
    no_decay = sorted(names[id(p)] for p in groups[1]["params"])
    assert decay == ["backbone.0.weight", "head.weight", "neck.0.weight"]
    assert no_decay == sorted(
        ["backbone.0.bias", "backbone.1.weight", "backbone.1.bias", "neck.0.bias", "neck.1.weight", "neck.1.bias",
         "head.bias", "scale"]
    )
    assert groups[0]["weight_decay"] == 5e-4 and groups[1]["weight_decay"] == 0.0
    torch.optim.AdamW(groups, lr=1e-3)  # accepted as is


def test_decay_groups_leave_out_frozen_parameters():
    net = Net()
    net.backbone.requires_grad_(False)
    groups = decay_groups(net, 0.1)
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize("wd, error", [(-1e-4, ValueError), (math.inf, ValueError), ("1e-4", TypeError)])
def test_decay_groups_rejects_bad_weight_decay(wd, error):
    with pytest.raises(error, match="weight_decay must be"):
        decay_groups(Net(), wd)


def test_decay_groups_rejects_a_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        decay_groups([torch.zeros(2)], 0.1)


def test_multiplier_groups_longest_prefix_wins_and_rest_group():
    net = Net()
    groups = multiplier_groups(net, 0.1, {"backbone": 0.1, "backbone.1": 0.0, "head": 2.0})
    by_name = {g["name"]: g for g in groups}
    assert [g["name"] for g in groups] == ["backbone", "backbone.1", "head", "rest"]
    assert by_name["backbone"]["lr"] == 0.1 * 0.1
    assert by_name["backbone.1"]["lr"] == 0.0
    assert by_name["head"]["lr"] == 0.1 * 2.0
    assert by_name["rest"]["lr"] == 0.1
    assert len(by_name["backbone"]["params"]) == 2  # conv weight and bias only
    assert len(by_name["backbone.1"]["params"]) == 2  # the BatchNorm
    assert len(by_name["rest"]["params"]) == 5  # neck (4) + scale
    check_param_groups(groups, net)
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))


def test_multiplier_groups_prefix_matches_whole_names_only():
    net = nn.ModuleDict({"layer1": nn.Linear(2, 2), "layer10": nn.Linear(2, 2)})
    groups = multiplier_groups(net, 1.0, {"layer1": 0.5})
    assert len(groups[0]["params"]) == 2  # not layer10's


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"multipliers": {"bakcbone": 0.1}}, ValueError, r"match no trainable parameter: \['bakcbone'\]"),
        ({"multipliers": {}}, TypeError, "multipliers must be a non-empty mapping"),
        ({"multipliers": [("head", 1.0)]}, TypeError, "multipliers must be a non-empty mapping"),
        ({"multipliers": {"head": -1.0}}, ValueError, r"multipliers\['head'\] must be a finite number >= 0"),
        ({"multipliers": {"": 1.0}}, ValueError, "non-empty module-name prefixes"),
        ({"multipliers": {"head": 1.0}, "base_lr": -0.1}, ValueError, r"base_lr must be .* \(got base_lr=-0.1\)"),
    ],
)
def test_multiplier_groups_validation(kwargs, error, message):
    kwargs = {"base_lr": 0.1, **kwargs}
    with pytest.raises(error, match=message):
        multiplier_groups(Net(), **kwargs)


def test_check_param_groups_names_the_shared_parameter():
    net = Net()
    groups = [{"params": net.parameters()}, {"params": [net.head.weight]}]
    with pytest.raises(ValueError, match=r"parameter head.weight is in parameter groups 0 and 1"):
        check_param_groups(groups, net)
    groups = [{"params": [net.head.weight]}, {"params": net.head.weight}]
    with pytest.raises(ValueError, match=r"a tensor of shape \(2, 4\) is in parameter groups 0 and 1"):
        check_param_groups(groups)


def test_check_param_groups_accepts_disjoint_groups_and_optimizers():
    net = Net()
    check_param_groups(decay_groups(net, 0.1), net)
    check_param_groups(torch.optim.SGD(net.parameters(), lr=0.1), net)


@pytest.mark.parametrize("bad", ["groups", {"params": []}, [1, 2], [{"lr": 0.1}]])
def test_check_param_groups_rejects_non_groups(bad):
    with pytest.raises(TypeError, match="param_groups"):
        check_param_groups(bad)


def test_param_groups_table_lists_each_group():
    net = Net()
    opt = torch.optim.SGD(decay_groups(net, 5e-4), lr=0.1)
    lines = param_groups_table(opt, net).splitlines()
    assert lines[0].split() == ["group", "name", "lr", "weight_decay", "tensors", "parameters", "examples"]
    assert lines[2].split()[:6] == ["0", "decay", "0.1", "0.0005", "3", str(4 * 3 * 9 + 4 * 4 + 2 * 4)]
    assert lines[3].split()[:5] == ["1", "no_decay", "0.1", "0", "8"]
    assert "backbone.0.weight" in lines[2] and "(+" in lines[3]


# --- weight tying: one tensor under two names, as GPT-2's embedding and output layer -----------


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(10, 4)
        self.ln = nn.LayerNorm(4)
        self.lm_head = nn.Linear(4, 10, bias=False)
        self.lm_head.weight = self.wte.weight  # tied


def test_decay_groups_list_a_tied_weight_once():
    net = TiedLM()
    groups = decay_groups(net, 0.1)
    assert [len(g["params"]) for g in groups] == [1, 2]  # the shared weight; the LayerNorm's two
    assert groups[0]["params"][0] is net.wte.weight
    check_param_groups(groups, net)
    # torch warns about a duplicate (filterwarnings=error makes that a failure) and AdamW would
    # update the shared weight twice per step.
    opt = torch.optim.AdamW(groups, lr=0.1)
    loss = net.lm_head(net.wte(torch.tensor([1, 2]))).sum()
    loss.backward()
    reference = TiedLM()
    reference.load_state_dict(net.state_dict())
    ref_opt = torch.optim.AdamW(reference.parameters(), lr=0.1, weight_decay=0.1)
    reference.lm_head(reference.wte(torch.tensor([1, 2]))).sum().backward()
    opt.step()
    ref_opt.step()
    assert torch.equal(net.wte.weight, reference.wte.weight)


def test_multiplier_groups_match_a_tied_modules_pattern():
    net = TiedLM()
    groups = multiplier_groups(net, 0.1, {"lm_head": 2.0})
    assert [g["name"] for g in groups] == ["lm_head", "rest"]
    assert groups[0]["params"] == [net.lm_head.weight] and groups[0]["lr"] == 0.2
    assert len(groups[1]["params"]) == 2  # ln.weight, ln.bias: the tied weight is not here again
    check_param_groups(groups, net)
    torch.optim.SGD(groups, lr=0.1)


def test_multiplier_groups_refuse_two_lrs_for_one_tied_tensor():
    with pytest.raises(ValueError, match=(
        r"^parameter wte.weight = lm_head.weight is tied \(one tensor under 2 names\) and its names "
        r"match different multipliers prefixes \['lm_head', 'wte'\]; one tensor can have only one "
        r"learning rate"
    )):
        multiplier_groups(TiedLM(), 0.1, {"wte": 0.5, "lm_head": 2.0})


def test_check_param_groups_names_a_parameter_listed_twice_in_one_group():
    net = TiedLM()
    groups = [{"params": [net.wte.weight, net.lm_head.weight]}]
    with pytest.raises(ValueError, match=(
        r"^parameter wte.weight is twice in parameter group 0; each parameter must be listed exactly once"
    )):
        check_param_groups(groups, net)


# --- Tensor learning rates (the torch.compile recipe) -----------------------------------------


def tensor_lr_optimizer():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    return torch.optim.SGD(
        [{"params": [a], "lr": torch.tensor(0.05)}, {"params": [b], "lr": torch.tensor(0.5)}],
        lr=torch.tensor(0.1),
    )


def f32(x: float) -> float:
    """``x`` as a float32 tensor holds it (the default dtype of ``torch.tensor(0.1)``)."""
    return torch.tensor(x).item()


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda o: set_lr(o, 0.2), [f32(0.2), f32(0.2)]),
        (lambda o: set_lr(o, [0.01, 0.02]), [f32(0.01), f32(0.02)]),
        (lambda o: scale_lr(o, 0.4), [f32(f32(0.05) * 0.4), f32(f32(0.5) * 0.4)]),
    ],
)
def test_set_lr_and_scale_lr_update_a_tensor_lr_in_place(change, expected):
    opt = tensor_lr_optimizer()
    captured = [group["lr"] for group in opt.param_groups]
    change(opt)
    for group, tensor in zip(opt.param_groups, captured):
        assert group["lr"] is tensor  # the same tensor object, not a float
    assert [t.item() for t in captured] == expected
    assert get_lr(opt) == expected


def test_set_lr_leaves_a_tensor_lr_alone_on_bad_input():
    opt = tensor_lr_optimizer()
    with pytest.raises(ValueError, match=r"lr\[1\] must be a finite number >= 0"):
        set_lr(opt, [0.1, -1.0])
    assert [g["lr"].item() for g in opt.param_groups] == [f32(0.05), 0.5]


def test_param_groups_table_prints_a_tensor_lr():
    lines = param_groups_table(tensor_lr_optimizer()).splitlines()
    assert lines[2].split()[:3] == ["0", "-", "0.05"] and lines[3].split()[:3] == ["1", "-", "0.5"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"model": "net"}, TypeError, "model must be a torch.nn.Module or None (got model of type str)"),
        ({"max_names": -1}, ValueError, "max_names must be an integer >= 0 (got max_names=-1)"),
        ({"max_names": 2.5}, TypeError, "max_names must be an integer >= 0 (got max_names=2.5 of type float)"),
    ],
)
def test_param_groups_table_checks_its_arguments(kwargs, error, message):
    opt = torch.optim.SGD(Net().parameters(), lr=0.1)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        param_groups_table(opt, **kwargs)


def test_param_groups_table_max_names_zero_lists_no_names():
    net = Net()
    lines = param_groups_table(torch.optim.SGD(decay_groups(net, 0.1), lr=0.1), net, max_names=0).splitlines()
    assert [line.split()[-1] for line in lines[2:]] == ["-", "-"]
