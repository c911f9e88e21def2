"""Base recognizer: builds backbone and head from their configs and dispatches on ``mode``."""
import paddle
import paddle.nn as nn

from ... import builder

MODES = ("train", "valid", "test", "infer")


class ModeError(ValueError):
    """``forward`` was called with a mode other than train/valid/test/infer (a caller's bug, not bad input)."""


class BaseRecognizer(nn.Layer):
    """``backbone`` / ``head``: config dicts (``{name: ..., ...}``) or ``None``.

    Each part is built and initialised in turn (backbone, its init, head, its init): the random
    draws then come in PaddleVideo's order.
    """

    def __init__(self, backbone=None, head=None):
        super().__init__()
        self.backbone = None
        self.head = None
        # Own name scope: auto names (batch_norm2d_0.w_0, ...) restart per model, as in a fresh
        # PaddleVideo process, and building a second model never clashes with the first.
        with paddle.utils.unique_name.guard():
            if backbone is not None:
                self.backbone = builder.build_backbone(backbone)
                if hasattr(self.backbone, "init_weights"):
                    self.backbone.init_weights()
            if head is not None:
                self.head = builder.build_head(head)
                if hasattr(self.head, "init_weights"):
                    self.head.init_weights()

    def forward(self, data_batch, mode="infer"):
        """``data_batch`` = ``[imgs, labels]`` (train/valid) or ``[imgs]``; a bare ``imgs`` tensor is
        accepted too (``to_static`` export with one InputSpec). Returns the ``*_step`` result."""
        if not isinstance(data_batch, (list, tuple)):  # a Tensor (or a static-graph Value when traced)
            data_batch = [data_batch]
        if mode == "train":
            return self.train_step(data_batch)
        if mode == "valid":
            return self.val_step(data_batch)
        if mode == "test":
            return self.test_step(data_batch)
        if mode == "infer":
            return self.infer_step(data_batch)
        raise ModeError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def train_step(self, data_batch):
        raise NotImplementedError

    def val_step(self, data_batch):
        raise NotImplementedError

    def test_step(self, data_batch):
        raise NotImplementedError

    def infer_step(self, data_batch):
        raise NotImplementedError
