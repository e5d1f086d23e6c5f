"""When the explorer's work runs: debounce, a generation counter, one lock and one home thread.

Why a module of its own: the rules are subtle and must hold for every view.

- **Home thread.** ipykernel 7 may deliver some widget messages (plotly's clicks, for one) on a
  subshell thread. The DuckDB connection must not be used from two threads at once, and a click must
  be answered with the filters the user saw, so such work is queued onto the event loop of the
  thread the explorer was made on. The home thread, its loop and the lock are set once, when the
  scheduler is made, and never replaced.
- **Debounce.** Rapid changes (dragging a slider, a cascade of dropdowns) coalesce into one refresh
  after a short pause on the kernel's event loop; with no running loop (scripts, tests) or a pause
  of 0 the refresh runs at once.
- **Generation counter.** Every change bumps the generation; a refresh runs in short stages with the
  loop free between them, and a stage of a superseded generation does nothing.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["Scheduler", "running_loop", "Stages"]

Stages = Callable[[], list[Callable[[], None]]]


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running this callback (ipykernel runs one), or None in a plain script."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Scheduler:
    """Runs an explorer's refreshes and clicks in order, on its home thread, under one lock.

    `stages()` gives the refresh's steps (called when a refresh starts, so it sees the filters of
    that moment); `on_error(e)` shows a failed stage; `on_busy()` marks the view as updating while a
    debounced refresh waits.
    """

    def __init__(self, stages: Stages, *, debounce: float, on_error: Callable[[BaseException], None],
                 on_busy: Callable[[], None]) -> None:
        self.stages = stages
        self.debounce = float(debounce)
        self.on_error = on_error
        self.on_busy = on_busy
        self.generation = 0
        self.handle: asyncio.TimerHandle | None = None
        self.debounced_count = 0  # refreshes that ran from the event loop after the pause
        self._quiet = 0
        # Home: the thread (and its event loop) the explorer was made on, where all its work runs. Set once.
        self.home_thread = threading.get_ident()
        self.loop = running_loop()
        self.lock = threading.RLock()  # one user of the DuckDB connection at a time

    def dispatch(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the home thread, in order with the refresh stages (queued there from any other thread)."""
        if threading.get_ident() == self.home_thread:
            if self.loop is None:
                self.loop = running_loop()
            fn()
            return
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(fn)
        else:
            with self.lock:
                fn()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Changes made inside do not schedule a refresh (the caller schedules one itself)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def schedule(self) -> None:
        """Refresh after the debounce pause (coalescing rapid changes), or at once when no event loop runs."""
        if self._quiet:
            return
        self.generation += 1
        loop = running_loop()
        if loop is None or self.debounce <= 0:
            self.refresh()
            return
        if self.handle is not None:
            self.handle.cancel()
        self.on_busy()
        self.handle = loop.call_later(self.debounce, self._start, self.generation, loop)

    def _start(self, generation: int, loop: asyncio.AbstractEventLoop) -> None:
        self.handle = None
        if generation != self.generation:
            return
        self.debounced_count += 1
        stages = self.stages()

        def step(i: int) -> None:
            if generation != self.generation:
                return  # a newer change arrived: its own refresh will draw
            try:
                with self.lock:
                    stages[i]()
            except Exception as e:  # shown in the widget; the kernel keeps running
                self.on_error(e)
                return
            if i + 1 < len(stages):
                loop.call_soon(step, i + 1)  # let the kernel read messages between stages

        step(0)

    def refresh(self) -> None:
        """Run every stage now (synchronously); an error is shown and raised."""
        self.generation += 1
        try:
            with self.lock:
                for stage in self.stages():
                    stage()
        except Exception as e:
            self.on_error(e)
            raise

    def cancel(self) -> None:
        """Drop a refresh that is waiting for its pause (on close)."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
