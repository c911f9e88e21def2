"""``-p/--profiler_options "batch_range=[10,20];timer_only=False;profile_path=./profiler_log"``: PaddleVideo's
profiler flag, run through ``paddle.profiler``.

The options and their defaults are PaddleVideo's (``paddlevideo/utils/profiler.py``):

- ``batch_range=[start,end]`` (``[10,20]``): the iterations profiled, counted from 0 over the whole run.
- ``timer_only`` (``True``): Paddle's timer only, no trace: when the range ends Paddle prints its ``Perf
  Summary`` (reader_cost, batch_cost, ips). ``False``: operator-level profiling of the range; Paddle prints
  its summary tables and writes a Chrome trace into ``profile_path``.
- ``profile_path`` (``./profiler_log``, the folder PaddleVideo always writes to): where the trace goes.
- ``exit_on_finished`` (``True``): training ends when the range ends (exit status 0; the epoch under way
  is not saved, as in PaddleVideo). ``False``: training goes on unprofiled.
- ``state``, ``sorted_key``, ``tracer_option``: accepted and, as in PaddleVideo, without effect.

Booleans are true for ``yes``/``true``/``t``/``1`` (any case). An unknown key, an item without ``=`` or a
``batch_range`` that is not ``[start, end]`` with ``0 <= start < end`` is a ``ConfigError``.
"""
import difflib
import logging

from ..utils.config import ConfigError

logger = logging.getLogger(__name__)

_DEFAULTS = {"batch_range": [10, 20], "state": "All", "sorted_key": "total", "tracer_option": "Default",
             "profile_path": "./profiler_log", "exit_on_finished": True, "timer_only": True}
_BOOLEANS = ("exit_on_finished", "timer_only")
_TRUE = ("yes", "true", "t", "1")


def _batch_range(text: str) -> list:
    parts = text.replace("[", "").replace("]", "").split(",")
    try:
        start, end = (int(p) for p in parts)
    except ValueError:
        start = end = None
    if start is None or not 0 <= start < end:
        raise ConfigError(f"--profiler_options batch_range must be [start,end] with 0 <= start < end, got {text}")
    return [start, end]


def parse_profiler_options(text: str) -> dict:
    """``"k1=v1;k2=v2"`` (spaces ignored, as PaddleVideo does) -> the options with PaddleVideo's defaults."""
    options = dict(_DEFAULTS)
    for item in filter(None, text.replace(" ", "").split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--profiler_options item '{item}' must look like key=value")
        if key not in _DEFAULTS:
            close = difflib.get_close_matches(key, _DEFAULTS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"--profiler_options has no option '{key}'{hint}; known: {', '.join(_DEFAULTS)}")
        if key == "batch_range":
            options[key] = _batch_range(value)
        elif key in _BOOLEANS:
            options[key] = value.lower() in _TRUE
        else:
            options[key] = value
    return options


class StepProfiler:
    """``step()`` at the start of every training iteration, ``close()`` after training; inert without options.

    ``step()`` returns True once, at the end of the range, when ``exit_on_finished`` asks training to end.
    """

    def __init__(self, text=None):
        self.options = parse_profiler_options(text) if text else None
        self._profiler = None
        self._calls = 0
        self._done = False

    def step(self) -> bool:
        if self.options is None or self._done:
            return False
        if self._profiler is None:
            self._profiler = self._start()
        else:
            self._profiler.step()
        if self._calls == self.options["batch_range"][1]:
            self._finish()
            return self.options["exit_on_finished"]
        self._calls += 1
        return False

    def _start(self):
        import paddle.profiler as profiler
        start, end = self.options["batch_range"]
        timer_only = self.options["timer_only"]
        recorder = profiler.Profiler(
            scheduler=(start, end), timer_only=timer_only,
            on_trace_ready=None if timer_only else profiler.export_chrome_tracing(self.options["profile_path"]))
        recorder.start()
        return recorder

    def _finish(self):
        """Stop; Paddle prints its summary (the timer's, or the operator tables) and writes the trace."""
        self._done = True
        self._profiler.stop()
        self._profiler.summary(op_detail=True, thread_sep=False, time_unit="ms")
        start, end = self.options["batch_range"]
        where = ("timed (timer_only: Paddle's Perf Summary above, no trace)" if self.options["timer_only"]
                 else f"profiled, trace in {self.options['profile_path']}")
        logger.info(f"profiler: iterations [{start}, {end}) {where}")

    def close(self):
        """End a profile still running when training ends before the range does."""
        if self._profiler is not None and not self._done:
            self._finish()
