"""``CenterCropMetric``: top-k accuracy of clip-level logits over the whole test set (all ranks)."""
import logging

from .accuracy import set_accuracies
from .base import BaseMetric, EmptySetError, GatheredOutputs
from .registry import METRIC

logger = logging.getLogger(__name__)


@METRIC.register()
class CenterCropMetric(BaseMetric):
    """Accuracy of ``outputs [N, C]`` against ``data[1]`` labels ``[N, 1]``.

    For TSN the head already averages all views (25 segments x 10 crops) into one row per clip,
    so each row is one test sample. Logs PaddleVideo's ``[TEST] Processing batch i/n ...`` every
    ``log_interval`` batches and ``[TEST] finished, avg_acc1=..., avg_acc5=...`` at the end.
    """

    def __init__(self, data_size, batch_size, log_interval=1, topk=(1, 5), world_size=1, **kwargs):
        super().__init__(data_size, batch_size, log_interval, world_size, **kwargs)
        self.topk = list(topk)
        self.gathered = GatheredOutputs(data_size, world_size)
        self.results = {}

    def update(self, batch_id, data, outputs):
        """Gather this batch's logits and labels from every rank and log progress."""
        self.gathered.add(outputs, data[1])
        if batch_id % self.log_interval == 0:
            total = self.data_size // (self.batch_size * self.world_size)
            logger.info(f"[TEST] Processing batch {batch_id}/{total} ...")

    def accumulate(self):
        """Log and return ``{"avg_acc1": float, "avg_acc5": float}`` over every test sample."""
        kept = self.gathered.concat()
        if not kept:
            raise EmptySetError("CenterCropMetric: no test batch was seen (is the test list empty?)")
        self.results = {f"avg_acc{k}": value
                        for k, value in set_accuracies(kept["scores"], kept["labels"], self.topk).items()}
        text = ", ".join(f"{name}={value}" for name, value in self.results.items())
        logger.info(f"[TEST] finished, {text}")
        return self.results
