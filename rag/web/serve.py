"""Serving the web app: ``demo.launch`` options from the settings, the start-up line, ``launch``.

A password is required whenever the app is reachable from other machines, and failed logins are
throttled per client: the rules and the guard are ``login.py``'s; this module passes them to Gradio
with the page's stylesheet (``static/newsdesk.css``). Building the page is ``app.py``'s.
"""

from __future__ import annotations

import os

from starlette.middleware import Middleware

from rag.settings import Settings
from rag.web.login import GuardMiddleware, LoginGuard, check_login_settings, is_local
from rag.web.templating import static


def launch_options(settings: Settings) -> dict:
    """``demo.launch`` arguments from the settings; ``LaunchError`` when they are unsafe.

    A password (``auth_user`` + ``auth_password``) is required whenever ``host`` is not a loopback
    address (at least ``min_password_length`` characters), and used whenever set; failed logins are
    throttled per client (``LoginGuard``)."""
    settings = settings.web
    auth = check_login_settings(settings)
    options = {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "auth_message": "newsdesk: sign in with the user and password from the server's settings." if auth else None,
        "max_file_size": int(settings.max_upload_mb * 1e6),
        "footer_links": ["api", "settings"],
        "run_history": False,
        "enable_monitoring": False,
        "show_error": False,
        "css": static("newsdesk.css"),
    }
    if auth:
        guard = LoginGuard(settings.login_attempts, settings.login_lockout_s)
        # Gradio's App is a FastAPI app built from these keyword arguments.
        options["app_kwargs"] = {"middleware": [Middleware(GuardMiddleware, guard=guard)]}
    return options


def startup_message(settings: Settings) -> str:
    """What the server prints at start: where it listens, and whether a password protects it."""
    settings = settings.web
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    where = f"http://{shown}:{settings.port}"
    if is_local(settings.host):
        access = "local only" + (f"; password required (user {settings.auth_user!r})" if settings.auth_password else "")
        return f"newsdesk: serving on {where} ({access})"
    return (
        f"newsdesk: serving on {where}, reachable from other machines; "
        f"password required (user {settings.auth_user!r}). Uploads limited to {settings.max_upload_mb:g} MB."
    )


def launch(demo, settings: Settings, **overrides):
    """Serve ``demo`` with ``launch_options(settings)``; ``overrides`` win (e.g. ``server_port``,
    ``prevent_thread_lock`` in tests). Returns what ``demo.launch`` returns.

    Only the ``trusted_proxies`` may name the client with X-Forwarded-For: uvicorn (which Gradio
    starts without a way to pass its ``forwarded_allow_ips``) reads them from ``FORWARDED_ALLOW_IPS``,
    and otherwise trusts 127.0.0.1, so behind a local proxy that passes the client's own header every
    guess would come from a "new" client and the login lockout would never apply."""
    options = launch_options(settings)
    options.update(overrides)
    os.environ["FORWARDED_ALLOW_IPS"] = settings.web.trusted_proxies.strip()
    return demo.launch(**options)
