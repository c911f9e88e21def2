"""Process set-up that entry points do explicitly (``setup_runtime``), before ``import paddle``.

``import paddle`` sets ``OMP_NUM_THREADS=1`` when it is unset (one core), and Paddle's bundled MKL
takes a slow non-AVX2 path on AMD CPUs unless ``MKL_DEBUG_CPU_TYPE=5``: together about 4x slower
on a 2-core AMD EPYC Zen 3, much less on Intel Xeons (docs/performance.md, per processor). Values the user already set are never
overridden. Importing ``paddlevideo`` changes nothing in the process; this module does it on request.
"""
import logging
import os
import sys

from .errors import UserError

_applied = {}


def usable_cpus() -> int:
    """CPUs this process may run on (affinity mask aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cpu_vendor() -> str:
    """``vendor_id`` from /proc/cpuinfo (``AuthenticAMD``, ``GenuineIntel``) or '' when unknown."""
    try:
        with open("/proc/cpuinfo", "r", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def setup_cpu_runtime(environ=None) -> dict:
    """Set ``OMP_NUM_THREADS`` (all usable CPUs) and, on AMD, ``MKL_DEBUG_CPU_TYPE=5``.

    Only variables the user has not set are written. Returns ``{var: (value, 'set'|'user')}``
    describing the outcome, which ``describe_runtime`` turns into the start-up log line.
    """
    env = os.environ if environ is None else environ
    outcome = {}
    wanted = {"OMP_NUM_THREADS": str(usable_cpus())}
    if cpu_vendor() == "AuthenticAMD":
        wanted["MKL_DEBUG_CPU_TYPE"] = "5"
    for var, value in wanted.items():
        if var in env:
            outcome[var] = (env[var], "user")
        else:
            env[var] = value
            outcome[var] = (value, "set")
    if environ is None:
        _applied.update(outcome)
    return outcome


def setup_runtime(log_level="INFO") -> dict:
    """What every entry point does first, before Paddle is imported: CPU threads and MKL path
    (``setup_cpu_runtime``), and the ``paddlevideo`` logger's console handler (``setup_logger``).

    Library users call it too when they want the same speed and the log lines on the console;
    ``import paddlevideo`` alone touches neither the environment nor logging. Returns what
    ``setup_cpu_runtime`` did.
    """
    from .logger import setup_logger
    if "paddle" in sys.modules and not _applied:
        logging.getLogger(__name__).warning(
            "setup_runtime() after `import paddle`: Paddle has already fixed its thread count")
    outcome = setup_cpu_runtime()
    setup_logger(None, name="paddlevideo", level=log_level)
    return outcome


def describe_runtime() -> str:
    """One line for the start-up log: what the CPU runtime set-up did."""
    if not _applied:
        return "CPU runtime: not configured (paddlevideo imported after paddle?)"
    parts = [f"{var}={value}" + (" (user)" if how == "user" else "")
             for var, (value, how) in sorted(_applied.items())]
    return f"CPU runtime: {', '.join(parts)} ({usable_cpus()} usable CPUs)"


def single_thread_worker(worker_id=None):
    """``worker_init_fn`` for DataLoader workers: one thread each, so N workers do not fight the trainer."""
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass


# Start-up chatter of `import paddle` that says nothing to our users: a thread-count notice about
# a value we set on purpose, and a compiler-cache hint that concerns custom C++ ops only.
_PADDLE_IMPORT_NOISE = ("OMP_NUM_THREADS set to", "PLEASE USE OMP_NUM_THREADS WISELY", "No ccache found",
                        "warnings.warn(warning_message)")


class PaddleNotInstalled(UserError, ImportError):
    """This Python has no PaddlePaddle; the message says how to install it."""


def require_paddle(program: str = "paddlevideo"):
    """Import Paddle without its start-up chatter; without Paddle, raise ``PaddleNotInstalled`` (a
    ``UserError``: the entry point's ``run_cli`` prints it as one line, exit 2). ``program`` is kept for the
    callers' sake; ``run_cli`` names the program. Anything else Paddle prints while importing is passed
    through."""
    import contextlib
    import io
    import warnings
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No ccache found")
            import paddle  # noqa: F401
    except ImportError as err:
        raise PaddleNotInstalled(
            f"PaddlePaddle is not installed in this Python ({sys.executable}): {err}. "
            "Run `make demo` or `make test` (they create .venv with Paddle), or `pip install paddlepaddle` "
            "(CPU) / `pip install paddlepaddle-gpu` (CUDA), then retry.") from None
    finally:
        for line in captured.getvalue().splitlines():
            if line.strip() and not any(noise in line for noise in _PADDLE_IMPORT_NOISE):
                sys.stderr.write(line + "\n")


def run_paddle_tool(program: str, work) -> int:
    """What a tool that needs Paddle does around its ``work()``: the CPU set-up before Paddle is imported, then
    ``run_cli`` (one line, exit 2, on bad input) around the Paddle import and the work; returns the exit status."""
    from .errors import run_cli
    setup_runtime()

    def checked():
        require_paddle(program)  # inside run_cli: a Python without Paddle gets one line
        return work()
    return run_cli(program, checked)

