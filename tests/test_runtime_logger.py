import logging
import os
import subprocess
import sys

from paddlevideo.utils import logger as logger_mod
from paddlevideo.utils.logger import format_batch_log, format_epoch_log, setup_logger
from paddlevideo.utils.runtime import cpu_vendor, setup_cpu_runtime, usable_cpus

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


def test_importing_paddlevideo_before_paddle_keeps_all_cores():
    code = ("import paddlevideo, os, paddle; "
            "print(os.environ['OMP_NUM_THREADS'], os.environ.get('MKL_DEBUG_CPU_TYPE', '-'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_DEBUG_CPU_TYPE")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    threads, mkl = out.stdout.split()
    assert threads == str(usable_cpus())
    assert mkl == ("5" if cpu_vendor() == "AuthenticAMD" else "-")


def test_batch_log_line_matches_paddlevideo_format():
    line = format_batch_log(1, 100, "train", 20, {"loss": 5.991482, "lr": 0.01, "top1": 0.0, "top5": 0.03125},
                            batch_cost=0.5412, reader_cost=0.0123, ips=59.17, eta_sec=93784)
    assert line == ("epoch:[  1/100] train step:20   loss: 5.99148 lr: 0.010000 top1: 0.00000 top5: 0.03125 "
                    "batch_cost: 0.54 sec, reader_cost: 0.01 sec, ips: 59.2 instance/sec, eta: 1 day, 2:03:04")


def test_epoch_log_line():
    line = format_epoch_log(1, "val", {"loss": 1.5, "top1": 0.25, "top5": 1.0}, 0.5, 0.01, 10.0, 64.0)
    assert line.startswith("END epoch:1   val loss_avg: 1.50000 top1_avg: 0.25000 top5_avg: 1.00000 avg_batch_cost: ")
    assert line.endswith("avg_ips: 64.00000 instance/sec")


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
    monkeypatch.setattr(logger_mod, "_configured", set())


def test_missing_paddle_gives_one_line(tmp_path):
    # A fake 'paddle' that fails to import stands in for a Python without Paddle.
    fake = tmp_path / "paddle"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named paddle')\n")
    code = "import paddlevideo.utils.runtime as r; r.require_paddle('main.py')"
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.startswith("main.py: error: PaddlePaddle is not installed") and "make demo" in out.stderr
    assert "Traceback" not in out.stderr
