"""Recognizer2D: per-frame 2D backbone, head fuses the T segments of each clip."""
import paddle

from ...registry import RECOGNIZERS
from .base import BaseRecognizer


@RECOGNIZERS.register()
class Recognizer2D(BaseRecognizer):
    """TSN-style recognizer. ``imgs [N, T, 3, H, W]`` -> scores ``[N, num_classes]``.

    train returns ``head.loss`` (``{"loss", "top1", "top5"}``); valid returns the logits ``scores`` and the
    per-sample ``losses`` that validation gathers over ranks; test/infer return the logits (no softmax:
    the metrics and predict apply it).
    """

    def forward_net(self, imgs):
        """``imgs [N, T, 3, H, W]`` -> ``[N*T, 3, H, W]`` -> backbone -> head(feature, T) -> ``[N, classes]``.

        T is read from the input: an int in dygraph; traced with a free view dimension (``InputSpec
        [None, None, 3, H, W]``), ``to_static`` turns ``imgs.shape[1]`` into a run-time value, so one
        export takes any view count.
        """
        num_segs = imgs.shape[1]
        # Not reshape_ (PaddleVideo reshapes the caller's tensor in place); same values.
        imgs = paddle.reshape(imgs, [-1] + list(imgs.shape[2:]))
        feature = self.backbone(imgs) if self.backbone is not None else imgs
        return self.head(feature, num_segs) if self.head is not None else feature

    def train_step(self, data_batch):
        """``[imgs, labels [N, 1]]`` -> ``{"loss", "top1", "top5"}`` (label smoothing if configured)."""
        scores = self.forward_net(data_batch[0])
        return self.head.loss(scores, data_batch[1:])

    def val_step(self, data_batch):
        """``{"scores" [N, C], "losses" [N]}``: the logits and the per-sample losses (no label smoothing), from
        which validation computes loss and accuracy over the whole set, once, after gathering the ranks."""
        scores = self.forward_net(data_batch[0])
        return {"scores": scores, "losses": self.head.sample_losses(scores, data_batch[1:])}

    def test_step(self, data_batch):
        """``[imgs, ...]`` -> logits ``[N, classes]``."""
        return self.forward_net(data_batch[0])

    def infer_step(self, data_batch):
        """``[imgs]`` -> logits ``[N, classes]``; traced as one static graph for export."""
        return self.forward_net(data_batch[0])
