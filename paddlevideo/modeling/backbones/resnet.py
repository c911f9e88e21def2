"""ResNet v1.5 backbone (depth 18/34/50/101/152) with PaddleVideo's layer and parameter names.

State-dict keys (``conv._conv.weight``, ``res2a.conv0._batch_norm._mean``, ``res4b1.conv2...``) and
ParamAttr names (``conv1_weights``, ``res2a_branch2a_weights``, ``bn2a_branch2a_scale``) equal
PaddleVideo's, so its checkpoints and ImageNet ``ResNet50_pretrain.pdparams`` load unchanged.

``data_format="NHWC"`` runs the convolutions channels-last (faster on CPU with oneDNN); parameters
are identical in both layouts (Paddle keeps conv weights OIHW), input and output stay NCHW.
"""
import logging
import os

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle import ParamAttr

from ...utils.errors import UserError
from ...utils.download import fetch_weights
from ...utils.save_load import CheckpointError, load_ckpt
from ..registry import BACKBONES
from ..weight_init import weight_init_

logger = logging.getLogger(__name__)

SUPPORTED_DEPTHS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3],
                    101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}
STAGE_WIDTHS = [64, 128, 256, 512]


class ConvBNLayer(nn.Layer):
    """Conv2D (no bias, 'same' padding for odd k) + BatchNorm2D + optional ReLU.

    ``name`` is the Caffe-style layer name (``conv1``, ``res2a_branch2a``): the conv weight becomes
    ``<name>_weights`` and the BN parameters ``bn_conv1_*`` / ``bn2a_branch2a_*`` (``_scale``, ``_offset``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, act=None,
                 name=None, data_format="NCHW"):
        super().__init__()
        self._conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                               padding=(kernel_size - 1) // 2, groups=groups,
                               weight_attr=ParamAttr(name=name + "_weights"), bias_attr=False,
                               data_format=data_format)
        bn_name = "bn_" + name if name == "conv1" else "bn" + name[3:]
        self._batch_norm = nn.BatchNorm2D(out_channels, momentum=0.9, epsilon=1e-5,
                                          weight_attr=ParamAttr(name=bn_name + "_scale"),
                                          bias_attr=ParamAttr(name=bn_name + "_offset"),
                                          data_format=data_format)
        self._act = act

    def forward(self, inputs):
        y = self._batch_norm(self._conv(inputs))
        # In place: BN's backward needs its input, not its output, so ReLU may overwrite the output.
        # Same values and gradients, one feature-map allocation less (benchmarks/bench_model.py).
        return F.relu_(y) if self._act == "relu" else y


class BottleneckBlock(nn.Layer):
    """1x1 -> 3x3 (stride here, v1.5) -> 1x1 x4 channels, plus identity or 1x1 projection ``short``."""

    expansion = 4

    def __init__(self, in_channels, out_channels, stride, shortcut=True, name=None, data_format="NCHW"):
        super().__init__()
        fmt = dict(data_format=data_format)
        self.conv0 = ConvBNLayer(in_channels, out_channels, 1, act="relu", name=name + "_branch2a", **fmt)
        self.conv1 = ConvBNLayer(out_channels, out_channels, 3, stride=stride, act="relu",
                                 name=name + "_branch2b", **fmt)
        self.conv2 = ConvBNLayer(out_channels, out_channels * 4, 1, name=name + "_branch2c", **fmt)
        if not shortcut:
            self.short = ConvBNLayer(in_channels, out_channels * 4, 1, stride=stride,
                                     name=name + "_branch1", **fmt)
        self.shortcut = shortcut

    def forward(self, inputs):
        y = self.conv2(self.conv1(self.conv0(inputs)))
        short = inputs if self.shortcut else self.short(inputs)
        # y (a BN output) is not needed by any backward: add and ReLU in place, same results.
        return F.relu_(y.add_(short))


class BasicBlock(nn.Layer):
    """3x3 (stride) -> 3x3, plus identity or 1x1 projection ``short`` (depth 18/34).

    PaddleVideo's version of this block crashes (it passes ``filter_size``); this one works and
    keeps its names (``conv0``, ``conv1``, ``short``).
    """

    expansion = 1

    def __init__(self, in_channels, out_channels, stride, shortcut=True, name=None, data_format="NCHW"):
        super().__init__()
        fmt = dict(data_format=data_format)
        self.conv0 = ConvBNLayer(in_channels, out_channels, 3, stride=stride, act="relu",
                                 name=name + "_branch2a", **fmt)
        self.conv1 = ConvBNLayer(out_channels, out_channels, 3, name=name + "_branch2b", **fmt)
        if not shortcut:
            self.short = ConvBNLayer(in_channels, out_channels, 1, stride=stride,
                                     name=name + "_branch1", **fmt)
        self.shortcut = shortcut

    def forward(self, inputs):
        y = self.conv1(self.conv0(inputs))
        short = inputs if self.shortcut else self.short(inputs)
        return F.relu_(y.add_(short))


class ResNetError(UserError, ValueError):
    """A ResNet config value is invalid (depth, data_format, pretrained)."""


def block_name(depth: int, stage: int, index: int) -> str:
    """PaddleVideo's block name: ``res{stage+2}{a,b,c..}``; stage 4 of depth 101/152 is ``res4a, res4b1, res4b2..``."""
    if depth in (101, 152) and stage == 2 and index > 0:
        return f"res{stage + 2}b{index}"
    return f"res{stage + 2}{chr(ord('a') + index)}"


@BACKBONES.register()
class ResNet(nn.Layer):
    """ResNet backbone: ``[B, 3, H, W]`` float32 -> ``[B, C, H/32, W/32]`` (C = 2048 for 50+, 512 for 18/34).

    Args:
        depth: 18, 34, 50, 101 or 152.
        pretrained: path of a ``.pdparams`` to load in ``init_weights`` (keys ``k`` or ``backbone.k``);
            ``None``/empty -> KaimingNormal convs, BN scale 1 / offset 0. A path that does not exist
            is an error (training from scratch by accident would be silent and much worse).
        data_format: ``"NCHW"`` or ``"NHWC"``: layout used *inside* (same parameters, same results).
    """

    def __init__(self, depth, pretrained=None, data_format="NCHW"):
        super().__init__()
        if depth not in SUPPORTED_DEPTHS:
            raise ResNetError(f"ResNet depth must be one of {sorted(SUPPORTED_DEPTHS)}, got {depth!r}")
        if data_format not in ("NCHW", "NHWC"):
            raise ResNetError(f"ResNet data_format must be 'NCHW' or 'NHWC', got {data_format!r}")
        self.pretrained = pretrained
        self.layers = depth
        self.data_format = data_format
        fmt = dict(data_format=data_format)

        # A fresh name scope per backbone: dygraph refuses a second parameter called 'conv1_weights'
        # in one scope, and we build several models per process (trainer, tests, export).
        with paddle.utils.unique_name.guard():
            # Construction order matters: each layer's default initialiser draws from the global
            # generator, and PaddleVideo's order gives the same random weights for the same seed.
            self.conv = ConvBNLayer(3, 64, 7, stride=2, act="relu", name="conv1", **fmt)
            self.pool2D_max = nn.MaxPool2D(kernel_size=3, stride=2, padding=1, **fmt)
            block_cls = BottleneckBlock if depth >= 50 else BasicBlock
            self.block_list = []
            in_channels = 64
            for stage, num_blocks in enumerate(SUPPORTED_DEPTHS[depth]):
                width = STAGE_WIDTHS[stage]
                for index in range(num_blocks):
                    name = block_name(depth, stage, index)
                    block = self.add_sublayer(name, block_cls(
                        in_channels, width, stride=2 if index == 0 and stage != 0 else 1,
                        shortcut=index != 0, name=name, **fmt))
                    in_channels = width * block_cls.expansion
                    self.block_list.append(block)
            self.out_channels = in_channels

    def init_weights(self):
        """Load ``pretrained`` (via ``load_ckpt``, which logs what did not load) or initialise randomly."""
        if isinstance(self.pretrained, str) and self.pretrained.strip():
            path = fetch_weights(self.pretrained.strip())  # an http(s) URL: its cached download
            if not os.path.isfile(path):
                raise CheckpointError(
                    f"MODEL.backbone.pretrained: '{path}' not found. Put the ImageNet weights there "
                    f"(docs/model.md) or train from random init with -o MODEL.backbone.pretrained=''")
            load_ckpt(self, path, logger=logger)
            return
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                weight_init_(layer, "KaimingNormal")
            elif isinstance(layer, nn.BatchNorm2D):
                weight_init_(layer, "Constant", value=1)

    def forward(self, inputs):
        """``inputs [B, 3, H, W]`` (NCHW) -> feature map ``[B, C, h, w]`` (NCHW)."""
        y = inputs
        if self.data_format == "NHWC":
            y = paddle.transpose(y, [0, 2, 3, 1])
        y = self.pool2D_max(self.conv(y))
        for block in self.block_list:
            y = block(y)
        if self.data_format == "NHWC":
            y = paddle.transpose(y, [0, 3, 1, 2])
        return y
