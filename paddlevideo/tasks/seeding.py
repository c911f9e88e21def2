"""Per-epoch seeding: an epoch's random draws do not depend on whether the run was resumed."""
import numpy as np

from ..utils.dist_utils import set_random_seed


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """A 31-bit seed mixed from ``(seed, epoch, rank)``: distinct per epoch and per process."""
    return int(np.random.SeedSequence([int(seed), int(epoch), int(rank)]).generate_state(1)[0] & 0x7FFFFFFF)


def seed_epoch(seed: int, epoch: int, rank: int = 0) -> int:
    """Re-seed Python ``random``, numpy and paddle for 0-based ``epoch``; returns the seed used.

    Covers the sampler's shuffle base (numpy), the augmentations (``random``/numpy, also in
    DataLoader workers, whose seeds derive from numpy at iterator creation) and dropout (paddle).
    """
    value = epoch_seed(seed, epoch, rank)
    set_random_seed(value)
    return value


def rank_seed(seed: int, rank: int) -> int:
    """The DataLoader workers' base seed for ``rank``: reproducible, distinct per process."""
    return epoch_seed(seed, -1 & 0x7FFFFFFF, rank)
