"""The one error policy: ``UserError`` is "your input is wrong"; ``run_cli`` turns it into one line and exit 2.

Every error meant for the user (a config key, a list line, a file, a flag) derives from ``UserError`` and names
what is wrong and what was expected. Any other exception is a bug and keeps its traceback. This module imports
nothing, so every part of the package (and the Paddle-free pipeline core) can use it.
"""
import sys


class UserError(Exception):
    """Bad input: the message names the file, line, key or flag and what was expected."""


class ConfigError(UserError, ValueError):
    """A config file, key path or override that cannot be used; the message names it."""


def error_line(program: str, err: BaseException) -> str:
    """``program: error: <message>`` on one line (the message's own line breaks are folded)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{program}: error: {text}"


def run_cli(program: str, work) -> int:
    """Run ``work()`` and return its exit status (``None`` -> 0).

    A ``UserError`` prints one line to stderr and returns 2; Ctrl-C prints one line and returns 130; a
    graceful stop (``stop_signals.StopRequested``) prints its line and returns 143 (SIGTERM) or 130 (SIGINT).
    Anything else propagates with its traceback.
    """
    from .stop_signals import StopRequested
    try:
        result = work()
    except StopRequested as stop:
        sys.stdout.flush()
        print(f"{program}: {stop.message}", file=sys.stderr)
        return stop.exit_code
    except UserError as err:
        sys.stdout.flush()
        print(error_line(program, err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        sys.stdout.flush()
        print(f"{program}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
