"""The writer queue: one write to the index at a time, served in arrival order.

An ingest or a removal holds it while it writes; questions never take it (they read the index as it
was until the write commits). What a write does, and pausing the retriever meanwhile, is
``assistant.py``'s.
"""

from __future__ import annotations

import threading


class WriterQueue:
    """One writer at a time, served in arrival order (a bare ``Lock`` wakes waiters in any order)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def waiting(self) -> int:
        """Writes running or queued right now."""
        with self._cond:
            return self._next_ticket - self._serving

    def __enter__(self):
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._cond.wait_for(lambda: self._serving == ticket)
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()
