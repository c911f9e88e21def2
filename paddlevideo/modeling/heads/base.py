"""Base class of classification heads: loss and top-1/top-5 accuracy as PaddleVideo reports them."""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ...utils.dist_utils import get_dist_info
from ..builder import build_loss


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

    def loss(self, scores, labels, valid_mode=False, **kwargs):
        """``scores [N, C]``, ``labels [N, 1]`` int64 (or ``[labels]``) -> ``{"loss", "top1", "top5"}``.

        Label smoothing (``ls_eps > 0``) applies in training only, as in PaddleVideo. Mix-up labels
        ``[labels_a, labels_b, lam]`` give the ``lam``-weighted loss and accuracies.
        """
        if isinstance(labels, paddle.Tensor):
            labels = [labels]
        if len(labels) == 1:
            label = labels[0]
            if self.ls_eps != 0.0 and not valid_mode:
                loss = self.label_smooth_loss(scores, label, **kwargs)
            else:
                loss = self.loss_func(scores, label, **kwargs)
            top1, top5 = self.get_acc(scores, label, valid_mode)
            return {"top1": top1, "top5": top5, "loss": loss}
        if len(labels) == 3:
            labels_a, labels_b, lam = labels
            lam = lam[0]
            if self.ls_eps != 0.0:
                loss_a = self.label_smooth_loss(scores, labels_a, **kwargs)
                loss_b = self.label_smooth_loss(scores, labels_b, **kwargs)
            else:
                loss_a = self.loss_func(scores, labels_a, **kwargs)
                loss_b = self.loss_func(scores, labels_b, **kwargs)
            top1a, top5a = self.get_acc(scores, labels_a, valid_mode)
            top1b, top5b = self.get_acc(scores, labels_b, valid_mode)
            return {"top1": lam * top1a + (1 - lam) * top1b,
                    "top5": lam * top5a + (1 - lam) * top5b,
                    "loss": lam * loss_a + (1 - lam) * loss_b}
        raise ValueError(f"head.loss expects [labels] or [labels_a, labels_b, lam], got {len(labels)} items")

    def label_smooth_loss(self, scores, labels, **kwargs):
        """Cross entropy against one-hot ``labels [N, 1]`` smoothed by ``ls_eps``."""
        soft = F.label_smooth(F.one_hot(labels, self.num_classes), epsilon=self.ls_eps)
        soft = paddle.squeeze(soft, axis=1)
        return self.loss_func(scores, soft, soft_label=True, **kwargs)

    def get_acc(self, scores, labels, valid_mode):
        """Top-1 and top-k accuracy (k = min(5, classes)) as float32 tensors.

        In validation with several processes both are averaged over the ranks (all-reduce), as in
        PaddleVideo. PaddleVideo crashes with fewer than 5 classes; here top-5 becomes top-C.
        """
        top1 = paddle.metric.accuracy(input=scores, label=labels, k=1)
        top5 = paddle.metric.accuracy(input=scores, label=labels, k=min(5, scores.shape[-1]))
        _, world_size = get_dist_info()
        if world_size > 1 and valid_mode:
            import paddle.distributed as dist
            dist.all_reduce(top1, op=dist.ReduceOp.SUM)
            dist.all_reduce(top5, op=dist.ReduceOp.SUM)
            top1 = top1 / world_size
            top5 = top5 / world_size
        return top1, top5
