"""data/k400/extract_rawframes.py and build_file_list.py on a tiny generated class tree."""
import importlib.util
import os
import sys

import cv2
import pytest

from conftest import ROOT, write_video


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "data", "k400", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # worker processes unpickle its functions by module name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def class_tree(tmp_path):
    videos = tmp_path / "videos"
    for cls, n in (("air drumming", 2), ("abseiling", 3)):
        (videos / cls).mkdir(parents=True)
        for i in range(n):
            write_video(str(videos / cls / f"c{i}.avi"), num_frames=6 + i, size=(32, 24), seed=i)
    (videos / "abseiling" / "broken.mp4").write_bytes(b"junk" * 50)
    return tmp_path


def test_extract_rawframes(class_tree, capsys):
    extract = load_script("extract_rawframes")
    src, dst = str(class_tree / "videos"), str(class_tree / "rawframes")
    assert extract.main([src, dst, "--num_workers", "2"]) == 1  # one unreadable video
    out = capsys.readouterr().out
    assert "Unreadable videos (1)" in out and "broken.mp4" in out
    assert "extracted 5 videos (34 frames)" in out
    frames = sorted(os.listdir(class_tree / "rawframes" / "abseiling" / "c2.avi"))
    assert frames[0] == "img_00001.jpg" and len(frames) == 8
    assert cv2.imread(str(class_tree / "rawframes" / "abseiling" / "c2.avi" / "img_00008.jpg")).shape == (24, 32, 3)
    assert os.path.isdir(class_tree / "rawframes" / "air_drumming" / "c0.avi")  # whitespace -> _
    assert "broken.mp4" in (class_tree / "rawframes" / "failed_videos.txt").read_text()
    extract.main([src, dst, "--num_workers", "1"])
    assert "skipped 5 already done" in capsys.readouterr().out
    assert extract.main([str(class_tree / "nothing"), dst]) == 2


def test_build_file_lists(class_tree, capsys):
    extract, build = load_script("extract_rawframes"), load_script("build_file_list")
    extract.main([str(class_tree / "videos"), str(class_tree / "rawframes"), "--num_workers", "1"])
    labels = class_tree / "labels.txt"
    labels.write_text("0 abseiling\n1 air_drumming\n")
    out = class_tree / "frames.list"
    assert build.main([str(class_tree / "rawframes"), "--format", "rawframes", "--out", str(out),
                       "--label_list", str(labels)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "abseiling/c0.avi 6 0" and "air_drumming/c1.avi 7 1" in lines and len(lines) == 5
    # videos: "air drumming" has a space, which a list line cannot hold -> clear error
    assert build.main([str(class_tree / "videos"), "--format", "videos", "--out", str(class_tree / "v.list"),
                       "--label_list", str(labels)]) == 2
    assert "whitespace" in capsys.readouterr().err
    os.rename(class_tree / "videos" / "air drumming", class_tree / "videos" / "air_drumming")
    new_labels = class_tree / "new_labels.txt"
    assert build.main([str(class_tree / "videos"), "--format", "videos", "--out", str(class_tree / "t.list"),
                       "--val_out", str(class_tree / "v.list"), "--val_fraction", "0.5",
                       "--label_list", str(new_labels)]) == 0
    assert new_labels.read_text() == "0 abseiling\n1 air_drumming\n"
    train, val = (class_tree / "t.list").read_text().splitlines(), (class_tree / "v.list").read_text().splitlines()
    assert len(train) + len(val) == 6 and len(val) == 3  # round(4*0.5) + round(2*0.5)
    assert all(len(line.split()) == 2 for line in train + val)
    (class_tree / "videos" / "unknown_class").mkdir()
    write_video(str(class_tree / "videos" / "unknown_class" / "u.avi"), num_frames=3)
    assert build.main([str(class_tree / "videos"), "--format", "videos", "--out", str(class_tree / "x.list"),
                       "--label_list", str(labels)]) == 2
    assert "'unknown_class' is not in the label list" in capsys.readouterr().err


def test_lists_load_in_datasets(class_tree):
    """The lists the tools write are what FrameDataset reads."""
    from paddlevideo.loader import build_dataset
    from paddlevideo.utils.config import get_config
    extract, build = load_script("extract_rawframes"), load_script("build_file_list")
    extract.main([str(class_tree / "videos"), str(class_tree / "rawframes"), "--num_workers", "1"])
    out = class_tree / "frames.list"
    build.main([str(class_tree / "rawframes"), "--format", "rawframes", "--out", str(out),
                "--label_list", str(class_tree / "labels.txt")])
    cfg = get_config(os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml"), show=False)
    cfg.PIPELINE.valid.transform[0]["Scale"]["short_size"] = 24
    cfg.PIPELINE.valid.transform[1]["CenterCrop"]["target_size"] = 16
    ds = build_dataset({"format": "FrameDataset", "file_path": str(out), "data_prefix": str(class_tree / "rawframes"),
                        "suffix": "img_{:05}.jpg"}, cfg.PIPELINE.valid)
    imgs, label = ds[len(ds) - 1]
    assert imgs.shape == (3, 3, 16, 16) and label.tolist() == [1]
