"""Shared CLI plumbing for the inference tools: expected errors become one line on stderr and exit 2."""
import sys


def user_errors():
    """Exception classes whose message is meant for the user (no traceback is shown for them)."""
    from ..utils.build_utils import BuildError
    from ..utils.config import ConfigError
    from ..utils.save_load import CheckpointError
    from .errors import InferenceError
    classes = [BuildError, ConfigError, CheckpointError, InferenceError]
    try:
        from ..loader.pipelines.errors import DecodeError, MissingBackendError, PipelineError
        classes += [DecodeError, MissingBackendError, PipelineError]
    except ImportError:  # the loader is optional for export
        pass
    return tuple(classes)


def error_line(program: str, err: BaseException) -> str:
    """``program: error: <message>`` on one line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{program}: error: {text}"


def run_cli(program: str, work) -> int:
    """Run ``work()``; a user error prints one line to stderr and returns 2, Ctrl-C returns 130."""
    try:
        result = work()
    except user_errors() as err:
        sys.stdout.flush()
        print(error_line(program, err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


def str2bool(text) -> bool:
    """PaddleVideo's flag syntax: ``--use_gpu False``; also accepts yes/no/on/off, rejects the rest."""
    import argparse
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("true", "t", "1", "yes", "y", "on"):
        return True
    if value in ("false", "f", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")
