"""Training guarantees with real processes and real signals: a graceful SIGTERM/SIGINT stop that resumes to
the same weights and leaves no worker behind, one run per output folder, no silent overwrite, nothing trained
lost when validation fails, and divergence or bad checkpoints stopped at once.

Real processes where a signal or a second process is what is tested; the uninterrupted run compared against is
the session's ``reference_run``; the one-line refusals run in-process (``main_captured``)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from paddlevideo.utils.save_load import load

from conftest import REFERENCE_EPOCHS, ROOT, main_captured, run_main, write_small_config


@pytest.fixture
def data(small_frames):
    return small_frames


def _start(cfg, *extra):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "-c", cfg, *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path, proc, timeout=300):
    deadline = time.time() + timeout
    while not os.path.exists(path) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(path), f"{path} never appeared"


def _processes_mentioning(text):
    """PIDs of live processes whose command line contains ``text`` (DataLoader workers share the parent's)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _one_error_line(proc, *needles):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: error: "), proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def _same_weights(a, b):
    left, right = load(a), load(b)
    assert left.keys() == right.keys()
    return all(np.array_equal(left[k].numpy(), right[k].numpy()) for k in left)


@pytest.mark.slow
def test_sigterm_stops_cleanly_locks_the_folder_and_resumes_to_the_same_weights(
        data, reference_run, preloaded_python, tmp_path):
    epochs = REFERENCE_EPOCHS
    ref_out = reference_run["out"]

    out = str(tmp_path / "stopped")
    cfg = write_small_config(data, out, path=str(tmp_path / "stopped.yaml"), epochs=epochs, num_workers=1)
    child = _start(cfg)
    _wait_for(os.path.join(out, "TSN_demo_epoch_00001.pdparams"), child)
    # One run per output folder: a second training into the same folder stops at once (the lock is held by
    # the child process; the second run may be this one).
    second = main_captured("-c", cfg, "--overwrite")
    _one_error_line(second, f"output folder {out} is in use by another run (PID {child.pid})")
    assert child.poll() is None, "the stop came too late to test"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 143, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: training stopped by SIGTERM at epoch "), err[-3000:]
    assert "last complete checkpoint: " in lines[0] and lines[0].endswith(f"main.py -c {cfg} --resume")
    assert "Traceback" not in err and "FatalError" not in err
    assert not _processes_mentioning(cfg), "a DataLoader worker outlived the stopped run"
    for name in os.listdir(out):
        if name.endswith((".pdparams", ".pdopt")):
            load(os.path.join(out, name))  # every checkpoint is complete
    final = f"TSN_demo_epoch_{epochs:05d}.pdparams"
    assert final not in os.listdir(out)

    resumed = run_main("-c", cfg, "--resume", python=preloaded_python)  # a fresh process, as the reference was
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _same_weights(os.path.join(ref_out, final), os.path.join(out, final))


@pytest.mark.slow
def test_sigint_exits_130_with_one_line(data, tmp_path):
    out = str(tmp_path / "out")
    child = _start(write_small_config(data, out, epochs=50))
    _wait_for(os.path.join(out, "TSN_demo_epoch_00001.pdparams"), child)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "training stopped by SIGINT" in lines[0], err[-3000:]


@pytest.mark.slow
def test_new_run_into_a_folder_with_checkpoints_is_refused_unless_overwrite(data, reference_run, tmp_path):
    out = str(tmp_path / "out")
    shutil.copytree(reference_run["out"], out)  # a finished run's folder
    cfg = write_small_config(data, out, epochs=1)
    before = os.path.getmtime(os.path.join(out, "TSN_demo_epoch_00001.pdparams"))
    _one_error_line(main_captured("-c", cfg), f"{out} already holds checkpoints", "--resume", "--overwrite")
    assert os.path.getmtime(os.path.join(out, "TSN_demo_epoch_00001.pdparams")) == before
    assert main_captured("-c", cfg, "--overwrite", "--max_iters", "1").returncode == 0
    assert os.path.getmtime(os.path.join(out, "TSN_demo_epoch_00001.pdparams")) != before


@pytest.mark.slow
def test_validation_error_keeps_the_epoch_and_a_failed_start_keeps_config_yaml(data, tmp_path):
    out = str(tmp_path / "out")
    cfg = write_small_config(data, out, epochs=2, save_interval=5)
    # The centre crop is larger than the scaled frames: validation fails after epoch 1 has trained.
    proc = main_captured("-c", cfg, "--validate", "-o", "PIPELINE.valid.transform.1.CenterCrop.target_size=500")
    assert proc.returncode == 2 and "500" in proc.stderr
    assert os.path.exists(os.path.join(out, "TSN_demo_epoch_00001.pdparams")), "the trained epoch was lost"
    config_yaml = os.path.join(out, "config.yaml")
    before = open(config_yaml).read()
    _one_error_line(main_captured("-c", cfg, "-o", "resume_epoch=1", "-o", "MODEL.head.num_classes=7"))
    assert open(config_yaml).read() == before


@pytest.mark.slow
def test_wrong_backbone_weights_divergence_and_negative_rates_stop_with_one_line(data, reference_run, tmp_path):
    cfg = write_small_config(data, str(tmp_path / "r18"), epochs=1)
    weights = os.path.join(reference_run["out"], "TSN_demo_epoch_00001.pdparams")  # ResNet-18 weights
    _one_error_line(main_captured("-c", cfg, "-w", weights, "-o", "MODEL.backbone.depth=34",
                             "-o", f"output_dir={tmp_path / 'r34'}"),
                    "does not fit this model (only head.fc.* may differ)")
    _one_error_line(main_captured("-c", cfg, "-o", f"output_dir={tmp_path / 'nan'}",
                             "-o", "OPTIMIZER.learning_rate.values=[1e30, 1e30, 1e30]"), "the loss is")
    _one_error_line(main_captured("-c", cfg, "-o", f"output_dir={tmp_path / 'neg'}",
                             "-o", "OPTIMIZER.learning_rate.values=[-0.01, 0.001, 0.0001]"),
                    "learning rate", ">= 0")


def test_a_list_label_beyond_the_class_count_stops_before_training(data, tmp_path):
    lines = open(os.path.join(data, "train_frames.list")).read().splitlines()
    bad = tmp_path / "train_frames.list"
    bad.write_text("\n".join(lines[:2] + [lines[2].rsplit(" ", 1)[0] + " 9"] + lines[3:]) + "\n")
    out = tmp_path / "out"
    proc = main_captured("-c", write_small_config(data, str(out), epochs=1), "-o", f"DATASET.train.file_path={bad}")
    _one_error_line(proc, "train_frames.list:3: label 9 is outside the model's 4 classes (0 to 3)")
    assert not any(n.endswith(".pdparams") for n in os.listdir(out))
