"""Heavy requests computed in a small pool of child processes, so that one user's big traces cannot starve
everyone else's small ones.

    route --(cost > UNROLLED_HEAVY_COMPUTE)--> HeavyLane.run(job, body) --> child: app.api.heavy_jobs.run(job, body)
                                                  |  full (processes + queue busy): 503 + Retry-After
                                                  |  child over UNROLLED_HEAVY_CPU_SECONDS of CPU: 422

Python threads share one GIL, so a heavy trace computed in a worker's thread pool slows every request of that
worker, and the thread pool is only two threads wide. A child process has its own interpreter; it runs at a
lower CPU priority (nice), so the worker's light requests win the CPU when both want it, and there are few of
them, so the heavy work of a whole server holds at most that many cores. Each job's CPU time is capped with
RLIMIT_CPU: the kernel sends SIGXCPU when the job's share is used up, the handler raises, and the child goes on
to its next job. A child that dies anyway (killed, out of memory) breaks the pool; the next job gets a new one.

Children are started with "spawn" (a fork of a process running an event loop and threads is unsafe) and reused
for every job; their first start costs about a second, paid by the first heavy request after start-up.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from app.errors import ApiError, CpuTimeExceededError, ServerBusyError
from app.settings import Settings

log = logging.getLogger("unrolled.app")
NICENESS = 10  # how much lower the children's CPU priority is than the worker's


class LaneUnavailable(Exception):  # noqa: N818
    """No heavy-work process can be started: the caller computes the request itself."""


class _OutOfCpuTime(BaseException):  # BaseException: no `except Exception` in the job swallows it
    pass


def _on_sigxcpu(signum: int, frame: Any) -> None:
    raise _OutOfCpuTime


def _start_child(settings: Settings) -> None:
    """Each child, once: lower priority, the SIGXCPU handler, and the job context (store, limits)."""
    os.nice(NICENESS)
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    from app.api import heavy_jobs

    heavy_jobs.configure(settings)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_in_child(job: str, args: tuple[Any, ...], cpu_seconds: int) -> tuple[bool, Any]:
    """Run one job under its CPU limit; (True, reply bytes) or (False, the ApiError to raise in the worker)."""
    from app.api import heavy_jobs

    before, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(_cpu_seconds() + cpu_seconds)  # RLIMIT_CPU counts the whole process's CPU time
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    try:
        return True, heavy_jobs.run(job, *args)
    except _OutOfCpuTime:
        return False, CpuTimeExceededError(
            f"this request used its {cpu_seconds} s of CPU time and was stopped (server setting "
            "UNROLLED_HEAVY_CPU_SECONDS); use a shorter input or a smaller model",
            ("body",),
        )
    except ApiError as exc:
        return False, exc
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (before, hard))


class HeavyLane:
    """At most ``processes`` heavy jobs running and ``queue`` waiting, per worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.capacity = settings.heavy_processes + settings.heavy_queue
        self.in_flight = 0  # touched on the event loop only
        self.completed = 0  # jobs answered by a child, for tests and operators
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.settings.heavy_processes > 0

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.settings.heavy_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(self.settings,),
                )
            return self._pool

    def _submit(self, job: str, args: tuple[Any, ...]) -> tuple[ProcessPoolExecutor, Future]:
        """The job handed to the pool (whose children start at the first submit). A broken pool is replaced;
        LaneUnavailable when no child can be started (no memory for a process, or a host program that spawn
        cannot re-import), so the worker computes the request itself, as without the lane."""
        pool = self._executor()
        try:
            return pool, pool.submit(_run_in_child, job, args, self.settings.heavy_cpu_seconds)
        except BrokenProcessPool:
            self._discard(pool)
            raise ServerBusyError("a process computing large requests stopped; try again") from None
        except (RuntimeError, OSError) as exc:
            log.warning("heavy-work processes cannot start (%s); computing in the worker", exc)
            raise LaneUnavailable from exc

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (a child died): the next job starts a new one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, job: str, *args: Any) -> bytes:
        """The reply bytes of ``job`` computed in a child; ServerBusyError when the lane is full."""
        if self.in_flight >= self.capacity:
            raise ServerBusyError(
                f"the server is computing {self.in_flight} large requests already (its limit: "
                f"UNROLLED_HEAVY_PROCESSES + UNROLLED_HEAVY_QUEUE = {self.capacity}); try again in a few seconds"
            )
        self.in_flight += 1
        try:
            pool, future = self._submit(job, args)
            try:
                ok, value = await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._discard(pool)
                raise ServerBusyError("a process computing large requests stopped; try again") from None
        finally:
            self.in_flight -= 1
        self.completed += 1
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
