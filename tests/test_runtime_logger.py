import logging
import os
import subprocess
import sys

import pytest

from paddlevideo.utils.logger import format_batch_log, format_epoch_log, setup_logger
from paddlevideo.utils.runtime import cpu_vendor, setup_cpu_runtime, usable_cpus

from log_line_formats import TRAIN_END, TRAIN_STEP, VAL_END, VAL_STEP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_runtime_sets_threads_and_never_overrides_user_values():
    env = {}
    outcome = setup_cpu_runtime(env)
    assert env["OMP_NUM_THREADS"] == str(usable_cpus()) and outcome["OMP_NUM_THREADS"][1] == "set"
    assert ("MKL_DEBUG_CPU_TYPE" in env) == (cpu_vendor() == "AuthenticAMD")
    user = {"OMP_NUM_THREADS": "7", "MKL_DEBUG_CPU_TYPE": "4"}
    outcome = setup_cpu_runtime(user)
    assert user["OMP_NUM_THREADS"] == "7" and user["MKL_DEBUG_CPU_TYPE"] == "4"
    assert outcome["OMP_NUM_THREADS"] == ("7", "user")


@pytest.mark.slow  # fresh interpreters
def test_import_has_no_side_effects_and_setup_runtime_keeps_all_cores():
    """``import paddlevideo`` (and its loader, model and task modules) changes no environment variable,
    cv2 thread count, logger handler or excepthook; ``setup_runtime()`` before Paddle gives all cores."""
    code = """
import logging, os, sys, threading
import cv2, paddle  # Paddle's own import-time changes (OMP_NUM_THREADS=1) are not ours: snapshot after it
env, cv2_threads, hook = dict(os.environ), cv2.getNumThreads(), threading.excepthook
handlers = {n: list(logging.getLogger(n).handlers) for n in ("", "paddlevideo")}
import paddlevideo, paddlevideo.loader, paddlevideo.modeling, paddlevideo.tasks, paddlevideo.metrics
assert dict(os.environ) == env, set(os.environ.items()) ^ set(env.items())
assert cv2.getNumThreads() == cv2_threads and threading.excepthook is hook
assert logging.getLogger("").handlers == handlers[""]
assert [type(h).__name__ for h in logging.getLogger("paddlevideo").handlers] == ["NullHandler"]
print("clean")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_DEBUG_CPU_TYPE")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == "clean", out.stderr[-2000:]
    code = ("import paddlevideo, os; paddlevideo.setup_runtime(); import paddle; "
            "print(os.environ['OMP_NUM_THREADS'], os.environ.get('MKL_DEBUG_CPU_TYPE', '-'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    threads, mkl = out.stdout.split()
    assert threads == str(usable_cpus())
    assert mkl == ("5" if cpu_vendor() == "AuthenticAMD" else "-")


def test_batch_log_lines_match_paddlevideo_format():
    line = format_batch_log(1, 100, "train", 20, {"loss": 5.991482, "lr": 0.01, "top1": 0.0, "top5": 0.03125},
                            batch_cost=0.540123, reader_cost=0.010214, ips=59.244113, eta_sec=93784)
    assert line == ("epoch:[  1/100] train step:20   loss: 5.99148 lr: 0.010000 top1: 0.00000 top5: 0.03125 "
                    "batch_cost: 0.54012 sec, reader_cost: 0.01021 sec, ips: 59.24411 instance/sec, "
                    "eta: 1 day, 2:03:04")
    assert TRAIN_STEP.fullmatch(line)
    val = format_batch_log(2, 2, "val", 0, {"loss": 1.2, "top1": 0.5, "top5": 1.0}, 0.2, 0.01, 44.012341)
    assert val.endswith("ips: 44.01234 instance/sec.") and VAL_STEP.fullmatch(val), val
    assert val.startswith("epoch:[  2/2  ] val step:0    loss: 1.20000 top1: 0.50000 top5: 1.00000 ")
    gpu = format_batch_log(1, 2, "val", 0, {"loss": 1.0, "top1": 0.0, "top5": 1.0}, 0.2, 0.01, 4.0,
                           memory="max_mem_reserved: 10.00 MB max_mem_allocated: 5.00 MB")
    assert gpu.endswith("instance/sec., max_mem_reserved: 10.00 MB max_mem_allocated: 5.00 MB")


def test_epoch_log_lines_match_paddlevideo_format():
    train = format_epoch_log(1, "train", {"loss": 1.915831, "lr": None, "top1": 0.1, "top5": 1.0},
                             0.219841, 0.000412, 1.193372, 8.379641)
    assert train == ("END epoch:1   train loss_avg: 1.91583  top1_avg: 0.10000 top5_avg: 1.00000 "
                     "avg_batch_cost: 0.21984 sec, avg_reader_cost: 0.00041 sec, batch_cost_sum: 1.19337 sec, "
                     "avg_ips: 8.37964 instance/sec.")
    assert TRAIN_END.fullmatch(train)
    val = format_epoch_log(12, "val", {"loss": 1.5, "top1": 0.25, "top5": 1.0}, 0.5, 0.01, 10.0, 64.0)
    assert val.startswith("END epoch:12  val loss_avg: 1.50000 top1_avg: 0.25000 top5_avg: 1.00000 avg_batch_cost: ")
    assert VAL_END.fullmatch(val) and not TRAIN_END.fullmatch(val)


def test_logger_writes_file_on_rank0_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_TRAINER_ID", "0")
    log = setup_logger(str(tmp_path / "r0"), name="pv_test_rank")
    log.info("hello from rank 0")
    for h in log.handlers:
        h.flush()
    assert "hello from rank 0" in (tmp_path / "r0" / "pv_test_rank.log").read_text()
    monkeypatch.setenv("PADDLE_TRAINER_ID", "1")
    log = setup_logger(str(tmp_path / "r1"), name="pv_test_rank")
    log.info("hidden")
    assert log.level == logging.ERROR and not (tmp_path / "r1").exists()
    assert len(log.handlers) == 1, "reconfiguring must not duplicate handlers"


def test_missing_paddle_gives_one_line(tmp_path):
    # A fake 'paddle' that fails to import stands in for a Python without Paddle.
    fake = tmp_path / "paddle"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named paddle')\n")
    code = ("import sys, paddlevideo.utils.runtime as r, paddlevideo.utils.errors as e; "
            "sys.exit(e.run_cli('main.py', r.require_paddle))")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.startswith("main.py: error: PaddlePaddle is not installed") and "make demo" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow  # three fresh interpreters
@pytest.mark.parametrize("script, argv", [
    ("tools/export_model.py", ["-c", "c.yaml", "-p", "w.pdparams"]),
    ("tools/predict.py", ["-i", "v.avi"]),
    ("deploy/slim/quant_post_static.py", ["-c", "q.yaml"]),
])
def test_tools_without_paddle_say_so_in_one_line(tmp_path, script, argv):
    fake = tmp_path / "paddle"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named paddle')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run([sys.executable, os.path.join(ROOT, script), *argv], capture_output=True, text=True,
                         env=env, cwd=str(tmp_path), timeout=120)
    program = os.path.basename(script)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"{program}: error: PaddlePaddle is not installed"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
