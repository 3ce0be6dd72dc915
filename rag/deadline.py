"""A total deadline for blocking network work: a worker thread the caller waits for only until the deadline.

:class:`Worker` is the one implementation. It runs the work in a daemon thread that hands what it produces
over a queue; the caller takes each item only until the deadline, after which it gets
:class:`DeadlineExceeded` and the worker is told to stop (it ends at its next step, or at its own
per-operation timeout). Written by hand because neither the standard library nor httpx has a total
timeout: httpx's timeouts are per operation (a server sending one byte every few seconds never trips a
read timeout), a DNS look-up has no timeout at all, and closing a socket from another thread does not
reliably wake a blocked read. (``concurrent.futures`` would give ``result(timeout=...)``, but its worker
threads are joined at interpreter exit, so one hung look-up would hold the process; these are daemons.)

Three users: the URL fetcher (``rag.ingest.fetch``: DNS, connects, redirects and body under one deadline;
what may be fetched is its business) and the LLM server client, :func:`deadline_client` here (an
``httpx.Client`` whose every request, headers and streamed body, ends at its deadline; which requests
get one is ``rag.llm.factory``'s business); and the embedding server client (``rag.embed_server``: each
batch, retries included, under one :func:`call_within`). Imports httpx when imported: its users import
this module only when they make a request.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


class DeadlineExceeded(TimeoutError):
    """The worker handed nothing over before the deadline."""


@dataclass(frozen=True)
class _Raised:
    error: BaseException


class Worker:
    """Runs ``work(worker)`` in a daemon thread; ``work`` hands items over with :meth:`hand` and should end
    when :attr:`stopped` is set; the caller receives them with :meth:`take` until :attr:`deadline`."""

    def __init__(self, total_s: float, work: Callable[[Worker], None], *, name: str) -> None:
        self.deadline = time.monotonic() + total_s
        self.stopped = threading.Event()
        self._items: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, args=(work,), name=name, daemon=True).start()

    def _run(self, work: Callable[[Worker], None]) -> None:
        try:
            work(self)
        except BaseException as error:  # handed to the caller's thread, which re-raises it
            self._items.put(_Raised(error))

    def hand(self, item: Any) -> None:
        """Give ``item`` to the caller (from the worker thread)."""
        self._items.put(item)

    def take(self) -> Any:
        """The next item the worker handed over; re-raises the worker's error; ``DeadlineExceeded`` (and
        the worker told to stop) when nothing came before the deadline."""
        try:
            item = self._items.get(timeout=max(0.0, self.deadline - time.monotonic()))
        except queue.Empty:
            self.stop()
            raise DeadlineExceeded from None
        if isinstance(item, _Raised):
            raise item.error
        return item

    def stop(self) -> None:
        """Tell the worker to end; what it hands over from now on is never taken."""
        self.stopped.set()


def call_within(total_s: float, work: Callable[[Worker], Any], *, name: str) -> Any:
    """``work(worker)``'s result, computed in a worker thread; ``DeadlineExceeded`` after ``total_s`` seconds
    (``work`` may check ``worker.stopped`` and ``worker.deadline`` to end early)."""
    return Worker(total_s, lambda worker: worker.hand(work(worker)), name=name).take()


def deadline_client(total_s: float) -> httpx.Client:
    """An ``httpx.Client`` whose every request ends within ``total_s`` seconds, headers and body together
    (past it: ``httpx.ReadTimeout``)."""
    return httpx.Client(transport=DeadlineTransport(total_s), timeout=httpx.Timeout(total_s))


_END = object()  # the worker's last item: the response body is complete


def _take(worker: Worker, request: httpx.Request) -> Any:
    try:
        return worker.take()
    except DeadlineExceeded:
        raise httpx.ReadTimeout("no complete response within the total deadline", request=request) from None


class DeadlineStream(httpx.SyncByteStream):
    """A response body taken from the worker, ending with ``ReadTimeout`` at the deadline."""

    def __init__(self, worker: Worker, request: httpx.Request) -> None:
        self.worker, self.request = worker, request

    def __iter__(self):
        while (chunk := _take(self.worker, self.request)) is not _END:
            yield chunk

    def close(self) -> None:
        self.worker.stop()


class DeadlineTransport(httpx.BaseTransport):
    """Runs each request in a :class:`Worker` that hands the response, then its chunks, over."""

    def __init__(self, total_s: float) -> None:
        self.total_s = total_s
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        def work(worker: Worker) -> None:
            response = None
            try:
                response = self.inner.handle_request(request)
                worker.hand(response)
                for chunk in response.stream:
                    if worker.stopped.is_set():
                        return
                    worker.hand(chunk)
                worker.hand(_END)
            finally:
                if response is not None:
                    response.close()

        worker = Worker(self.total_s, work, name="llm-request")
        head = _take(worker, request)
        return httpx.Response(
            head.status_code,
            headers=head.headers,
            stream=DeadlineStream(worker, request),
            extensions=head.extensions,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()
