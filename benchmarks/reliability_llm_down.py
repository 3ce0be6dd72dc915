"""Reliability: the OpenAI-compatible LLM server is down, hangs, trickles or fails. Does the answer come?

Starts a real HTTP server on 127.0.0.1 (a free port) that misbehaves in one way per scenario, points
an ``Assistant`` (``llm = "openai"``, ``request_timeout_s`` = ``--deadline``) at it, indexes the
bundled sample article into a temporary store and asks a question the article answers. For each
scenario it records how long the answer took, whether it is the extractive answer with citations
(not a refusal, not an error) and whether ``Answer.notice`` says why the LLM was not used.

Scenarios (``/v1/models`` is what the assistant's probe asks; ``/v1/chat/completions`` the answer):

* ``refused``: nothing listens on the port (connection refused).
* ``hang``: every request is accepted and never answered.
* ``trickle``: every response sends its headers, then one byte every ``--trickle-s`` seconds forever.
* ``chat-hang`` / ``chat-trickle`` / ``chat-500``: the probe succeeds, then the answer request hangs,
  trickles an endless SSE stream (a token every ``--trickle-s``) or answers HTTP 500.
* ``healthy``: a correct, fast server (the baseline: the LLM answers, no notice).

A scenario passes when the answer is extractive with citations (``llm`` for ``healthy``), carries a
notice (none for ``healthy``), and the LLM attempt cost at most ``deadline + 3 s + 2 s``: the time
over the same question answered extractively by the same assistant just before (the baseline,
measured in the same run, so a loaded machine does not fail the check), where 3 s is the probe's own
bound and 2 s slack. The first scenario is preceded by an uncounted warm-up (imports, model sessions).

    python benchmarks/reliability_llm_down.py [--deadline 3] [--trickle-s 0.5] [--scenarios hang,trickle]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "000_acb8fec70e58ae20.txt"
QUESTION = "Why did Peru declare a state of emergency?"
SCENARIOS = ("refused", "hang", "trickle", "chat-hang", "chat-trickle", "chat-500", "healthy")
SLACK_S = 2.0
PROBE_S = 3.0  # rag.llm.factory.PROBE_TIMEOUT_S: the probe's own bound, paid before the answer when the server is down


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MisbehavingServer:
    """A local OpenAI-compatible server that misbehaves as ``scenario`` says; a context manager."""

    def __init__(self, scenario: str, trickle_s: float = 0.5) -> None:
        self.scenario, self.trickle_s = scenario, trickle_s
        self.port = free_port()
        self.stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "MisbehavingServer":
        if self.scenario == "refused":
            return self  # nothing listens on the port
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer.respond(self, probe=True)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    streamed = bool(json.loads(self.rfile.read(length) or b"{}").get("stream"))
                except ValueError:
                    streamed = True
                outer.respond(self, probe=False, streamed=streamed)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def respond(self, handler: BaseHTTPRequestHandler, probe: bool, streamed: bool = True) -> None:
        mode = self.scenario
        if mode.startswith("chat-") and probe:
            mode = "healthy"
        mode = mode.removeprefix("chat-")
        if mode == "hang":
            self.stopping.wait()
            return
        if mode == "500":
            self._send(handler, 500, b'{"error": {"message": "internal error"}}')
            return
        if mode == "trickle":
            handler.send_response(200)
            handler.send_header("content-type", "text/event-stream" if not probe else "application/json")
            handler.end_headers()
            chunk = b'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"Peru "},"finish_reason":null}]}\n\n'
            try:
                while not self.stopping.wait(self.trickle_s):
                    handler.wfile.write(chunk[:1] if probe else chunk)  # probe: one byte at a time, never a whole body
                    handler.wfile.flush()
            except OSError:  # the client gave up
                pass
            return
        # healthy
        if probe:
            self._send(handler, 200, b'{"object": "list", "data": [{"id": "m", "object": "model"}]}')
            return
        if not streamed:  # the citation check's yes/no question (rag/answer/entail.py) is not streamed
            reply = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "yes"}, "finish_reason": "stop"}]}  # fmt: skip
            self._send(handler, 200, json.dumps(reply).encode())
            return
        text = "Peru declared a state of emergency because many Venezuelan migrants were heading north from Chile [1]."
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        for word in text.split(" "):
            delta = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
            handler.wfile.write(b"data: " + json.dumps(delta).encode() + b"\n\n")
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@dataclass
class Outcome:
    scenario: str
    seconds: float
    mode: str
    citations: int
    notice: str
    error: str = ""
    deadline_s: float = 0.0
    baseline_s: float = 0.0  # the same question answered extractively (llm=False) by the same assistant, just before

    @property
    def overhead_s(self) -> float:
        return self.seconds - self.baseline_s

    @property
    def passed(self) -> bool:
        if self.error:
            return False
        fast = self.overhead_s <= self.deadline_s + PROBE_S + SLACK_S
        if self.scenario == "healthy":
            return fast and self.mode == "llm" and self.citations > 0 and not self.notice
        return fast and self.mode == "extractive" and self.citations > 0 and bool(self.notice)


def run(
    scenarios=SCENARIOS, *, deadline_s: float = 3.0, trickle_s: float = 0.5, embedding=None, workdir: Path | None = None, progress=None
) -> list[Outcome]:
    """Ask one question per scenario through a fresh ``Assistant``; ``embedding`` may be shared (tests)."""
    from rag.assistant import Assistant
    from rag.embed import make_embedding
    from rag.settings import load_settings

    embedding = embedding or make_embedding("onnx")
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="llm-down-")) if own else Path(workdir)
    try:
        corpus = workdir / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE, corpus / SAMPLE.name)
        data = workdir / "data"
        Assistant(load_settings(data_dir=data, corpus_dir=corpus, llm="extractive"), embedding=embedding).ingest()
        outcomes = []
        warm = True
        for scenario in ["healthy", *scenarios]:
            with MisbehavingServer(scenario, trickle_s) as server:
                settings = load_settings(
                    data_dir=data, corpus_dir=corpus, llm="openai", openai_base_url=server.base_url,
                    openai_model="m", request_timeout_s=deadline_s, rewrite_followups=False,
                )
                assistant = Assistant(settings, embedding=embedding)
                # Index, embedding model and the openai client's imports are warmed before the clock
                # starts: we time how the LLM fails, not a cold start.
                assistant.retrieve(QUESTION)
                import llama_index.llms.openai_like  # noqa: F401
                from rag.llm.factory import make_llm  # noqa: F401

                started = time.perf_counter()
                assistant.query(QUESTION, llm=False)
                baseline = time.perf_counter() - started
                started = time.perf_counter()
                try:
                    answer = assistant.query(QUESTION)
                    outcomes.append(Outcome(scenario, time.perf_counter() - started, answer.mode, len(answer.citations), answer.notice,
                                            deadline_s=deadline_s, baseline_s=baseline))
                except Exception as error:  # a failure to report, not to crash the table
                    outcomes.append(Outcome(scenario, time.perf_counter() - started, "", 0, "", f"{type(error).__name__}: {error}", deadline_s, baseline))
                if len(outcomes) == 1 and warm:  # the warm-up is not counted
                    warm = False
                    outcomes.clear()
                    continue
                if progress:
                    progress(outcomes[-1])
        return outcomes
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| scenario | answered in s | extractive baseline s | LLM attempt cost s | mode | citations | notice | pass |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        notice = (o.error or o.notice or "").replace("|", "/")
        notice = notice if len(notice) <= 90 else notice[:87] + "..."
        lines.append(f"| {o.scenario} | {o.seconds:.1f} | {o.baseline_s:.1f} | {o.overhead_s:.1f} | {o.mode or '-'} | {o.citations} | {notice or '-'} | {'yes' if o.passed else 'NO'} |")
    passed = sum(o.passed for o in outcomes)
    if outcomes:
        lines.append(f"\n{passed} of {len(outcomes)} scenarios passed (LLM attempt cost within deadline {outcomes[0].deadline_s:g} s"
                     f" + probe {PROBE_S:g} s + {SLACK_S:g} s slack)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=3.0, help="request_timeout_s for the run (s)")
    parser.add_argument("--trickle-s", type=float, default=0.5, help="seconds between trickled bytes/tokens")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    outcomes = run(
        scenarios, deadline_s=args.deadline, trickle_s=args.trickle_s,
        progress=lambda o: print(f"{o.scenario}: {o.seconds:.1f} s, {o.mode or o.error}", file=sys.stderr, flush=True),
    )
    print(table(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
