"""End-to-end training through main.py on a generated 4-class rawframes dataset (ResNet-18, 64x64).

Also home of the dataset/config builders the other main.py tests import (``make_rawframes``,
``write_config``, ``run_main``).
"""
import json
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CFG = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml")
sys.path.insert(0, ROOT)
from tools.make_demo_data import CLASSES, render_clip  # noqa: E402
import paddlevideo  # noqa: E402,F401  (before paddle)
import paddle  # noqa: E402

from log_line_formats import (  # noqa: E402
    TEST_BATCH, TEST_FINISHED, TRAIN_END, TRAIN_STEP, VAL_END, VAL_STEP, assert_all_match)


def make_rawframes(root, per_class=6, num_frames=8, val_per_class=2, seed=0, size=(96, 72)):
    """Write ``root/rawframes/<class>/<clip>/img_00001.jpg ...`` and ``train.list`` / ``val.list``.

    Four visually distinct classes (red disc, green bars, blue checker, grey noise) with noise;
    list lines are ``<frame_dir> <num_frames> <label>``. Returns the folder.
    """
    rng = np.random.default_rng(seed)
    frames_root = os.path.join(root, "rawframes")
    lists = {"train": [], "val": []}
    for label, name in enumerate(CLASSES):
        for i in range(per_class):
            rel = f"{name}/{name}_{i:03d}.avi"
            folder = os.path.join(frames_root, rel)
            os.makedirs(folder, exist_ok=True)
            for t, frame in enumerate(render_clip(label, rng, num_frames, size[0], size[1])):
                cv2.imwrite(os.path.join(folder, f"img_{t + 1:05d}.jpg"), frame)
            lists["val" if i < val_per_class else "train"].append(f"{rel} {num_frames} {label}")
    for split, lines in lists.items():
        with open(os.path.join(root, f"{split}_frames.list"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return root


def write_config(data_root, out_dir, path=None, epochs=2, batch_size=4, num_workers=0, test_num_seg=3,
                 **top):
    """The demo config pointed at ``data_root``, writing to ``out_dir``; returns the YAML path."""
    with open(DEMO_CFG, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for split, list_name in (("train", "train"), ("valid", "val"), ("test", "val")):
        cfg["DATASET"][split]["data_prefix"] = os.path.join(data_root, "rawframes")
        cfg["DATASET"][split]["file_path"] = os.path.join(data_root, f"{list_name}_frames.list")
    cfg["DATASET"].update(batch_size=batch_size, valid_batch_size=batch_size, test_batch_size=2,
                          num_workers=num_workers)
    cfg["PIPELINE"]["test"]["sample"]["num_seg"] = test_num_seg
    cfg.update(epochs=epochs, output_dir=out_dir, log_interval=1, save_interval=1)
    cfg.update(top)
    path = path or os.path.join(os.path.dirname(out_dir), "config.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def run_main(*args, cwd=ROOT, timeout=600, env=None):
    """``python main.py ARGS`` in a subprocess; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def metrics_records(out_dir, event=None, mode=None):
    """The records of ``<out_dir>/metrics.jsonl``, optionally only one ``event`` and ``mode``."""
    with open(os.path.join(out_dir, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    return [r for r in records if event in (None, r["event"]) and mode in (None, r["mode"])]


def epoch_values(out_dir, mode, name):
    """``name`` of every ``epoch`` record of ``mode`` (``train`` or ``val``), in order."""
    return [r[name] for r in metrics_records(out_dir, "epoch", mode)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_rawframes(str(tmp_path_factory.mktemp("frames")))


def test_two_epochs_with_validate_writes_expected_files(dataset, tmp_path):
    out = str(tmp_path / "out")
    cfg = write_config(dataset, out, epochs=2)
    proc = run_main("-c", cfg, "--validate")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    log = proc.stdout
    names = sorted(os.listdir(out))
    for name in ("TSN_demo_epoch_00001.pdparams", "TSN_demo_epoch_00001.pdopt", "TSN_demo_epoch_00002.pdparams",
                 "TSN_demo_epoch_00002.pdopt", "TSN_demo_best.pdparams", "TSN_demo_best.pdopt"):
        assert name in names
    assert not [n for n in names if n.endswith(".tmp")]
    # PaddleVideo's lines: config dump, per-iteration train/val lines, epoch summaries.
    assert "MODEL :" in log and "OPTIMIZER :" in log
    train_steps = assert_all_match(log, " train step:", TRAIN_STEP, at_least=2)
    assert train_steps[0].startswith("epoch:[  1/2  ] train step:0    loss: ")
    assert_all_match(log, " val step:", VAL_STEP, at_least=2)
    ends = assert_all_match(log, "END epoch:", re.compile(f"{TRAIN_END.pattern}|{VAL_END.pattern}"), at_least=4)
    _check_metrics_file(out, ends, train_steps)
    assert "Already save the best model (top1 acc)" in log
    assert "training TSN_demo finished" in log
    assert os.path.isfile(os.path.join(out, "paddlevideo.log"))
    assert os.path.isfile(os.path.join(out, "config.yaml"))

    # --test on the saved weights prints PaddleVideo's [TEST] lines and records the accuracies.
    weights = os.path.join(out, "TSN_demo_best.pdparams")
    proc = run_main("-c", cfg, "--test", "-w", weights)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[TEST] Processing batch 0/4 ..." in proc.stdout
    assert_all_match(proc.stdout, "[TEST] Processing", TEST_BATCH)
    (finished,) = assert_all_match(proc.stdout, "[TEST] finished", TEST_FINISHED)
    (test,) = metrics_records(out, "test")
    assert (test["weights"], test["clips"]) == (weights, 8)
    assert finished == f"[TEST] finished, avg_acc1={test['avg_acc1']}, avg_acc5={test['avg_acc5']}"
    assert abs(test["avg_acc1"] * 8 - round(test["avg_acc1"] * 8)) < 1e-5  # each of the 8 clips counted once


def _check_metrics_file(out, end_lines, train_step_lines):
    """metrics.jsonl holds every logged step and every epoch, with the figures the log lines print."""
    steps = metrics_records(out, "step", "train")
    assert len(steps) == len(train_step_lines)
    assert [(r["epoch"], r["step"]) for r in steps][:2] == [(1, 0), (1, 1)]
    first = steps[0]
    assert f"loss: {first['loss']:.5f} lr: {first['lr']:.6f} top1: {first['top1']:.5f}" in train_step_lines[0]
    epochs = metrics_records(out, "epoch")
    assert [(r["epoch"], r["mode"]) for r in epochs] == [(1, "train"), (1, "val"), (2, "train"), (2, "val")]
    for record, line in zip(epochs, end_lines):
        assert f"{record['mode']} loss_avg: {record['loss']:.5f}" in line
        assert f"top1_avg: {record['top1']:.5f} top5_avg: {record['top5']:.5f}" in line
        assert f"batch_cost_sum: {record['batch_cost_sum']:.5f} sec" in line
    assert all(r["lr"] == pytest.approx(0.01) for r in epochs if r["mode"] == "train")


def test_max_iters_amp_on_cpu_and_finetune(dataset, tmp_path):
    out = str(tmp_path / "out")
    cfg = write_config(dataset, out, epochs=1)
    proc = run_main("-c", cfg, "--max_iters", "1", "--amp")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "train step:0 " in proc.stdout and "train step:1 " not in proc.stdout
    assert "AMP (float16) is not supported on CPU: training in fp32 mode." in proc.stdout
    weights = os.path.join(out, "TSN_demo_epoch_00001.pdparams")
    assert os.path.isfile(weights)
    # Fine-tune into a 5-class head: the fc is skipped with a warning, the rest loads.
    proc = run_main("-c", cfg, "--max_iters", "1", "-w", weights, "-o", "MODEL.head.num_classes=5",
                    "-o", f"output_dir={tmp_path / 'ft'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "skipped 'head.fc.weight'" in proc.stdout and "Finetune from checkpoint" in proc.stdout
    assert "Training in fp32 mode." in proc.stdout


def test_toy_task_learns_to_90_percent(tmp_path):
    """The honest end-to-end check: 4 visually distinct classes, ResNet-18 from scratch, 6 epochs."""
    data = make_rawframes(str(tmp_path / "toy"), per_class=16, num_frames=8, val_per_class=4, seed=1)
    out = str(tmp_path / "out")
    cfg = write_config(data, out, epochs=6, batch_size=8)
    proc = run_main("-c", cfg, "--validate", "-o", "OPTIMIZER.learning_rate.values=[0.02, 0.002, 0.0002]",
                    "-o", "OPTIMIZER.learning_rate.boundaries=[4, 5]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses, top1 = epoch_values(out, "train", "loss"), epoch_values(out, "val", "top1")
    assert len(losses) == 6 and losses[-1] < 0.5 * losses[0], losses
    assert max(top1) >= 0.9, top1
    assert epoch_values(out, "train", "lr") == pytest.approx([0.02] * 4 + [0.002, 0.0002])
    assert re.search(r"Already save the best model \(top1 acc\)0\.9|Already save the best model \(top1 acc\)1\.0",
                     proc.stdout)


def test_train_and_test_model_return_what_they_record(dataset, tmp_path):
    from paddlevideo.tasks import test_model, train_model
    from paddlevideo.utils import get_config
    out = str(tmp_path / "out")
    cfg = get_config(write_config(dataset, out, epochs=3), show=False, overrides=["val_interval=2"])
    model, results = train_model(cfg, validate=True, max_iters=1)
    assert results["output_dir"] == out and [e["epoch"] for e in results["epochs"]] == [1, 2, 3]
    assert ["val" in e for e in results["epochs"]] == [True, False, True]  # epoch index 0, 2 (the last)
    skip = ("event", "mode", "time", "epoch", "step")
    for mode in ("train", "val"):
        recorded = [{k: v for k, v in r.items() if k not in skip} for r in metrics_records(out, "epoch", mode)]
        assert [e[mode] for e in results["epochs"] if mode in e] == recorded
    val_top1 = {r["epoch"]: r["top1"] for r in metrics_records(out, "epoch", "val")}
    best_epoch = max(sorted(val_top1), key=lambda e: val_top1[e])
    assert (results["best_epoch"], results["best_top1"]) == (best_epoch, val_top1[best_epoch])
    tested = test_model(cfg, os.path.join(out, "TSN_demo_epoch_00003.pdparams"))
    (record,) = metrics_records(out, "test")
    assert tested == {"avg_acc1": record["avg_acc1"], "avg_acc5": record["avg_acc5"]}
    saved = paddle.load(os.path.join(out, "TSN_demo_epoch_00003.pdparams"))["head.fc.weight"]
    np.testing.assert_array_equal(model.state_dict()["head.fc.weight"].numpy(), saved.numpy())
