"""Learning-rate schedulers and optimizers built from a config's ``OPTIMIZER`` section."""
from .lr import build_lr
from .optimizer import build_optimizer

__all__ = ["build_lr", "build_optimizer"]
