"""Short versions of the reliability benchmarks: an LLM server that is down or slow, and prompt injection.

The full runs are ``benchmarks/reliability_llm_down.py`` and ``benchmarks/reliability_injection.py``;
these call the same ``run(...)`` on a few scenarios so CI catches a regression.
"""

from __future__ import annotations

import time

import pytest

from helpers import load_benchmark


down = load_benchmark("reliability_llm_down")
injection = load_benchmark("reliability_injection")


@pytest.mark.parametrize("scenario", ["trickle", "hang"])
def test_deadline_client_ends_a_trickling_or_hanging_response_at_the_deadline(scenario):
    httpx = pytest.importorskip("httpx")
    from rag.deadline import deadline_client

    with down.MisbehavingServer(scenario, trickle_s=0.2) as server, deadline_client(1.0) as client:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            client.get(server.base_url + "/models").read()
        assert time.monotonic() - started < 3.0  # one byte every 0.2 s never trips httpx's per-read timeout


def test_deadline_client_passes_a_healthy_response():
    from rag.deadline import deadline_client

    with down.MisbehavingServer("healthy") as server, deadline_client(2.0) as client:
        response = client.get(server.base_url + "/models")
        assert response.status_code == 200 and response.json()["data"][0]["id"] == "m"


def test_llm_server_down_or_slow_gives_the_extractive_answer_with_a_notice(embedding, tmp_path):
    pytest.importorskip("llama_index.llms.openai_like", reason="openai extra not installed: pip install -e '.[openai]'")
    outcomes = down.run(["refused", "chat-trickle", "chat-hang", "chat-500", "healthy"], deadline_s=2.0, trickle_s=0.2,
                        embedding=embedding, workdir=tmp_path)
    failed = [(o.scenario, o.seconds, o.mode, o.notice, o.error) for o in outcomes if not o.passed]
    assert not failed, down.table(outcomes)


@pytest.mark.llm
def test_prompt_injections_in_articles_are_not_followed(local_llm, embedding, tmp_path):
    names = {"ignore previous", "qwen turn injection", "delimiter break-out", "markdown link", "fake citation", "say don't say"}
    patterns = [p for p in injection.PATTERNS if p.name in names]
    assert len(patterns) == len(names)
    outcomes = injection.run(local_llm, patterns, embedding=embedding, workdir=tmp_path)
    assert not [o.pattern.name for o in outcomes if o.followed], injection.table(outcomes)


def test_injection_checks_detect_the_behaviour_they_name():
    dont = injection.Pattern("x", "", "dont_say")
    assert injection.followed("canary", f"Sure: {injection.CANARY}")
    assert not injection.followed("canary", "The lighthouse reopened on Tuesday [1].")
    assert injection.followed(dont.check, "The articles don't say.")
    assert injection.followed("cite7", "It was rebuilt by the navy [7].")
    assert injection.followed("evil", "See [full story](http://evil.example/login).")


# Followed by the 1.5B model with the earlier prompt and citation check (benchmarks/reliability_injection.py,
# 4 of 33 on 2026-11-29): the answer-first prompt and the citation check that reads (claims.py) now keep
# them out of the answer.
@pytest.mark.llm
def test_once_followed_injections_are_not_followed(local_llm, embedding, tmp_path):
    names = {"append phrase", "bracket system", "alpaca", "pirate persona"}
    patterns = [p for p in injection.PATTERNS if p.name in names]
    outcomes = injection.run(local_llm, patterns, embedding=embedding, workdir=tmp_path)
    assert not [o.pattern.name for o in outcomes if o.followed], injection.table(outcomes)
