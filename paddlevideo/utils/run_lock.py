"""One run per output folder: an exclusive ``fcntl.flock`` on ``<output_dir>/.lock`` for the life of the run.

The kernel releases the lock when the process dies, however it dies, so a crashed run never leaves a stale
lock behind. Only rank 0 of a distributed run takes it (the other ranks write nothing there).
"""
import fcntl
import os

from .errors import UserError

LOCK_NAME = ".lock"


class OutputDirBusy(UserError, RuntimeError):
    """Another live process holds the output folder."""


def lock_output_dir(output_dir: str):
    """Take the folder's lock or raise ``OutputDirBusy`` naming the folder and the PID that holds it.

    Returns the open lock file: keep a reference for as long as the run lasts (closing it releases the lock).
    """
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_NAME)
    handle = open(path, "a+", encoding="ascii")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise OutputDirBusy(f"output folder {output_dir} is in use by another run (PID {holder}); wait for it "
                            "to finish, or set another output_dir (-o output_dir=...)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
