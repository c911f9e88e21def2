"""``train_model``: PaddleVideo's training loop (epochs, logs, validation, checkpoints, resume)."""
import logging
import math
import os
import time

import paddle

from ..modeling import build_model
from ..solver import build_lr, build_optimizer
from ..solver.lr import lr_steps_per_iteration
from ..utils.config import ConfigError, save_config
from ..utils.config_check import setting
from ..utils.logger import format_batch_log, format_epoch_log
from ..utils.dist_utils import set_random_seed
from ..utils.errors import UserError
from ..utils.save_load import load_ckpt
from ..utils.stop_signals import GracefulStop, StopRequested
from .amp import amp_decorate, autocast, resolve_amp
from .checkpoints import best_prefix, epoch_prefix, load_resume, remove_stale_temp_files, save_pair
from .data import build_split
from .environment import select_device
from .meters import EpochRecord, cuda_memory_text
from .metrics_log import MetricsLog, step_fields
from .profiler import StepProfiler
from .progress import epoch_bar
from .rank_sync import check_ranks_in_sync
from .run_setup import resume_command
from .seeding import rank_seed, seed_epoch
from .validate import evaluate

logger = logging.getLogger(__name__)


def output_dir_of(cfg) -> str:
    """``cfg.output_dir`` or PaddleVideo's default ``./output/<model_name>``."""
    return cfg.get("output_dir") or os.path.join("output", cfg.model_name)


class TrainingDiverged(UserError, FloatingPointError):
    """The loss or the learning rate became unusable (NaN, inf, negative): stop before the weights are."""


class _StopAt(Exception):
    """A stop signal reached the loop at a safe point: after ``step`` of 1-based ``epoch`` (None: at its end)."""

    def __init__(self, epoch, step=None):
        super().__init__(epoch, step)
        self.epoch, self.step = epoch, step


def make_train_state(max_iters=None, use_amp=False, amp_level=None, scaler=None, profiler_options=None,
                     metrics_log=None, stop=None, world_size=1) -> dict:
    """What ``train_one_epoch`` needs besides the model, optimizer and data."""
    return {"max_iters": max_iters, "use_amp": use_amp, "amp_level": amp_level, "scaler": scaler,
            "profiler": StepProfiler(profiler_options), "metrics_log": metrics_log or MetricsLog(None),
            "stop": stop or GracefulStop(signals=()), "world_size": world_size}


def _check_finite(loss_value: float, lr: float, epoch: int, step: int):
    if not math.isfinite(loss_value):
        raise TrainingDiverged(f"the loss is {loss_value} at epoch {epoch} step {step}: training stopped before "
                               "the weights were updated with it (the checkpoints so far are intact); lower "
                               "OPTIMIZER.learning_rate or check the data")
    if not math.isfinite(lr) or lr < 0:
        raise TrainingDiverged(f"the learning rate is {lr} at epoch {epoch} step {step}: "
                               "OPTIMIZER.learning_rate must give rates >= 0")


def _batches(loader, stop, world_size, epoch):
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
                raise _StopAt(epoch) from None
            raise
        yield index, data
        index += 1


def train_one_epoch(model, optimizer, scheduler, loader, epoch, cfg, state, rank=0) -> EpochRecord:
    """One pass over ``loader`` (0-based ``epoch``); logs (and appends to ``metrics.jsonl``) every
    ``log_interval`` iterations and the epoch summary; steps ``scheduler`` per iteration (``iter_step``)
    or once at the end. Returns the ``EpochRecord`` (``.summary(batch_size)``: the epoch as data)."""
    record = EpochRecord()
    log_interval = setting(cfg, "log_interval")
    stop, world_size = state["stop"], state["world_size"]
    iter_step = lr_steps_per_iteration(cfg.OPTIMIZER.learning_rate)
    steps = len(loader) if state["max_iters"] is None else min(len(loader), state["max_iters"])
    model.train()
    tic = time.time()
    with epoch_bar(steps, f"epoch {epoch + 1}/{cfg.epochs}", rank) as bar:
        for i, data in _batches(loader, stop, world_size, epoch + 1):
            if state["max_iters"] is not None and i >= state["max_iters"]:
                break
            record.reader_time.update(time.time() - tic)
            state["profiler"].step()
            with autocast(state["use_amp"], state["amp_level"]):
                outputs = model(data, mode="train")
            loss = outputs["loss"]
            # AMP's scaler skips steps whose scaled loss overflows; without it a non-finite loss is fatal.
            _check_finite(float(loss) if state["scaler"] is None else 0.0, float(optimizer.get_lr()), epoch + 1, i)
            if state["scaler"] is not None:
                scaled = state["scaler"].scale(loss)
                scaled.backward()
                state["scaler"].minimize(optimizer, scaled)
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
            if i % log_interval == 0:
                left = (cfg.epochs - epoch - 1) * steps + (steps - i - 1)
                latest, ips = record.latest(with_lr=True), batch_size / max(record.batch_time.val, 1e-12)
                logger.info(format_batch_log(epoch + 1, cfg.epochs, "train", i, latest,
                                             record.batch_time.val, record.reader_time.val, ips,
                                             eta_sec=left * record.batch_time.avg, memory=cuda_memory_text()))
                state["metrics_log"].write("step", "train", epoch=epoch + 1, step=i, **step_fields(
                    latest, record.batch_time.val, record.reader_time.val, ips))
            if iter_step:
                scheduler.step()
            if stop.requested(world_size):
                raise _StopAt(epoch + 1, i)
    if not iter_step and hasattr(scheduler, "step"):
        scheduler.step()
    summary = record.summary(loader.batch_sampler.batch_size)
    logger.info(format_epoch_log(epoch + 1, "train", record.averages(with_lr=True), summary["batch_cost"],
                                 summary["reader_cost"], summary["batch_cost_sum"], summary["ips"]))
    state["metrics_log"].write("epoch", "train", epoch=epoch + 1, step=None, **summary)
    return record


def train_model(cfg, weights=None, parallel=False, validate=False, use_amp=False, amp_level=None,
                max_iters=None, profiler_options=None, seed=1234):
    """Train ``cfg.MODEL`` on ``cfg.DATASET.train`` for ``cfg.epochs`` epochs; returns ``(model, results)``.

    ``weights``: fine-tune from this state dict (only ``head.fc`` may differ: another class count).
    ``cfg.resume_epoch = N``: continue after epoch N from ``<model_name>_epoch_0000N.pdparams/.pdopt``.
    ``parallel``: wrap in ``paddle.DataParallel`` (after ``init_parallel_env``).
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
    rank = paddle.distributed.get_rank() if parallel else 0
    world_size = paddle.distributed.get_world_size() if parallel else 1
    device = select_device()
    output_dir = output_dir_of(cfg)
    resume_epoch = int(setting(cfg, "resume_epoch"))
    if resume_epoch and weights:
        raise ConfigError(f"resume_epoch={resume_epoch} and -w {weights} conflict: fine-tuning starts a new "
                          "run; drop one of them")
    if resume_epoch >= cfg.epochs:  # PaddleVideo skips every epoch and finishes; say so
        logger.warning(f"resume_epoch={resume_epoch} >= epochs={cfg.epochs}: nothing left to train")
    logger.info(f"device: {device}, world size: {world_size}, output_dir: {output_dir}")
    run = _start_run(cfg, weights, validate, use_amp, amp_level, seed, rank, world_size, device)
    if rank == 0:
        save_config(cfg, output_dir)
        stale = remove_stale_temp_files(output_dir, cfg.model_name)
        if stale:
            logger.warning(f"removed {len(stale)} partial checkpoint file(s) of an interrupted run: {stale}")
    with GracefulStop() as stop:
        state = make_train_state(max_iters, run["use_amp"], run["amp_level"], run["scaler"], profiler_options,
                                 MetricsLog(output_dir if rank == 0 else None), stop, world_size)
        try:
            results = _epochs(cfg, run, state, validate, resume_epoch, rank, output_dir)
        except _StopAt as where:
            raise StopRequested(stop.signum, _stop_message(stop, where, output_dir, cfg, world_size)) from None
        finally:
            state["profiler"].close()
    if world_size > 1:
        check_ranks_in_sync(run["model"], world_size)
    logger.info(f"training {cfg.model_name} finished")
    return run["model"], results


def _start_run(cfg, weights, validate, use_amp, amp_level, seed, rank, world_size, device) -> dict:
    """Model, loaders, scheduler and optimizer, with resumed or fine-tuning weights loaded."""
    set_random_seed(seed)  # model init: the same on every rank (DataParallel also broadcasts rank 0's)
    model = build_model(cfg.MODEL)
    run = {"seed": seed}
    run["train_dataset"], run["train_loader"] = build_split(cfg, "train", seed=rank_seed(seed, rank))
    if validate:
        run["valid_dataset"], run["valid_loader"] = build_split(cfg, "valid", seed=rank_seed(seed, rank))
    if len(run["train_loader"]) == 0:
        raise ConfigError(
            f"{cfg.DATASET.train.get('file_path')}: {len(run['train_dataset'])} training clips make no full "
            f"batch of DATASET.batch_size={run['train_loader'].batch_sampler.batch_size} per process x "
            f"{world_size} process(es) (the last incomplete batch is dropped); lower the batch size or add clips")
    scheduler = build_lr(cfg.OPTIMIZER.learning_rate, len(run["train_loader"]))
    optimizer = build_optimizer(cfg.OPTIMIZER, scheduler, model=model)
    run["use_amp"], run["amp_level"] = resolve_amp(use_amp, amp_level, device)
    run["scaler"] = None
    if run["use_amp"]:
        model, optimizer, run["scaler"] = amp_decorate(model, optimizer, run["amp_level"])
    resume_epoch = int(setting(cfg, "resume_epoch"))
    if resume_epoch:
        prefix = load_resume(model, optimizer, output_dir_of(cfg), cfg.model_name, resume_epoch)
        logger.info(f"Resume from checkpoint: {prefix}")
    if weights:
        load_ckpt(model, weights, only_may_differ=("head.fc.",))
        logger.info(f"Finetune from checkpoint: {weights}")
    if world_size > 1:
        model = paddle.DataParallel(model)
    run.update(model=model, optimizer=optimizer, scheduler=scheduler)
    return run


def _epochs(cfg, run, state, validate, resume_epoch, rank, output_dir) -> dict:
    """The epoch loop: train, save the epoch's checkpoint, then validate (and save the best)."""
    model, optimizer, loader = run["model"], run["optimizer"], run["train_loader"]
    save_interval, val_interval, log_interval = (setting(cfg, k) for k in ("save_interval", "val_interval",
                                                                              "log_interval"))
    results = {"output_dir": output_dir, "epochs": [], "best_top1": None, "best_epoch": None}
    best = 0.0
    for epoch in range(cfg.epochs):
        if epoch < resume_epoch:
            logger.info(f"| epoch: [{epoch + 1}] <= resume_epoch: [{resume_epoch}], continue...")
            continue
        seed_epoch(run["seed"], epoch, rank)
        loader.batch_sampler.set_epoch(epoch)
        record = train_one_epoch(model, optimizer, run["scheduler"], loader, epoch, cfg, state, rank)
        entry = {"epoch": epoch + 1, "train": record.summary(loader.batch_sampler.batch_size)}
        results["epochs"].append(entry)
        last = epoch == cfg.epochs - 1
        saved = rank == 0 and (epoch % save_interval == 0 or last)
        if saved:  # before validation: an error there must not lose the epoch just trained
            save_pair(model, optimizer, epoch_prefix(output_dir, cfg.model_name, epoch + 1))
        if validate and (epoch % val_interval == 0 or last):
            try:
                result = evaluate(model, run["valid_loader"], len(run["valid_dataset"]), epoch + 1, cfg.epochs,
                                  log_interval, state["use_amp"], state["amp_level"], state["max_iters"], rank,
                                  state["metrics_log"], state["stop"], state["world_size"])
            except BaseException:
                if rank == 0 and not saved:
                    save_pair(model, optimizer, epoch_prefix(output_dir, cfg.model_name, epoch + 1))
                    logger.warning(f"validation failed: saved epoch {epoch + 1} first, so its training is kept")
                raise
            entry["val"] = result
            if results["best_top1"] is None or result["top1"] > results["best_top1"]:
                results["best_top1"], results["best_epoch"] = result["top1"], epoch + 1
            if result["top1"] > best:
                best = result["top1"]
                if rank == 0:
                    save_pair(model, optimizer, best_prefix(output_dir, cfg.model_name))
                logger.info(f"Already save the best model (top1 acc){int(best * 10000) / 10000}")
        if not last and state["stop"].requested(state["world_size"]):
            raise _StopAt(epoch + 1)
    return results


def _stop_message(stop, where, output_dir, cfg, world_size) -> str:
    """Where training stopped, the last complete checkpoint and the command that resumes it."""
    from .checkpoints import latest_epoch
    at = f"epoch {where.epoch}" + (f" step {where.step}" if where.step is not None else " (end)")
    epoch = latest_epoch(output_dir, cfg.model_name)
    if epoch:
        kept = f"last complete checkpoint: {epoch_prefix(output_dir, cfg.model_name, epoch)}.pdparams"
        how = f"resume with: {resume_command(world_size=world_size)}"
    else:
        kept, how = "no epoch checkpoint was complete yet", "start again to train"
    return f"training stopped by {stop.signal_name} at {at}; {kept}; {how}"
