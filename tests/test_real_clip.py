"""The real clip committed with the tests decodes, and decodes identically, with every backend."""
import numpy as np
import pytest


def test_committed_real_clip_decodes_the_same_with_every_backend(real_clip):
    """The clip committed with the tests (real H.264, two GOPs): cv2, PyAV and decord give the same frames."""
    import av
    import cv2
    cap = cv2.VideoCapture(real_clip)
    cv2_frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        cv2_frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    with av.open(real_clip) as container:
        av_frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(cv2_frames) == len(av_frames) == 50 and cv2_frames[0].shape == (360, 640, 3)
    for i in (0, 24, 25, 49):  # both sides of the keyframe at 25
        np.testing.assert_array_equal(cv2_frames[i], av_frames[i])
    decord = pytest.importorskip("decord")
    batch = decord.VideoReader(real_clip).get_batch([0, 25, 49]).asnumpy()
    np.testing.assert_array_equal(batch[1], av_frames[25])
