"""``test_model``: the ``METRIC`` of a config (``CenterCropMetric`` for TSN) over ``DATASET.test``."""
import logging
import paddle

from ..metrics import build_metric
from ..modeling import build_model
from ..utils.config_check import setting
from ..utils.save_load import CheckpointError, load_ckpt
from ..utils.stop_signals import GracefulStop, StopRequested
from .data import build_split, split_batch_size
from .environment import select_device
from .context import RunContext
from .progress import epoch_bar

logger = logging.getLogger(__name__)


@paddle.no_grad()
def test_model(cfg, weights, rank=0, world_size=1):
    """Load ``weights`` into ``cfg.MODEL`` and evaluate on the test split; returns the metric's results
    (``{"avg_acc1": float, "avg_acc5": float}`` for ``CenterCropMetric``).

    ``rank``/``world_size``: what ``environment.init_distributed()`` returned.
    The backbone's ``pretrained`` file is not loaded (the weights replace it). Outputs of every rank
    are gathered with the distributed sampler's padding dropped, so each clip counts once. Rank 0
    appends a ``test`` line (the results, ``weights``, ``clips``) to ``<output_dir_of(cfg)>/metrics.jsonl``.
    """
    if not weights:
        raise CheckpointError("--test needs the weights to test: -w path/to/MODEL.pdparams")
    ctx = RunContext.from_config(cfg, rank, world_size, device=select_device())
    if cfg.MODEL.get("backbone") and cfg.MODEL.backbone.get("pretrained"):
        cfg.MODEL.backbone.pretrained = ""
    model = build_model(cfg.MODEL)
    load_ckpt(model, weights, strict_shapes=True)
    if ctx.world_size > 1:
        model = paddle.DataParallel(model)
    model.eval()
    dataset, loader = build_split(cfg, "test")
    batch_size = split_batch_size(cfg, "test")
    metric = build_metric(cfg.METRIC, data_size=len(dataset), batch_size=batch_size,
                          log_interval=int(setting(cfg, "METRIC.log_interval")), world_size=ctx.world_size)
    logger.info(f"testing {weights} on {len(dataset)} clips")
    # SIGTERM/SIGINT/SIGHUP stop after the current batch: one line, the loader's workers reaped on the way out.
    with GracefulStop() as stop, epoch_bar(len(loader), "test", ctx.rank) as bar:
        for batch_id, data in enumerate(loader):
            outputs = model(data, mode="test")
            metric.update(batch_id, data, outputs)
            bar.update(1)
            if stop.requested(ctx.world_size):
                raise StopRequested(stop.signum, f"test stopped by {stop.signal_name} after {batch_id + 1} of "
                                                 f"{len(loader)} batches; no result was written")
    results = metric.accumulate()
    ctx.metrics_log.write(
        "test", "test", weights=str(weights), clips=len(dataset), **results)
    return results
