"""Build datasets, pipelines and data loaders from the YAML ``DATASET`` / ``PIPELINE`` sections."""
import multiprocessing
import os
import random
import threading
import time

import cv2
import numpy as np
from paddle.io import DataLoader, DistributedBatchSampler, get_worker_info

from ..utils.build_utils import BuildError, build
from ..utils.parent_death import exit_with_parent
from ..utils.runtime import single_thread_worker
from .pipelines.compose import Compose
from .registry import DATASETS


def build_pipeline(pipeline_cfg) -> Compose:
    """``cfg.PIPELINE.<mode>`` (decode / sample / transform) -> a ``Compose`` callable ``dict -> dict``."""
    return Compose(pipeline_cfg)


def build_dataset(dataset_cfg, pipeline=None):
    """``cfg.DATASET.<mode>`` + a pipeline (``Compose`` or its config) -> a dataset.

    ``format`` names the dataset class; the other keys are its arguments (``file_path``,
    ``data_prefix``, ``suffix``, ``test_mode``, ...). PaddleVideo's form
    ``build_dataset((dataset_cfg, pipeline_cfg))`` is accepted too.
    """
    if pipeline is None and isinstance(dataset_cfg, (tuple, list)) and len(dataset_cfg) == 2:
        dataset_cfg, pipeline = dataset_cfg
    if pipeline is None:
        raise BuildError("build_dataset needs a pipeline (e.g. cfg.PIPELINE.train)")
    if not callable(pipeline):
        pipeline = build_pipeline(pipeline)
    return build(dataset_cfg, DATASETS, key="format", pipeline=pipeline)


def worker_seed(base_seed: int, epoch: int, worker_id: int) -> int:
    """A 32-bit seed that differs across epochs and workers and is reproducible from ``base_seed``."""
    return int(np.random.SeedSequence([int(base_seed) % (2 ** 63), int(epoch), int(worker_id)]).generate_state(1)[0])


def _parent_pid(recorded: int) -> int:
    """The PID of the process that started this worker (``recorded`` when multiprocessing does not say)."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid else recorded


class _DieWithParent:
    """``worker_init_fn`` wrapper: the worker ends when the process that iterates the loader dies (even by
    ``kill -9``), then runs the wrapped ``worker_init_fn`` (ours, or the one given to ``build_dataloader``)."""

    def __init__(self, then=None):
        self.then, self.parent_pid = then, os.getpid()

    def __call__(self, worker_id):
        exit_with_parent(_parent_pid(self.parent_pid))
        if self.then is not None:
            self.then(worker_id)


class _WorkerInit:
    """``worker_init_fn``: one thread per worker, and ``random`` / ``np.random`` seeded per worker and epoch.

    The epoch is read from the batch sampler as it was when the workers started (``set_epoch`` is
    called before each epoch's iteration spawns them). Without ``seed``, Paddle's per-iteration base
    seed (drawn from the main process's ``np.random``) is used.
    """

    def __init__(self, batch_sampler, seed=None):
        self.batch_sampler, self.seed = batch_sampler, seed

    def __call__(self, worker_id):
        single_thread_worker(worker_id)
        base = self.seed
        if base is None:
            info = get_worker_info()
            base = info.seed if info is not None else 0
        s = worker_seed(base, getattr(self.batch_sampler, "epoch", 0), worker_id)
        random.seed(s)
        np.random.seed(s)


def build_dataloader(dataset, batch_size, num_workers, shuffle, drop_last, places=None, seed=None, **kwargs):
    """A ``paddle.io.DataLoader`` over a ``DistributedBatchSampler`` (shards across ranks).

    Call ``loader.batch_sampler.set_epoch(epoch)`` each epoch (new shuffle order and worker seeds).
    Batches: ``imgs float32 [N, T, 3, H, W]``, ``labels int64 [N, 1]``. Extra keyword arguments go to
    ``DataLoader``; a ``worker_init_fn`` among them replaces the per-worker seeding. Either way the workers
    end when the process iterating the loader dies.
    """
    # OpenCV's thread pool is not fork-safe: a worker forked while the pool's threads are live hangs in
    # cv2 calls. Our ops work frame by frame (parallelism comes from the workers), so the pipeline runs
    # OpenCV single-threaded; set here, where the loader is built, rather than as an import side effect.
    cv2.setNumThreads(1)
    sampler = DistributedBatchSampler(dataset, batch_size=int(batch_size), shuffle=bool(shuffle),
                                      drop_last=bool(drop_last))
    num_workers = int(num_workers or 0)
    if num_workers > 0:
        kwargs["worker_init_fn"] = _DieWithParent(kwargs.get("worker_init_fn") or _WorkerInit(sampler, seed))
    else:
        dataset = _ErrorCapturingDataset(dataset)
    return _ClearErrorsLoader(dataset, batch_sampler=sampler, places=places, num_workers=num_workers,
                              return_list=True, **kwargs)


class _ErrorCapturingDataset:
    """For ``num_workers=0``: a sample error ends Paddle's reader thread cleanly instead of hanging.

    Paddle's single-process loader reads in a background thread; an exception there kills the thread
    without closing its queue, and the training loop then waits forever (Paddle 3.3). Here the
    exception is stored and ``StopIteration`` ends the reader; ``_ClearErrorsLoader`` re-raises it
    in the caller's thread.
    """

    def __init__(self, dataset):
        self.dataset, self.error = dataset, None

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        try:
            return self.dataset[index]
        except Exception as err:  # re-raised by _ClearErrorsLoader.__iter__
            self.error = err
            raise StopIteration from err

    def __getattr__(self, name):
        return getattr(self.dataset, name)


def _unwrap_worker_error(exc):
    """Paddle re-raises a worker's exception as ``Type("DataLoader worker(i) caught Type with message:
    <worker traceback>")``; rebuild ``Type(<original message>)`` so the user sees one line."""
    text = str(exc).strip().splitlines()
    prefix = f"{type(exc).__module__}.{type(exc).__name__}: "
    for line in reversed(text):
        if line.startswith(prefix) or line.startswith(type(exc).__name__ + ": "):
            try:
                return type(exc)(line.split(": ", 1)[1])
            except Exception:  # a constructor with other arguments: keep Paddle's exception
                return exc
    return exc


class _ClearErrorsLoader(DataLoader):
    """``paddle.io.DataLoader`` whose sample errors reach the caller as the dataset raised them.

    With workers, Paddle re-raises a worker's exception in its own reader thread (printing a
    traceback there) and the caller only gets ``SystemError: Blocking queue is killed``; with
    ``num_workers=0`` it hangs (see ``_ErrorCapturingDataset``). Both become the dataset's error.
    """

    def __iter__(self):
        if isinstance(self.dataset, _ErrorCapturingDataset):
            guarded = self.dataset
            guarded.error = None
            yield from super().__iter__()
            if guarded.error is not None:
                error, guarded.error = guarded.error, None
                raise error
            return
        # Paddle re-raises a worker's exception only inside its own reader thread and hands the caller a
        # bare "Blocking queue is killed"; Python's only way to get that thread's exception object is
        # threading.excepthook, so it is swapped for the duration of this iteration and restored after.
        captured, previous = [], threading.excepthook

        def keep_reader_errors(args):
            if args.thread is not threading.main_thread() and "_thread_loop" in (args.thread.name or ""):
                captured.append(args.exc_value)
            else:
                previous(args)

        threading.excepthook = keep_reader_errors
        try:
            yield from super().__iter__()
        except SystemError:
            for _ in range(100):  # the reader thread reports its error just after killing the queue
                if captured:
                    break
                time.sleep(0.01)
            if captured:
                raise _unwrap_worker_error(captured[-1]) from None
            raise
        finally:
            threading.excepthook = previous
