"""What every frame reader shares: the ``Reader`` interface (a context manager) and the short-video signal."""
import logging
import os

from ..errors import DecodeError

logger = logging.getLogger(__name__)

_warned_short = set()


class Reader:
    """An open clip: ``frames_len``, ``read(indices)`` -> list of RGB ``uint8 [H, W, 3]``, ``close()``.

    Use it in a ``with`` block so the file is closed whatever happens while reading.
    """

    filename = ""
    frames_len = 0

    def read(self, indices):
        raise NotImplementedError

    def close(self):
        """Release the file; safe to call twice."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class ShortVideo(Exception):
    """Internal signal: the video holds only ``actual_len`` decodable frames, fewer than its metadata said."""

    def __init__(self, filename, claimed_len, actual_len):
        super().__init__(f"{filename}: metadata says {claimed_len} frames, only {actual_len} decode")
        self.filename, self.claimed_len, self.actual_len = filename, claimed_len, actual_len


def warn_short_once(err: ShortVideo):
    """Log a lying frame count once per file (a training run would otherwise repeat it every epoch)."""
    if err.filename not in _warned_short:
        _warned_short.add(err.filename)
        logger.warning(f"{err}; sampling from the {err.actual_len} real frames")


def plan_reads(indices):
    """Sorted unique indices plus, for each asked position, its slot in that sorted list."""
    wanted = sorted(set(int(i) for i in indices))
    slot = {idx: k for k, idx in enumerate(wanted)}
    return wanted, [slot[int(i)] for i in indices]


def check_file(filename):
    """A ``DecodeError`` naming ``filename`` when it is not a file."""
    if not os.path.isfile(filename):
        raise DecodeError(f"video file not found: {filename}")
