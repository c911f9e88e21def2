"""One run per output folder: an exclusive ``fcntl.flock`` on ``<output_dir>/.lock`` for the life of the run.

The kernel releases the lock when the process dies, however it dies, so a crashed run never leaves a stale
lock behind. Only rank 0 of a distributed run takes it (the other ranks write nothing there).

The lock belongs to the run's process, not to whatever inherits its file descriptor: programs it starts do
not get it (close-on-exec), and a process it forks (DataLoader workers) closes its copy at once, so no child
keeps the lock held after the run is gone. Should a leftover process of a dead run still hold it anyway,
the PID recorded in the file is checked: when that process no longer exists, the next run takes over with a
fresh lock file instead of being refused.

The lock file is opened without following links and must be a regular file with one name: a ``.lock`` that
is a symbolic link, a hard link, a folder, a FIFO or a device is refused, and nothing it points to is opened,
truncated or created.
"""
import errno
import fcntl
import logging
import os
import stat
import weakref

from .errors import UserError

LOCK_NAME = ".lock"
logger = logging.getLogger(__name__)
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
        _HELD.add(self)

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

    def __del__(self, _close=os.close):  # bound at definition: module globals may be gone at interpreter exit
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _close(fd)
            except OSError:
                pass

    def _forget_in_child(self):
        """In a forked child: close the inherited descriptor (the parent's lock stays held; flock is only
        released when every descriptor of the open file is closed, or by an explicit unlock we never do)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


_HELD = weakref.WeakSet()  # the locks this process holds, closed in its forked children
os.register_at_fork(after_in_child=lambda: [lock._forget_in_child() for lock in list(_HELD)])


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a killed run not yet reaped is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: kill(0) said it exists


def _holder(fd: int) -> str:
    """The PID recorded in the lock file, as text ("unknown" when empty or unreadable)."""
    try:
        return os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"


def _take_over(output_dir: str, path: str, fd: int, holder: str) -> int:
    """The lock is held by leftovers of run ``holder``, which is dead: replace the lock file by a fresh one
    (the leftovers keep the old, unlinked file) and return the new file's locked fd."""
    os.close(fd)
    logger.warning(f"output folder {output_dir}: the run that held it (PID {holder}) is gone but a leftover "
                   "process of it still held its lock; taking over with a new lock file")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise LockPathError(f"cannot lock the output folder: cannot replace {path}: {err.strerror}") from None
    fd = _open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # only if a taker ignored the folder mutex; never wait for it
        os.close(fd)
        raise OutputDirBusy(f"output folder {output_dir} is in use by another run; wait for it to finish, or "
                            "set another output_dir (-o output_dir=...)") from None
    return fd


def _folder_mutex(output_dir: str):
    """Serialise lock takers of one folder (a flock on the folder itself, held only while the lock is taken),
    so two runs can never both replace a dead run's lock file. ``None`` where folders cannot be locked (NFS
    emulates flock with write locks): the takeover then loses that guard, nothing else."""
    try:
        fd = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as err:
        raise LockPathError(f"cannot lock the output folder {output_dir}: {err.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for microseconds by any other taker
    except OSError:
        os.close(fd)
        return None
    return fd


def lock_output_dir(output_dir: str) -> RunLock:
    """Take the folder's lock or raise ``OutputDirBusy`` naming the folder and the PID of the live run that
    holds it. A lock held only by leftovers of a run whose PID no longer exists is taken over (one warning).

    Returns a ``RunLock``: keep a reference for as long as the run lasts (closing it releases the lock).
    Raises ``LockPathError`` when the folder cannot be created or ``.lock`` is not a plain regular file.
    """
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as err:
        raise LockPathError(f"cannot create the output folder {output_dir}: {err.strerror}") from None
    path = os.path.join(output_dir, LOCK_NAME)
    mutex = _folder_mutex(output_dir)
    try:
        fd = _open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not (holder.isdigit() and not _alive(int(holder))):
                os.close(fd)
                raise OutputDirBusy(f"output folder {output_dir} is in use by another run (PID {holder}); wait "
                                    "for it to finish, or set another output_dir (-o output_dir=...)") from None
            fd = _take_over(output_dir, path, fd, holder)
        # Recorded before the mutex is released: a taker must never read the previous, dead run's PID here.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    finally:
        if mutex is not None:
            os.close(mutex)
    return RunLock(fd, path)
