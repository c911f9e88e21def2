"""Test metrics (``METRIC`` registry) and ``build_metric``."""
from ..utils.build_utils import build
from .base import BaseMetric, GatheredOutputs, gather_batch, topk_accuracy
from .center_crop_metric import CenterCropMetric
from .registry import METRIC


def build_metric(cfg, **extra):
    """Build the metric named in ``cfg`` (the ``METRIC`` section) with ``extra`` keywords
    (``data_size``, ``batch_size``, ``log_interval``)."""
    return build(cfg, METRIC, **extra)


__all__ = ["METRIC", "BaseMetric", "CenterCropMetric", "GatheredOutputs", "build_metric",
           "gather_batch", "topk_accuracy"]
