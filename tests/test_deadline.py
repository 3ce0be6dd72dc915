"""The one worker-thread deadline (``rag.deadline``) that the URL fetcher and the LLM client share."""

from __future__ import annotations

import threading
import time

import pytest

from rag.deadline import DeadlineExceeded, Worker, call_within


def test_call_within_returns_the_result_or_reraises_the_error():
    assert call_within(2.0, lambda worker: 42, name="t") == 42
    with pytest.raises(KeyError):
        call_within(2.0, lambda worker: {}["missing"], name="t")


def test_a_blocked_worker_is_abandoned_at_the_deadline_and_told_to_stop():
    release = threading.Event()
    seen: list[Worker] = []

    def blocked(worker: Worker):
        seen.append(worker)
        release.wait(5)

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        call_within(0.3, blocked, name="t")
    assert time.monotonic() - started < 2
    assert seen[0].stopped.is_set()
    release.set()


def test_items_are_taken_in_order_until_the_deadline():
    def trickle(worker: Worker):
        for item in range(3):
            worker.hand(item)
        time.sleep(5)

    worker = Worker(0.5, trickle, name="t")
    assert [worker.take() for _ in range(3)] == [0, 1, 2]
    with pytest.raises(DeadlineExceeded):
        worker.take()
