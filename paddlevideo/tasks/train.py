"""``train_model``: PaddleVideo's training loop (epochs, logs, validation, checkpoints, resume)."""
import logging
import math
import time

import paddle

from ..modeling import build_model
from ..solver import build_lr, build_optimizer
from ..utils.config import ConfigError, save_config
from ..utils.config_check import setting
from ..utils.logger import format_batch_log, format_epoch_log
from ..utils.dist_utils import set_random_seed
from ..utils.errors import UserError
from ..utils.save_load import load_ckpt
from ..utils.stop_signals import GracefulStop, StopRequested
from .amp import amp_decorate, autocast, resolve_amp
from .checkpoints import best_prefix, epoch_prefix, latest_epoch, load_resume, remove_stale_temp_files, save_pair
from .context import RunContext, StopAt, Trainables
from .data import build_split
from .environment import select_device
from .meters import EpochRecord, cuda_memory_text
from .metrics_log import step_fields
from .profiler import StepProfiler
from .progress import epoch_bar
from .rank_sync import check_ranks_in_sync
from .run_setup import resume_command
from .seeding import rank_seed, seed_epoch
from .validate import evaluate

logger = logging.getLogger(__name__)


class TrainingDiverged(UserError, FloatingPointError):
    """The loss or the learning rate became unusable (NaN, inf, negative): stop before the weights are."""


class _ProfilingDone(Exception):
    """``-p ...;exit_on_finished=True``: the profiled range ended before iteration ``step`` of 1-based ``epoch``."""

    def __init__(self, epoch, step):
        super().__init__(epoch, step)
        self.epoch, self.step = epoch, step


def _check_finite(loss_value: float, lr: float, epoch: int, step: int):
    if not math.isfinite(loss_value):
        raise TrainingDiverged(f"the loss is {loss_value} at epoch {epoch} step {step}: training stopped before "
                               "the weights were updated with it (the checkpoints so far are intact); lower "
                               "OPTIMIZER.learning_rate or check the data")
    if not math.isfinite(lr) or lr < 0:
        raise TrainingDiverged(f"the learning rate is {lr} at epoch {epoch} step {step}: "
                               "OPTIMIZER.learning_rate must give rates >= 0")


def _batches(loader, stop, epoch):
    """``enumerate(loader)``; a loader failure after a stop signal (its workers got the signal too) is
    the stop, not an error."""
    iterator = iter(loader)
    index = 0
    while True:
        try:
            data = next(iterator)
        except StopIteration:
            return
        except Exception:
            if stop.signum is not None:
                raise StopAt(epoch) from None
            raise
        yield index, data
        index += 1


def train_one_epoch(ctx: RunContext, parts: Trainables, loader, epoch: int) -> EpochRecord:
    """One pass over ``loader`` (0-based ``epoch``); logs (and appends to ``metrics.jsonl``) every
    ``ctx.log_interval`` iterations and the epoch summary; steps the scheduler per iteration (``iter_step``)
    or once at the end. Returns the ``EpochRecord`` (``.summary(batch_size)``: the epoch as data)."""
    record = EpochRecord()
    steps = ctx.steps_of(loader)
    model, optimizer = parts.model, parts.optimizer
    model.train()
    tic = time.time()
    with epoch_bar(steps, f"epoch {epoch + 1}/{ctx.epochs}", ctx.rank) as bar:
        for i, data in _batches(loader, ctx.stop, epoch + 1):
            if ctx.max_iters is not None and i >= ctx.max_iters:
                break
            record.reader_time.update(time.time() - tic)
            if ctx.profiler.step():
                raise _ProfilingDone(epoch + 1, i)
            with autocast(ctx.use_amp, ctx.amp_level):
                outputs = model(data, mode="train")
            loss = outputs["loss"]
            # AMP's scaler skips steps whose scaled loss overflows; without it a non-finite loss is fatal.
            _check_finite(float(loss) if parts.scaler is None else 0.0, float(optimizer.get_lr()), epoch + 1, i)
            if parts.scaler is not None:
                scaled = parts.scaler.scale(loss)
                scaled.backward()
                parts.scaler.minimize(optimizer, scaled)
            else:
                loss.backward()
                optimizer.step()
            optimizer.clear_grad()
            batch_size = int(data[0].shape[0])
            record.lr.update(optimizer.get_lr(), batch_size)
            record.update_metrics({k: float(v) for k, v in outputs.items() if k in record.metrics}, batch_size)
            record.batch_time.update(time.time() - tic)
            tic = time.time()
            bar.update(1)
            if i % ctx.log_interval == 0:
                _log_step(ctx, record, epoch, i, steps, batch_size)
            if ctx.iter_step:
                parts.scheduler.step()
            if ctx.stop.requested(ctx.world_size):
                raise StopAt(epoch + 1, i)
    if not ctx.iter_step and hasattr(parts.scheduler, "step"):
        parts.scheduler.step()
    summary = record.summary(loader.batch_sampler.batch_size)
    logger.info(format_epoch_log(epoch + 1, "train", record.averages(with_lr=True), summary["batch_cost"],
                                 summary["reader_cost"], summary["batch_cost_sum"], summary["ips"]))
    ctx.metrics_log.write("epoch", "train", epoch=epoch + 1, step=None, **summary)
    return record


def _log_step(ctx: RunContext, record: EpochRecord, epoch: int, i: int, steps: int, batch_size: int):
    """PaddleVideo's ``train`` batch line, and the same figures as a ``step`` record in ``metrics.jsonl``."""
    left = (ctx.epochs - epoch - 1) * steps + (steps - i - 1)
    latest, ips = record.latest(with_lr=True), batch_size / max(record.batch_time.val, 1e-12)
    logger.info(format_batch_log(epoch + 1, ctx.epochs, "train", i, latest, record.batch_time.val,
                                 record.reader_time.val, ips, eta_sec=left * record.batch_time.avg,
                                 memory=cuda_memory_text()))
    ctx.metrics_log.write("step", "train", epoch=epoch + 1, step=i, **step_fields(
        latest, record.batch_time.val, record.reader_time.val, ips))


def train_model(cfg, weights=None, validate=False, use_amp=False, amp_level=None, max_iters=None,
                profiler_options=None, seed=1234, rank=0, world_size=1):
    """Train ``cfg.MODEL`` on ``cfg.DATASET.train`` for ``cfg.epochs`` epochs; returns ``(model, results)``.

    ``weights``: fine-tune from this state dict (only ``head.fc`` may differ: another class count).
    ``cfg.resume_epoch = N``: continue after epoch N from ``<model_name>_epoch_0000N.pdparams/.pdopt``.
    ``rank``/``world_size``: what ``environment.init_distributed()`` returned; with more than one process
    the model is wrapped in ``paddle.DataParallel``.
    Writes checkpoints, ``config.yaml`` and ``metrics.jsonl`` to ``output_dir_of(cfg)`` on rank 0 only;
    ``config.yaml`` only once the run has started (a failed start leaves an earlier run's file alone).
    SIGTERM/SIGINT stop at the next safe point with ``StopRequested`` (its message names the last complete
    checkpoint and the command that resumes); a non-finite loss or a negative rate raise ``TrainingDiverged``.

    ``results`` (plain data, the same figures as ``metrics.jsonl``)::

        {"output_dir": str,
         "epochs": [{"epoch": 1, "train": {"loss", "top1", "top5", "lr", "batch_cost", "reader_cost",
                                           "ips", "batch_cost_sum"},
                     "val": {the same keys, "lr": None}},                 # "val" only when validated
                    ...],                                                   # epochs run (not resumed past)
         "best_top1": float or None, "best_epoch": int or None}  # highest val top1 (first epoch reaching it)
    """
    # Paddle names optimizer accumulators from a per-process counter (conv1_weights_velocity_0, then _1 in
    # a second run): a fresh counter per run gives each run the names a fresh process gives, so a .pdopt
    # written by one run resumes in a later run of the same process (the Python API, in-process tests).
    with paddle.utils.unique_name.guard():
        return _train_model(cfg, weights, validate, use_amp, amp_level, max_iters, profiler_options, seed, rank,
                            world_size)


def _train_model(cfg, weights, validate, use_amp, amp_level, max_iters, profiler_options, seed, rank, world_size):
    device = select_device()
    resume_epoch = int(setting(cfg, "resume_epoch"))
    if resume_epoch and weights:
        raise ConfigError(f"resume_epoch={resume_epoch} and -w {weights} conflict: fine-tuning starts a new "
                          "run; drop one of them")
    if resume_epoch >= cfg.epochs:  # PaddleVideo skips every epoch and finishes; say so
        logger.warning(f"resume_epoch={resume_epoch} >= epochs={cfg.epochs}: nothing left to train")
    ctx = RunContext.from_config(cfg, rank, world_size, device=device, seed=seed, max_iters=max_iters,
                                 profiler=StepProfiler(profiler_options), stop=GracefulStop())
    logger.info(f"device: {device}, world size: {world_size}, output_dir: {ctx.output_dir}")
    ctx.use_amp, ctx.amp_level = resolve_amp(use_amp, amp_level, device)
    parts, train_loader, valid = _start_run(ctx, cfg, weights, validate, resume_epoch)
    if ctx.is_main:
        save_config(cfg, ctx.output_dir)
        stale = remove_stale_temp_files(ctx.output_dir, ctx.model_name)
        if stale:
            logger.warning(f"removed {len(stale)} partial checkpoint file(s) of an interrupted run: {stale}")
    results = {"output_dir": ctx.output_dir, "epochs": [], "best_top1": None, "best_epoch": None}
    with ctx.stop:
        try:
            _epochs(ctx, cfg, parts, train_loader, valid, resume_epoch, results)
        except _ProfilingDone as where:  # PaddleVideo exits with status 0 here, the epoch under way unsaved
            logger.info(f"profiling finished before epoch {where.epoch} step {where.step} (exit_on_finished): "
                        f"training {cfg.model_name} ends here, epoch {where.epoch} not saved")
            return parts.model, results
        except StopAt as where:
            raise StopRequested(ctx.stop.signum, _stop_message(ctx, where)) from None
        finally:
            ctx.profiler.close()
    if world_size > 1:
        check_ranks_in_sync(parts.model, world_size)
    logger.info(f"training {cfg.model_name} finished")
    return parts.model, results


def _start_run(ctx: RunContext, cfg, weights, validate, resume_epoch):
    """``(Trainables, train_loader, (valid_loader, valid_size) or None)``, with resumed or fine-tuning weights
    loaded."""
    set_random_seed(ctx.seed)  # model init: the same on every rank (DataParallel also broadcasts rank 0's)
    model = build_model(cfg.MODEL)
    train_dataset, train_loader = build_split(cfg, "train", seed=rank_seed(ctx.seed, ctx.rank))
    valid = None
    if validate:
        valid_dataset, valid_loader = build_split(cfg, "valid", seed=rank_seed(ctx.seed, ctx.rank))
        valid = (valid_loader, len(valid_dataset))
    if len(train_loader) == 0:
        raise ConfigError(
            f"{cfg.DATASET.train.get('file_path')}: {len(train_dataset)} training clips make no full "
            f"batch of DATASET.batch_size={train_loader.batch_sampler.batch_size} per process x "
            f"{ctx.world_size} process(es) (the last incomplete batch is dropped); lower the batch size or add clips")
    scheduler = build_lr(cfg.OPTIMIZER.learning_rate, len(train_loader))
    optimizer = build_optimizer(cfg.OPTIMIZER, scheduler, model=model)
    scaler = None
    if ctx.use_amp:
        model, optimizer, scaler = amp_decorate(model, optimizer, ctx.amp_level)
    if resume_epoch:
        prefix = load_resume(model, optimizer, ctx.output_dir, ctx.model_name, resume_epoch)
        logger.info(f"Resume from checkpoint: {prefix}")
    if weights:
        load_ckpt(model, weights, only_may_differ=("head.fc.",))
        logger.info(f"Finetune from checkpoint: {weights}")
    if ctx.world_size > 1:
        model = paddle.DataParallel(model)
    return Trainables(model, optimizer, scheduler, scaler), train_loader, valid


def _epochs(ctx: RunContext, cfg, parts: Trainables, loader, valid, resume_epoch, results: dict):
    """The epoch loop: train, save the epoch's checkpoint, then validate (and save the best); fills ``results``
    as epochs complete."""
    save_interval, val_interval = setting(cfg, "save_interval"), setting(cfg, "val_interval")
    best = 0.0
    for epoch in range(ctx.epochs):
        if epoch < resume_epoch:
            logger.info(f"| epoch: [{epoch + 1}] <= resume_epoch: [{resume_epoch}], continue...")
            continue
        seed_epoch(ctx.seed, epoch, ctx.rank)
        loader.batch_sampler.set_epoch(epoch)
        record = train_one_epoch(ctx, parts, loader, epoch)
        entry = {"epoch": epoch + 1, "train": record.summary(loader.batch_sampler.batch_size)}
        results["epochs"].append(entry)
        last = epoch == ctx.epochs - 1
        saved = ctx.is_main and (epoch % save_interval == 0 or last)
        if saved:  # before validation: an error there must not lose the epoch just trained
            save_pair(parts.model, parts.optimizer, epoch_prefix(ctx.output_dir, ctx.model_name, epoch + 1))
        if valid is not None and (epoch % val_interval == 0 or last):
            try:
                result = evaluate(ctx, parts.model, valid[0], valid[1], epoch + 1)
            except BaseException as err:
                if ctx.is_main and not saved:
                    save_pair(parts.model, parts.optimizer, epoch_prefix(ctx.output_dir, ctx.model_name, epoch + 1))
                    why = "stopped" if isinstance(err, StopAt) else "failed"
                    logger.warning(f"validation {why}: saved epoch {epoch + 1} first, so its training is kept")
                raise
            entry["val"] = result
            if results["best_top1"] is None or result["top1"] > results["best_top1"]:
                results["best_top1"], results["best_epoch"] = result["top1"], epoch + 1
            if result["top1"] > best:
                best = result["top1"]
                if ctx.is_main:
                    save_pair(parts.model, parts.optimizer, best_prefix(ctx.output_dir, ctx.model_name))
                logger.info(f"Already save the best model (top1 acc){int(best * 10000) / 10000}")
        if not last and ctx.stop.requested(ctx.world_size):
            raise StopAt(epoch + 1)


def _stop_message(ctx: RunContext, where) -> str:
    """Where training stopped, the last complete checkpoint and the command that resumes it."""
    epoch = latest_epoch(ctx.output_dir, ctx.model_name)
    if epoch:
        kept = f"last complete checkpoint: {epoch_prefix(ctx.output_dir, ctx.model_name, epoch)}.pdparams"
        how = f"resume with: {resume_command(world_size=ctx.world_size)}"
    else:
        kept, how = "no epoch checkpoint was complete yet", "start again to train"
    return f"training stopped by {ctx.stop.signal_name} at {where.where()}; {kept}; {how}"
