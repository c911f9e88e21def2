"""Guards on the paths a tool writes: an output never replaces one of the tool's inputs."""
import os

from .errors import UserError


class OutputIsInputError(UserError, ValueError):
    """An output path resolves to a file the same command reads."""


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_output_over_inputs(output: str, inputs: dict):
    """Raise ``OutputIsInputError`` when ``output`` is (or links to) one of ``inputs``.

    ``inputs`` maps a description (``"--label_list"``) to a path or a list of paths; ``None`` entries are
    skipped. Call it before any work, so nothing is read, computed or overwritten.
    """
    if not output:
        return
    for what, paths in inputs.items():
        for path in ([paths] if isinstance(paths, (str, os.PathLike)) else (paths or ())):
            if path and _same_file(output, path):
                raise OutputIsInputError(f"the output {output} is the same file as {what} {path}: "
                                         "choose another output path (nothing was written)")
