"""Sampler: PaddleVideo's index formulas, random draw order, short clips, re-sampling, closing the clip."""
import random

import numpy as np
import pytest

from paddlevideo.loader.pipelines import DecodeError, PipelineError, Sampler
from paddlevideo.loader.pipelines.readers import VIDEO_READERS, Reader, ShortVideo


def spec_select_left(L, S, valid, rng_np):
    """PaddleVideo's select_left formulas written out independently (with our integer short-clip fallback)."""
    if not valid:
        avg = int(L / S)
        if avg > 0:
            r = rng_np.randint(avg, size=S)
            return [i * avg + int(r[i]) for i in range(S)]
        return [int(i * L / S) for i in range(S)]
    if L > S:
        return [int(L / S / 2 + (L / S) * i) for i in range(S)]
    return [int(i * L / S) for i in range(S)]


def spec_segments(L, S, seg_len, valid, rng_py):
    avg = int(L / S)
    out = []
    for i in range(S):
        if avg >= seg_len:
            start = ((avg - 1) // 2 if valid else rng_py.randint(0, avg - seg_len)) + i * avg
        elif avg >= 1:
            start = i * avg
        else:
            start = i
        out += list(range(start, start + seg_len))
    return out


CASES = [(L, S) for L in (1, 2, 3, 5, 7, 24, 25, 26, 100, 250, 301) for S in (1, 3, 8, 25)]


@pytest.mark.parametrize("valid", [False, True])
@pytest.mark.parametrize("L,S", CASES)
def test_select_left_matches_spec(L, S, valid):
    sampler = Sampler(num_seg=S, seg_len=1, valid_mode=valid, select_left=True)
    for fmt in ("frame", "video"):
        np.random.seed(L * 31 + S)
        got = sampler.indices(L, fmt)
        ref = spec_select_left(L, S, valid, np.random.RandomState(L * 31 + S))
        expect = [o + 1 for o in ref] if fmt == "frame" else [o % L for o in ref]
        assert got == expect, (L, S, valid, fmt)
        assert len(got) == S


@pytest.mark.parametrize("valid", [False, True])
@pytest.mark.parametrize("seg_len", [1, 2, 5])
@pytest.mark.parametrize("L,S", [(1, 3), (4, 3), (10, 3), (30, 8), (250, 3), (7, 7)])
def test_segments_match_spec(L, S, seg_len, valid):
    sampler = Sampler(num_seg=S, seg_len=seg_len, valid_mode=valid, select_left=False)
    random.seed(7)
    got = sampler.indices(L, "video")
    ref = spec_segments(L, S, seg_len, valid, random.Random(7))
    assert got == [j % L for j in ref]
    random.seed(7)
    assert sampler.indices(L, "frame") == [j + 1 for j in ref]


def test_known_values():
    valid = Sampler(num_seg=3, seg_len=1, valid_mode=True, select_left=True)
    assert valid.indices(250, "video") == [41, 125, 208]
    assert valid.indices(250, "frame") == [42, 126, 209]
    assert Sampler(25, 1, valid_mode=True, select_left=True).indices(250, "video")[:3] == [5, 15, 25]
    # Float truncation order: L=10, S=3 -> 10/3/2 + 10/3*i = 1.67, 5.0, 8.33
    assert valid.indices(10, "video") == [1, 5, 8]


def test_short_clip_integer_fallback():
    """Deviation from PaddleVideo (float zeros): integer offsets int(i*L/S), every frame used."""
    train = Sampler(num_seg=3, seg_len=1, valid_mode=False, select_left=True)
    assert train.indices(2, "frame") == [1, 1, 2]
    assert all(isinstance(i, int) for i in train.indices(2, "frame"))
    valid = Sampler(num_seg=3, seg_len=1, valid_mode=True, select_left=True)
    assert valid.indices(3, "video") == [0, 1, 2]
    assert valid.indices(3, "frame") == [1, 2, 3]
    assert Sampler(8, 1, valid_mode=True, select_left=True).indices(4, "video") == [0, 0, 1, 1, 2, 2, 3, 3]


def test_train_draws_one_numpy_call_and_no_python_random():
    np.random.seed(3)
    random.seed(3)
    py_state = random.getstate()
    Sampler(num_seg=3, seg_len=1, select_left=True).indices(100, "video")
    after = np.random.randint(1000)
    np.random.seed(3)
    np.random.randint(33, size=3)
    assert np.random.randint(1000) == after
    assert random.getstate() == py_state


def test_linspace():
    s = Sampler(num_seg=4, seg_len=1, linspace_sample=True)
    assert s.indices(10, "video") == [0, 3, 6, 9]
    assert s.indices(10, "frame") == [1, 4, 7, 10]


def test_bad_arguments():
    with pytest.raises(PipelineError, match="dense_sample"):
        Sampler(num_seg=3, seg_len=1, dense_sample=True)
    with pytest.raises(PipelineError, match="num_seg"):
        Sampler(num_seg=0, seg_len=1)
    with pytest.raises(PipelineError, match="decoder"):
        Sampler(3, 1)({"frames_len": 10})


class FakeReader(Reader):
    """Records what the sampler asks for; ``real`` frames exist although its header claims ``frames_len``."""

    def __init__(self, frames_len, real, filename="fake.mp4"):
        self.frames_len, self.real, self.filename, self.asked, self.closed = frames_len, real, filename, [], False

    def read(self, indices):
        self.asked.append(list(indices))
        if max(indices) >= self.real:
            raise ShortVideo(self.filename, self.frames_len, self.real)
        return [np.full((4, 5, 3), i, np.uint8) for i in indices]

    def close(self):
        self.closed = True


def run_sampler_on(reader, monkeypatch):
    """Sample a video clip whose backend opens ``reader``."""
    monkeypatch.setitem(VIDEO_READERS, "fake", lambda filename: reader)
    results = {"filename": reader.filename, "backend": "fake", "format": "video"}
    return Sampler(3, 1, valid_mode=True, select_left=True)(results)


def test_call_reads_only_sampled_frames_and_closes(monkeypatch):
    reader = FakeReader(frames_len=30, real=30)
    out = run_sampler_on(reader, monkeypatch)
    assert reader.asked == [[5, 15, 25]] and reader.closed
    assert out["imgs"].shape == (3, 4, 5, 3) and out["imgs"].dtype == np.uint8
    assert [int(f[0, 0, 0]) for f in out["imgs"]] == [5, 15, 25]
    assert out["frames_len"] == 30
    assert all(not isinstance(value, Reader) for value in out.values())


def test_lying_frame_count_resamples_from_real_count(monkeypatch):
    reader = FakeReader(frames_len=99, real=12)
    out = run_sampler_on(reader, monkeypatch)
    assert out["frames_len"] == 12
    assert reader.asked[-1] == [2, 6, 10]
    assert out["frame_idx"] == [2, 6, 10]
    assert reader.closed


def test_reader_is_closed_when_reading_fails(monkeypatch):
    reader = FakeReader(frames_len=30, real=0)  # every read is short, and 0 frames decode
    with pytest.raises(DecodeError, match="no decodable frames in fake.mp4"):
        run_sampler_on(reader, monkeypatch)
    assert reader.closed
