"""One run per output folder: a second process is refused naming the folder and the holder's PID; the lock
file is a plain regular file opened without following links."""
import fcntl
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from paddlevideo.utils.run_lock import LockPathError, OutputDirBusy, lock_output_dir

_HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from paddlevideo.utils.run_lock import lock_output_dir
lock = lock_output_dir({folder!r})
print("locked", flush=True)
time.sleep(60)
"""


def test_second_process_is_refused_and_the_lock_dies_with_its_holder(tmp_path):
    folder = str(tmp_path / "out")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD.format(root=ROOT, folder=folder)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputDirBusy, match=rf"output folder {folder} is in use by another run \(PID {holder.pid}\)"):
            lock_output_dir(folder)
    finally:
        holder.kill()
        holder.wait()
    lock = lock_output_dir(folder)  # killed with -9: the kernel released it, nothing stale is left
    lock.close()


def _other_file(tmp_path):
    other = tmp_path / "precious.txt"
    other.write_text("keep me\n")
    return other


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "hard link", "folder", "fifo"])
def test_a_lock_path_that_is_not_a_plain_regular_file_is_refused_and_nothing_it_names_is_touched(tmp_path, kind):
    folder = tmp_path / "out"
    folder.mkdir()
    lock_path, other = folder / ".lock", _other_file(tmp_path)
    before = other.stat()
    expected = {"symlink": "a symbolic link", "dangling symlink": "a symbolic link",
                "hard link": "a hard link (2 names for one file)", "folder": "a folder", "fifo": "a FIFO"}[kind]
    if kind == "symlink":
        lock_path.symlink_to(other)
    elif kind == "dangling symlink":
        lock_path.symlink_to(tmp_path / "created_through_the_link")
    elif kind == "hard link":
        os.link(other, lock_path)
    elif kind == "folder":
        lock_path.mkdir()
    else:
        os.mkfifo(lock_path)
    with pytest.raises(LockPathError) as raised:
        lock_output_dir(str(folder))
    message = str(raised.value)
    assert "\n" not in message and f"{lock_path} is {expected}, expected a regular file" in message
    assert other.read_text() == "keep me\n" and other.stat().st_mtime_ns == before.st_mtime_ns
    assert not (tmp_path / "created_through_the_link").exists()


def test_an_output_dir_that_is_a_file_is_one_line(tmp_path):
    path = _other_file(tmp_path)
    with pytest.raises(LockPathError, match=rf"cannot create the output folder {path}: "):
        lock_output_dir(str(path))
    assert path.read_text() == "keep me\n"


def test_the_lock_records_the_pid_of_its_run_and_is_not_passed_to_programs_it_starts(tmp_path):
    folder = tmp_path / "out"
    (folder).mkdir()
    (folder / ".lock").write_text("an old PID and then some garbage\n")
    with lock_output_dir(str(folder)) as lock:
        assert (folder / ".lock").read_text() == f"{os.getpid()}\n"
        assert not os.get_inheritable(lock.fileno())
    assert lock.closed


def test_a_forked_child_does_not_keep_the_lock_after_the_run_releases_it(tmp_path):
    folder = str(tmp_path / "out")
    lock = lock_output_dir(folder)
    release_child, child_end = os.pipe()
    child_ready, ready_end = os.pipe()
    child = os.fork()
    if child == 0:  # a DataLoader worker, say: it lives on, blocked, while the run ends
        os.close(child_end)
        os.write(ready_end, b"r")  # the fork hooks have run by the time the child runs any code
        os.read(release_child, 1)
        os._exit(0)
    os.close(release_child)
    os.close(ready_end)
    try:
        assert os.read(child_ready, 1) == b"r"
        lock.close()
        lock_output_dir(folder).close()  # the child closed its inherited copy at fork: the lock is free
    finally:
        os.close(child_end)
        os.close(child_ready)
        os.waitpid(child, 0)


_HOLD_THEN_DIE = """
import os, subprocess, sys
sys.path.insert(0, {root!r})
from paddlevideo.utils.run_lock import lock_output_dir
lock = lock_output_dir({folder!r})
# A leftover that shares the run's open lock file (as a worker forked by other means would), outliving it.
leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], pass_fds=(lock.fileno(),),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(os.getpid(), leftover.pid, flush=True)
"""


def test_a_lock_held_only_by_leftovers_of_a_dead_run_is_taken_over(tmp_path, caplog):
    folder = str(tmp_path / "out")
    run = subprocess.run([sys.executable, "-c", _HOLD_THEN_DIE.format(root=ROOT, folder=folder)],
                         capture_output=True, text=True, timeout=60)
    dead_run, leftover = map(int, run.stdout.split())
    try:
        with open(os.path.join(folder, ".lock")) as old_lock:
            assert old_lock.read() == f"{dead_run}\n"
            with pytest.raises(BlockingIOError):  # the leftover still holds the dead run's lock
                fcntl.flock(old_lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with caplog.at_level("WARNING"):
            lock = lock_output_dir(folder)
        assert f"the run that held it (PID {dead_run}) is gone but a leftover process" in caplog.text
        assert open(os.path.join(folder, ".lock")).read() == f"{os.getpid()}\n"
        with pytest.raises(OutputDirBusy, match=rf"\(PID {os.getpid()}\)"):  # and it is a real lock again
            lock_output_dir(folder)
        lock.close()
    finally:
        os.kill(leftover, 9)
