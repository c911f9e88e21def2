"""DataLoader workers never outlive their run, and never keep its lock: real main.py runs with num_workers=2,
stopped by kill -9, SIGHUP (training) and SIGTERM (--test); /proc is scanned for the workers afterwards. The
run resumed after the kill cuts a torn last line of metrics.jsonl instead of gluing onto it."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, make_checkpoint, make_rawframes, run_main, write_config
from paddlevideo.tasks.metrics_log import read_metrics

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc to find the workers")


def _children(pid: int) -> list:
    """PIDs whose parent is ``pid`` (from /proc/<pid>/stat)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(name))
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until_gone(pids, seconds=30) -> list:
    """The PIDs of ``pids`` still running after up to ``seconds`` (polled; returns as soon as none is left)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _running(p)]


def _start(*args):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_until(proc, needle: str):
    """Read the run's stdout up to the first line containing ``needle``."""
    for line in proc.stdout:
        if needle in line:
            return
    raise AssertionError(f"the run ended (exit {proc.wait()}) before printing {needle!r}: {proc.stderr.read()[-2000:]}")


def _workers_of(proc, lock_path=None, seconds=60) -> list:
    """The run's two DataLoader workers, waited for; checks that none holds the lock file open."""
    deadline = time.monotonic() + seconds
    while len(workers := [p for p in _children(proc.pid) if _running(p)]) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, "the run never started its 2 workers"
        time.sleep(0.02)
    if lock_path is not None:
        lock = os.stat(lock_path)
        for pid in workers:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.stat(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                assert (target.st_dev, target.st_ino) != (lock.st_dev, lock.st_ino), f"worker {pid} holds the lock"
    return workers


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_rawframes(str(tmp_path_factory.mktemp("frames")), per_class=4, num_frames=8, val_per_class=2)


@pytest.mark.slow  # a real main.py run with 2 workers
def test_kill_9_leaves_no_worker_and_resume_is_accepted(data, preloaded_python, tmp_path):
    out = tmp_path / "out"
    cfg = write_config(data, str(out), epochs=2, batch_size=2, num_workers=2)
    run = _start("-c", cfg)
    try:
        _read_until(run, "epoch:[  2/2  ] train step:0")  # epoch 1 is saved, epoch 2's workers are busy
        workers = _workers_of(run, out / ".lock")
    finally:
        run.kill()
        run.wait()  # not communicate(): leftover workers would hold its pipes open
        run.stdout.close()
        run.stderr.close()
    assert _wait_until_gone(workers) == [], "DataLoader workers outlived the killed run"
    with open(out / "metrics.jsonl", "ab") as f:
        f.write(b'{"event": "step", "mode": "tr')  # as if the kill had landed in the middle of an append
    resumed = run_main("-c", cfg, "--resume", python=preloaded_python)  # a fresh process, without the import wait
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (out / "TSN_demo_epoch_00002.pdparams").is_file()
    assert "metrics.jsonl: removed a torn last line (29 bytes) left by an interrupted run" in resumed.stdout
    assert read_metrics(str(out / "metrics.jsonl"))[-1]["epoch"] == 2  # every line a record, none glued


@pytest.mark.slow  # a real main.py run with 2 workers
def test_sighup_in_training_stops_with_one_line_and_reaps_the_workers(data, tmp_path):
    out = tmp_path / "out"
    run = _start("-c", write_config(data, str(out), epochs=1, batch_size=2, num_workers=2))
    try:
        _read_until(run, "epoch:[  1/1  ] train step:0")
        workers = _workers_of(run, out / ".lock")
        run.send_signal(signal.SIGHUP)
        _, err = run.communicate(timeout=300)
    finally:
        run.kill()
    assert run.returncode == 129, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: training stopped by SIGHUP at epoch 1"), err[-3000:]
    assert _wait_until_gone(workers) == []


@pytest.mark.slow  # a real main.py run with 2 workers
def test_sigterm_in_test_reaps_the_workers(data, tmp_path):
    weights = tmp_path / "model.pdparams"
    make_checkpoint(weights)
    cfg = write_config(data, str(tmp_path / "out"))
    run = _start("-c", cfg, "--test", "-w", str(weights), "-o", "DATASET.test_num_workers=2")
    try:
        workers = _workers_of(run)
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=300)
        err = run.stderr.read()
    finally:
        run.kill()
        run.stdout.close()
        run.stderr.close()
    assert run.returncode == 143, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: test stopped by SIGTERM after "), err[-3000:]
    assert _wait_until_gone(workers) == []


def _record_worker(worker_id):
    os.environ["PV_TEST_WORKER_INIT"] = str(worker_id)


class _WhoLoaded:
    def __len__(self):
        return 4

    def __getitem__(self, index):
        import numpy as np
        return np.array([int(os.environ.get("PV_TEST_WORKER_INIT", "-1"))]), np.array([os.getppid()])


def test_a_given_worker_init_fn_still_runs_in_workers_that_die_with_their_parent():
    from paddlevideo.loader import build_dataloader
    loader = build_dataloader(_WhoLoaded(), batch_size=1, num_workers=2, shuffle=False, drop_last=False,
                              worker_init_fn=_record_worker)
    batches = [(int(ids.numpy()[0, 0]), int(parents.numpy()[0, 0])) for ids, parents in loader]
    assert sorted(i for i, _ in batches) == [0, 0, 1, 1] and {p for _, p in batches} == {os.getpid()}
