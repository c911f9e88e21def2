"""A child process that must not outlive its parent: DataLoader workers of a run that was killed.

Paddle's workers poll their parent only between batches; one blocked on a full queue lives on after a
``kill -9`` of the run, holding memory. ``exit_with_parent`` asks Linux to kill the calling process the moment
its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); elsewhere a daemon thread polls the parent's PID.
Linux sends the signal when the parent's *thread* that forked the child ends: start workers (iterate the
loader) from a thread that outlives them, as the training loop's main thread does.
"""
import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_POLL_SECONDS = 0.5


def _linux_parent_death_signal(signum: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, signum)``; False when unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the running program: libc's symbols, no library search
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _poll_parent(parent_pid: int):
    def watch():
        while os.getppid() == parent_pid:  # an orphan is adopted by another process: its parent PID changes
            time.sleep(_POLL_SECONDS)
        os._exit(1)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def exit_with_parent(parent_pid: int):
    """Make this (child) process end when ``parent_pid``, its parent, ends, however the parent ends.

    Call it first thing in the child. If the parent is already gone (it died between the fork and this
    call), the child exits at once.
    """
    if not _linux_parent_death_signal(signal.SIGKILL):
        _poll_parent(parent_pid)
    if os.getppid() != parent_pid:  # the signal is only sent for deaths after the prctl
        os._exit(1)
