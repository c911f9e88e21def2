"""Validation during training: exact loss and top-1/top-5 over the whole validation set.

PaddleVideo averages per-batch accuracies (the result depends on ``valid_batch_size`` and the
number of processes). Here the model's ``valid`` step returns only the logits and the per-sample
losses; every rank's are gathered (one all-gather per tensor), the sampler's
padding repeats dropped, and loss and accuracy computed over every validation sample exactly once.
"""
import logging
import time

import paddle

from ..metrics import EmptySetError, GatheredOutputs, set_accuracies
from ..utils.logger import format_batch_log, format_epoch_log
from .amp import autocast
from .meters import EpochRecord, cuda_memory_text
from .context import RunContext, StopAt
from .metrics_log import step_fields
from .progress import epoch_bar

logger = logging.getLogger(__name__)


def exact_metrics(kept: dict) -> dict:
    """``{"loss", "top1", "top5"}`` of gathered ``{"scores", "labels", "losses"}`` (floats)."""
    top1, top5 = set_accuracies(kept["scores"], kept["labels"], (1, 5)).values()
    return {"loss": float(kept["losses"].mean()), "top1": top1, "top5": top5}


@paddle.no_grad()
def evaluate(ctx: RunContext, model, loader, data_size: int, epoch: int) -> dict:
    """Run ``model(data, mode="valid")`` over ``loader`` (``data_size`` clips, 1-based ``epoch``); log
    PaddleVideo's ``val`` lines; append the epoch's figures to ``ctx.metrics_log``; return them: ``{"loss",
    "top1", "top5", "lr": None, "batch_cost", "reader_cost", "ips", "batch_cost_sum"}``. ``ctx.stop`` is
    checked after every batch."""
    model.eval()
    gathered = GatheredOutputs(data_size, ctx.world_size)
    record = EpochRecord()
    tic = time.time()
    with epoch_bar(ctx.steps_of(loader), f"val {epoch}/{ctx.epochs}", ctx.rank) as bar:
        for i, data in enumerate(loader):
            if ctx.max_iters is not None and i >= ctx.max_iters:
                break
            record.reader_time.update(time.time() - tic)
            with autocast(ctx.use_amp, ctx.amp_level):
                outputs = model(data, mode="valid")
            kept = gathered.add(outputs["scores"], data[1], outputs["losses"])
            if kept["scores"].shape[0]:
                record.update_metrics(exact_metrics(kept), int(kept["scores"].shape[0]))
            record.batch_time.update(time.time() - tic)
            tic = time.time()
            bar.update(1)
            if ctx.stop.requested(ctx.world_size):  # train_model names the last checkpoint and the resume command
                raise StopAt(epoch, i, validating=True)
            if i % ctx.log_interval == 0:
                ips = data[0].shape[0] / max(record.batch_time.val, 1e-12)
                logger.info(format_batch_log(epoch, ctx.epochs, "val", i, record.latest(with_lr=False),
                                             record.batch_time.val, record.reader_time.val, ips,
                                             memory=cuda_memory_text()))
    kept = gathered.concat()
    if not kept:
        raise EmptySetError("validation saw no sample: is the validation list empty?")
    result = exact_metrics(kept)
    batch_size = loader.batch_sampler.batch_size
    avg_ips = batch_size * record.batch_time.count / max(record.batch_time.sum, 1e-12)
    logger.info(format_epoch_log(epoch, "val", result, record.batch_time.avg, record.reader_time.avg,
                                 record.batch_time.sum, avg_ips))
    summary = step_fields(result, record.batch_time.avg, record.reader_time.avg, avg_ips)
    summary["batch_cost_sum"] = record.batch_time.sum
    ctx.metrics_log.write("epoch", "val", epoch=epoch, step=None, **summary)
    return summary
