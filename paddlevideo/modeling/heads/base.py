"""Base class of classification heads: the training loss and batch top-1/top-5 as PaddleVideo logs them, and
the per-sample losses validation averages over the whole set."""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ...metrics.accuracy import topk_accuracy
from ..builder import build_loss


class LabelLayoutError(ValueError):
    """``head.loss`` got labels in another layout than ``labels [N, 1]`` or ``[labels]`` (a caller's bug: the
    loaders always give ``[imgs, labels]``)."""


class BaseHead(nn.Layer):
    """Holds ``num_classes``, ``in_channels``, the loss (built from ``loss_cfg``) and ``ls_eps``.

    Subclasses implement ``init_weights()`` and ``forward(x, num_segs) -> scores [N, num_classes]``.
    """

    def __init__(self, num_classes, in_channels, loss_cfg=None, ls_eps=0.0):
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.loss_func = build_loss(loss_cfg if loss_cfg is not None else {"name": "CrossEntropyLoss"})
        self.ls_eps = ls_eps

    def init_weights(self):
        raise NotImplementedError

    def loss(self, scores, labels):
        """Training: ``scores [N, C]``, ``labels [N, 1]`` int64 (or ``[labels]``) -> ``{"loss", "top1", "top5"}``
        of the batch (float32 tensors). Label smoothing (``ls_eps > 0``) applies here, as in PaddleVideo.

        Top-5 is top-C with fewer than 5 classes (PaddleVideo crashes there).
        """
        label = self._single_label(labels)
        if self.ls_eps != 0.0:
            loss = self.label_smooth_loss(scores, label)
        else:
            loss = self.loss_func(scores, label)
        return {"top1": topk_accuracy(scores, label, 1), "top5": topk_accuracy(scores, label, 5), "loss": loss}

    def sample_losses(self, scores, labels):
        """Per-sample loss ``[N]`` (no smoothing): its mean over a set is the set's loss (class weights aside)."""
        label = self._single_label(labels)
        return self.loss_func(scores, label, reduction="none").reshape([-1])

    @staticmethod
    def _single_label(labels):
        if isinstance(labels, paddle.Tensor):
            return labels
        if isinstance(labels, (list, tuple)) and len(labels) == 1:
            return labels[0]
        count = len(labels) if isinstance(labels, (list, tuple)) else type(labels).__name__
        raise LabelLayoutError(f"head.loss expects labels [N, 1] or [labels], got {count} items")

    def label_smooth_loss(self, scores, labels):
        """Cross entropy against one-hot ``labels [N, 1]`` smoothed by ``ls_eps``."""
        soft = F.label_smooth(F.one_hot(labels, self.num_classes), epsilon=self.ls_eps)
        soft = paddle.squeeze(soft, axis=1)
        return self.loss_func(scores, soft, soft_label=True)
