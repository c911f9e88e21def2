"""main.py's command line: PaddleVideo's flags, and one clear line (exit 2) for bad input.

The checks run ``main.main(argv)`` in this process (``run_main``); one test runs a real process, for what only
a process shows: a config error stops before Paddle is imported.
"""
import os

import pytest

from conftest import DEMO_CFG, ROOT, main_in_process, make_rawframes, write_config


@pytest.fixture
def run_main(capsys):
    """``run_main(*args)`` -> ``main.main(args)``'s exit status and output, in this process."""
    return lambda *args: main_in_process(*args, capsys=capsys)


def _one_error_line(proc, *needles):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("main.py: error: ")
    for needle in needles:
        assert needle in lines[0]


def test_help_lists_paddlevideo_flags(run_main):
    proc = run_main("--help")
    assert proc.returncode == 0
    for flag in ("-c CONFIG", "--config", "-o OVERRIDE", "--override", "--test", "-w WEIGHTS", "--weights",
                 "--validate", "--seed", "--amp", "--amp_level", "--max_iters", "-p PROFILER_OPTIONS",
                 "--profiler_options", "--resume"):
        assert flag in proc.stdout
    assert "default 1234" in proc.stdout


def test_missing_config(run_main):
    _one_error_line(run_main("-c", "configs/recognition/tsn/nope.yaml"), "config file not found",
                    "nope.yaml", "tsn_k400_frames.yaml")


def test_unknown_override_path(run_main):
    _one_error_line(run_main("-c", DEMO_CFG, "-o", "DATASET.trian.file_path=x"), "DATASET.trian.file_path",
                    "'trian' does not exist")


def test_missing_weights_for_test_and_finetune(run_main):
    _one_error_line(run_main("-c", DEMO_CFG, "--test", "-w", "no/such.pdparams"), "weights file not found",
                    "no/such.pdparams")
    _one_error_line(run_main("-c", DEMO_CFG, "-w", "no/such.pdparams"), "no/such.pdparams")
    _one_error_line(run_main("-c", DEMO_CFG, "--test"), "-w")


@pytest.mark.parametrize("flag, needle", [("--train_dali", "DALI"), ("--multigrid", "SlowFast"),
                                          ("--amp_level=O3", "invalid choice"), ("--max_iters=0", ">= 1")])
def test_refused_flags(flag, needle, run_main):
    proc = run_main("-c", DEMO_CFG, flag)
    assert proc.returncode == 2 and needle in proc.stderr


def test_corrupt_weights_and_missing_list_file(tmp_path, run_main):
    bad = tmp_path / "bad.pdparams"
    bad.write_bytes(b"not a checkpoint")
    data = make_rawframes(str(tmp_path / "d"), per_class=2, num_frames=4, val_per_class=1)
    cfg = write_config(data, str(tmp_path / "out"), epochs=1)
    _one_error_line(run_main("-c", cfg, "--test", "-w", str(bad)), "bad.pdparams")
    _one_error_line(run_main("-c", cfg, "-o", "DATASET.train.file_path=/no/such.list"), "/no/such.list")
    _one_error_line(run_main("-c", cfg, "-o", "MODEL.backbone.depth=19"), "depth")
    _one_error_line(run_main("-c", cfg, "-o", "DATASET.batch_size=64"), "no full batch", "train_frames.list")
    assert not os.path.exists(os.path.join(str(tmp_path / "out"), "TSN_demo_epoch_00001.pdparams"))


def test_config_flag_is_required(run_main):
    proc = run_main()
    assert proc.returncode == 2
    assert "usage: main.py" in proc.stderr and "required: -c/--config" in proc.stderr


@pytest.mark.parametrize("seed", ["-1", str(2**32), "abc"])
def test_seed_out_of_range_is_a_usage_error(seed, run_main):
    proc = run_main("-c", DEMO_CFG, "--seed", seed)
    assert proc.returncode == 2 and "argument --seed: expected an integer from 0 to 4294967295" in proc.stderr


def test_unknown_key_fails_before_paddle_is_imported():
    """``-o epoch=1`` (a typo of epochs) stops in the config check: one line, exit 2, Paddle never imported."""
    import subprocess
    import sys
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import main; "
            "rc = main.main(['-c', sys.argv[2], '-o', 'epoch=1']); "
            "print('rc', rc, 'paddle imported', 'paddle' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, ROOT, DEMO_CFG],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "rc 2 paddle imported False", proc.stdout + proc.stderr
    assert proc.stderr.strip() == "main.py: error: unknown key 'epoch'; did you mean 'epochs'?"


@pytest.mark.parametrize("override, needle", [
    ("epochs=ten", "epochs: got 'ten', expected an integer >= 1"),
    ("DATASET.batch_size=0", "DATASET.batch_size: got 0, expected an integer >= 1"),
    ("log_interval=0", "log_interval: got 0, expected an integer >= 1"),
    ("save_interval=0", "save_interval: got 0, expected an integer >= 1"),
    ("val_interval=0", "val_interval: got 0, expected an integer >= 1"),
    ("log_level=LOUD", "log_level: got 'LOUD', expected one of DEBUG, INFO"),
    ("MODEL.head.drop_ratio=1.5", "MODEL.head.drop_ratio: got 1.5, expected a number in [0, 1)"),
    ("MODEL.head.num_classes=0", "MODEL.head.num_classes: got 0, expected an integer >= 1"),
    ("INFERENCE.num_seg=0", "INFERENCE.num_seg: got 0, expected an integer >= 1"),
    ("INFERENCE.target_size=-1", "INFERENCE.target_size: got -1, expected an integer >= 1"),
    ("DATASET.batchsize=2", "unknown key 'DATASET.batchsize'; did you mean 'DATASET.batch_size'?"),
])
def test_bad_values_fail_at_start(override, needle, tmp_path, run_main):
    proc = run_main("-c", DEMO_CFG, "-o", override, "-o", f"output_dir={tmp_path / 'out'}")
    _one_error_line(proc, needle)
    assert not (tmp_path / "out").exists()  # stopped before any work


def test_output_dir_that_is_a_file(tmp_path, run_main):
    taken = tmp_path / "taken"
    taken.write_text("")
    _one_error_line(run_main("-c", DEMO_CFG, "-o", f"output_dir={taken}"), "output_dir", str(taken),
                    "an existing file; expected a folder")


def _config_without(tmp_path, *removed):
    import yaml
    with open(DEMO_CFG, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for dotted in removed:
        *parents, last = dotted.split(".")
        node = cfg
        for key in parents:
            node = node[key]
        del node[last]
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


@pytest.mark.parametrize("removed, flags, needle", [
    ("PIPELINE.valid", ["--validate"], "missing key 'PIPELINE.valid': training with --validate needs it"),
    ("DATASET.valid", ["--validate"], "missing key 'DATASET.valid': training with --validate needs it"),
    ("MODEL.head", [], "missing key 'MODEL.head': training needs it"),
    ("OPTIMIZER.learning_rate", [], "missing key 'OPTIMIZER.learning_rate': training needs it"),
    ("METRIC", ["--test", "-w", DEMO_CFG], "missing key 'METRIC': --test needs it"),
])
def test_sections_each_mode_needs(tmp_path, removed, flags, needle, run_main):
    _one_error_line(run_main("-c", _config_without(tmp_path, removed), *flags), needle)
