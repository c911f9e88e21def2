"""Base class of classification heads: loss and top-1/top-5 accuracy as PaddleVideo reports them."""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ...metrics.accuracy import topk_accuracy
from ...utils.dist_utils import get_dist_info
from ...utils.errors import UserError
from ..builder import build_loss


class LabelLayoutError(UserError, ValueError):
    """``head.loss`` got labels in another layout than ``labels [N, 1]`` or ``[labels]``."""


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

    def loss(self, scores, labels, valid_mode=False):
        """``scores [N, C]``, ``labels [N, 1]`` int64 (or ``[labels]``) -> ``{"loss", "top1", "top5"}``.

        Label smoothing (``ls_eps > 0``) applies in training only, as in PaddleVideo.
        """
        label = self._single_label(labels)
        if self.ls_eps != 0.0 and not valid_mode:
            loss = self.label_smooth_loss(scores, label)
        else:
            loss = self.loss_func(scores, label)
        top1, top5 = self.get_acc(scores, label, valid_mode)
        return {"top1": top1, "top5": top5, "loss": loss}

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

    def get_acc(self, scores, labels, valid_mode):
        """Top-1 and top-k accuracy (k = min(5, classes)) as float32 tensors.

        In validation with several processes both are averaged over the ranks (all-reduce), as in
        PaddleVideo. PaddleVideo crashes with fewer than 5 classes; here top-5 becomes top-C.
        """
        top1 = topk_accuracy(scores, labels, 1)
        top5 = topk_accuracy(scores, labels, 5)
        _, world_size = get_dist_info()
        if world_size > 1 and valid_mode:
            import paddle.distributed as dist
            dist.all_reduce(top1, op=dist.ReduceOp.SUM)
            dist.all_reduce(top5, op=dist.ReduceOp.SUM)
            top1 = top1 / world_size
            top5 = top5 / world_size
        return top1, top5
