"""Bounded admission in front of the predictors: at most ``len(predictors)`` running, ``max_waiting`` waiting.

A request takes a ``Ticket`` before its upload is read; when every running and waiting place is taken it
gets none (the caller answers 503), so memory and disk stay bounded whatever the clients do. The work runs
in a thread per predictor (the event loop keeps answering /health and 503s meanwhile); a predictor is used
by one thread at a time, as the Predictor API requires. A ticket's place is given back when its work ends,
not when its HTTP request ends: a request that timed out while its video is still being predicted keeps
the predictor busy, and the queue says so.
"""
import math
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor


class InferenceQueue:
    """``try_admit() -> Ticket | None``; ``ticket.submit(work, cleanup)`` runs ``work(predictor)`` in a worker."""

    def __init__(self, predictors, max_waiting: int):
        if not predictors:
            raise ValueError("InferenceQueue needs at least one predictor")
        self._free = queue.SimpleQueue()
        for predictor in predictors:
            self._free.put(predictor)
        self.workers = len(predictors)
        self.max_waiting = max_waiting
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="predict")
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0
        self._mean_seconds = None  # running mean of one video's work, for Retry-After

    def try_admit(self):
        """A ``Ticket`` holding one place, or ``None`` when all ``workers + max_waiting`` places are taken."""
        with self._lock:
            if self._admitted >= self.workers + self.max_waiting:
                return None
            self._admitted += 1
        return Ticket(self)

    def status(self) -> dict:
        """``{"queue_depth": waiting, "in_flight": running, "max_queue": ..., "workers": ...}``."""
        with self._lock:
            return {"queue_depth": self._admitted - self._running, "in_flight": self._running,
                    "max_queue": self.max_waiting, "workers": self.workers}

    def retry_after(self) -> int:
        """Seconds after which a place is likely free: one video's mean work time (1 before any was timed)."""
        return max(1, math.ceil(self._mean_seconds or 1))

    def shutdown(self):
        """Wait for the work in the workers (requests already answered 504 included), then stop them."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _release(self):
        with self._lock:
            self._admitted -= 1

    def _run(self, work):
        predictor = self._free.get()
        with self._lock:
            self._running += 1
        start = time.perf_counter()
        try:
            return work(predictor)
        finally:
            seconds = time.perf_counter() - start
            with self._lock:
                self._running -= 1
                previous = self._mean_seconds
                self._mean_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds
            self._free.put(predictor)


class Ticket:
    """One admitted request's place. ``submit`` hands it to the work; otherwise ``close`` gives it back."""

    def __init__(self, owner: InferenceQueue):
        self._owner = owner
        self._submitted = False
        self._closed = False

    def submit(self, work, cleanup) -> Future:
        """Run ``work(predictor)`` in a worker; when it ends (or is cancelled before it started) call
        ``cleanup()`` and give the place back."""
        self._submitted = True

        def done(_future):
            try:
                cleanup()
            finally:
                self._owner._release()
        future = self._owner._executor.submit(self._owner._run, work)
        future.add_done_callback(done)
        return future

    def close(self, cleanup):
        """End of the request: if nothing was submitted, call ``cleanup()`` and give the place back now."""
        if self._submitted or self._closed:
            return
        self._closed = True
        try:
            cleanup()
        finally:
            self._owner._release()
