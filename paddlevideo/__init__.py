"""PaddleVideo's TSN, reimplemented for PaddlePaddle 3.

Importing the package changes nothing in the process (environment, thread counts, logging handlers).
Entry points, and library users who want the CPU speed-up and console logs, call ``setup_runtime()``
first, before Paddle is imported::

    import paddlevideo
    paddlevideo.setup_runtime()
    import paddle

To classify videos with an exported model: ``paddlevideo.Predictor("inference/TSN").predict("a.avi")``.
"""
import logging

from .utils.runtime import setup_runtime
from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Predictor", "__version__", "setup_runtime"]


def __getattr__(name):
    """``paddlevideo.Predictor`` is imported on first use, so ``import paddlevideo`` stays light (no Paddle)."""
    if name == "Predictor":
        from .inference.api import Predictor
        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
