"""``train_model``: PaddleVideo's training loop (epochs, logs, validation, checkpoints, resume)."""
import logging
import hashlib
import os
import time

import numpy as np
import paddle

from ..modeling import build_model
from ..solver import build_lr, build_optimizer
from ..solver.lr import lr_steps_per_iteration
from ..utils.config import ConfigError, save_config
from ..utils.logger import format_batch_log, format_epoch_log
from ..utils.dist_utils import set_random_seed
from ..utils.save_load import load_ckpt
from .amp import amp_decorate, autocast, resolve_amp
from .checkpoints import best_prefix, epoch_prefix, load_resume, remove_stale_temp_files, save_pair
from .data import build_split
from .environment import select_device
from .meters import EpochRecord, cuda_memory_text
from .metrics_log import MetricsLog, step_fields
from .profiler import StepProfiler
from .progress import epoch_bar
from .seeding import rank_seed, seed_epoch
from .validate import evaluate

logger = logging.getLogger(__name__)


def output_dir_of(cfg) -> str:
    """``cfg.output_dir`` or PaddleVideo's default ``./output/<model_name>``."""
    return cfg.get("output_dir") or os.path.join("output", cfg.model_name)


def make_train_state(max_iters=None, use_amp=False, amp_level=None, scaler=None, profiler_options=None,
                     metrics_log=None) -> dict:
    """What ``train_one_epoch`` needs besides the model, optimizer and data."""
    return {"max_iters": max_iters, "use_amp": use_amp, "amp_level": amp_level, "scaler": scaler,
            "profiler": StepProfiler(profiler_options), "metrics_log": metrics_log or MetricsLog(None)}


def train_one_epoch(model, optimizer, scheduler, loader, epoch, cfg, state, rank=0) -> EpochRecord:
    """One pass over ``loader`` (0-based ``epoch``); logs (and appends to ``metrics.jsonl``) every
    ``log_interval`` iterations and the epoch summary; steps ``scheduler`` per iteration (``iter_step``)
    or once at the end. Returns the ``EpochRecord`` (``.summary(batch_size)``: the epoch as data)."""
    record = EpochRecord()
    log_interval = int(cfg.get("log_interval", 10))
    iter_step = lr_steps_per_iteration(cfg.OPTIMIZER.learning_rate)
    steps = len(loader) if state["max_iters"] is None else min(len(loader), state["max_iters"])
    model.train()
    tic = time.time()
    with epoch_bar(steps, f"epoch {epoch + 1}/{cfg.epochs}", rank) as bar:
        for i, data in enumerate(loader):
            if state["max_iters"] is not None and i >= state["max_iters"]:
                break
            record.reader_time.update(time.time() - tic)
            state["profiler"].step()
            with autocast(state["use_amp"], state["amp_level"]):
                outputs = model(data, mode="train")
            loss = outputs["loss"]
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
    if not iter_step and hasattr(scheduler, "step"):
        scheduler.step()
    summary = record.summary(loader.batch_sampler.batch_size)
    logger.info(format_epoch_log(epoch + 1, "train", record.averages(with_lr=True), summary["batch_cost"],
                                 summary["reader_cost"], summary["batch_cost_sum"], summary["ips"]))
    state["metrics_log"].write("epoch", "train", epoch=epoch + 1, step=None, **summary)
    return record


def parameter_digest(model) -> str:
    """SHA-256 of every trainable parameter's bytes (equal digests = identical weights).

    BatchNorm running statistics are left out: each rank keeps its own (PaddleVideo uses plain
    BatchNorm under DataParallel too); the checkpoints hold rank 0's.
    """
    digest = hashlib.sha256()
    for name, param in model.named_parameters():
        if param.stop_gradient:
            continue
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(param.numpy()).tobytes())
    return digest.hexdigest()


def _check_ranks_in_sync(model, world_size):
    """Log whether every rank ends with bitwise identical parameters (DataParallel keeps them so)."""
    import paddle.distributed as dist
    digest = parameter_digest(model)
    mine = paddle.to_tensor(np.frombuffer(bytes.fromhex(digest[:16]), dtype=np.int32).copy())
    gathered = []
    dist.all_gather(gathered, mine)
    digests = [t.numpy().tobytes().hex() for t in gathered]
    if len(set(digests)) == 1:
        logger.info(f"trainable parameters identical on all {world_size} ranks (sha256 {digests[0]}); "
                    "BatchNorm statistics are per rank, rank 0's are saved")
    else:
        logger.warning(f"trainable parameters differ between ranks: {digests}")


def train_model(cfg, weights=None, parallel=False, validate=False, use_amp=False, amp_level=None,
                max_iters=None, profiler_options=None, seed=1234):
    """Train ``cfg.MODEL`` on ``cfg.DATASET.train`` for ``cfg.epochs`` epochs; returns ``(model, results)``.

    ``weights``: fine-tune from this state dict (shape-mismatched tensors skipped with a warning).
    ``cfg.resume_epoch = N``: continue after epoch N from ``<model_name>_epoch_0000N.pdparams/.pdopt``.
    ``parallel``: wrap in ``paddle.DataParallel`` (after ``init_parallel_env``).
    Writes checkpoints and ``metrics.jsonl`` to ``output_dir_of(cfg)`` on rank 0 only.

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
    model_name = cfg.model_name
    output_dir = output_dir_of(cfg)
    resume_epoch = int(cfg.get("resume_epoch", 0) or 0)
    if resume_epoch and weights:
        raise ConfigError(f"resume_epoch={resume_epoch} and -w {weights} conflict: fine-tuning starts a new "
                          "run; drop one of them")
    if resume_epoch >= cfg.epochs:  # PaddleVideo skips every epoch and finishes; say so
        logger.warning(f"resume_epoch={resume_epoch} >= epochs={cfg.epochs}: nothing left to train")
    if rank == 0:
        os.makedirs(output_dir, exist_ok=True)
        save_config(cfg, output_dir)
        stale = remove_stale_temp_files(output_dir, model_name)
        if stale:
            logger.warning(f"removed {len(stale)} partial checkpoint file(s) of an interrupted run: {stale}")
    logger.info(f"device: {device}, world size: {world_size}, output_dir: {output_dir}")

    set_random_seed(seed)  # model init: the same on every rank (DataParallel also broadcasts rank 0's)
    model = build_model(cfg.MODEL)
    train_dataset, train_loader = build_split(cfg, "train", seed=rank_seed(seed, rank))
    if validate:
        valid_dataset, valid_loader = build_split(cfg, "valid", seed=rank_seed(seed, rank))
    if len(train_loader) == 0:
        raise ConfigError(
            f"{cfg.DATASET.train.get('file_path')}: {len(train_dataset)} training clips make no full batch of "
            f"DATASET.batch_size={train_loader.batch_sampler.batch_size} per process x {world_size} "
            "process(es) (the last incomplete batch is dropped); lower the batch size or add clips")
    scheduler = build_lr(cfg.OPTIMIZER.learning_rate, len(train_loader))
    optimizer = build_optimizer(cfg.OPTIMIZER, scheduler, model=model)
    use_amp, amp_level = resolve_amp(use_amp, amp_level, device)
    scaler = None
    if use_amp:
        model, optimizer, scaler = amp_decorate(model, optimizer, amp_level)

    if resume_epoch:
        prefix = load_resume(model, optimizer, output_dir, model_name, resume_epoch)
        logger.info(f"Resume from checkpoint: {prefix}")
    if weights:
        load_ckpt(model, weights)
        logger.info(f"Finetune from checkpoint: {weights}")
    if parallel:
        model = paddle.DataParallel(model)

    metrics_log = MetricsLog(output_dir if rank == 0 else None)
    state = make_train_state(max_iters, use_amp, amp_level, scaler, profiler_options, metrics_log)
    results = {"output_dir": output_dir, "epochs": [], "best_top1": None, "best_epoch": None}
    best = 0.0
    for epoch in range(cfg.epochs):
        if epoch < resume_epoch:
            logger.info(f"| epoch: [{epoch + 1}] <= resume_epoch: [{resume_epoch}], continue...")
            continue
        seed_epoch(seed, epoch, rank)
        train_loader.batch_sampler.set_epoch(epoch)
        record = train_one_epoch(model, optimizer, scheduler, train_loader, epoch, cfg, state, rank)
        entry = {"epoch": epoch + 1, "train": record.summary(train_loader.batch_sampler.batch_size)}
        results["epochs"].append(entry)
        last = epoch == cfg.epochs - 1
        if validate and (epoch % int(cfg.get("val_interval", 1)) == 0 or last):
            result = evaluate(model, valid_loader, len(valid_dataset), epoch + 1, cfg.epochs,
                              int(cfg.get("log_interval", 10)), use_amp, amp_level, max_iters, rank,
                              metrics_log)
            entry["val"] = result
            if results["best_top1"] is None or result["top1"] > results["best_top1"]:
                results["best_top1"], results["best_epoch"] = result["top1"], epoch + 1
            if result["top1"] > best:
                best = result["top1"]
                if rank == 0:
                    save_pair(model, optimizer, best_prefix(output_dir, model_name))
                logger.info(f"Already save the best model (top1 acc){int(best * 10000) / 10000}")
        if rank == 0 and (epoch % int(cfg.get("save_interval", 1)) == 0 or last):
            save_pair(model, optimizer, epoch_prefix(output_dir, model_name, epoch + 1))
    state["profiler"].close()
    if world_size > 1:
        _check_ranks_in_sync(model, world_size)
    logger.info(f"training {model_name} finished")
    return model, results
