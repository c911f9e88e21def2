"""Validation during training: exact loss and top-1/top-5 over the whole validation set.

PaddleVideo averages per-batch accuracies (the result depends on ``valid_batch_size`` and the
number of processes). Here every rank's logits are gathered, the sampler's padding repeats are
dropped, and accuracy is computed over every validation sample exactly once (SPEC section 6).
"""
import logging
import time

import paddle
import paddle.nn.functional as F

from ..metrics import GatheredOutputs, topk_accuracy
from ..utils.logger import format_batch_log, format_epoch_log
from .amp import autocast
from .meters import EpochRecord, cuda_memory_text
from .progress import epoch_bar

logger = logging.getLogger(__name__)


def _loss_fn(model):
    """The head's loss function when the model has one (cross entropy for TSN)."""
    head = getattr(getattr(model, "_layers", model), "head", None)
    return getattr(head, "loss_func", None) or (lambda scores, labels: F.cross_entropy(scores, labels))


@paddle.no_grad()
def evaluate(model, loader, data_size: int, epoch: int, total_epochs: int, log_interval: int = 20,
             use_amp: bool = False, amp_level=None, max_iters=None, rank: int = 0) -> dict:
    """Run ``model`` over ``loader``; log PaddleVideo's ``val`` lines; return ``{"loss", "top1", "top5"}``.

    ``epoch`` is 1-based (as printed). The model runs in ``test`` mode to expose the logits
    ``[N, C]``; the loss is the head's loss on them (eval mode: no dropout, no label smoothing).
    """
    model.eval()
    loss_fn = _loss_fn(model)
    gathered = GatheredOutputs(data_size)
    record = EpochRecord()
    steps = len(loader) if max_iters is None else min(len(loader), max_iters)
    tic = time.time()
    with epoch_bar(steps, f"val {epoch}/{total_epochs}", rank) as bar:
        for i, data in enumerate(loader):
            if max_iters is not None and i >= max_iters:
                break
            record.reader_time.update(time.time() - tic)
            with autocast(use_amp, amp_level):
                logits = model(data, mode="test")
            outputs, labels = gathered.add(logits, data[1])
            if outputs.shape[0]:
                record.update_metrics({"loss": float(loss_fn(outputs, labels)),
                                       "top1": topk_accuracy(outputs, labels, 1),
                                       "top5": topk_accuracy(outputs, labels, 5)}, int(outputs.shape[0]))
            record.batch_time.update(time.time() - tic)
            tic = time.time()
            bar.update(1)
            if i % log_interval == 0:
                ips = data[0].shape[0] / max(record.batch_time.val, 1e-12)
                logger.info(format_batch_log(epoch, total_epochs, "val", i, record.latest(with_lr=False),
                                             record.batch_time.val, record.reader_time.val, ips,
                                             memory=cuda_memory_text()))
    all_outputs, all_labels = gathered.concat()
    if all_outputs is None:
        raise RuntimeError("validation saw no sample: is the validation list empty?")
    result = {"loss": float(loss_fn(all_outputs, all_labels)),
              "top1": topk_accuracy(all_outputs, all_labels, 1),
              "top5": topk_accuracy(all_outputs, all_labels, 5)}
    batch_size = loader.batch_sampler.batch_size
    avg_ips = batch_size * record.batch_time.count / max(record.batch_time.sum, 1e-12)
    logger.info(format_epoch_log(epoch, "val", result, record.batch_time.avg, record.reader_time.avg,
                                 record.batch_time.sum, avg_ips))
    return result
