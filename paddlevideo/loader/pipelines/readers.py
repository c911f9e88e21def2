"""Frame readers: open a video (or a frame folder) once, then decode only the frames asked for.

Every reader has ``frames_len`` (the frame count the sampler works from), ``read(indices)``
returning a list of RGB ``uint8 [H, W, 3]`` arrays in the order asked, and ``close()``.
Video indices are 0-based presentation order; frame-folder indices are the 1-based file numbers.

When a container's frame count is larger than the frames it really holds (common in Kinetics), a
video reader raises ``ShortVideo`` with the real count, so the sampler can re-sample from it.
"""
import logging
import os
from typing import NamedTuple, Optional

import cv2
import numpy as np

from ...utils.optional import import_optional
from .errors import DecodeError, MissingBackendError

logger = logging.getLogger(__name__)

_warned_short = set()


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


def _plan(indices):
    """Sorted unique indices plus, for each asked position, its slot in that sorted list."""
    wanted = sorted(set(int(i) for i in indices))
    slot = {idx: k for k, idx in enumerate(wanted)}
    return wanted, [slot[int(i)] for i in indices]


def _check_file(filename):
    if not os.path.isfile(filename):
        raise DecodeError(f"video file not found: {filename}")


class PacketIndex(NamedTuple):
    """Frame timing from a container's packets: ``pts[i]`` (stream units) and ``pts_ms[i]`` of frame ``i``
    in presentation order, and the sorted presentation indices of the keyframes."""
    pts: list
    pts_ms: list
    keyframes: list


def keyframe_map(filename) -> Optional[PacketIndex]:
    """Read the packet index of ``filename``'s video stream with PyAV (demux only, no decoding).

    None without PyAV, without timestamps, or when the file cannot be demuxed.
    """
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(filename) as container:
            stream = container.streams.video[0]
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
            time_base = float(stream.time_base)
    except Exception:  # unreadable by PyAV: decoders fall back to sequential decoding
        return None
    if not packets or any(pts is None for pts, _ in packets):
        return None
    order = sorted(pts for pts, _ in packets)
    index = {pts: i for i, pts in enumerate(order)}
    if len(index) != len(order):
        return None
    return PacketIndex(order, [pts * time_base * 1000.0 for pts in order],
                       sorted(index[pts] for pts, key in packets if key))


class Cv2Reader:
    """OpenCV: ``grab()`` frames up to the last wanted one, ``retrieve()`` (convert to RGB) only wanted ones.

    A clip costs about as much as decoding up to its last wanted frame. Where the container has a
    keyframe between the current position and a wanted frame (known from PyAV's packet index, no
    decoding), we let OpenCV seek there instead of grabbing every frame before it, and check the
    landed frame's timestamp against the packet index; on any mismatch we fall back to grabbing
    from the start, so the frames are always the ones sequential decoding gives.
    """

    # OpenCV's seek decodes forward from the last keyframe at least 16 frames before the target.
    SEEK_BACKOFF = 16
    MIN_SAVING = 8  # frames a seek must skip to be worth it

    def __init__(self, filename):
        _check_file(filename)
        self.filename = filename
        self.cap = cv2.VideoCapture(filename)
        if not self.cap.isOpened():
            raise DecodeError(f"cv2 cannot open video {filename} (corrupt file or unsupported codec)")
        self.frames_len = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if self.frames_len <= 0:  # no count in the container: count by grabbing once
            self.frames_len = self._count_frames()
        self._pos = 0  # index of the next frame grab() returns
        self._index = None  # (pts_ms, keyframes), read on the first read() that could use it
        self._t0 = None  # OpenCV's timestamp of frame 0, to compare with the packet index

    def _reopen(self):
        self.cap.release()
        self.cap = cv2.VideoCapture(self.filename)
        self._pos = 0

    def _count_frames(self):
        n = 0
        while self.cap.grab():
            n += 1
        self._reopen()
        return n

    def _grab(self):
        if not self.cap.grab():
            raise ShortVideo(self.filename, self.frames_len, self._pos)
        if self._pos == 0:
            self._t0 = self.cap.get(cv2.CAP_PROP_POS_MSEC)
        self._pos += 1

    def _seek_target(self, idx):
        """True when a keyframe lets OpenCV reach ``idx`` decoding far fewer frames than grabbing."""
        if self._index is None or self._t0 is None or idx >= len(self._index.pts):
            return False
        start = idx - self.SEEK_BACKOFF
        landing = max((k for k in self._index.keyframes if k <= start), default=0)
        return landing > self._pos + self.MIN_SAVING

    def _seek(self, idx):
        """Seek so that the last grabbed frame is ``idx``; False (and sequential fallback) if it is not."""
        pts_ms = self._index.pts_ms
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
        if self.cap.grab():
            tolerance = 0.5 * min((b - a for a, b in zip(pts_ms, pts_ms[1:]) if b > a), default=1.0)
            expected = self._t0 + pts_ms[idx] - pts_ms[0]
            if abs(self.cap.get(cv2.CAP_PROP_POS_MSEC) - expected) < tolerance:
                self._pos = idx + 1
                return True
        self._index = None  # timestamps disagree: never seek in this file again
        self._reopen()
        return False

    def read(self, indices):
        wanted, order = _plan(indices)
        if wanted and wanted[0] < self._pos:  # asked to go back: reopen (never happens in one sampler call)
            self._reopen()
        if self._index is None and wanted and wanted[-1] > 2 * self.SEEK_BACKOFF:
            self._index = keyframe_map(self.filename)
            if self._index and len(self._index.keyframes) < 2:
                self._index = None  # one keyframe: nothing to skip to
        frames = []
        for idx in wanted:
            if self._pos == 0:
                self._grab()  # frame 0 gives OpenCV's time origin
            if self._pos <= idx and self._seek_target(idx):
                self._seek(idx)
            while self._pos <= idx:
                self._grab()
            ok, bgr = self.cap.retrieve()
            if not ok or bgr is None:
                raise DecodeError(f"cv2 cannot decode frame {idx} of {self.filename}")
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return [frames[k] for k in order]

    def close(self):
        self.cap.release()


class DecordReader:
    """decord ``VideoReader``: random access by index, ``get_batch`` decodes only the asked frames."""

    def __init__(self, filename):
        decord = import_optional("decord", "decord", "VideoDecoder backend 'decord'", MissingBackendError)
        _check_file(filename)
        self.filename = filename
        try:
            self.vr = decord.VideoReader(filename, num_threads=1)
        except Exception as err:  # decord raises its own DECORDError / RuntimeError types
            raise DecodeError(f"decord cannot open video {filename}: {err}") from None
        self.frames_len = len(self.vr)

    def read(self, indices):
        try:
            batch = self.vr.get_batch([int(i) for i in indices]).asnumpy()
        except Exception as err:
            raise DecodeError(f"decord cannot decode frames {list(indices)} of {self.filename}: {err}") from None
        return list(batch)

    def close(self):
        self.vr = None


class PyAVReader:
    """PyAV: decode only what the wanted frames need, convert only the wanted ones to RGB.

    With the packet index (``keyframe_map``) it seeks to the last keyframe before a wanted frame when
    that skips decoding, identifies frames by timestamp, and tells the decoder to drop non-reference
    frames it is not asked for (``skip_frame``; nothing depends on them, so the other frames are
    bit-identical). Without an index it decodes forward from the start and counts frames.
    """

    MIN_SAVING = 8  # frames a seek must skip to be worth it

    def __init__(self, filename):
        av = import_optional("av", "av", "VideoDecoder backend 'pyav'", MissingBackendError)
        _check_file(filename)
        self.filename = filename
        self._av = av
        try:
            self._open()
        except (av.FFmpegError, IndexError) as err:
            raise DecodeError(f"pyav cannot open video {filename}: {err}") from None
        self.frames_len = int(self.stream.frames or 0)
        self._index = keyframe_map(filename)
        if self.frames_len <= 0:  # no count in the container: count packets (no decoding)
            self.frames_len = len(self._index.pts) if self._index else \
                sum(1 for p in self.container.demux(self.stream) if p.size)
            self._reopen()
        self._used = False

    def _open(self):
        self.container = self._av.open(self.filename)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"

    def _reopen(self):
        self.container.close()
        self._open()

    def read(self, indices):
        if self._used:  # a second read (after ShortVideo) starts again from frame 0
            self._reopen()
        self._used = True
        wanted, order = _plan(indices)
        try:
            frames = None
            if self._index is not None and wanted:
                frames = self._read_indexed(wanted)
                if frames is None:  # timestamps did not line up: decode from the start instead
                    self._reopen()
            if frames is None:
                frames = self._read_sequential(wanted)
        except self._av.FFmpegError as err:
            raise DecodeError(f"pyav cannot decode {self.filename}: {err}") from None
        return [frames[k] for k in order]

    def _runs(self, wanted):
        """Group sorted ``wanted`` into decode runs ``(start keyframe, [indices])``."""
        runs, run_end = [], -1
        for idx in wanted:
            landing = max(k for k in self._index.keyframes if k <= idx) if self._index.keyframes[0] <= idx else 0
            if not runs or landing > run_end + self.MIN_SAVING:
                runs.append((landing, []))
            runs[-1][1].append(idx)
            run_end = idx
        return runs

    def _read_indexed(self, wanted):
        pts = self._index.pts
        if wanted[-1] >= len(pts):
            raise ShortVideo(self.filename, self.frames_len, len(pts))
        ctx = self.stream.codec_context
        got = {}
        for k, (start, run) in enumerate(self._runs(wanted)):
            if start > 0:
                self.container.seek(pts[start], stream=self.stream, backward=True, any_frame=False)
                ctx.flush_buffers()
            slots = {pts[i]: i for i in run}
            last_pts = pts[run[-1]]
            done = False
            for packet in self.container.demux(self.stream):
                if packet.pts is not None:
                    ctx.skip_frame = "DEFAULT" if packet.pts in slots else "NONREF"
                for frame in packet.decode():
                    i = slots.get(frame.pts)
                    if i is not None and i not in got:
                        got[i] = frame.to_ndarray(format="rgb24")
                    if frame.pts is not None and frame.pts >= last_pts:
                        done = True
                if done:
                    break
            ctx.skip_frame = "DEFAULT"
            if any(i not in got for i in run):
                return None
        return [got[i] for i in wanted]

    def _read_sequential(self, wanted):
        frames, pos = [], 0
        it = iter(wanted)
        target = next(it, None)
        for frame in self.container.decode(self.stream):
            while target is not None and pos == target:
                frames.append(frame.to_ndarray(format="rgb24"))
                target = next(it, None)
            if target is None:
                break
            pos += 1
        if target is not None:
            raise ShortVideo(self.filename, self.frames_len, pos)
        return frames

    def close(self):
        self.container.close()


class FrameFolderReader:
    """A folder of JPEGs ``frame_dir/suffix.format(i)`` (1-based ``i``): reads only the asked files."""

    def __init__(self, frame_dir, suffix, frames_len):
        if not os.path.isdir(frame_dir):
            raise DecodeError(f"frame folder not found: {frame_dir}")
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

    def close(self):
        pass


VIDEO_READERS = {"cv2": Cv2Reader, "decord": DecordReader, "pyav": PyAVReader}


def read_all_frames(filename, backend="cv2"):
    """Every frame of a video as RGB ``uint8 [N, H, W, 3]`` (PaddleVideo's whole-video cv2 path; benchmarks)."""
    reader = VIDEO_READERS[backend](filename)
    try:
        try:
            return np.stack(reader.read(range(reader.frames_len)))
        except ShortVideo as err:
            reader.close()
            reader = VIDEO_READERS[backend](filename)
            return np.stack(reader.read(range(err.actual_len)))
    finally:
        reader.close()
