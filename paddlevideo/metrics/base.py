"""Base class of test metrics, and gathering of per-rank outputs with the sampler's padding dropped."""
import paddle

from ..utils.errors import UserError


class EmptySetError(UserError, RuntimeError):
    """Validation or test saw no sample (an empty list file)."""


def gather_batch(tensor, world_size: int):
    """Concatenate ``tensor`` ([n, ...]) from each of ``world_size`` ranks along axis 0 (rank order); itself
    when single-process."""
    if world_size <= 1:
        return tensor
    parts = []
    paddle.distributed.all_gather(parts, tensor)
    return paddle.concat(parts, axis=0)


class GatheredOutputs:
    """Collects per-sample ``scores [n, C]``, ``labels [n, 1]`` and optionally ``losses [n]`` of every
    batch from every rank, exactly once per sample.

    ``DistributedBatchSampler`` pads the dataset to a multiple of the world size by repeating
    samples, which land at the end of the last rank's share; concatenating the ranks' batches in
    rank order and keeping only the first ``data_size`` rows drops exactly those repeats. Every
    rank must call ``add`` for every batch (it is a collective operation).
    """

    def __init__(self, data_size: int, world_size: int = 1):
        self.data_size = int(data_size)
        self.world_size = int(world_size)
        self.remaining = int(data_size)
        self.parts = {"scores": [], "labels": [], "losses": []}

    def add(self, scores, labels, losses=None) -> dict:
        """Gather one batch across ranks; returns this step's kept ``{"scores", "labels"[, "losses"]}``."""
        batch = {"scores": scores.astype("float32"), "labels": labels.astype("int64").reshape([-1, 1])}
        if losses is not None:
            batch["losses"] = losses.astype("float32").reshape([-1])
        batch = {name: gather_batch(value, self.world_size) for name, value in batch.items()}
        keep = min(int(batch["scores"].shape[0]), max(self.remaining, 0))
        batch = {name: value[:keep] for name, value in batch.items()}
        self.remaining -= keep
        if keep:
            for name, value in batch.items():
                self.parts[name].append(value)
        return batch

    def concat(self) -> dict:
        """Every kept sample: ``{"scores" [M, C], "labels" [M, 1][, "losses" [M]]}``; empty when none."""
        return {name: paddle.concat(parts, axis=0) for name, parts in self.parts.items() if parts}


class BaseMetric:
    """Test metric protocol: ``update(batch_id, data, outputs)`` per batch, ``accumulate()`` at the end."""

    def __init__(self, data_size, batch_size, log_interval=1, world_size=1, **kwargs):
        self.data_size = int(data_size)
        self.batch_size = int(batch_size)
        self.log_interval = max(1, int(log_interval))
        self.world_size = int(world_size)

    def update(self, batch_id, data, outputs):
        raise NotImplementedError

    def accumulate(self):
        raise NotImplementedError
