"""FrameDataset / VideoDataset: list parsing, items, retries and the errors for bad lists and media."""
import logging
import os
import random

import cv2
import numpy as np
import pytest

from paddlevideo.loader import FrameDataset, ListFileError, SampleLoadError, VideoDataset
from paddlevideo.loader.pipelines import (CenterCrop, Compose, FrameDecoder, Image2Array, Normalization, Sampler,
                                          Scale, VideoDecoder)


def small_pipeline(decoder, num_seg=3, valid=True):
    return Compose([decoder, Sampler(num_seg, 1, valid_mode=valid, select_left=True),
                    Scale(short_size=40, fixed_ratio=False, do_round=True, backend="cv2"),
                    CenterCrop(32, do_round=False), Image2Array(),
                    Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def write_list(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def make_frames(folder, n, size=(48, 64)):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(n)
    for i in range(1, n + 1):
        cv2.imwrite(os.path.join(folder, f"img_{i:05d}.jpg"), rng.integers(0, 255, (*size, 3), dtype=np.uint8))


def test_frame_dataset_items(tmp_path):
    make_frames(tmp_path / "raw" / "a.mp4", 9)
    make_frames(tmp_path / "raw" / "b.mp4", 2)
    lst = write_list(tmp_path / "f.list", ["a.mp4 9 3", "", "b.mp4 2 1"])
    ds = FrameDataset(lst, small_pipeline(FrameDecoder()), data_prefix=str(tmp_path / "raw"))
    assert len(ds) == 2
    assert ds.info[0] == {"frame_dir": str(tmp_path / "raw" / "a.mp4"), "suffix": "img_{:05}.jpg",
                          "frames_len": 9, "labels": 3}
    imgs, label = ds[0]
    assert imgs.shape == (3, 3, 32, 32) and imgs.dtype == np.float32
    assert label.dtype == np.int64 and label.tolist() == [3]
    imgs, label = ds[1]  # 2 frames, 3 segments: the integer fallback loads it
    assert imgs.shape == (3, 3, 32, 32) and label.tolist() == [1]


def test_video_dataset_items(tmp_path, make_video):
    make_video("v0.avi", num_frames=12)
    lst = write_list(tmp_path / "v.list", ["v0.avi 2", "v0.avi"])
    ds = VideoDataset(lst, small_pipeline(VideoDecoder("cv2")), data_prefix=str(tmp_path))
    assert ds.info[0]["filename"] == str(tmp_path / "v0.avi")
    assert ds.info[1]["labels"] == 1  # path-only line: PaddleVideo's fake label = line index
    imgs, label = ds[0]
    assert imgs.shape == (3, 3, 32, 32) and label.tolist() == [2]
    suffixed = VideoDataset(write_list(tmp_path / "s.list", ["v0 0"]), small_pipeline(VideoDecoder("cv2")),
                            data_prefix=str(tmp_path), suffix=".avi")
    assert suffixed[0][0].shape == (3, 3, 32, 32)


@pytest.mark.parametrize("line,why", [
    ("a.mp4 9", "2 fields"),
    ("a.mp4 nine 3", "num_frames 'nine' is not an integer"),
    ("a.mp4 9 cat", "label 'cat' is not an integer"),
    ("a.mp4 9 -1", "label -1 is negative"),
    ("a b c d", "4 fields"),
])
def test_bad_frame_list_lines(tmp_path, line, why):
    lst = write_list(tmp_path / "bad.list", ["ok.mp4 3 0", line])
    with pytest.raises(ListFileError) as info:
        FrameDataset(lst, Compose([]))
    msg = str(info.value)
    assert f"bad.list:2: {why}" in msg and "<frame_dir> <num_frames> <label>" in msg


def test_bad_video_list_and_missing_files(tmp_path):
    with pytest.raises(ListFileError, match=r"v.list:1: 3 fields; expected '<path> <label>'"):
        VideoDataset(write_list(tmp_path / "v.list", ["a.mp4 1 2"]), Compose([]))
    with pytest.raises(ListFileError, match="not found: .*missing.list"):
        VideoDataset(str(tmp_path / "missing.list"), Compose([]))
    with pytest.raises(ListFileError, match="no samples"):
        VideoDataset(write_list(tmp_path / "e.list", [""]), Compose([]))


def test_train_retry_swaps_sample_and_warns(tmp_path, make_video, caplog):
    make_video("good.avi", num_frames=12)
    (tmp_path / "broken.avi").write_bytes(b"junk" * 100)
    lst = write_list(tmp_path / "t.list", ["broken.avi 0", "good.avi 1"])
    ds = VideoDataset(lst, small_pipeline(VideoDecoder("cv2"), valid=False), data_prefix=str(tmp_path))
    caplog.set_level(logging.WARNING, logger="paddlevideo")
    logger = logging.getLogger("paddlevideo")
    logger.propagate = True  # let caplog see it
    try:
        random.seed(0)
        imgs, label = ds[0]
    finally:
        logger.propagate = False
    assert label.tolist() == [1]
    assert imgs.shape == (3, 3, 32, 32)
    assert any("broken.avi" in r.getMessage() for r in caplog.records)


def test_retry_limit_raises_naming_files(tmp_path):
    for name in ("x.avi", "y.avi"):
        (tmp_path / name).write_bytes(b"junk" * 100)
    lst = write_list(tmp_path / "t.list", ["x.avi 0", "y.avi 1"])
    ds = VideoDataset(lst, small_pipeline(VideoDecoder("cv2")), data_prefix=str(tmp_path), num_retries=3)
    with pytest.raises(SampleLoadError, match=r"after 3 tries of .*x\.avi.*; last error: DecodeError"):
        ds[0]
    test_ds = VideoDataset(lst, small_pipeline(VideoDecoder("cv2")), data_prefix=str(tmp_path), test_mode=True,
                           num_retries=2)
    with pytest.raises(SampleLoadError) as info:
        test_ds[1]
    assert "y.avi" in str(info.value) and "x.avi" not in str(info.value)  # test mode: same sample


def test_missing_frame_dir_fails_with_name(tmp_path):
    lst = write_list(tmp_path / "f.list", ["gone.mp4 5 0"])
    ds = FrameDataset(lst, small_pipeline(FrameDecoder()), data_prefix=str(tmp_path), num_retries=1)
    with pytest.raises(SampleLoadError, match="frame folder not found: .*gone.mp4"):
        ds[0]


def test_label_outside_the_class_count_names_the_line(tmp_path):
    lst = write_list(tmp_path / "val.list", ["a.mp4 0", "b.mp4 3", "c.mp4 4"])
    with pytest.raises(ListFileError, match=r"val.list:3: label 4 is outside the model's 4 classes \(0 to 3\)"):
        VideoDataset(lst, Compose([]), num_classes=4)
    assert len(VideoDataset(lst, Compose([]), num_classes=5)) == 3


def test_a_bug_in_an_op_is_not_retried_and_keeps_its_traceback(tmp_path, caplog):
    calls = []

    def buggy_op(results):
        calls.append(results["filename"])
        return results["missing key"]  # a programming error, not bad data

    lst = write_list(tmp_path / "t.list", ["a.avi 0", "b.avi 1"])
    ds = VideoDataset(lst, buggy_op, data_prefix=str(tmp_path), num_retries=5)
    with caplog.at_level(logging.WARNING), pytest.raises(KeyError, match="missing key"):
        ds[0]
    assert len(calls) == 1 and not caplog.records  # no retry, no "Error when loading" warning


def test_file_system_errors_are_data_errors_and_retried(tmp_path):
    calls = []

    def unreadable(results):
        calls.append(results["filename"])
        raise PermissionError(13, "Permission denied", results["filename"])

    lst = write_list(tmp_path / "t.list", ["a.avi 0"])
    ds = VideoDataset(lst, unreadable, data_prefix=str(tmp_path), num_retries=2, test_mode=True)
    with pytest.raises(SampleLoadError, match="after 2 tries of .*a.avi; last error: PermissionError"):
        ds[0]
    assert len(calls) == 2
