"""Cross-entropy on class scores (mean over the batch), optionally class-weighted."""
import paddle
import paddle.nn.functional as F

from ..registry import LOSSES
from .base import BaseWeightedLoss


@LOSSES.register()
class CrossEntropyLoss(BaseWeightedLoss):
    """``F.cross_entropy(score [N, C], labels [N, 1] int64 | soft [N, C])`` -> scalar mean loss.

    ``class_weight`` (list of C floats) rescales classes; extra keyword arguments (``soft_label``)
    go to ``F.cross_entropy``.
    """

    def __init__(self, class_weight=None, loss_weight: float = 1.0):
        super().__init__(loss_weight=loss_weight)
        self.class_weight = None
        if class_weight is not None:
            self.class_weight = paddle.to_tensor(class_weight, dtype="float32")

    def _forward(self, score, labels, **kwargs):
        if self.class_weight is not None and "weight" not in kwargs:
            kwargs["weight"] = self.class_weight
        return F.cross_entropy(score, labels, **kwargs)
