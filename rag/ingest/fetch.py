"""Fetching one web page (or PDF) for ingestion, with the rules that keep a URL from reaching inside.

:func:`fetch` downloads a URL and hands back its bytes, final URL and declared charset, and refuses:

* anything that takes longer than a **total deadline** (DNS, connect, redirects and body together: a
  server trickling one byte every two seconds is cut off at the deadline, not after each read);
* a body larger than the size cap, counted **while streaming** (never more than the cap in memory);
* unless ``allow_private``: a host that resolves to a loopback, private, link-local, shared, reserved
  or multicast address (IPv4 or IPv6, every address DNS returns). The connection is then made to the
  very address that was checked (the URL's host goes in the ``Host`` header and TLS SNI), so a DNS
  answer that changes between the check and the connect cannot slip through; each redirect hop is
  resolved and checked again.

Turning the bytes into an article (HTML extraction, decoding) is ``readers.py``'s; whether private
addresses are allowed (the ``fetch_allow_private`` setting, and whether the app is served beyond
localhost) is decided by the caller with :func:`allow_private`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin

MAX_REDIRECTS = 5
_USER_AGENT = "newsdesk"


class FetchError(ValueError):
    """A URL that could not or must not be fetched; the message is one line a user can act on."""


@dataclass(frozen=True)
class Fetched:
    """A fetched response body: ``url`` is the final one after redirects."""

    url: str
    content_type: str
    charset: str | None
    data: bytes


def allow_private(setting: bool | str, *, served_beyond_localhost: bool) -> bool:
    """Whether private and loopback addresses may be fetched, from the ``fetch_allow_private`` setting.

    ``"auto"`` allows them for the CLI, the Python API and an app bound to localhost (a user's own
    local server is a legitimate source) and refuses them when the app is served beyond localhost,
    where "Add URL" would let any visitor probe the server's network; ``True``/``False`` force it.
    """
    if isinstance(setting, bool):
        return setting
    return not served_beyond_localhost


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (what a remote visitor may make us fetch)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def fetch(url: str, *, max_bytes: int, deadline_s: float, allow_private: bool) -> Fetched:
    """GET ``url`` under the rules in the module docstring; raises ``FetchError`` with the reason.

    The download runs in a ``rag.deadline`` worker thread so that the deadline holds even while a read,
    a connect or a DNS look-up (which has no timeout of its own) is blocked: at the deadline the caller
    gets its error, the worker's connection is closed and the worker ends on its own.
    """
    from rag.deadline import DeadlineExceeded, call_within

    clients: list = []
    try:
        return call_within(
            deadline_s,
            lambda worker: _fetch(url, max_bytes, worker.deadline, allow_private, worker.stopped, clients),
            name="newsdesk-fetch",
        )
    except DeadlineExceeded:
        for client in clients:
            try:
                client.close()  # unblocks a read in progress; the worker then exits
            except Exception:
                pass
        raise FetchError(f"no complete answer within {deadline_s:g} s (setting fetch_timeout_s)") from None


def _fetch(url: str, max_bytes: int, deadline: float, allow_private: bool, cancelled: threading.Event, clients: list) -> Fetched:
    import httpx

    # trust_env=False: an HTTP(S)_PROXY variable would make us connect to the proxy, not to the
    # address we checked. Redirects are followed by hand so every hop is checked.
    with httpx.Client(trust_env=False, follow_redirects=False, headers={"User-Agent": _USER_AGENT}) as client:
        clients.append(client)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            parsed = httpx.URL(current)
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise FetchError(f"not a web address: {current}")
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
            addresses = _resolve(parsed.host, port, deadline, allow_private)
            response = _open(client, parsed, addresses, deadline)
            try:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} from server")
                data = _read_capped(response, max_bytes, deadline, cancelled)
                return Fetched(current, response.headers.get("content-type", ""), response.charset_encoding, data)
            except httpx.HTTPError as error:
                raise FetchError(f"unreachable: {type(error).__name__}: {error}") from None
            finally:
                response.close()
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _resolve(host: str, port: int, deadline: float, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to; all of them must be public unless ``allow_private``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"unreachable: cannot resolve {host} ({error})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise FetchError(
                f"refused: {host} is a private, loopback or link-local address ({blocked[0]}); the app is served "
                "beyond localhost (set fetch_allow_private = true to allow it)"
            )
    if time.monotonic() > deadline:
        raise FetchError("no complete answer within the deadline (setting fetch_timeout_s)")
    return addresses


def _open(client, parsed, addresses: list[str], deadline: float):
    """Send the request to the first of ``addresses`` that accepts a connection; the open response."""
    import httpx

    host = parsed.host
    last: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        request = client.build_request(
            "GET",
            parsed.copy_with(host=address.split("%", 1)[0]),
            # "identity": a compressed body could expand a thousandfold inside one chunk, before the cap.
            headers={"Host": parsed.netloc.decode("ascii"), "Accept-Encoding": "identity"},
            # Certificate and SNI checks against the name, while the socket goes to the checked address.
            extensions={"sni_hostname": host},
            timeout=remaining,
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as error:
            last = error  # e.g. "localhost" resolved to ::1 first but the server listens on 127.0.0.1
        except httpx.HTTPError as error:
            raise FetchError(f"unreachable: {type(error).__name__}: {error}") from None
    if last is None:
        raise FetchError("no complete answer within the deadline (setting fetch_timeout_s)")
    raise FetchError(f"unreachable: {type(last).__name__}: {last}")


def _read_capped(response, max_bytes: int, deadline: float, cancelled: threading.Event) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"page larger than {max_bytes / 1e6:g} MB (setting max_file_mb)")
        if cancelled.is_set() or time.monotonic() > deadline:
            raise FetchError("no complete answer within the deadline (setting fetch_timeout_s)")
        chunks.append(chunk)
    return b"".join(chunks)

