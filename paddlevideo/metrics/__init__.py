"""Test metrics (``METRIC`` registry), ``build_metric``, and the one top-k accuracy."""
from ..utils.build_utils import build
from .accuracy import set_accuracies, topk_accuracy
from .base import BaseMetric, EmptySetError, GatheredOutputs, gather_batch
from .center_crop_metric import CenterCropMetric
from .registry import METRIC


def build_metric(cfg, **extra):
    """Build the metric named in ``cfg`` (the ``METRIC`` section) with ``extra`` keywords
    (``data_size``, ``batch_size``, ``log_interval``, ``world_size``)."""
    return build(cfg, METRIC, **extra)


__all__ = ["METRIC", "BaseMetric", "CenterCropMetric", "EmptySetError", "GatheredOutputs", "build_metric",
           "gather_batch", "set_accuracies", "topk_accuracy"]
