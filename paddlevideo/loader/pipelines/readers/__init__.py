"""Frame readers: open a video (or a frame folder), decode only the frames asked for, close.

Every reader (``base.Reader``) has ``frames_len`` (the frame count the sampler works from),
``read(indices)`` returning a list of RGB ``uint8 [H, W, 3]`` arrays in the order asked, and
``close()``; it is a context manager. Video indices are 0-based presentation order; frame-folder
indices are the 1-based file numbers. One module per backend: ``cv2_reader``, ``decord_reader``
(decord imported when used), ``pyav_reader`` (PyAV imported when used), ``frame_reader``.

When a container's frame count is larger than the frames it really holds (common in Kinetics), a
video reader raises ``ShortVideo`` with the real count, so the sampler can re-sample from it.
"""
import numpy as np

from .base import Reader, ShortVideo, check_file, plan_reads, warn_short_once
from .cv2_reader import Cv2Reader
from .decord_reader import DecordReader
from .frame_reader import FrameFolderReader, check_frame_dir
from .keyframes import PacketIndex, keyframe_map
from .pyav_reader import PyAVReader

VIDEO_READERS = {"cv2": Cv2Reader, "decord": DecordReader, "pyav": PyAVReader}


def read_all_frames(filename, backend="cv2"):
    """Every frame of a video as RGB ``uint8 [N, H, W, 3]`` (PaddleVideo's whole-video cv2 path; benchmarks)."""
    with VIDEO_READERS[backend](filename) as reader:
        try:
            return np.stack(reader.read(range(reader.frames_len)))
        except ShortVideo as err:
            real_len = err.actual_len
    with VIDEO_READERS[backend](filename) as reader:
        return np.stack(reader.read(range(real_len)))


__all__ = ["Reader", "ShortVideo", "warn_short_once", "plan_reads", "check_file", "check_frame_dir", "PacketIndex",
           "keyframe_map", "Cv2Reader", "DecordReader", "PyAVReader", "FrameFolderReader", "VIDEO_READERS",
           "read_all_frames"]
