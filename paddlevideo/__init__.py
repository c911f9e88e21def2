"""PaddleVideo's TSN, reimplemented for PaddlePaddle 3.

Importing the package configures the CPU runtime (thread count, MKL path) before Paddle is
imported; entry points import ``paddlevideo`` first for that reason.
"""
from .utils.runtime import setup_cpu_runtime as _setup_cpu_runtime

_setup_cpu_runtime()

from .version import __version__  # noqa: E402

__all__ = ["__version__"]
