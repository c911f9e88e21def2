"""Two CPU processes through paddle.distributed.launch (gloo): same weights on both ranks, one set of files."""
import os
import re
import subprocess
import sys

import pytest

from test_train import ROOT, make_rawframes, valid_top1, write_config


def _launch(log_dir, *args, timeout=600):
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", log_dir,
           os.path.join(ROOT, "main.py"), *args]
    env = dict(os.environ, OMP_NUM_THREADS="1")  # two processes share the cores
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def _worker_log(log_dir, rank):
    with open(os.path.join(log_dir, f"workerlog.{rank}"), encoding="utf-8", errors="replace") as f:
        return f.read()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    # 8 train clips (2 ranks x batch 2), 4 valid clips.
    data = make_rawframes(str(root / "data"), per_class=3, num_frames=6, val_per_class=1)
    out = str(root / "out")
    cfg = write_config(data, out, path=str(root / "cfg.yaml"), epochs=2, batch_size=2)
    log_dir = str(root / "log")
    proc = _launch(log_dir, "-c", cfg, "--validate")
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
    assert "train step:" in rank0 and len(valid_top1(rank0)) == 2


def test_only_one_set_of_files(trained):
    names = sorted(os.listdir(trained["out"]))
    expected = {"config.yaml", "paddlevideo.log", "TSN_demo_best.pdopt", "TSN_demo_best.pdparams"}
    expected |= {f"TSN_demo_epoch_{e:05d}.{ext}" for e in (1, 2) for ext in ("pdparams", "pdopt")}
    assert set(names) == expected, names


def _test_accuracies(text):
    match = re.search(r"\[TEST\] finished, avg_acc1=([0-9.]+), avg_acc5=([0-9.]+)", text)
    assert match, text[-2000:]
    return float(match.group(1)), float(match.group(2))


def test_distributed_test_counts_each_clip_once(trained, tmp_path):
    """5 clips on 2 ranks: the sampler pads one repeat; the result equals a single-process test."""
    data_list = trained["cfg"].replace("cfg.yaml", os.path.join("data", "train_frames.list"))
    with open(data_list, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    five = tmp_path / "five.list"
    five.write_text("\n".join(lines[::2][:3] + lines[1::2][:2]) + "\n", encoding="utf-8")
    weights = os.path.join(trained["out"], "TSN_demo_epoch_00002.pdparams")
    args = ("-c", trained["cfg"], "--test", "-w", weights, "-o", f"DATASET.test.file_path={five}")
    log_dir = str(tmp_path / "log")
    proc = _launch(log_dir, *args)
    rank0 = _worker_log(log_dir, 0)
    assert proc.returncode == 0, rank0[-3000:]
    assert "[TEST] Processing batch 0/1 ..." in rank0  # 5 // (batch 2 x 2 ranks), as PaddleVideo prints
    distributed = _test_accuracies(rank0)
    single = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-2000:]
    assert distributed == _test_accuracies(single.stdout)
    assert abs(distributed[0] * 5 - round(distributed[0] * 5)) < 1e-4  # each clip counted once
