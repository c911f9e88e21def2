"""OpenCV backend: grab forward to each wanted frame, convert only those; seek to keyframes when it pays."""
import cv2

from ..errors import DecodeError
from .base import Reader, ShortVideo, check_file, plan_reads
from .keyframes import keyframe_map


class Cv2Reader(Reader):
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
        check_file(filename)
        self.filename = filename
        self.cap = cv2.VideoCapture(filename)
        try:
            if not self.cap.isOpened():
                raise DecodeError(f"cv2 cannot open video {filename} (corrupt file or unsupported codec)")
            self.frames_len = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
            if self.frames_len <= 0:  # no count in the container: count by grabbing once
                self.frames_len = self._count_frames()
        except BaseException:
            self.cap.release()
            raise
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
        wanted, order = plan_reads(indices)
        if wanted and wanted[0] < self._pos:  # asked to go back (a re-sample after ShortVideo): reopen
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
