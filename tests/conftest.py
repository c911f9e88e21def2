"""Shared test fixtures: a real clip committed with the tests, generated clips, and the larger real videos
in ../shared/data (tests using those skip when it is absent)."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import paddlevideo  # noqa: E402

paddlevideo.setup_runtime()  # as the entry points do: CPU runtime and console logging, before Paddle


def shared_file(name: str) -> str:
    """Path of ``../shared/data/<name>``; skips the test with a reason when it is not there."""
    path = os.path.join(SHARED_DATA, name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found: the real test videos live in ../shared/data (absent in a user's clone)")
    return path


REAL_CLIP = os.path.join(ROOT, "tests", "data", "bigbuckbunny_2s.mp4")  # H.264 640x360, 50 frames


@pytest.fixture
def real_clip() -> str:
    """A real H.264 video in every clone: 2 s of Big Buck Bunny (tests/data/README.md)."""
    return REAL_CLIP


@pytest.fixture
def shared_data():
    """Callable: ``shared_data('example.avi')`` -> path, or skip."""
    return shared_file


def write_video(path: str, num_frames: int = 30, size=(96, 72), fps: int = 25, seed: int = 0,
                color=None) -> str:
    """Write a small MJPG .avi (or mp4v .mp4) whose frames differ (a moving bar over noise).

    ``size`` is (width, height). Frame i has a bright vertical bar at x = 3*i mod width, so
    decoders can be checked for picking the right frame. Returns ``path``.
    """
    import cv2
    width, height = size
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.endswith(".mp4") else "MJPG"))
    writer = cv2.VideoWriter(path, fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write {path}")
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
    for i in range(num_frames):
        frame = base.copy()
        if color is not None:
            frame[:] = np.asarray(color, dtype=np.uint8)
        x = (3 * i) % width
        frame[:, x:x + 4] = 255
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def make_video(tmp_path):
    """Callable writing a generated clip into the test's tmp dir: ``make_video('a.avi', num_frames=40)``."""
    def _make(name="clip.avi", **kwargs):
        return write_video(str(tmp_path / name), **kwargs)
    return _make
