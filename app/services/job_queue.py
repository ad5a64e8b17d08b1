"""The claimer: one daemon thread per worker process that keeps the process's training slots filled from the
queue of jobs in the shared store (app.storage.jobs).

It wakes every ``poll_s`` seconds, or at once when told (``wake``: a slot was freed), and calls ``fill``,
which claims the oldest queued jobs while the process has a free slot. So a job queued by a worker with no
free slot starts on the first worker of any replica that has one, within ``poll_s`` of it freeing up. Every
``sweep_s`` seconds it also calls ``sweep``, which fails the running jobs whose worker has gone silent: a
job that nobody looks at does not hold a place under the global limit for ever.

A failure of the store (it is down for a while) is logged once per message and the thread keeps going, at
``sweep_s`` intervals until the store answers again (not adding a connection attempt every poll to an
outage); it never raises. ``stop`` ends the thread and joins it, so a process (or a test) that is done leaves no thread
behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("unrolled.training")


class Claimer:
    def __init__(
        self, fill: Callable[[], None], sweep: Callable[[], None], poll_s: float, sweep_s: float, name: str
    ) -> None:
        self.fill = fill
        self.sweep = sweep
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.name = name
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._logged = ""  # the last failure logged, so a store that stays down is one line

    def start(self) -> None:
        """Start the thread unless it runs already (or was stopped: a stopped claimer stays stopped)."""
        with self._lock:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _loop(self) -> None:
        next_sweep = 0.0
        wait_s = 0.0  # a first look straight away
        while True:
            self._wake.wait(wait_s)
            self._wake.clear()  # before the work: a wake during it is kept for the next wait
            if self._stopping:
                return
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.sweep_s
                    self.sweep()
                self.fill()
                wait_s = self.poll_s
            except Exception as exc:  # the store is down, say: look again after a sweep's interval
                wait_s = self.sweep_s
                message = f"{type(exc).__name__}: {exc}"
                if message != self._logged:
                    self._logged = message
                    log.warning("the training queue could not be read: %s", message)
