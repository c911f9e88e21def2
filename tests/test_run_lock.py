"""One run per output folder: a second process is refused naming the folder and the holder's PID."""
import subprocess
import sys

import pytest

from conftest import ROOT
from paddlevideo.utils.run_lock import OutputDirBusy, lock_output_dir

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
