"""Login safety: the password rule for an exposed host and throttled password guessing (finding 7).

The throttling is checked against the real app, served on 127.0.0.1 with a password, through
Gradio's own ``/login`` endpoint; the lockout arithmetic with an injected clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, launch_app

from rag.web.login import LaunchError, LoginGuard, check_login_settings

PASSWORD = "correct horse battery"


def settings_for(tmp_path: Path, **overrides):
    from rag.settings import load_settings

    return load_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", llm="extractive", **overrides)


@pytest.mark.parametrize("password", ["x", "short-pass1"])
def test_an_exposed_host_refuses_a_short_password(tmp_path: Path, password: str) -> None:
    with pytest.raises(LaunchError, match="at least 12") as caught:
        check_login_settings(settings_for(tmp_path, host="0.0.0.0", auth_user="editor", auth_password=password).web)
    assert "RAG_AUTH_PASSWORD" in str(caught.value)


def test_a_long_enough_password_or_a_local_host_is_accepted(tmp_path: Path) -> None:
    exposed = settings_for(tmp_path, host="0.0.0.0", auth_user="editor", auth_password=PASSWORD)
    assert check_login_settings(exposed.web) == ("editor", PASSWORD)
    local = settings_for(tmp_path, host="127.0.0.1", auth_user="editor", auth_password="x")
    assert check_login_settings(local.web) == ("editor", "x")  # only this machine can try it


def test_app_exits_with_one_clear_line_for_a_short_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(tmp_path / "data"), RAG_HOST="0.0.0.0", RAG_AUTH_USER="editor", RAG_AUTH_PASSWORD="abc")
    result = subprocess.run([sys.executable, str(REPO / "app.py")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "at least 12" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before loading anything


def test_guard_locks_a_client_out_after_repeated_failures_and_doubles_the_wait() -> None:
    now = [1000.0]
    guard = LoginGuard(attempts=5, lockout_s=30, clock=lambda: now[0])
    for _ in range(4):
        guard.failed("10.0.0.1")
    assert guard.wait_s("10.0.0.1") == 0  # four mistakes are forgiven
    guard.failed("10.0.0.1")
    assert guard.wait_s("10.0.0.1") == 30
    assert guard.wait_s("10.0.0.2") == 0  # other clients are not affected
    now[0] += 31
    guard.failed("10.0.0.1")
    assert guard.wait_s("10.0.0.1") == 60
    guard.succeeded("10.0.0.1")
    assert guard.wait_s("10.0.0.1") == 0


def test_the_served_app_throttles_wrong_passwords(tmp_path: Path, embedding) -> None:
    # Finding 7: 200 wrong passwords in 0.2 s were all checked.
    import httpx

    from rag.assistant import Assistant

    settings = settings_for(tmp_path, auth_user="editor", auth_password=PASSWORD, login_attempts=3, login_lockout_s=60)
    demo, url = launch_app(Assistant(settings, embedding=embedding))
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            codes = [client.post("/login", data={"username": "editor", "password": f"guess{i}"}).status_code for i in range(3)]
            assert codes == [400, 400, 400]
            locked = client.post("/login", data={"username": "editor", "password": PASSWORD})
            assert locked.status_code == 429 and "try again in" in locked.json()["detail"]
            assert int(locked.headers["retry-after"]) > 0
    finally:
        demo.close()


def test_a_correct_password_logs_in_and_clears_earlier_mistakes(tmp_path: Path, embedding) -> None:
    import httpx

    from rag.assistant import Assistant

    settings = settings_for(tmp_path, auth_user="editor", auth_password=PASSWORD, login_attempts=3)
    demo, url = launch_app(Assistant(settings, embedding=embedding))
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for i in range(2):
                assert client.post("/login", data={"username": "editor", "password": f"guess{i}"}).status_code == 400
            assert client.post("/login", data={"username": "editor", "password": PASSWORD}).status_code == 200
            for i in range(2):  # the count started again
                assert client.post("/login", data={"username": "editor", "password": f"again{i}"}).status_code == 400
    finally:
        demo.close()


def _serve_and_guess(tmp_path: Path, embedding, forwarded: bool, **overrides) -> list[int]:
    """Status codes of 4 wrong logins to a served app, each with a new X-Forwarded-For when ``forwarded``."""
    import httpx

    from rag.assistant import Assistant

    settings = settings_for(tmp_path, auth_user="editor", auth_password=PASSWORD, login_attempts=2, login_lockout_s=60, **overrides)
    demo, url = launch_app(Assistant(settings, embedding=embedding))
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            return [
                client.post(
                    "/login", data={"username": "editor", "password": f"guess{i}"},
                    headers={"X-Forwarded-For": f"203.0.113.{i + 1}"} if forwarded else {},
                ).status_code
                for i in range(4)
            ]  # fmt: skip
    finally:
        demo.close()


def test_a_new_x_forwarded_for_per_guess_does_not_dodge_the_lockout(tmp_path: Path, embedding) -> None:
    # Issue 25, finding 7: uvicorn believed X-Forwarded-For from 127.0.0.1, so each guess was a "new client".
    assert _serve_and_guess(tmp_path, embedding, forwarded=True) == [400, 400, 429, 429]


def test_a_configured_trusted_proxy_names_the_client(tmp_path: Path, embedding) -> None:
    # Behind a proxy the operator names, each forwarded client is counted on its own (4 clients, 1 guess each).
    assert _serve_and_guess(tmp_path, embedding, forwarded=True, trusted_proxies="127.0.0.1") == [400, 400, 400, 400]
