"""``Sampler``: pick the frame indices of a clip (TSN segment sampling) and decode only those frames.

Index formulas follow PaddleVideo's ``Sampler`` exactly, including the order of
random draws (one ``np.random.randint`` call for ``select_left`` training, Python ``random.randint``
per segment otherwise). One deliberate difference: where PaddleVideo falls back to *float* zero
offsets for clips shorter than the segment count (which then never load), we use the integer
offsets ``int(i * L / num_seg)``.
"""
import random

import numpy as np

from ..registry import PIPELINES
from .base import PipelineOp
from .decode import open_clip
from .errors import DecodeError, PipelineError
from .readers import ShortVideo, warn_short_once


def spread_offsets(frames_len: int, num_seg: int):
    """Integer fallback for short clips: ``[int(i * L / S) for i in range(S)]`` (every frame gets used)."""
    return np.array([int(i * frames_len / num_seg) for i in range(num_seg)], dtype=np.int64)


def select_left_offsets(frames_len: int, num_seg: int, valid_mode: bool):
    """0-based offsets, one per segment, of PaddleVideo's ``select_left`` sampling (TSN)."""
    if not valid_mode:
        average_dur = int(frames_len / num_seg)
        if average_dur > 0:
            return (np.multiply(list(range(num_seg)), average_dur)
                    + np.random.randint(average_dur, size=num_seg)).astype(np.int64)
        return spread_offsets(frames_len, num_seg)
    if frames_len > num_seg:
        average_dur_float = frames_len / num_seg
        return np.array([int(average_dur_float / 2.0 + average_dur_float * i) for i in range(num_seg)],
                        dtype=np.int64)
    return spread_offsets(frames_len, num_seg)


def segment_starts(frames_len: int, num_seg: int, seg_len: int, valid_mode: bool):
    """0-based first frame of each segment for ``select_left=False`` (each then takes ``seg_len`` frames)."""
    average_dur = int(frames_len / num_seg)
    starts = []
    for i in range(num_seg):
        if average_dur >= seg_len:
            if valid_mode:
                idx = (average_dur - 1) // 2
            else:
                idx = random.randint(0, average_dur - seg_len)
            idx += i * average_dur
        elif average_dur >= 1:
            idx = i * average_dur
        else:
            idx = i
        starts.append(idx)
    return starts


@PIPELINES.register()
class Sampler(PipelineOp):
    """Choose ``num_seg`` segments of ``seg_len`` frames, open the clip, decode only them, close it.

    ``select_left`` (TSN) takes one frame per segment; ``valid_mode`` takes segment centres instead
    of random positions; ``linspace_sample`` takes ``num_seg`` evenly spaced frames. When a video
    holds fewer frames than its header says, the indices are drawn again from the real count.

    Required keys: ``format``: ``'video'`` | ``'frame'``, and what its decoder recorded for it
    (filename and backend from VideoDecoder; frame_dir, int frames_len and an optional suffix from FrameDecoder).
    Added keys: ``imgs``: uint8 RGB ``[num_seg * seg_len, H, W, 3]`` array (with select_left,
    ``[num_seg, H, W, 3]``); ``frame_idx``: list of int, the indices read (1-based file numbers,
    0-based video frames); ``frames_len``: int, for videos (the decodable frame count).
    Modified keys: none.
    """

    def __init__(self, num_seg, seg_len, frame_interval=None, valid_mode=False, select_left=False,
                 dense_sample=False, linspace_sample=False, use_pil=True):
        if int(num_seg) < 1 or int(seg_len) < 1:
            raise PipelineError(f"Sampler needs num_seg >= 1 and seg_len >= 1, got {num_seg}, {seg_len}")
        if dense_sample:
            raise PipelineError("Sampler dense_sample (ppTSM's dense sampling) is not supported; "
                                "set dense_sample: False")
        self.num_seg, self.seg_len = int(num_seg), int(seg_len)
        self.frame_interval = frame_interval  # only used by dense sampling in PaddleVideo
        self.valid_mode = valid_mode
        self.select_left = select_left
        self.linspace_sample = linspace_sample
        self.use_pil = use_pil  # accepted for config compatibility: ops here always work on arrays

    def indices(self, frames_len: int, fmt: str):
        """Indices to read for a clip of ``frames_len`` frames: ``fmt='frame'`` 1-based, ``'video'`` 0-based."""
        frames_len = int(frames_len)
        if frames_len <= 0:
            raise DecodeError("clip has no frames")
        if self.linspace_sample:
            offsets = np.clip(np.linspace(0, frames_len - 1, self.num_seg), 0, frames_len - 1).astype(np.int64)
        elif self.select_left:
            offsets = select_left_offsets(frames_len, self.num_seg, self.valid_mode)
        else:
            offsets = [jj for idx in segment_starts(frames_len, self.num_seg, self.seg_len, self.valid_mode)
                       for jj in range(idx, idx + self.seg_len)]
        if fmt == "frame":
            return [int(o) + 1 for o in offsets]
        return [int(o) % frames_len for o in offsets]

    def __call__(self, results):
        fmt = results.get("format")
        with open_clip(results) as reader:
            try:
                frames_len, idx, frames = self._sample_and_read(reader, fmt)
            except DecodeError as err:
                if reader.filename not in str(err):
                    raise DecodeError(f"{reader.filename}: {err}") from None
                raise
        try:
            results["imgs"] = np.stack(frames)
        except ValueError:
            raise DecodeError(f"frames of {reader.filename} differ in size: "
                              f"{sorted({f.shape for f in frames})}") from None
        results["frames_len"] = frames_len
        results["frame_idx"] = idx
        return results

    def _sample_and_read(self, reader, fmt):
        """``(frames_len, indices, frames)``, re-sampled from the real count when the header lied."""
        try:
            idx = self.indices(reader.frames_len, fmt)
            return reader.frames_len, idx, reader.read(idx)
        except ShortVideo as err:
            warn_short_once(err)
            if err.actual_len <= 0:
                raise DecodeError(f"no decodable frames in {err.filename}") from None
            idx = self.indices(err.actual_len, fmt)
            return err.actual_len, idx, reader.read(idx)
