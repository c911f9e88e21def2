"""PaddleVideo's TSN, reimplemented for PaddlePaddle 3.

Importing the package changes nothing in the process (environment, thread counts, logging handlers).
Entry points, and library users who want the CPU speed-up and console logs, call ``setup_runtime()``
first, before Paddle is imported::

    import paddlevideo
    paddlevideo.setup_runtime()
    import paddle
"""
import logging

from .utils.runtime import setup_runtime
from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__", "setup_runtime"]
