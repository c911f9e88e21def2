"""PyAV backend: seek to keyframes, skip unwanted non-reference frames, convert only the wanted ones."""
from ....utils.optional import import_optional
from ..errors import DecodeError, MissingBackendError
from .base import Reader, ShortVideo, check_file, plan_reads
from .keyframes import keyframe_map


class PyAVReader(Reader):
    """PyAV: decode only what the wanted frames need, convert only the wanted ones to RGB.

    With the packet index (``keyframe_map``) it seeks to the last keyframe before a wanted frame when
    that skips decoding, identifies frames by timestamp, and tells the decoder to drop non-reference
    frames it is not asked for (``skip_frame``; nothing depends on them, so the other frames are
    bit-identical). Without an index it decodes forward from the start and counts frames.
    """

    MIN_SAVING = 8  # frames a seek must skip to be worth it

    def __init__(self, filename):
        av = import_optional("av", "av", "VideoDecoder backend 'pyav'", MissingBackendError)
        check_file(filename)
        self.filename = filename
        self._av = av
        self.container = None
        try:
            self._open()
            self.frames_len = int(self.stream.frames or 0)
            self._index = keyframe_map(filename)
            if self.frames_len <= 0:  # no count in the container: count packets (no decoding)
                self.frames_len = len(self._index.pts) if self._index else \
                    sum(1 for p in self.container.demux(self.stream) if p.size)
                self._reopen()
        except (av.FFmpegError, IndexError) as err:
            self.close()
            raise DecodeError(f"pyav cannot open video {filename}: {err}") from None
        except BaseException:
            self.close()
            raise
        self._used = False

    def _open(self):
        self.container = self._av.open(self.filename)
        self.stream = self.container.streams.video[0]  # IndexError without a video stream
        self.stream.thread_type = "AUTO"

    def _reopen(self):
        self.container.close()
        self._open()

    def read(self, indices):
        if self._used:  # a second read (after ShortVideo) starts again from frame 0
            self._reopen()
        self._used = True
        wanted, order = plan_reads(indices)
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
        for start, run in self._runs(wanted):
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
        if self.container is not None:
            self.container.close()
