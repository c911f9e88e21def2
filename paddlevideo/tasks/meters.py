"""Running averages behind PaddleVideo's per-iteration and per-epoch log lines."""
import paddle


class AverageMeter:
    """Latest value, weighted sum, count and average of one quantity."""

    def __init__(self):
        self.val = 0.0
        self.sum = 0.0
        self.count = 0

    def update(self, value, n: int = 1):
        self.val = float(value)
        self.sum += self.val * n
        self.count += n

    @property
    def avg(self) -> float:
        return self.sum / self.count if self.count else 0.0


class EpochRecord:
    """The meters of one epoch of training or validation, in PaddleVideo's display order."""

    def __init__(self, metric_names=("loss", "top1", "top5")):
        self.metrics = {name: AverageMeter() for name in metric_names}
        self.lr = AverageMeter()
        self.batch_time = AverageMeter()
        self.reader_time = AverageMeter()

    def update_metrics(self, values: dict, n: int):
        for name, meter in self.metrics.items():
            if name in values:
                meter.update(values[name], n)

    def latest(self, with_lr: bool) -> dict:
        """``{loss, [lr,] top1, top5}`` latest values (PaddleVideo's batch-line order)."""
        out = {}
        for name, meter in self.metrics.items():
            out[name] = meter.val
            if with_lr and name == "loss":
                out["lr"] = self.lr.val
        return out

    def averages(self, with_lr: bool = False) -> dict:
        """``{loss, [lr: None,] top1, top5}`` epoch averages; ``lr`` has no average (an empty slot, as in
        PaddleVideo's train ``END`` line)."""
        out = {}
        for name, meter in self.metrics.items():
            out[name] = meter.avg
            if with_lr and name == "loss":
                out["lr"] = None
        return out


    def summary(self, batch_size: int) -> dict:
        """The epoch as data: ``{"loss", "top1", "top5", "lr", "batch_cost", "reader_cost", "ips",
        "batch_cost_sum"}`` (averages; ``lr`` of the last iteration; ``ips`` from ``batch_size``)."""
        out = dict(self.averages(), lr=self.lr.val if self.lr.count else None)
        out.update(batch_cost=self.batch_time.avg, reader_cost=self.reader_time.avg,
                   ips=batch_size * self.batch_time.count / max(self.batch_time.sum, 1e-12),
                   batch_cost_sum=self.batch_time.sum)
        return out


def cuda_memory_text() -> str:
    """PaddleVideo's GPU memory fields of the batch line; empty on builds without CUDA."""
    if not paddle.device.is_compiled_with_cuda() or paddle.device.cuda.device_count() == 0:
        return ""
    mib = 1024 ** 2
    return (f"max_mem_reserved: {paddle.device.cuda.max_memory_reserved() / mib:.2f} MB "
            f"max_mem_allocated: {paddle.device.cuda.max_memory_allocated() / mib:.2f} MB")
