"""``staged_files``: a set of files that replaces its previous version all together, or not at all.

An export is several files that only make sense together (program, weights, description). They are
built in a hidden temporary folder inside the target folder (same file system, so moving them in is a
rename), and swapped in by ``commit`` only once all of them are complete. Until then, and after any
failure or Ctrl-C, the previous files stay as they were and the temporary folder is removed.
"""
import contextlib
import os
import shutil
import signal
import tempfile
import threading

from .atomic import _fsync_folder, umask_mode
from .errors import UserError


class StagedFilesError(UserError, OSError):
    """The target folder cannot take the new files; the message names the path, and nothing was changed."""


def _fsync_file(path: str):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM while a few renames run, so Ctrl-C cannot stop a swap half-way."""
    deferable = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    held = {signal.SIGINT, signal.SIGTERM}
    if deferable:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if deferable:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def refuse_non_files(folder: str, names):
    """``StagedFilesError`` when one of ``folder/name`` exists but is not a file (a folder, a FIFO) or a link."""
    for name in names:
        path = os.path.join(folder, name)
        if os.path.lexists(path) and not (os.path.islink(path) or os.path.isfile(path)):
            raise StagedFilesError(f"{path} exists and is not a file: move it away, it would be replaced "
                                   "(nothing was written)")


class StagedFiles:
    """A hidden temporary folder inside ``folder``; ``path(name)`` is where to write ``name``."""

    def __init__(self, folder: str, tag: str):
        self.folder = folder
        self.created_folder = not os.path.isdir(folder)
        try:
            os.makedirs(folder, exist_ok=True)
            self.tmp = tempfile.mkdtemp(prefix=f".{tag}.", suffix=".tmp", dir=folder)
        except OSError as err:
            raise StagedFilesError(f"cannot write into the output folder {folder}: {err.strerror or err}") from None

    def path(self, name: str) -> str:
        """Where the new ``name`` is written before ``commit``."""
        return os.path.join(self.tmp, name)

    def staged_names(self) -> list:
        """Names of the files written so far (sub-folders of the temporary folder are scratch space)."""
        return sorted(n for n in os.listdir(self.tmp) if os.path.isfile(os.path.join(self.tmp, n)))

    def commit(self, obsolete=()) -> list:
        """Move every staged file into ``folder``, replacing files of the same name, and remove the
        ``obsolete`` names (earlier files of the same set that this version no longer has).

        Staged files get the mode a plain ``open()`` gives under the umask and are fsynced first. If a
        rename fails, the files moved so far are put back and ``StagedFilesError`` is raised.
        Returns the final paths.
        """
        names = self.staged_names()
        refuse_non_files(self.folder, list(names) + list(obsolete))
        mode = umask_mode()
        for name in names:
            os.chmod(self.path(name), mode)
            _fsync_file(self.path(name))
        backup = os.path.join(self.tmp, ".previous")
        os.mkdir(backup)
        moved_away, moved_in = [], []
        with _signals_deferred():
            try:
                for name in list(names) + [n for n in obsolete if n not in names]:
                    if os.path.lexists(os.path.join(self.folder, name)):
                        os.replace(os.path.join(self.folder, name), os.path.join(backup, name))
                        moved_away.append(name)
                for name in names:
                    os.replace(self.path(name), os.path.join(self.folder, name))
                    moved_in.append(name)
            except OSError as err:
                for name in moved_in:
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(self.folder, name))
                for name in moved_away:
                    with contextlib.suppress(OSError):
                        os.replace(os.path.join(backup, name), os.path.join(self.folder, name))
                raise StagedFilesError(f"cannot replace {err.filename or self.folder}: {err.strerror or err}; "
                                       "the previous files are unchanged") from None
            _fsync_folder(self.folder)
        return [os.path.join(self.folder, name) for name in names]

    def discard(self, failed: bool):
        """Remove the temporary folder (and, after a failure, the output folder if this run created it empty)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        if failed and self.created_folder:
            with contextlib.suppress(OSError):
                os.rmdir(self.folder)


@contextlib.contextmanager
def staged_files(folder: str, tag: str):
    """``with staged_files(out, "TSN.export") as stage: write stage.path(name)...; stage.commit()``.

    Leaving the block (normally, by an error or by Ctrl-C) removes the temporary folder; files not
    committed are dropped and ``folder``'s previous files are untouched.
    """
    stage = StagedFiles(folder, tag)
    failed = True
    try:
        yield stage
        failed = False
    finally:
        stage.discard(failed)
