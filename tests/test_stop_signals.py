"""GracefulStop: a real SIGTERM/SIGINT/SIGHUP becomes a flag read at a safe point, then one line and 143/130/129."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT

_SCRIPT = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from paddlevideo.utils.errors import run_cli
from paddlevideo.utils.stop_signals import GracefulStop, StopRequested

def work():
    with GracefulStop() as stop:
        print("ready", flush=True)
        for step in range(600):
            time.sleep(0.05)  # one "iteration"; the signal lands in the middle of one
            if stop.requested():
                raise StopRequested(stop.signum, f"stopped by {{stop.signal_name}} after step {{step}}")
    return 0

sys.exit(run_cli("demo.py", work))
"""


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_signal_stops_at_the_next_safe_point_with_one_line(sig, code):
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT.format(root=ROOT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"demo.py: stopped by {signal.Signals(sig).name} after step ")


def test_handlers_are_restored_after_the_block():
    from paddlevideo.utils.stop_signals import GracefulStop
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop() as stop:
        assert signal.getsignal(signal.SIGTERM) != before
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested() and stop.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_sighup_ignored_by_nohup_stays_ignored():
    from paddlevideo.utils.stop_signals import GracefulStop
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with GracefulStop() as stop:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == stop._handle
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
