"""Web app login safety: who counts as local, the password rule for an exposed host, and throttling.

``check_login_settings`` refuses to serve on a non-loopback address without a password, or with one
shorter than ``min_password_length``. ``LoginGuard`` throttles password guessing per client: after
``login_attempts`` failed logins from one address, that address is locked out for ``login_lockout_s``
seconds, doubling with each further failure (capped at a day); a success clears it. It is an ASGI
middleware around Gradio's own app, because Gradio calls an ``auth=`` function with only the user
name and password (``routes.py``, ``login``), never the client, so a callable cannot tell clients
apart. Checking the password itself stays Gradio's. No Gradio import here: the settings checks run
before anything heavy loads.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from dataclasses import dataclass

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
MAX_LOCKOUT_S = 86_400.0


class LaunchError(RuntimeError):
    """The settings do not allow starting the server (e.g. exposed without a password)."""


def is_local(host: str) -> bool:
    """True when ``host`` is reachable only from this machine (loopback)."""
    host = (host or "").strip().strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_login_settings(settings) -> tuple[str, str] | None:
    """The (user, password) the app must ask for, or None; ``LaunchError`` naming the fix when unsafe.

    ``settings``: the ``WebSettings`` group. A password is required whenever ``host`` is not a loopback
    address, and then must be at least ``min_password_length`` characters; a password set for a local
    host is used as given."""
    auth = None
    if settings.auth_password or settings.auth_user:
        if not (settings.auth_user and settings.auth_password):
            missing = "RAG_AUTH_PASSWORD (auth_password)" if settings.auth_user else "RAG_AUTH_USER (auth_user)"
            raise LaunchError(f"Web app login is half configured: set {missing} too, or neither.")
        auth = (settings.auth_user, settings.auth_password)
    if is_local(settings.host):
        return auth
    if auth is None:
        raise LaunchError(
            f"Refusing to serve on {settings.host}: that address is reachable from other machines, and no password "
            "is set. Set RAG_AUTH_USER and RAG_AUTH_PASSWORD (auth_user/auth_password in rag.toml), "
            "or bind to 127.0.0.1 (RAG_HOST)."
        )
    if len(settings.auth_password) < settings.min_password_length:
        raise LaunchError(
            f"Refusing to serve on {settings.host}: the password is {len(settings.auth_password)} characters long, and a "
            f"server reachable from other machines needs at least {settings.min_password_length}. Set a longer "
            "RAG_AUTH_PASSWORD (auth_password in rag.toml), or bind to 127.0.0.1 (RAG_HOST)."
        )
    return auth


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0


class LoginGuard:
    """Failed-login bookkeeping per client address (thread-safe; ``clock`` is injectable for tests)."""

    def __init__(self, attempts: int, lockout_s: float, clock=time.monotonic) -> None:
        self.attempts = attempts
        self.lockout_s = lockout_s
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds ``client`` must wait before trying again (0: it may try now)."""
        with self._lock:
            record = self._records.get(client)
            return max(0.0, record.locked_until - self._clock()) if record else 0.0

    def failed(self, client: str) -> None:
        """Count a failed login; from the ``attempts``-th on, lock the client out, twice as long each time."""
        with self._lock:
            record = self._records.setdefault(client, _Record())
            record.failures += 1
            over = record.failures - self.attempts
            if over >= 0:
                record.locked_until = self._clock() + min(MAX_LOCKOUT_S, self.lockout_s * 2**over)
            if len(self._records) > 100_000:  # a flood of addresses must not grow memory without bound
                now = self._clock()
                self._records = {k: r for k, r in self._records.items() if r.locked_until > now}

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._records.pop(client, None)

    def middleware(self, app):
        """An ASGI app wrapping ``app``: a locked-out client's login gets 429 at once, without a password check."""
        guard = self

        async def guarded(scope, receive, send):
            path = scope.get("path", "") if scope.get("type") == "http" else ""
            if scope.get("method") != "POST" or not path.rstrip("/").endswith("/login"):
                return await app(scope, receive, send)
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = guard.wait_s(client)
            if wait > 0:
                body = json.dumps({"detail": f"Too many failed logins: try again in {int(wait) + 1} s."}).encode()
                headers = [(b"content-type", b"application/json"), (b"retry-after", str(int(wait) + 1).encode())]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            status = {}

            async def watch(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            await app(scope, receive, watch)
            if status.get("code") == 200:
                guard.succeeded(client)
            elif status.get("code") in (400, 401, 403):
                guard.failed(client)

        return guarded


class GuardMiddleware:
    """``LoginGuard.middleware`` in the shape Starlette's ``Middleware(cls, **options)`` builds."""

    def __init__(self, app, guard: LoginGuard) -> None:
        self._app = guard.middleware(app)

    async def __call__(self, scope, receive, send):
        await self._app(scope, receive, send)


__all__ = ["GuardMiddleware", "LaunchError", "LoginGuard", "check_login_settings", "is_local"]
