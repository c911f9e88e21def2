"""data/k400/extract_rawframes.py and build_file_list.py on a tiny generated class tree."""
import os

import cv2
import pytest

from conftest import ROOT, load_tool, write_video


def load_script(name):
    return load_tool(os.path.join("data", "k400", f"{name}.py"), name)


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


def test_extract_refuses_two_videos_that_would_share_a_folder(tmp_path, capsys):
    extract = load_script("extract_rawframes")
    src = tmp_path / "videos" / "cls a"
    src.mkdir(parents=True)
    write_video(str(src / "v 1.avi"), num_frames=4, size=(32, 24))
    write_video(str(src / "v_1.avi"), num_frames=5, size=(32, 24), seed=1)
    dst = tmp_path / "rawframes"
    assert extract.main([str(tmp_path / "videos"), str(dst), "--num_workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'cls a/v 1.avi' and 'cls a/v_1.avi' would both be extracted to 'cls_a/v_1.avi'" in err[0]
    assert not (dst / "cls_a").exists()  # refused before anything was written


def test_extract_reports_a_cut_video_as_partial_and_keeps_its_frames(tmp_path, capsys):
    extract = load_script("extract_rawframes")
    (tmp_path / "videos" / "c").mkdir(parents=True)
    whole = write_video(str(tmp_path / "videos" / "c" / "cut.avi"), num_frames=60, size=(64, 48))
    data = open(whole, "rb").read()
    with open(whole, "wb") as f:  # the header still announces 60 frames; the second half is gone
        f.write(data[: len(data) // 2])
    dst = tmp_path / "rawframes"
    assert extract.main([str(tmp_path / "videos"), str(dst), "--num_workers", "1"]) == 1
    out = capsys.readouterr().out
    kept = len(os.listdir(dst / "c" / "cut.avi"))
    assert 0 < kept < 50
    assert f"partial: {kept} of 60 frames decoded" in out and "1 partial" in out
    assert "partial" in (dst / "failed_videos.txt").read_text()


def test_bad_destinations_and_values_are_one_line(class_tree, tmp_path, capsys):
    extract, build = load_script("extract_rawframes"), load_script("build_file_list")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    videos = str(class_tree / "videos")
    assert extract.main([videos, str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert extract.main([videos, str(a_file / "under")]) == 2
    assert "cannot create the destination folder" in capsys.readouterr().err
    labels = class_tree / "labels.txt"
    labels.write_text("0 abseiling\n1 air_drumming\n")
    extract.main([videos, str(class_tree / "rawframes"), "--num_workers", "1"])
    capsys.readouterr()
    frames = str(class_tree / "rawframes")
    common = [frames, "--format", "rawframes", "--label_list", str(labels)]
    assert build.main(common + ["--out", str(a_file / "x.list")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("build_file_list.py: error:") and "a_file" in err[0]
    assert build.main(common + ["--out", "/proc/x.list"]) == 2
    assert "build_file_list.py: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        build.main(common + ["--out", str(tmp_path / "t.list"), "--val_out", str(tmp_path / "v.list"),
                             "--val_fraction", "1.5"])
    assert info.value.code == 2 and "--val_fraction must be in [0, 1), got 1.5" in capsys.readouterr().err
    assert not (tmp_path / "t.list").exists()
    labels.write_text("0 abseiling\n0 air_drumming\n")
    assert build.main(common + ["--out", str(tmp_path / "t.list")]) == 2
    assert "index 0 is given to both 'abseiling' and 'air_drumming'" in capsys.readouterr().err


def _tree_files(root):
    return {os.path.relpath(os.path.join(d, n), root): os.path.getsize(os.path.join(d, n))
            for d, _, names in os.walk(root) for n in names}


def test_an_output_never_replaces_an_input(class_tree, capsys):
    extract, build = load_script("extract_rawframes"), load_script("build_file_list")
    videos = class_tree / "videos"
    before = _tree_files(videos)
    # same source and destination: each frame folder would replace its own video
    assert extract.main([str(videos), str(videos), "--num_workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is the same file as SRC" in err[0]
    assert _tree_files(videos) == before  # no .tmp folder, no video touched
    os.symlink(videos, class_tree / "same_videos")  # the same folder through a link
    assert extract.main([str(videos), str(class_tree / "same_videos"), "--num_workers", "1"]) == 2
    assert _tree_files(videos) == before
    capsys.readouterr()

    os.rename(videos / "air drumming", videos / "air_drumming")
    labels = class_tree / "labels.txt"
    labels.write_text("0 abseiling\n1 air_drumming\n")
    common = [str(videos), "--format", "videos", "--label_list", str(labels)]
    os.symlink(labels, class_tree / "labels_link.txt")
    for out in ([str(labels)], [str(class_tree / "labels_link.txt")], [str(class_tree / "t.list"), "--val_out",
                                                                       str(labels)]):
        assert build.main(common + ["--out"] + out) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is the same file as --label_list" in err[0], err
        assert labels.read_text() == "0 abseiling\n1 air_drumming\n"
    assert not (class_tree / "t.list").exists()
    # a label list that does not exist yet is written by the run: --out may not name it either
    new_labels = class_tree / "new_labels.txt"
    assert build.main([str(videos), "--format", "videos", "--label_list", str(new_labels),
                       "--out", str(new_labels)]) == 2
    assert not new_labels.exists()
    capsys.readouterr()
    assert build.main(common + ["--out", str(class_tree / "t.list"), "--val_out", str(class_tree / "t.list")]) == 2
    assert "is the same file as --out" in capsys.readouterr().err
    assert not (class_tree / "t.list").exists()


def test_both_tools_follow_a_symlinked_class_folder_and_refuse_a_loop(tmp_path, capsys):
    extract, build = load_script("extract_rawframes"), load_script("build_file_list")
    elsewhere = tmp_path / "other_disk" / "archery"
    elsewhere.mkdir(parents=True)
    write_video(str(elsewhere / "a.avi"), num_frames=5, size=(32, 24))
    videos = tmp_path / "videos"
    (videos / "abseiling").mkdir(parents=True)
    write_video(str(videos / "abseiling" / "b.avi"), num_frames=4, size=(32, 24))
    os.symlink(elsewhere, videos / "archery")
    frames = tmp_path / "rawframes"
    assert extract.main([str(videos), str(frames), "--num_workers", "1"]) == 0
    assert "extracted 2 videos (9 frames)" in capsys.readouterr().out
    assert len(os.listdir(frames / "archery" / "a.avi")) == 5
    labels = str(tmp_path / "labels.txt")
    lists = {}
    for fmt, root in (("videos", videos), ("rawframes", frames)):
        out = str(tmp_path / f"{fmt}.list")
        assert build.main([str(root), "--format", fmt, "--out", out, "--label_list", labels]) == 0
        lists[fmt] = open(out).read().splitlines()
    assert lists["videos"] == ["abseiling/b.avi 0", "archery/a.avi 1"]
    assert lists["rawframes"] == ["abseiling/b.avi 4 0", "archery/a.avi 5 1"]
    capsys.readouterr()

    os.symlink(videos, elsewhere / "loop")  # archery/loop -> videos -> archery -> ...
    assert extract.main([str(videos), str(tmp_path / "frames2"), "--num_workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symlink loop" in err[0] and "loop" in err[0]
    assert build.main([str(videos), "--format", "videos", "--out", str(tmp_path / "x.list"),
                       "--label_list", labels]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symlink loop" in err[0]
