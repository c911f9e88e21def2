"""Demo tools: the generated dataset, and plot_log reading metrics.jsonl or a PaddleVideo log."""
import os
import subprocess
import sys

import cv2
import pytest

from paddlevideo.tasks.metrics_log import MetricsLog
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


def _write_metrics(folder):
    log = MetricsLog(str(folder))
    for epoch in (1, 2):
        log.write("step", "train", epoch=epoch, step=0, loss=9.0, top1=0.0, top5=0.0, lr=0.5)
        log.write("epoch", "train", epoch=epoch, step=None, loss=1.0 / epoch, top1=0.3 * epoch, top5=0.9,
                  lr=0.1 / epoch)
        log.write("epoch", "val", epoch=epoch, step=None, loss=1.5 / epoch, top1=0.4 * epoch, top5=1.0, lr=None)
    log.write("test", "test", avg_acc1=0.5, avg_acc5=1.0)
    return folder / "metrics.jsonl"


def test_plot_log_reads_metrics_file_directly_or_beside_a_log(tmp_path):
    path = _write_metrics(tmp_path)
    curves = plot_log.load_curves(str(path))
    assert curves["train"] == {1: {"loss": 1.0, "top1": 0.3, "top5": 0.9},
                               2: {"loss": 0.5, "top1": 0.6, "top5": 0.9}}
    assert curves["val"][2]["top1"] == pytest.approx(0.8)
    assert curves["lr"] == {1: pytest.approx(0.1), 2: pytest.approx(0.05)}
    _write_log(tmp_path / "paddlevideo.log")  # 3 epochs in the text; the records win
    assert plot_log.load_curves(str(tmp_path / "paddlevideo.log")) == curves


def test_plot_log_rejects_a_metrics_file_without_epochs(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"event": "test", "mode": "test", "avg_acc1": 1.0}\n')
    with pytest.raises(plot_log.LogFormatError, match="no train epoch records"):
        plot_log.load_curves(str(path))
    path.write_text("{not json\n")
    with pytest.raises(plot_log.LogFormatError, match="metrics.jsonl:1: not a JSON line"):
        plot_log.load_curves(str(path))


@pytest.mark.slow  # five plot_log.py processes
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
    malformed = tmp_path / "malformed.log"
    malformed.write_text(log.read_text().replace("loss_avg: ", "loss_avg: 1.2.3", 1))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(malformed)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "is not a number" in out.stderr
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(log), "-o",
                          str(a_file / "curves.png")], capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "cannot write" in out.stderr
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/plot_log.py"), str(log), "-o",
                          str(tmp_path / "new" / "folder" / "curves.png")], capture_output=True, text=True)
    assert out.returncode == 0 and (tmp_path / "new" / "folder" / "curves.png").is_file()


def test_demo_summary_comes_from_metrics_records(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import demo
    records = demo.metrics_records(str(_write_metrics(tmp_path)))
    assert demo.demo_results(records) == {"best_valid_top1": pytest.approx(0.8), "test_top1": 0.5}
    assert demo.demo_results(records[:2]) == {"best_valid_top1": None, "test_top1": None}
    assert demo.metrics_records(str(tmp_path / "absent.jsonl")) == []


def _demo():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import demo
    return demo


def test_demo_help_lists_every_step_the_run_prints(capsys):
    demo = _demo()
    with pytest.raises(SystemExit) as info:
        demo.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    steps = demo.demo_commands("python")
    assert len(steps) == 9
    for i, (title, _) in enumerate(steps, 1):
        assert f"[{i}/{len(steps)}] {title}" in out  # the run prints "[i/N] title" (run_step)


def test_demo_page_shows_the_commands_and_the_video_the_demo_runs(tmp_path):
    """docs/demo.md lists demo.py's commands, with the validation video the seeded split puts first."""
    demo = _demo()
    from conftest import load_tool
    build = load_tool(os.path.join("data", "k400", "build_file_list.py"), "build_file_list")
    # the split depends only on the file names per class and the seed: empty files stand in for the clips
    for name in make_demo_data.CLASSES:
        (tmp_path / "videos" / name).mkdir(parents=True)
        for i in range(24):  # make_demo_data's default per_class
            (tmp_path / "videos" / name / f"{name}_{i:03d}.avi").touch()
    (tmp_path / "label_list.txt").write_text("".join(f"{i} {n}\n" for i, n in enumerate(make_demo_data.CLASSES)))
    list_step = demo.demo_commands("python")[1][1]
    assert list_step[1] == "data/k400/build_file_list.py"
    assert build.main([a.replace(demo.DATA, str(tmp_path)) for a in list_step[2:]]) == 0
    first_val = (tmp_path / "val.list").read_text().split()[0]
    video = f"{demo.DATA}/videos/{first_val}"
    page = open(os.path.join(ROOT, "docs", "demo.md"), encoding="utf-8").read()
    block = page.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [" ".join(argv) for _, argv in demo.demo_commands("python", sample_video=video)]
    assert f"`{video}`" in page


def _config_dump_then(tail):
    from paddlevideo.utils.config import format_config, get_config
    cfg = get_config(os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml"), show=False)
    stamp = "[11/29 18:00:00] "
    dump = [stamp + "-" * 60] + [stamp + line for line in format_config(cfg).splitlines()]
    return [line + "\n" for line in dump + [stamp + t for t in tail]]


def test_the_demo_shows_the_config_once():
    demo = _demo()
    output = _config_dump_then(["CPU runtime: OMP_NUM_THREADS=2 (2 usable CPUs)", "[TEST] finished, avg_acc1=1.0"])
    dump = demo.ConfigDumpFilter("(the config, as printed in step 5)")
    shown = [line for raw in output for line in dump.feed(raw)] + dump.flush()
    assert shown == ["(the config, as printed in step 5)\n"] + output[-2:]
    # a command that fails before the runtime line: nothing held back, the error included
    failed = _config_dump_then(["main.py: error: something"])
    dump = demo.ConfigDumpFilter("note")
    assert [line for raw in failed for line in dump.feed(raw)] + dump.flush() == failed


def test_the_demo_ends_with_what_to_try_next():
    demo = _demo()
    lines = demo.next_steps()
    assert lines[0] == "Try next:" and any("tools/predict.py" in line for line in lines)
    assert any("docs/data.md" in line for line in lines)
