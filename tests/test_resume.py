"""Crash safety: kill -9 mid-training leaves complete checkpoints; resuming gives the same final weights.

The uninterrupted run compared against is the session's ``reference_run``. The killed run is a real interpreter
(the kill is what is tested); the resume is a fresh process forked from ``preloaded_python``; the config errors
run in-process."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REFERENCE_EPOCHS, ROOT, main_captured, metrics_records, run_main, write_small_config

import paddlevideo  # noqa: F401,E402  (before paddle)
import paddle  # noqa: E402


def _load(path):
    return {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in paddle.load(path).items()
            if k != "LR_Scheduler"}


def _assert_identical(a_path, b_path):
    a, b = _load(a_path), _load(b_path)
    assert a.keys() == b.keys()
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.mark.slow
def test_kill9_then_resume_matches_uninterrupted(small_frames, reference_run, preloaded_python, tmp_path):
    epochs = REFERENCE_EPOCHS
    ref_out = reference_run["out"]
    out = str(tmp_path / "killed")
    cfg = write_small_config(small_frames, out, path=str(tmp_path / "killed.yaml"), epochs=epochs, num_workers=1)
    child = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "-c", cfg], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = os.path.join(out, "TSN_demo_epoch_00001.pdparams")
    deadline = time.time() + 300
    while not os.path.exists(first) and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert os.path.exists(first), "training never wrote its first checkpoint"
    # Whatever moment the kill hit, every checkpoint file present loads completely.
    for name in os.listdir(out):
        if name.endswith((".pdparams", ".pdopt")):
            paddle.load(os.path.join(out, name))
    saved = sorted(n for n in os.listdir(out) if n.endswith(".pdparams"))
    assert f"TSN_demo_epoch_{epochs:05d}.pdparams" not in saved, "the kill came too late to test resume"

    proc = run_main("-c", cfg, "--resume", python=preloaded_python)  # a fresh process, as the killed run was
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Resume from checkpoint:" in proc.stdout
    assert "<= resume_epoch" in proc.stdout
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
    final = f"TSN_demo_epoch_{epochs:05d}"
    _assert_identical(os.path.join(ref_out, final + ".pdparams"), os.path.join(out, final + ".pdparams"))
    _assert_identical(os.path.join(ref_out, final + ".pdopt"), os.path.join(out, final + ".pdopt"))
    assert paddle.load(os.path.join(out, final + ".pdopt"))["LR_Scheduler"]["last_epoch"] == epochs
    reference, resumed = (metrics_records(d, "epoch", "train")[-1] for d in (ref_out, out))
    assert resumed["epoch"] == reference["epoch"] == epochs
    assert (resumed["loss"], resumed["top1"]) == (reference["loss"], reference["top1"])


def test_resume_epoch_override_and_missing_checkpoint(small_frames, tmp_path):
    out = str(tmp_path / "out")
    cfg = write_small_config(small_frames, out, epochs=2)
    proc = main_captured("-c", cfg, "-o", "resume_epoch=1")
    assert proc.returncode == 2
    assert proc.stderr.startswith("main.py: error:") and "TSN_demo_epoch_00001.pdparams" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = main_captured("-c", cfg, "--resume")
    assert proc.returncode == 2 and "no complete TSN_demo_epoch_" in proc.stderr
