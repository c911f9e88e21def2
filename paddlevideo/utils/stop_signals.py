"""A graceful stop on SIGTERM (schedulers), SIGINT (Ctrl-C) and SIGHUP (a closed terminal or SSH session):
the work stops at its next safe point.

``GracefulStop`` turns the first signal into a flag that the training loop reads between iterations, so a
checkpoint being written is finished and the process exits with one line instead of Paddle's C++ dump.
A second Ctrl-C stops at once; a repeated SIGTERM does not hurry the stop. A signal the process was told to
ignore (``nohup`` ignores SIGHUP) stays ignored.
"""
import signal
import threading

EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGHUP: 129}  # 128 + signal number, as shells say


class StopRequested(Exception):
    """Raised at a safe point after a stop signal; ``run_cli`` prints ``message`` and exits ``exit_code``."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signum, self.message = signum, message

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 128 + int(self.signum))


class GracefulStop:
    """``with GracefulStop() as stop: ... if stop.requested(): ...``; handlers are restored on exit.

    Outside the main thread signals cannot be caught; the context then does nothing.
    """

    def __init__(self, signals=(signal.SIGTERM, signal.SIGINT, signal.SIGHUP)):
        self.signals, self.signum, self._previous = tuple(signals), None, {}

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:  # Ctrl-C twice: stop now
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        # A repeated SIGTERM changes nothing: paddle.distributed.launch sends its workers up to three
        # within half a second, and they must still stop together at the same step.
        if self.signum is None:
            self.signum = signum

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                if sig == signal.SIGHUP and signal.getsignal(sig) is signal.SIG_IGN:
                    continue  # started under nohup: a closed terminal must not stop the run
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False

    def requested(self, world_size: int = 1) -> bool:
        """Whether to stop now. With several processes every rank must stop at the same step (the next
        gradient all-reduce would wait forever otherwise), so the ranks agree through one all-reduce."""
        local = self.signum is not None
        if world_size <= 1:
            return local
        import paddle
        import paddle.distributed as dist
        flag = paddle.to_tensor([int(self.signum or 0)], dtype="int32")
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        agreed = int(flag.numpy().reshape(-1)[0])
        if not local and agreed > 0:
            self.signum = agreed
        return agreed > 0

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""
