"""One way to walk a dataset folder tree: sorted, following symlinked folders, refusing a symlink loop.

Datasets are often assembled from links (a class folder linked from another disk). Every tool that walks a
tree uses this walker, so a linked folder is either seen by all of them or by none: here, by all.
"""
import os

from .errors import UserError


class FolderWalkError(UserError):
    """A folder cannot be listed, or a symlink leads back to one of its own parent folders."""


def _entries(folder: str):
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda entry: entry.name)
    except OSError as err:
        raise FolderWalkError(f"cannot list the folder {folder}: {err.strerror or err}") from None
    dirs, files = [], []
    for entry in entries:
        try:
            is_dir = entry.is_dir()  # follows links; a dangling link is neither a folder nor a file
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            dirs.append(entry.name)
        elif is_file:
            files.append(entry.name)
    return dirs, files


def walk_folders(top: str):
    """Like ``os.walk(top, followlinks=True)``, with names sorted; yields ``(folder, dirnames, filenames)``.

    A folder that is (or links to) one of its own ancestors raises ``FolderWalkError`` naming the link, rather
    than walking forever. Two links to the same folder in different places are both walked (that is a
    choice the user made, not a loop).
    """
    def visit(folder, ancestors):
        real = os.path.realpath(folder)
        if real in ancestors:
            raise FolderWalkError(f"symlink loop: {folder} leads back to its parent folder {real}; "
                                  "remove or retarget the link")
        dirs, files = _entries(folder)
        yield folder, dirs, files
        for name in dirs:
            yield from visit(os.path.join(folder, name), ancestors | {real})

    yield from visit(top, frozenset())
