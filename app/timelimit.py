"""Time limits for CPU-bound work on untrusted input (PDF rendering, photo decoding).

In a process's main thread (CLI, RQ job, a gunicorn sync worker) a SIGALRM timer interrupts the
work; elsewhere (threads of a threaded server) the work goes to a small pool of spawned worker
processes, and a worker that overruns is killed with its pool.
"""
import gc
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult, Pool
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds between repeated alarms once the deadline has passed.
ALARM_REPEAT = 0.05
#: Extra seconds the parent waits for a worker before it kills it (the worker's own alarm fires first).
HARD_KILL_GRACE = 5.0


class TimeLimitExceeded(Exception):
    """The work took longer than its time limit."""


class _Deadline(BaseException):
    """Raised by the alarm; a BaseException so that a library's `except Exception` cannot swallow it."""


def can_use_alarm() -> bool:
    """Return True when SIGALRM can interrupt the current thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeLimitExceeded from the block after `seconds` (main thread only); restores any outer timer.

    A signal handler's exception that lands inside a garbage-collector callback is printed and
    dropped by Python, so one alarm alone could be lost and the work run forever: the cyclic
    collector is paused while the timer is armed, and the timer repeats every ALARM_REPEAT seconds
    after the deadline in case a refcount-triggered callback still swallows one.
    """
    armed = [True]
    collecting = gc.isenabled()
    gc.disable()

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed[0]:
            raise _Deadline()

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds, ALARM_REPEAT)
    expired = False
    try:
        yield
    except _Deadline:
        expired = True
    finally:
        while True:  # an alarm may still strike while disarming; keep going until it is off
            try:
                armed[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except _Deadline:
                continue
        signal.signal(signal.SIGALRM, previous_handler)
        if collecting:
            gc.enable()
        if outer_delay:  # an outer timer (RQ's job timeout) keeps running with what it had left
            remaining = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001))
    if expired:
        raise TimeLimitExceeded(f"took longer than {seconds:g} s")


class ProcessPool:
    """A pool of spawned worker processes, killed and rebuilt when a task overruns its time limit."""

    def __init__(self, workers: int = 2, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.initializer = initializer
        self._pool: Pool | None = None
        self._lock = threading.Lock()
        #: Bumped on every kill, so callers can tell which submitted tasks died with the old pool.
        self.generation = 0

    def pool(self) -> Pool:
        """Return the live multiprocessing pool, starting it when needed."""
        with self._lock:
            if self._pool is None:
                # spawn, not fork: forking a threaded web process with open DB connections is unsafe
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(self.workers, initializer=self.initializer, maxtasksperchild=100)
            return self._pool

    def submit(self, func: Callable[..., T], *args: Any) -> AsyncResult[T]:
        """Start `func(*args)` in a worker; return an AsyncResult."""
        return self.pool().apply_async(func, args)

    def wait(self, result: AsyncResult[T], timeout: float) -> T:
        """Return the task's result; kill the pool and raise TimeLimitExceeded after `timeout` + grace."""
        try:
            return result.get(timeout + HARD_KILL_GRACE)
        except multiprocessing.TimeoutError:
            self.kill()
            raise TimeLimitExceeded(f"took longer than {timeout:g} s") from None

    def kill(self) -> None:
        """Terminate every worker (hung ones included); the next submit starts a fresh pool."""
        with self._lock:
            pool, self._pool = self._pool, None
            self.generation += 1
        if pool is not None:
            pool.terminate()
            pool.join()

    def close(self) -> None:
        """Stop the workers gracefully."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            pool.join()
