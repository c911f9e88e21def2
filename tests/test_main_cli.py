"""main.py's command line: PaddleVideo's flags, and one clear line (exit 2) for bad input."""
import os
import time

import pytest

from test_train import DEMO_CFG, make_rawframes, run_main, write_config


def _one_error_line(proc, *needles):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("main.py: error: ")
    for needle in needles:
        assert needle in lines[0]


def test_help_is_fast_and_lists_paddlevideo_flags():
    start = time.time()
    proc = run_main("--help")
    assert proc.returncode == 0
    assert time.time() - start < 10
    for flag in ("-c CONFIG", "--config", "-o OVERRIDE", "--override", "--test", "-w WEIGHTS", "--weights",
                 "--validate", "--seed", "--amp", "--amp_level", "--max_iters", "-p PROFILER_OPTIONS",
                 "--profiler_options", "--resume"):
        assert flag in proc.stdout
    assert "default 1234" in proc.stdout


def test_missing_config():
    _one_error_line(run_main("-c", "configs/recognition/tsn/nope.yaml"), "config file not found",
                    "nope.yaml", "tsn_k400_frames.yaml")


def test_unknown_override_path():
    _one_error_line(run_main("-c", DEMO_CFG, "-o", "DATASET.trian.file_path=x"), "DATASET.trian.file_path",
                    "'trian' does not exist")


def test_missing_weights_for_test_and_finetune():
    _one_error_line(run_main("-c", DEMO_CFG, "--test", "-w", "no/such.pdparams"), "weights file not found",
                    "no/such.pdparams")
    _one_error_line(run_main("-c", DEMO_CFG, "-w", "no/such.pdparams"), "no/such.pdparams")
    _one_error_line(run_main("-c", DEMO_CFG, "--test"), "-w")


@pytest.mark.parametrize("flag, needle", [("--train_dali", "DALI"), ("--multigrid", "SlowFast"),
                                          ("--amp_level=O3", "invalid choice"), ("--max_iters=0", ">= 1")])
def test_refused_flags(flag, needle):
    proc = run_main("-c", DEMO_CFG, flag)
    assert proc.returncode == 2 and needle in proc.stderr


def test_corrupt_weights_and_missing_list_file(tmp_path):
    bad = tmp_path / "bad.pdparams"
    bad.write_bytes(b"not a checkpoint")
    data = make_rawframes(str(tmp_path / "d"), per_class=2, num_frames=4, val_per_class=1)
    cfg = write_config(data, str(tmp_path / "out"), epochs=1)
    _one_error_line(run_main("-c", cfg, "--test", "-w", str(bad)), "bad.pdparams")
    _one_error_line(run_main("-c", cfg, "-o", "DATASET.train.file_path=/no/such.list"), "/no/such.list")
    _one_error_line(run_main("-c", cfg, "-o", "MODEL.backbone.depth=19"), "depth")
    _one_error_line(run_main("-c", cfg, "-o", "DATASET.batch_size=64"), "no full batch", "train_frames.list")
    assert not os.path.exists(os.path.join(str(tmp_path / "out"), "TSN_demo_epoch_00001.pdparams"))
