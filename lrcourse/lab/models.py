"""Small networks for the experiments, and ``build_model(name)`` to pick one by name.

=================  ===============================  ==========  ========  =========  ===========
name               what                             parameters  input     GFLOP fwd  TFLOP/epoch
=================  ===============================  ==========  ========  =========  ===========
``"airbench"``     airbench94-style net (default)    1 972 792  3×32×32       0.236         35.4
``"resnet9"``      Page's DAWNBench ResNet-9         6 573 120  3×32×32       0.759        113.8
``"resnet18"``     CIFAR ResNet-18 (3×3 stem)       11 173 962  3×32×32       1.111        166.6
``"seed_resnet"``  ResNet-18, ImageNet stem, 96 px  11 181 642  3×96×96       0.666         99.9
``"small"``        airbench shape, widths 16/32/32      36 456  3×32×32     0.00748          1.1
``"tiny"``         airbench shape, widths 8/16/16        9 640  3×32×32     0.00256         0.38
``"lenet"``        d2l's LeNet (ReLU, max pooling)      61 706  1×28×28    0.000833        0.15
``"bncnn"``        conv-BN-ReLU, widths 16/32/64        24 058  1×28×28     0.00384         0.69
=================  ===============================  ==========  ========  =========  ===========

"GFLOP fwd" is the forward pass of one image as counted by ``torch.utils.flop_counter`` (a
multiply-add is 2 FLOP); "TFLOP/epoch" is a training epoch, taken as 3 × the forward (forward +
backward), of CIFAR-10's 50 000 images, or of Fashion-MNIST's 60 000 for the two grey-image nets
(:data:`MODEL_INPUTS` gives each net's input). The airbench net and ResNet-9 also run on smaller
inputs (down to 9×9 and 8×8).

``"small"`` is the net of the experiments' cpu size: 1/32 of the airbench net's FLOPs, so a
2-core CPU trains it on a few thousand images in seconds per epoch, and it still learns the
synthetic stand-in well enough for schedules to differ. ``"tiny"`` is for smoke runs and tests on
a CPU, where even the airbench net takes about a second per batch of 32: it learns little, but
runs every code path in milliseconds.

Counts are for ``num_classes=10``; ``tests/test_models.py`` recomputes them layer by layer and
checks the FLOP column. Every
net ends in a global pooling layer and ``torch.flatten``, never ``.view``, so a model converted
with ``model.to(memory_format=torch.channels_last)`` runs on channels-last inputs unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import check_choice, check_int

__all__ = [
    "MODEL_NAMES",
    "AirbenchNet",
    "CifarResNet18",
    "ResNet9",
    "SeedResNet",
    "SmallNet",
    "TinyNet",
    "LeNet",
    "BNCNN",
    "MODEL_INPUTS",
    "build_model",
    "count_parameters",
]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars (``requires_grad``) in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _conv_bn(c_in: int, c_out: int, act: type[nn.Module] = nn.ReLU) -> list[nn.Module]:
    # No conv bias: the BatchNorm right after it has its own shift.
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), act()]


class _Scale(nn.Module):
    """Multiply by a fixed number (airbench's and Page's output temperature)."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class AirbenchNet(nn.Sequential):
    """The airbench94 architecture (Jordan, 2024): the default net of the book's sweeps.

    * stem: 2×2 convolution, 3 → 24 channels, no padding (32 → 31 px), with bias, GELU;
    * three blocks of ``conv3×3 → maxpool 2 → BN → GELU → conv3×3 → BN → GELU`` with widths
      64, 256, 256 (31 → 15 → 7 → 3 px);
    * global max pool, linear 256 → ``num_classes`` without bias, output scaled by 1/9.

    1 972 792 parameters for 10 classes: stem 312, blocks 50 944 + 738 304 + 1 180 672,
    head 2 560. About 118 M multiply-adds per 32×32 image, so one training epoch on 50 000
    images is ≈ 35 TFLOP (forward + backward ≈ 3 × forward).

    Differences from airbench94: the stem is trained like every other layer (airbench initialises
    it from a whitening of the data and freezes it), BatchNorm has torch's default momentum and
    its weight is trained; the training tricks (lookahead, label smoothing, test-time
    augmentation) are not part of the model.
    """

    def __init__(self, num_classes: int = 10, widths: tuple[int, int, int] = (64, 256, 256), stem_width: int = 24):
        check_int(num_classes, "num_classes", low=1)
        layers: list[nn.Module] = [nn.Conv2d(3, stem_width, 2, padding=0, bias=True), nn.GELU()]
        c_in = stem_width
        for width in widths:
            layers += [
                nn.Conv2d(c_in, width, 3, padding=1, bias=False),
                nn.MaxPool2d(2),
                nn.BatchNorm2d(width),
                nn.GELU(),
                *_conv_bn(width, width, nn.GELU),
            ]
            c_in = width
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes, bias=False), _Scale(1 / 9)]
        super().__init__(*layers)


class _Residual(nn.Module):
    """``x + f(x)``."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet9(nn.Sequential):
    """David Page's ResNet-9 ("How to train your ResNet", DAWNBench 2018): 94 % in 24 epochs.

    prep ``conv 64``; layer1 ``conv 128 → maxpool`` + residual (two ``conv 128``); layer2
    ``conv 256 → maxpool``; layer3 ``conv 512 → maxpool`` + residual (two ``conv 512``); global max
    pool, linear 512 → ``num_classes`` without bias, output scaled by 1/8. Every conv is
    ``conv3×3 → BN → ReLU``.

    6 573 120 parameters for 10 classes: prep 1 856, layer1 73 984 + 295 424, layer2 295 424,
    layer3 1 180 672 + 4 720 640, head 5 120.
    """

    def __init__(self, num_classes: int = 10):
        check_int(num_classes, "num_classes", low=1)
        super().__init__(
            *_conv_bn(3, 64),
            *_conv_bn(64, 128),
            nn.MaxPool2d(2),
            _Residual(*_conv_bn(128, 128), *_conv_bn(128, 128)),
            *_conv_bn(128, 256),
            nn.MaxPool2d(2),
            *_conv_bn(256, 512),
            nn.MaxPool2d(2),
            _Residual(*_conv_bn(512, 512), *_conv_bn(512, 512)),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(512, num_classes, bias=False),
            _Scale(0.125),
        )


class BasicBlock(nn.Module):
    """He et al.'s two-conv residual block; a 1×1 conv + BN shortcut where the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class _ResNet18(nn.Module):
    """Stem, four stages of two ``BasicBlock``s (64, 128, 256, 512), global average pool, linear."""

    def __init__(self, stem: nn.Module, num_classes: int) -> None:
        super().__init__()
        check_int(num_classes, "num_classes", low=1)
        self.stem = stem
        stages, c_in = [], 64
        for i, width in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(c_in, width, stride), BasicBlock(width, width)))
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(torch.flatten(x, 1))  # flatten, not view: works on channels_last


class CifarResNet18(_ResNet18):
    """ResNet-18 for 32×32 inputs (kuangliu/pytorch-cifar): a 3×3 stride-1 stem and no max pool.

    The four stages see 32, 16, 8 and 4 px. 11 173 962 parameters for 10 classes: stem 1 856
    (conv 1 728 + BN 128), stages 11 166 976 (of which three 1×1 shortcuts), linear 5 130.
    """

    def __init__(self, num_classes: int = 10):
        stem = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        super().__init__(stem, num_classes)


class SeedResNet(_ResNet18):
    """ResNet-18 with the ImageNet stem, for the seed article's 96-pixel experiment.

    The seed trains "a ResNet" on CIFAR-10 upscaled to 120 px and randomly cropped to 96 px. This
    net has the same stem as that one and as torchvision's ``resnet18``: a 7×7 stride-2 conv and a
    3×3 stride-2 max pool, so a 96×96 image reaches the stages at 24 px and the global pool at 3 px.
    11 181 642 parameters for 10 classes, the count of ``torchvision.models.resnet18(num_classes=10)``
    (stem conv 9 408 + BN 128, stages 11 166 976, linear 5 130). On 32×32 inputs it still runs
    but pools from 1×1 maps; use it for 96-px inputs.
    """

    def __init__(self, num_classes: int = 10):
        stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        super().__init__(stem, num_classes)


class SmallNet(AirbenchNet):
    """:class:`AirbenchNet` with widths 16/32/32 and an 8-channel stem: 36 456 parameters.

    The net of the experiment chapters' cpu size: stem 104, blocks 3 520 + 13 952 + 18 560,
    head 320.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__(num_classes, widths=(16, 32, 32), stem_width=8)


class TinyNet(AirbenchNet):
    """:class:`AirbenchNet` with widths 8/16/16 and an 8-channel stem: 9 640 parameters.

    For smoke runs and tests: stem 104, blocks 1 184 + 3 520 + 4 672, head 160.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__(num_classes, widths=(8, 16, 16), stem_width=8)


class LeNet(nn.Sequential):
    """d2l's LeNet for Fashion-MNIST, exactly: 61 706 parameters.

    The network of d2l's chapter on learning-rate scheduling (§12.11, PyTorch edition): LeNet-5
    with ReLU instead of sigmoid and max instead of average pooling. 5×5 convolution 1 → 6
    (padding 2), ReLU, 2×2 max pool; 5×5 convolution 6 → 16, ReLU, 2×2 max pool; then linear
    400 → 120 → 84 → classes with ReLU between. Parameters: 156 + 2 416 + 48 120 + 10 164 + 850.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )


class BNCNN(nn.Sequential):
    """A small BatchNorm CNN for 28×28 grey images: 24 058 parameters.

    Three 3×3 convolution-BatchNorm-ReLU layers of 16, 32 and 64 channels, a 2×2 max pool after
    the first two (28 → 14 → 7 px), global average pooling and a linear head. BatchNorm makes it
    far less sensitive to the rate than LeNet, so the two show what a schedule does with and
    without it. Parameters: 176 + 4 672 + 18 560 (conv and BN), head 650.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__(
            *_conv_bn(1, 16), nn.MaxPool2d(2),
            *_conv_bn(16, 32), nn.MaxPool2d(2),
            *_conv_bn(32, 64),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, num_classes),
        )


_MODELS: dict[str, type[nn.Module]] = {
    "airbench": AirbenchNet,
    "resnet9": ResNet9,
    "resnet18": CifarResNet18,
    "seed_resnet": SeedResNet,
    "small": SmallNet,
    "tiny": TinyNet,
    "lenet": LeNet,
    "bncnn": BNCNN,
}
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)
#: The input each net is built for, ``(channels, height, width)``.
MODEL_INPUTS: dict[str, tuple[int, int, int]] = {
    name: (1, 28, 28) if name in ("lenet", "bncnn") else (3, 96, 96) if name == "seed_resnet" else (3, 32, 32)
    for name in MODEL_NAMES
}


def build_model(name: str = "airbench", num_classes: int = 10) -> nn.Module:
    """Build one of the nets in ``MODEL_NAMES`` (see the table in the module docstring).

    The weights come from torch's default initialisation, so seed torch first
    (``torch.manual_seed(seed)``) for a reproducible model.

    Raises:
        ValueError: for an unknown ``name``, listing the valid ones.
    """
    name = check_choice(name, "name", MODEL_NAMES)
    num_classes = check_int(num_classes, "num_classes", low=1)
    return _MODELS[name](num_classes=num_classes)
