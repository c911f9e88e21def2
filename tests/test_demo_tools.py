import os
import subprocess
import sys

import cv2
import pytest

from paddlevideo.utils.logger import format_batch_log, format_epoch_log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import make_demo_data  # noqa: E402
import plot_log  # noqa: E402


def test_demo_dataset_is_balanced_and_decodable(tmp_path):
    info = make_demo_data.build_demo_dataset(str(tmp_path), per_class=3, num_frames=12, seed=3)
    assert info["videos"] == 12 and info["root"] == str(tmp_path / "videos")
    for name in make_demo_data.CLASSES:
        assert sorted(os.listdir(tmp_path / "videos" / name)) == [f"{name}_{i:03d}.avi" for i in range(3)]
    labels = (tmp_path / "label_list.txt").read_text().splitlines()
    assert labels == ["0 red_ball", "1 green_bars", "2 blue_checker", "3 white_noise"]
    cap = cv2.VideoCapture(str(tmp_path / "videos" / "green_bars" / "green_bars_002.avi"))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 12


def test_classes_look_different():
    import numpy as np
    rng = np.random.default_rng(0)
    means = [make_demo_data.render_clip(c, rng, 4, 96, 72).reshape(-1, 3).mean(0) for c in range(4)]
    assert np.argmax(means[0]) == 2  # red (BGR)
    assert np.argmax(means[1]) == 1  # green
    assert np.argmax(means[2]) == 0  # blue
    assert means[3].min() > 150      # bright grey


def _write_log(path):
    lines = []
    for epoch in (1, 2, 3):
        lr = 0.01 if epoch < 3 else 0.001
        lines.append("[11/24 15:00:00] " + format_batch_log(
            epoch, 3, "train", 0, {"loss": 2.0 / epoch, "lr": lr, "top1": 0.2 * epoch, "top5": 1.0},
            0.5, 0.01, 16.0, eta_sec=10))
        lines.append("[11/24 15:00:01] " + format_epoch_log(
            epoch, "train", {"loss": 2.0 / epoch, "top1": 0.2 * epoch, "top5": 1.0}, 0.5, 0.01, 5.0, 16.0))
        lines.append("[11/24 15:00:02] " + format_epoch_log(
            epoch, "val", {"loss": 2.5 / epoch, "top1": 0.25 * epoch, "top5": 1.0}, 0.2, 0.01, 1.0, 40.0))
    path.write_text("\n".join(lines) + "\n")


def test_plot_log_parses_our_log_lines(tmp_path):
    log = tmp_path / "paddlevideo.log"
    _write_log(log)
    curves = plot_log.parse_log(str(log))
    assert sorted(curves["train"]) == [1, 2, 3]
    assert curves["train"][2]["loss"] == pytest.approx(1.0)
    assert curves["val"][3]["top1"] == pytest.approx(0.75)
    assert curves["lr"] == {1: 0.01, 2: 0.01, 3: 0.001}


def test_plot_log_cli_writes_png_and_rejects_bad_input(tmp_path):
    pytest.importorskip("matplotlib")
    log = tmp_path / "paddlevideo.log"
    _write_log(log)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(log)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    png = tmp_path / "paddlevideo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "3 epochs" in out.stdout
    bad = tmp_path / "other.log"
    bad.write_text("nothing to see\n")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no 'END epoch" in out.stderr
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(tmp_path / "missing.log")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "log file not found" in out.stderr
