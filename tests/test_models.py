"""The nets: parameter counts recomputed layer by layer, shapes, channels_last, names."""

import pytest
import torch
import torchvision

from lrcourse.lab.models import MODEL_INPUTS, MODEL_NAMES, build_model, count_parameters


def conv(c_in, c_out, k, bias=False):
    return c_in * c_out * k * k + (c_out if bias else 0)


def bn(c):
    return 2 * c  # weight and bias; running stats are buffers


def airbench_count(widths, stem, classes=10):
    total = conv(3, stem, 2, bias=True)
    c_in = stem
    for w in widths:
        total += conv(c_in, w, 3) + bn(w) + conv(w, w, 3) + bn(w)
        c_in = w
    return total + c_in * classes


def resnet9_count(classes=10):
    def cbr(a, b):
        return conv(a, b, 3) + bn(b)

    return (cbr(3, 64) + cbr(64, 128) + 2 * cbr(128, 128) + cbr(128, 256) + cbr(256, 512) + 2 * cbr(512, 512)
            + 512 * classes)


def resnet18_stages_count():
    total, c_in = 0, 64
    for w in (64, 128, 256, 512):
        for block in range(2):
            a = c_in if block == 0 else w
            total += conv(a, w, 3) + bn(w) + conv(w, w, 3) + bn(w)
            if a != w:
                total += conv(a, w, 1) + bn(w)  # projection shortcut
        c_in = w
    return total


EXPECTED = {
    "airbench": airbench_count((64, 256, 256), 24),
    "resnet9": resnet9_count(),
    "resnet18": conv(3, 64, 3) + bn(64) + resnet18_stages_count() + 512 * 10 + 10,
    "seed_resnet": conv(3, 64, 7) + bn(64) + resnet18_stages_count() + 512 * 10 + 10,
    "small": airbench_count((16, 32, 32), 8),
    "tiny": airbench_count((8, 16, 16), 8),
    # d2l's LeNet: two biased convolutions, three biased linear layers.
    "lenet": conv(1, 6, 5, bias=True) + conv(6, 16, 5, bias=True) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10),
    "bncnn": conv(1, 16, 3) + bn(16) + conv(16, 32, 3) + bn(32) + conv(32, 64, 3) + bn(64) + 64 * 10 + 10,
}
# The numbers written in the docstrings and the module table.
DOCUMENTED = {"airbench": 1_972_792, "resnet9": 6_573_120, "resnet18": 11_173_962,
              "seed_resnet": 11_181_642, "small": 36_456, "tiny": 9_640, "lenet": 61_706, "bncnn": 24_058}


def test_every_name_has_an_expected_count():
    assert set(MODEL_NAMES) == set(EXPECTED) == set(DOCUMENTED) == set(MODEL_INPUTS)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_count_matches_architecture_and_docs(name):
    model = build_model(name)
    assert count_parameters(model) == EXPECTED[name] == DOCUMENTED[name]
    from lrcourse.lab import models

    text = (models.__doc__ or "") + (type(model).__doc__ or "")
    assert f"{DOCUMENTED[name]:,}".replace(",", " ") in text


def test_seed_resnet_has_torchvision_resnet18_count():
    assert count_parameters(build_model("seed_resnet")) == count_parameters(torchvision.models.resnet18(num_classes=10))


def test_head_scales_with_num_classes():
    assert count_parameters(build_model("airbench", num_classes=100)) == airbench_count((64, 256, 256), 24, 100)
    assert count_parameters(build_model("resnet18", num_classes=100)) == EXPECTED["resnet18"] + 90 * 513


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_shape_and_channels_last(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=7).eval()
    x = torch.randn(2, *MODEL_INPUTS[name])
    with torch.no_grad():
        out = model(x)
        assert out.shape == (2, 7)
        model_cl = model.to(memory_format=torch.channels_last)
        out_cl = model_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(out, out_cl, atol=1e-5, rtol=1e-4)


def test_same_seed_same_weights_other_seed_differs():
    torch.manual_seed(3)
    a = build_model("tiny")
    torch.manual_seed(3)
    b = build_model("tiny")
    torch.manual_seed(4)
    c = build_model("tiny")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match=r"name must be one of 'airbench'.*'bncnn' \(got name='resnet50'\)"):
        build_model("resnet50")


def test_num_classes_checked():
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 1 \(got num_classes=0\)"):
        build_model("tiny", num_classes=0)
    with pytest.raises(TypeError, match="num_classes"):
        build_model("tiny", num_classes=10.0)


# Forward GFLOP per image from the module table (multiply-add = 2 FLOP).
FLOPS = {"airbench": 0.236, "resnet9": 0.759, "resnet18": 1.111, "seed_resnet": 0.666, "small": 0.00748, "tiny": 0.00256,
         "lenet": 0.000833, "bncnn": 0.00384}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_documented_flops(name):
    from torch.utils.flop_counter import FlopCounterMode

    from lrcourse.lab import models

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        build_model(name).eval()(torch.randn(1, *MODEL_INPUTS[name]))
    gflop = counter.get_total_flops() / 1e9
    assert gflop == pytest.approx(FLOPS[name], rel=0.01)
    assert f"{FLOPS[name]}" in models.__doc__
    # The epoch figure of the table: 3 x forward x 50 000 images (60 000 for Fashion-MNIST's nets).
    images = 60_000 if MODEL_INPUTS[name][0] == 1 else 50_000
    epoch = 3 * gflop * images / 1e3
    assert f"{epoch:.2f}" in models.__doc__ if epoch < 1 else f"{epoch:.1f}" in models.__doc__


def test_gpu_estimate_is_flops_over_the_assumed_rate_plus_step_overhead():
    from lrcourse.lab.gpu_estimate import COLAB_T4, GpuRates, forward_flops, training_seconds

    assert forward_flops("small") / 1e9 == pytest.approx(FLOPS["small"], rel=0.01)
    assert forward_flops("seed_resnet") / 1e9 == pytest.approx(FLOPS["seed_resnet"], rel=0.01)
    rates = GpuRates("test", tflops=(10.0, 5.0), step_overhead=(0.01, 0.0), source="made up")
    flops = forward_flops("small")
    fast, slow = training_seconds("small", 1000, 2, 100, eval_images=500, rates=rates)
    per_epoch = 3 * flops * 1000 + flops * 500
    assert fast == pytest.approx(2 * per_epoch / 10e12)  # the high rate and no overhead
    assert slow == pytest.approx(2 * (per_epoch / 5e12 + 10 * 0.01))  # 10 steps per epoch
    # A slow input pipeline bounds the epoch from below.
    fast, slow = training_seconds("small", 1000, 2, 100, rates=rates, data_images_per_s=(500.0, 1000.0))
    assert (fast, slow) == (pytest.approx(2.0), pytest.approx(4.0))
    assert "assumed, not measured" in COLAB_T4.source
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1 \(got epochs=0\)"):
        training_seconds("small", 1000, 0, 100)
