"""``-p/--profiler_options "batch_range=[10,20];profile_path=./profiler_log;exit_on_finished=True"``.

PaddleVideo's option string, run through ``paddle.profiler``: the iterations in ``batch_range``
are recorded and a Chrome trace is written under ``profile_path``; with ``exit_on_finished``
the program stops after the last profiled iteration.
"""
import logging
import ast
import sys

from ..utils.config import ConfigError

logger = logging.getLogger(__name__)

_DEFAULTS = {"batch_range": [10, 20], "profile_path": "./profiler_log", "exit_on_finished": True}


def parse_profiler_options(text: str) -> dict:
    """``"k1=v1;k2=v2"`` -> dict; unknown keys (``state``, ``tracer_option``) are accepted and ignored."""
    options = dict(_DEFAULTS)
    for item in filter(None, (part.strip() for part in text.split(";"))):
        if "=" not in item:
            raise ConfigError(f"--profiler_options item '{item}' must look like key=value")
        key, value = (s.strip() for s in item.split("=", 1))
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    start, end = options["batch_range"]
    if not 0 <= int(start) < int(end):
        raise ConfigError(f"--profiler_options batch_range must be [start, end) with 0 <= start < end, "
                          f"got {options['batch_range']}")
    return options


class StepProfiler:
    """Call ``step()`` at the start of every training iteration and ``close()`` after training.

    Does nothing when no options were given.
    """

    def __init__(self, text=None):
        self.options = parse_profiler_options(text) if text else None
        self.profiler = None
        self.steps = 0

    def step(self):
        if self.options is None:
            return
        if self.profiler is None:  # first iteration: start recording (the scheduler skips until `start`)
            import paddle.profiler as profiler
            start, end = (int(v) for v in self.options["batch_range"])
            self.profiler = profiler.Profiler(
                scheduler=(start, end),
                on_trace_ready=profiler.export_chrome_tracing(str(self.options["profile_path"])))
            self.profiler.start()
            return
        self.profiler.step()
        self.steps += 1
        if self.steps >= int(self.options["batch_range"][1]):
            self.close()
            if str(self.options.get("exit_on_finished", True)).lower() in ("true", "1"):
                sys.exit(0)

    def close(self):
        """Stop recording and write the trace (if a profile is running)."""
        if self.profiler is None or self.options is None:
            return
        self.profiler.stop()
        logger.info(
            f"profiler: iterations {self.options['batch_range']} traced to {self.options['profile_path']}")
        self.options = None
