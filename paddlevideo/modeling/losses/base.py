"""Base class of the losses: subclasses compute ``_forward``; ``forward`` scales it by ``loss_weight``."""
import paddle.nn as nn


class BaseWeightedLoss(nn.Layer):
    """A loss whose value is multiplied by ``loss_weight`` (1.0 leaves it unchanged)."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def _forward(self, *args, **kwargs):
        raise NotImplementedError

    def forward(self, *args, **kwargs):
        return self._forward(*args, **kwargs) * self.loss_weight
