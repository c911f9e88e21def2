"""Shared benchmark helpers: the machine's fp32 GEMM rate (the ceiling for convolutions) and timing."""
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import paddlevideo  # noqa: E402

paddlevideo.setup_runtime()  # CPU runtime before numpy/paddle spin up their thread pools
import numpy as np  # noqa: E402

RESNET50_GFLOP_PER_FRAME = 8.22  # forward, 224x224 (4.11 GMAC)


def measure_gemm_gflops(n: int = 2048, repeats: int = 7) -> float:
    """Best-of-``repeats`` fp32 GFLOP/s of numpy ``a @ b`` with two n x n matrices."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def time_best(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall time in seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def usable_threads() -> int:
    """The CPU count this process may use (what predict.py's ``--cpu_threads`` defaults to)."""
    from paddlevideo.utils.runtime import usable_cpus
    return usable_cpus()


def machine_line() -> str:
    """One line naming the CPU, usable cores and thread settings, printed at the top of each benchmark."""
    from paddlevideo.utils.runtime import describe_runtime
    cpu = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}; {describe_runtime()}"



def run_measured(cmd, env=None, cwd=None):
    """Run ``cmd`` to its end; returns ``(wall seconds from start to exit, the child's peak RSS in MB,
    exit status, stdout, stderr)``. Peak RSS is ``wait4``'s ``ru_maxrss`` of that child alone."""
    import subprocess
    import tempfile
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read()
