"""One run per output folder: an exclusive ``fcntl.flock`` on ``<output_dir>/.lock`` for the life of the run.

The kernel releases the lock when the process dies, however it dies, so a crashed run never leaves a stale
lock behind. Only rank 0 of a distributed run takes it (the other ranks write nothing there).

The lock file is opened without following links and must be a regular file with one name: a ``.lock`` that
is a symbolic link, a hard link, a folder, a FIFO or a device is refused, and nothing it points to is opened,
truncated or created.
"""
import errno
import fcntl
import os
import stat

from .errors import UserError

LOCK_NAME = ".lock"
# O_NOFOLLOW: a symbolic link fails with ELOOP instead of being followed. O_NONBLOCK: a FIFO put in its place
# cannot block the open. O_NOCTTY: a terminal device never becomes ours. O_CLOEXEC: programs we start do not
# inherit the lock.
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class OutputDirBusy(UserError, RuntimeError):
    """Another live process holds the output folder."""


class LockPathError(UserError, OSError):
    """The output folder or its lock file cannot be used (a link, a folder, not a regular file, no access)."""


def _kind(mode: int) -> str:
    """What a non-regular file is, for the error message."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(path: str, what: str):
    raise LockPathError(f"cannot lock the output folder: {path} is {what}, expected a regular file; remove it "
                        "(a run recreates it) or set another output_dir (-o output_dir=...)")


def _check_regular(path: str, info: os.stat_result):
    if not stat.S_ISREG(info.st_mode):
        _refuse(path, _kind(info.st_mode))
    if info.st_nlink > 1:  # writing our PID into it would overwrite the other name's content
        _refuse(path, f"a hard link ({info.st_nlink} names for one file)")


def _open_lock_file(path: str) -> int:
    """An fd of the regular file ``path`` (created if absent), opened without following any link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise LockPathError(f"cannot lock the output folder: {path}: {err.strerror}") from None
    if info is not None:
        _check_regular(path, info)
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o666)  # the umask applies, as for any file we write
    except OSError as err:
        what = {errno.ELOOP: "a symbolic link", errno.EISDIR: "a folder"}.get(err.errno)
        if what is None:
            raise LockPathError(f"cannot lock the output folder: {path}: {err.strerror}") from None
        _refuse(path, what)
    try:
        _check_regular(path, os.fstat(fd))  # what was opened, in case the path changed since the lstat
    except BaseException:
        os.close(fd)
        raise
    return fd


class RunLock:
    """The held lock of one run; ``close()`` (or the end of the process) releases it."""

    def __init__(self, fd: int, path: str):
        self._fd, self.path = fd, path

    @property
    def closed(self) -> bool:
        return self._fd is None

    def fileno(self) -> int:
        return self._fd

    def close(self):
        """Release the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()


def _holder(fd: int) -> str:
    """The PID recorded in the lock file, as text ("unknown" when empty or unreadable)."""
    try:
        return os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"


def lock_output_dir(output_dir: str) -> RunLock:
    """Take the folder's lock or raise ``OutputDirBusy`` naming the folder and the PID that holds it.

    Returns a ``RunLock``: keep a reference for as long as the run lasts (closing it releases the lock).
    Raises ``LockPathError`` when the folder cannot be created or ``.lock`` is not a plain regular file.
    """
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as err:
        raise LockPathError(f"cannot create the output folder {output_dir}: {err.strerror}") from None
    path = os.path.join(output_dir, LOCK_NAME)
    fd = _open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise OutputDirBusy(f"output folder {output_dir} is in use by another run (PID {holder}); wait for it "
                            "to finish, or set another output_dir (-o output_dir=...)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return RunLock(fd, path)
