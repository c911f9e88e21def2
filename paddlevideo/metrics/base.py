"""Base class of test metrics, and gathering of per-rank outputs with the sampler's padding dropped."""
import paddle

from ..utils.dist_utils import get_dist_info


def gather_batch(tensor):
    """Concatenate ``tensor`` ([n, ...]) from every rank along axis 0 (rank order); itself when single-process."""
    _, world_size = get_dist_info()
    if world_size <= 1:
        return tensor
    parts = []
    paddle.distributed.all_gather(parts, tensor)
    return paddle.concat(parts, axis=0)


class GatheredOutputs:
    """Collects ``(outputs [n, C], labels [n, 1])`` of every batch from every rank, exactly once per sample.

    ``DistributedBatchSampler`` pads the dataset to a multiple of the world size by repeating
    samples, which land at the end of the last rank's share; concatenating the ranks' batches in
    rank order and keeping only the first ``data_size`` rows drops exactly those repeats.
    """

    def __init__(self, data_size: int):
        self.data_size = int(data_size)
        self.remaining = int(data_size)
        self.outputs, self.labels = [], []

    def add(self, outputs, labels):
        """Gather one batch across ranks; returns the kept ``(outputs, labels)`` of this step."""
        outputs = gather_batch(outputs.astype("float32"))
        labels = gather_batch(labels.astype("int64").reshape([-1, 1]))
        keep = min(int(outputs.shape[0]), max(self.remaining, 0))
        outputs, labels = outputs[:keep], labels[:keep]
        self.remaining -= keep
        if keep:
            self.outputs.append(outputs)
            self.labels.append(labels)
        return outputs, labels

    def concat(self):
        """All kept ``(outputs [data_size, C], labels [data_size, 1])``; ``(None, None)`` when empty."""
        if not self.outputs:
            return None, None
        return paddle.concat(self.outputs, axis=0), paddle.concat(self.labels, axis=0)


def topk_accuracy(outputs, labels, k: int) -> float:
    """Share of rows whose label is among the ``k`` highest scores (``k`` capped at the class count)."""
    k = min(int(k), int(outputs.shape[-1]))
    return float(paddle.metric.accuracy(input=outputs, label=labels.reshape([-1, 1]), k=k))


class BaseMetric:
    """Test metric protocol: ``update(batch_id, data, outputs)`` per batch, ``accumulate()`` at the end."""

    def __init__(self, data_size, batch_size, log_interval=1, **kwargs):
        self.data_size = int(data_size)
        self.batch_size = int(batch_size)
        self.log_interval = max(1, int(log_interval))
        _, self.world_size = get_dist_info()

    def update(self, batch_id, data, outputs):
        raise NotImplementedError

    def accumulate(self):
        raise NotImplementedError
