"""Device and process-group set-up: picked from the Paddle build and the launcher's environment.

PaddleVideo hard-codes ``paddle.set_device('gpu')``, which fails on a CPU build. Here a CUDA build
with a visible GPU trains on ``gpu`` (the launcher's ``FLAGS_selected_gpus`` picks the card and
NCCL connects the ranks); otherwise ``cpu``, where ``paddle.distributed.launch`` selects gloo.
"""
import os

import paddle


def select_device() -> str:
    """Set and return Paddle's device: ``gpu:<id>`` when CUDA is usable, else ``cpu``."""
    if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
        device = f"gpu:{_selected_gpu()}"
    else:
        device = "cpu"
    paddle.set_device(device)
    return device


def _selected_gpu() -> int:
    """The card the launcher gave this process (``FLAGS_selected_gpus``), else 0."""
    first = os.environ.get("FLAGS_selected_gpus", "").split(",")[0].strip()
    return int(first) if first.isdigit() else 0


def init_distributed() -> tuple:
    """``init_parallel_env()`` when launched with more than one process; returns ``(rank, world_size)``.

    The one place a run learns its rank and world size: ``main.py`` passes them on to the tasks.
    """
    import paddle.distributed as dist
    world_size = int(os.environ.get("PADDLE_TRAINERS_NUM", "1") or 1)
    if world_size > 1:
        dist.init_parallel_env()
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
