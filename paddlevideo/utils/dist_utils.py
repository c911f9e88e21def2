"""Seeding every random source a run uses (Python, numpy, Paddle) with one value.

Rank and world size are not worked out here: ``tasks.environment.init_distributed`` returns them, once, and the
run passes them on (``tasks.context.RunContext``).
"""
import random

import numpy as np


def set_random_seed(seed: int):
    """Seed Python ``random``, numpy and paddle with the same value."""
    import paddle
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)
