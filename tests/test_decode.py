"""Decoders: backends agree, only sampled frames are decoded, bad inputs give clear errors."""
import logging
import os
import sys

import cv2
import numpy as np
import pytest

from paddlevideo.loader.pipelines import (DecodeError, FrameDecoder, MissingBackendError, PipelineError, Sampler,
                                          VideoDecoder)
from paddlevideo.loader.pipelines.readers import VIDEO_READERS, read_all_frames

BACKENDS = ["cv2", "decord", "pyav"]


def decode(path, backend, indices):
    with VIDEO_READERS[backend](path) as reader:
        return reader.frames_len, np.stack(reader.read(indices))


def test_backends_agree_on_generated_video(make_video):
    path = make_video("clip.avi", num_frames=30, size=(96, 72))
    idx = [25, 3, 17, 3]
    results = {b: decode(path, b, idx) for b in BACKENDS}
    for backend, (n, frames) in results.items():
        assert n == 30, backend
        assert frames.shape == (4, 72, 96, 3) and frames.dtype == np.uint8
        assert np.array_equal(frames, results["cv2"][1]), backend
    # The right frames, in the asked order: frame i has a bright bar at x = 3*i (RGB, grey so order-free).
    bars = [int(np.argmax(f[:, :, 1].mean(axis=0))) for f in results["cv2"][1]]
    assert [abs(b - 3 * i) <= 3 for b, i in zip(bars, idx)] == [True] * 4


def test_backends_agree_on_real_video(real_clip):
    """Our readers (sampled decoding, keyframe jumps) on a real H.264 clip with two GOPs."""
    idx = [5, 24, 25, 49]
    ref_n, ref = decode(real_clip, "decord", idx)
    for backend in ("cv2", "pyav"):
        n, frames = decode(real_clip, backend, idx)
        assert n == ref_n == 50
        assert np.array_equal(frames, ref), backend


def test_sampled_frames_equal_whole_video_frames(make_video):
    path = make_video("w.avi", num_frames=20)
    everything = read_all_frames(path, "cv2")
    assert everything.shape[0] == 20
    results = Sampler(3, 1, valid_mode=True, select_left=True)(VideoDecoder("cv2")({"filename": path}))
    assert results["frame_idx"] == [3, 10, 16]
    assert np.array_equal(results["imgs"], everything[[3, 10, 16]])
    assert results["frames_len"] == 20 and results["backend"] == "cv2"


def test_cv2_reader_grabs_without_converting_skipped_frames(make_video):
    path = make_video("g.avi", num_frames=25)
    reader = VIDEO_READERS["cv2"](path)
    calls = {"retrieve": 0}
    real_cap = reader.cap

    class CountingCap:
        def __getattr__(self, name):
            return getattr(real_cap, name)

        def retrieve(self):
            calls["retrieve"] += 1
            return real_cap.retrieve()

    reader.cap = CountingCap()
    reader.read([20, 2, 11])
    reader.close()
    assert calls["retrieve"] == 3


def test_frame_decoder_reads_rgb(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "vid.mp4"
    folder.mkdir()
    for i in range(1, 6):
        cv2.imwrite(str(folder / f"img_{i:05d}.jpg"), rng.integers(0, 255, (8, 10, 3), dtype=np.uint8))
    results = FrameDecoder()({"frame_dir": str(folder), "frames_len": "5", "suffix": "img_{:05}.jpg"})
    assert results["frames_len"] == 5 and results["format"] == "frame"
    out = Sampler(3, 1, valid_mode=True, select_left=True)(results)
    assert out["frame_idx"] == [1, 3, 5]
    expect = cv2.imread(str(folder / "img_00003.jpg"))[:, :, ::-1]
    assert np.array_equal(out["imgs"][1], expect)


def test_missing_frame_dir_and_file(tmp_path):
    with pytest.raises(DecodeError, match="frame folder not found: .*nope"):
        FrameDecoder()({"frame_dir": str(tmp_path / "nope"), "frames_len": 3})
    (tmp_path / "d").mkdir()
    results = FrameDecoder()({"frame_dir": str(tmp_path / "d"), "frames_len": 3})
    with pytest.raises(DecodeError, match=r"missing: .*img_00001.jpg"):
        Sampler(3, 1, valid_mode=True, select_left=True)(results)


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupt_and_missing_video(tmp_path, backend):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00not a video" * 64)
    with pytest.raises(DecodeError, match="corrupt.mp4"):
        Sampler(3, 1, select_left=True)(VideoDecoder(backend)({"filename": str(bad)}))
    with pytest.raises(DecodeError, match="not found: .*absent.mp4"):
        VideoDecoder(backend)({"filename": str(tmp_path / "absent.mp4")})


@pytest.mark.parametrize("backend", BACKENDS)
def test_lying_frame_count_is_clamped(make_video, backend, caplog):
    path = make_video("full.avi", num_frames=30)
    data = open(path, "rb").read()
    cut = os.path.join(os.path.dirname(path), f"cut_{backend}.avi")
    with open(cut, "wb") as f:
        f.write(data[:int(len(data) * 0.6)])  # header still says 30 frames
    caplog.set_level(logging.WARNING, logger="paddlevideo")
    out = Sampler(3, 1, valid_mode=True, select_left=True)(VideoDecoder(backend)({"filename": cut}))
    assert out["imgs"].shape[0] == 3
    assert out["frames_len"] < 30
    assert max(out["frame_idx"]) < out["frames_len"]


def test_short_video_uses_every_frame(make_video):
    path = make_video("short.avi", num_frames=2)
    out = Sampler(3, 1, valid_mode=False, select_left=True)(VideoDecoder("cv2")({"filename": path}))
    assert out["frame_idx"] == [0, 0, 1]


def test_missing_backend_names_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "decord", None)  # import decord -> ImportError
    with pytest.raises(MissingBackendError, match="pip install decord"):
        VideoDecoder(backend="decord")
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingBackendError, match="pip install av"):
        VideoDecoder(backend="pyav")


def test_unknown_backend():
    with pytest.raises(PipelineError, match="cv2, decord, pyav"):
        VideoDecoder(backend="ffmpeg")


def test_cv2_keyframe_seek_gives_sequential_frames(make_video):
    """MJPG: every frame is a keyframe, so the cv2 reader seeks; frames must equal sequential decoding."""
    path = make_video("long.avi", num_frames=80, size=(32, 24))
    idx = [75, 5, 40]
    expect = np.stack(VIDEO_READERS["decord"](path).read(idx))
    reader = VIDEO_READERS["cv2"](path)
    sets = []
    cap = reader.cap

    class Spy:
        def __getattr__(self, name):
            return getattr(cap, name)

        def set(self, prop, value):
            sets.append(value)
            return cap.set(prop, value)

    reader.cap = Spy()
    assert np.array_equal(np.stack(reader.read(idx)), expect)
    assert sets == [40, 75]  # two keyframe seeks, no frame-by-frame seeking


def test_cv2_seek_with_wrong_timestamp_falls_back(make_video):
    path = make_video("long2.avi", num_frames=80, size=(32, 24))
    idx = [5, 40, 75]
    expect = np.stack(VIDEO_READERS["decord"](path).read(idx))
    reader = VIDEO_READERS["cv2"](path)
    real = reader.cap

    class Liar:  # reports timestamps 1 s late after a seek, so the landed frame cannot be verified
        seeked = False

        def __getattr__(self, name):
            return getattr(real, name)

        def set(self, prop, value):
            Liar.seeked = True
            return real.set(prop, value)

        def get(self, prop):
            return real.get(prop) + (1000.0 if Liar.seeked and prop == cv2.CAP_PROP_POS_MSEC else 0.0)

    reader.cap = Liar()
    reader._reopen = lambda: (real.release(), setattr(reader, "_pos", 0),
                              setattr(reader, "cap", cv2.VideoCapture(path)))
    assert np.array_equal(np.stack(reader.read(idx)), expect)
    assert Liar.seeked and reader._index is None  # seeking disabled for this file after the mismatch
