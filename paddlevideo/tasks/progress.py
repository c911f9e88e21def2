"""A per-epoch tqdm bar that shares the console with the log lines.

While the bar is open, the ``paddlevideo`` logger's console handler is routed through
``tqdm.write`` (``logging_redirect_tqdm``), so a log line prints above the bar instead of
breaking it. The bar only shows on rank 0 and on a terminal (``disable=None``).
"""
import contextlib
import logging

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


@contextlib.contextmanager
def epoch_bar(total: int, desc: str, rank: int = 0):
    """Context yielding a tqdm bar (call ``.update(1)`` per iteration)."""
    bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True,
               disable=True if rank != 0 else None, mininterval=1.0)
    try:
        if bar.disable:
            yield bar
        else:
            with logging_redirect_tqdm(loggers=[logging.getLogger("paddlevideo")]):
                yield bar
    finally:
        bar.close()
