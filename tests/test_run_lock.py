"""One run per output folder: a second process is refused naming the folder and the holder's PID; the lock
file is a plain regular file opened without following links."""
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
