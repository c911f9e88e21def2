"""Distributed helpers: rank/world size, seeding."""
import os
import random

import numpy as np


def get_dist_info():
    """``(rank, world_size)`` of this process (``(0, 1)`` when not launched distributed)."""
    import paddle.distributed as dist
    try:
        return dist.get_rank(), dist.get_world_size()
    except Exception:  # before init_parallel_env on some builds
        return (int(os.environ.get("PADDLE_TRAINER_ID", 0)),
                int(os.environ.get("PADDLE_TRAINERS_NUM", 1)))


def set_random_seed(seed: int):
    """Seed Python ``random``, numpy and paddle with the same value."""
    import paddle
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)
