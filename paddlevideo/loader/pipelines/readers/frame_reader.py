"""Frame-folder reader: a folder of extracted JPEGs, of which only the asked files are read."""
import os

import cv2

from ..errors import DecodeError
from .base import Reader


def check_frame_dir(frame_dir):
    """A ``DecodeError`` naming ``frame_dir`` when it is not a folder."""
    if not os.path.isdir(frame_dir):
        raise DecodeError(f"frame folder not found: {frame_dir}")


class FrameFolderReader(Reader):
    """A folder of JPEGs ``frame_dir/suffix.format(i)`` (1-based ``i``): reads only the asked files."""

    def __init__(self, frame_dir, suffix, frames_len):
        check_frame_dir(frame_dir)
        self.frame_dir, self.suffix = frame_dir, suffix
        self.frames_len = int(frames_len)
        self.filename = frame_dir

    def read(self, indices):
        cache = {}
        frames = []
        for idx in indices:
            idx = int(idx)
            if idx not in cache:
                path = os.path.join(self.frame_dir, self.suffix.format(idx))
                bgr = cv2.imread(path, cv2.IMREAD_COLOR) if os.path.isfile(path) else None
                if bgr is None:
                    what = "missing" if not os.path.isfile(path) else "unreadable"
                    raise DecodeError(f"frame file {what}: {path}")
                cache[idx] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            frames.append(cache[idx])
        return frames
