"""No video file stays open after a pipeline fails, wherever it fails (decoder, sampler, a later op).

Open files are counted in /proc/self/fd; the caught exceptions are kept alive on purpose, since their
tracebacks hold every ``results`` dict, so only a reader closed by the pipeline itself passes.
"""
import os

import pytest

from paddlevideo.loader.pipelines import Compose, DecodeError, Sampler, VideoDecoder
from paddlevideo.loader.pipelines.readers import VIDEO_READERS

BACKENDS = ["cv2", "decord", "pyav"]

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd (Linux)")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class Explode:
    """A later op that fails."""

    def __call__(self, results):
        raise RuntimeError("a later op failed")


@pytest.fixture
def tracked(monkeypatch):
    """``tracked(backend)`` -> list of the readers that backend opens from now on."""
    def _track(backend):
        opened = []
        base = VIDEO_READERS[backend]

        class Recording(base):
            def __init__(self, filename):
                super().__init__(filename)
                self.closed = False
                opened.append(self)

            def close(self):
                self.closed = True
                super().close()

        monkeypatch.setitem(VIDEO_READERS, backend, Recording)
        return opened
    return _track


def failing_runs(pipeline, results, error, times=3):
    """Run ``pipeline`` ``times`` times, each expected to raise ``error``; the exceptions are returned."""
    caught = []
    for _ in range(times):
        with pytest.raises(error) as info:
            pipeline(dict(results))
        caught.append(info)
    return caught


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_after_sampler_leaves_no_open_reader(make_video, tracked, backend):
    video = make_video("a.avi", num_frames=30)
    sample = Sampler(3, 1, valid_mode=True, select_left=True)
    sample(VideoDecoder(backend)({"filename": video}))  # backend libraries load their own files once
    opened = tracked(backend)
    before = open_fds()
    caught = failing_runs(Compose([VideoDecoder(backend), sample, Explode()]), {"filename": video}, RuntimeError)
    assert open_fds() == before, f"{backend} left files open"
    assert len(opened) == 3 and all(reader.closed for reader in opened)
    assert len(caught) == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_between_decoder_and_sampler_opens_nothing(make_video, tracked, backend):
    video = make_video("b.avi", num_frames=30)
    opened = tracked(backend)
    before = open_fds()
    pipeline = Compose([VideoDecoder(backend), Explode(), Sampler(3, 1, select_left=True)])
    caught = failing_runs(pipeline, {"filename": video}, RuntimeError)
    assert open_fds() == before
    assert opened == [] and len(caught) == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_while_reading_closes_the_reader(make_video, tracked, monkeypatch, backend):
    video = make_video("c.avi", num_frames=30)
    Sampler(3, 1, select_left=True)(VideoDecoder(backend)({"filename": video}))
    opened = tracked(backend)
    real_read = VIDEO_READERS[backend].read

    def read_then_fail(self, indices):
        real_read(self, indices)
        raise DecodeError(f"decoding {self.filename} failed")

    monkeypatch.setattr(VIDEO_READERS[backend], "read", read_then_fail)
    before = open_fds()
    caught = failing_runs(Compose([VideoDecoder(backend), Sampler(3, 1, select_left=True)]), {"filename": video},
                          DecodeError)
    assert open_fds() == before
    assert len(opened) == 3 and all(reader.closed for reader in opened)
    assert "c.avi" in str(caught[0].value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupt_video_leaves_no_open_file(tmp_path, make_video, backend):
    Sampler(3, 1, select_left=True)(VideoDecoder(backend)({"filename": make_video("ok.avi", num_frames=10)}))
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00not a video" * 64)
    before = open_fds()
    caught = failing_runs(Compose([VideoDecoder(backend), Sampler(3, 1, select_left=True)]), {"filename": str(bad)},
                          DecodeError)
    assert open_fds() == before
    assert "corrupt.mp4" in str(caught[-1].value)
