"""Two CPU processes through paddle.distributed.launch (gloo): same weights on both ranks, one set of files.

The training and the test launch fork the launcher and its two workers from ``preloaded_python`` (separate
processes, gloo between them, without three ``import paddle``); the SIGTERM test launches real interpreters,
since the signal is what it tests."""
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, main_captured, make_rawframes, metrics_records, write_small_config

pytestmark = pytest.mark.slow  # every test here launches processes


def _launch(python, log_dir, *args, timeout=600):
    cmd = [python, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", log_dir,
           os.path.join(ROOT, "main.py"), *args]
    env = dict(os.environ, OMP_NUM_THREADS="1")  # two processes share the cores
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def _worker_log(log_dir, rank):
    with open(os.path.join(log_dir, f"workerlog.{rank}"), encoding="utf-8", errors="replace") as f:
        return f.read()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, preloaded_python):
    root = tmp_path_factory.mktemp("dist")
    # 8 train clips (2 ranks x batch 2), 4 valid clips.
    data = make_rawframes(str(root / "data"), per_class=3, num_frames=6, val_per_class=1,
                          size=(48, 36))
    out = str(root / "out")
    cfg = write_small_config(data, out, path=str(root / "cfg.yaml"), epochs=2, batch_size=2)
    log_dir = str(root / "log")
    proc = _launch(preloaded_python, log_dir, "-c", cfg, "--validate")
    return {"proc": proc, "out": out, "log_dir": log_dir, "cfg": cfg}


def test_two_process_training_on_cpu(trained):
    proc, log_dir = trained["proc"], trained["log_dir"]
    rank0 = _worker_log(log_dir, 0)
    assert proc.returncode == 0, rank0[-3000:] + _worker_log(log_dir, 1)[-3000:]
    assert "world size: 2" in rank0
    assert re.search(r"trainable parameters identical on all 2 ranks \(sha256 [0-9a-f]{16}\)", rank0)
    # Rank 1 trains silently: no training lines, no files.
    rank1 = _worker_log(log_dir, 1)
    assert "train step:" not in rank1 and "END epoch" not in rank1
    assert "train step:" in rank0
    val = metrics_records(trained["out"], "epoch", "val")
    assert [r["epoch"] for r in val] == [1, 2]
    assert all(abs(r["top1"] * 4 - round(r["top1"] * 4)) < 1e-5 for r in val)  # 4 clips, each counted once


def test_only_one_set_of_files(trained):
    names = sorted(os.listdir(trained["out"]))
    expected = {".lock", "config.yaml", "paddlevideo.log", "metrics.jsonl", "TSN_demo_best.pdopt",
                "TSN_demo_best.pdparams"}
    expected |= {f"TSN_demo_epoch_{e:05d}.{ext}" for e in (1, 2) for ext in ("pdparams", "pdopt")}
    assert set(names) == expected, names


def test_distributed_test_counts_each_clip_once(trained, preloaded_python, tmp_path):
    """5 clips on 2 ranks: the sampler pads one repeat; the result equals a single-process test."""
    data_list = trained["cfg"].replace("cfg.yaml", os.path.join("data", "train_frames.list"))
    with open(data_list, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    five = tmp_path / "five.list"
    five.write_text("\n".join(lines[::2][:3] + lines[1::2][:2]) + "\n", encoding="utf-8")
    weights = os.path.join(trained["out"], "TSN_demo_epoch_00002.pdparams")
    args = ("-c", trained["cfg"], "--test", "-w", weights, "-o", f"DATASET.test.file_path={five}")
    log_dir = str(tmp_path / "log")
    proc = _launch(preloaded_python, log_dir, *args)
    rank0 = _worker_log(log_dir, 0)
    assert proc.returncode == 0, rank0[-3000:]
    assert "[TEST] Processing batch 0/1 ..." in rank0  # 5 // (batch 2 x 2 ranks), as PaddleVideo prints
    single = main_captured(*args)  # the single-process reference needs no process of its own
    assert single.returncode == 0, single.stderr[-2000:]
    distributed, alone = metrics_records(trained["out"], "test")[-2:]
    assert distributed["clips"] == alone["clips"] == 5
    assert distributed["avg_acc1"] == alone["avg_acc1"]
    assert abs(distributed["avg_acc1"] * 5 - round(distributed["avg_acc1"] * 5)) < 1e-4  # each clip counted once


def test_sigterm_to_the_launcher_stops_both_ranks_at_one_step(trained, tmp_path):
    """paddle.distributed.launch forwards SIGTERM (up to three times); both ranks stop together, each with the
    one line, no traceback and no process left; the launcher itself exits with Paddle's status 15."""
    import signal
    import time
    from paddlevideo.utils.save_load import load
    data = os.path.dirname(trained["cfg"])
    out = str(tmp_path / "out")
    cfg = write_small_config(os.path.join(data, "data"), out, path=str(tmp_path / "cfg.yaml"), epochs=200,
                             batch_size=2)
    log_dir = str(tmp_path / "log")
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", log_dir,
           os.path.join(ROOT, "main.py"), "-c", cfg]
    launcher = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
    first = os.path.join(out, "TSN_demo_epoch_00002.pdparams")
    deadline = time.time() + 300
    while not os.path.exists(first) and launcher.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.exists(first) and launcher.poll() is None
    launcher.send_signal(signal.SIGTERM)
    launcher.communicate(timeout=120)
    assert launcher.returncode == 15
    stops = []
    for rank in (0, 1):
        log = _worker_log(log_dir, rank)
        assert "Traceback" not in log, log[-3000:]
        stops += re.findall(r"main.py: training stopped by SIGTERM at (epoch \d+(?: step \d+| \(end\)))", log)
    assert len(stops) == 2 and stops[0] == stops[1], stops
    assert "resume with: python -m paddle.distributed.launch --nproc_per_node 2" in _worker_log(log_dir, 0)
    for name in os.listdir(out):
        if name.endswith((".pdparams", ".pdopt")):
            load(os.path.join(out, name))
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert cfg not in ps, "a rank or a loader worker outlived the stop"
