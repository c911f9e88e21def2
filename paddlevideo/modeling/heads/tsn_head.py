"""TSN head: global average pool, segment consensus (mean), dropout, fully connected layer."""
import paddle
import paddle.nn as nn

from ..registry import HEADS
from ..weight_init import weight_init_
from .base import BaseHead


@HEADS.register()
class TSNHead(BaseHead):
    """``[N*T, C, h, w]`` features -> class scores ``[N, num_classes]`` (logits, no softmax).

    Args:
        num_classes: number of classes.
        in_channels: feature channels C (2048 for ResNet-50).
        loss_cfg: loss config, default ``{name: CrossEntropyLoss}``.
        drop_ratio: dropout probability (0 disables dropout).
        std: std of the Normal(0, std) fc weight init; fc bias starts at 0.
        ls_eps: label-smoothing epsilon used by ``loss`` in training.
        data_format: layout of the incoming features (``NCHW``; the backbone always returns NCHW).
    """

    def __init__(self, num_classes, in_channels, loss_cfg=None, drop_ratio=0.4, std=0.01, ls_eps=0.0,
                 data_format="NCHW"):
        super().__init__(num_classes, in_channels, loss_cfg, ls_eps=ls_eps)
        self.drop_ratio = drop_ratio
        self.std = std
        self.avgpool2d = nn.AdaptiveAvgPool2D((1, 1), data_format=data_format)
        self.dropout = nn.Dropout(p=drop_ratio) if drop_ratio != 0 else None
        self.fc = nn.Linear(in_channels, num_classes)

    def init_weights(self):
        """fc weight ~ Normal(0, std), bias 0, named ``fc_0.w_0`` / ``fc_0.b_0`` as in PaddleVideo."""
        weight_init_(self.fc, "Normal", "fc_0.w_0", "fc_0.b_0", mean=0.0, std=self.std)

    def forward(self, x, num_segs):
        """``x [N*T, C, h, w]``, ``num_segs`` = T -> scores ``[N, num_classes]``."""
        x = self.avgpool2d(x)  # [N*T, C, 1, 1]
        x = paddle.reshape(x, [-1, num_segs, self.in_channels])  # [N, T, C]
        x = paddle.mean(x, axis=1)  # [N, C]
        # One dropout mask per clip, on the consensus: PaddleVideo's order, and its regularisation strength.
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)
