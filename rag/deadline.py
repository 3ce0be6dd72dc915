"""A total deadline for HTTP requests to an LLM server: ``deadline_client`` and its ``DeadlineTransport``.

httpx's timeouts are per operation: a server that sends one byte every few seconds never trips a read
timeout, so an answer could take forever. The transport here ends every request, headers and body
together, at its deadline. Imports httpx when imported, so ``llm.py`` imports it only when a server
backend is used; which requests get a deadline is ``llm.py``'s business.
"""

from __future__ import annotations

import queue
import threading
import time

import httpx


def deadline_client(total_s: float) -> httpx.Client:
    """An ``httpx.Client`` whose every request ends within ``total_s`` seconds, headers and body together."""
    return httpx.Client(transport=DeadlineTransport(total_s), timeout=httpx.Timeout(total_s))


class DeadlineStream(httpx.SyncByteStream):
    """A response body read from the worker's queue, ending with ``ReadTimeout`` at the deadline."""

    def __init__(self, items: queue.Queue, deadline: float, stop: threading.Event, request) -> None:
        self.items, self.deadline, self.stop, self.request = items, deadline, stop, request

    def __iter__(self):
        while True:
            kind, value = _next(self.items, self.deadline, self.stop, self.request)
            if kind == "end":
                return
            yield value

    def close(self) -> None:
        self.stop.set()


def _next(items: queue.Queue, deadline: float, stop: threading.Event, request):
    try:
        kind, value = items.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        stop.set()
        raise httpx.ReadTimeout("no complete response within the total deadline", request=request) from None
    if kind == "error":
        raise value
    return kind, value


class DeadlineTransport(httpx.BaseTransport):
    """Runs each request in a worker thread that hands chunks over a queue; the caller waits for
    them only until the deadline. (httpx has no total timeout, and closing a socket from another
    thread does not reliably wake a blocked read; the abandoned worker ends at its next read
    or at the per-read timeout.)"""

    def __init__(self, total_s: float) -> None:
        self.total_s = total_s
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.total_s
        items: queue.Queue = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            response = None
            try:
                response = self.inner.handle_request(request)
                items.put(("response", response))
                for chunk in response.stream:
                    if stop.is_set():
                        return
                    items.put(("chunk", chunk))
                items.put(("end", None))
            except BaseException as error:  # handed to the caller's thread
                items.put(("error", error))
            finally:
                if response is not None:
                    response.close()

        threading.Thread(target=work, name="llm-request", daemon=True).start()
        _, head = _next(items, deadline, stop, request)
        return httpx.Response(
            head.status_code,
            headers=head.headers,
            stream=DeadlineStream(items, deadline, stop, request),
            extensions=head.extensions,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()
