"""``atomic_write``: the one way this package writes a file that must never be seen half-written."""
import contextlib
import os
import tempfile


def umask_mode(base: int = 0o666) -> int:
    """The mode a plain ``open()`` (``base`` 0o666) or ``mkdir()`` (0o777) gives under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def _fsync_folder(folder: str):
    """Make a rename in ``folder`` durable (best effort: some filesystems refuse directory fsync)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w", encoding="utf-8"):
    """``with atomic_write(path) as (f, tmp): ...`` writes to a temp file beside ``path``; on success the
    temp file is flushed, fsynced and renamed over ``path``; on any error it is removed and ``path`` keeps
    its old content. ``f`` is an open file (text for ``mode='w'``, ``'wb'`` for bytes); ``tmp`` is the temp
    path, for writers that need a file name (e.g. ``paddle.save``) — they may write to it and leave ``f``.
    Missing folders are created. The file gets the mode a plain ``open()`` would give (0644 under umask
    022), not ``mkstemp``'s private 0600, so a server running as another user can read it.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f, tmp
            f.flush()
        with open(tmp, "rb") as written:  # the writer may have replaced the file by name
            os.fsync(written.fileno())
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)
