"""Reliability under load: concurrent web chats against the real app, idle and while an ingest runs.

Starts the real web app (``webui.build_ui`` + ``webui.launch``, extractive answers) on 127.0.0.1 at a
free port over a temporary index of the bundled sample corpus, then runs ``--chats`` browser-like chat
sessions at once. Each speaks Gradio's own queue protocol over HTTP, as the page does (join the
chat event with its session id, read the event stream), sends back the history the server returned,
and asks the sample questions tagged with its own number. One generated file is uploaded before the
phases (so both answer over the same kind of index). Two phases: ``idle`` (no writes) and
``ingest`` (a background thread keeps uploading generated news files through ``Assistant.library``,
what the Articles tab runs). Checked for every answer:

* errors: a failed event, an HTTP error, or an error message in the chat;
* leaks: the history returned holds exactly this session's questions, in order, and the answer's
  source anchors carry this session's own turn number (state kept per session on the server);
* latency: from joining the queue to the completed answer, p50/p95 per phase.

    python benchmarks/reliability_load.py [--chats 20] [--seconds 300] [--idle-seconds 60]

Prints one table row per phase; the target is 0 errors, 0 leaks, and the ingest phase's p95 within
2x of the idle phase's. ``run(...)`` returns the same figures for the tests' short version.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "bridge", "satellite", "festival", "factory"]


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    ingested_files: int = 0

    def p(self, q: float) -> float:
        from rag.eval.run import percentile

        return percentile(self.latencies, q) or 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _chat_event(base: str, client) -> tuple[int, int]:
    """(fn_index, trigger id) of the chat's "question submitted" event, from the page's config."""
    config = client.get(f"{base}/config").json()
    question = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "nd-question")
    for dependency in config["dependencies"]:
        if [question, "submit"] in [list(t) for t in dependency.get("targets", [])]:
            return dependency["id"], question
    raise RuntimeError("the chat event was not found in the page config")


class ChatSession:
    """One browser tab: its own session id and the history the server last returned."""

    def __init__(self, base: str, number: int, fn_index: int, trigger: int) -> None:
        import httpx

        self.base, self.number, self.fn_index, self.trigger = base, number, fn_index, trigger
        self.session_hash = uuid.uuid4().hex[:11]
        self.history: list = []
        self.asked: list[str] = []
        self.client = httpx.Client(timeout=120)

    def ask(self, question: str) -> tuple[float, str, list]:
        """Send one question; (seconds, error or "", the history returned)."""
        body = {
            "data": [question, self.history, None, 5, None, None, []],
            "fn_index": self.fn_index,
            "trigger_id": self.trigger,
            "session_hash": self.session_hash,
            "event_data": None,
        }
        started = time.perf_counter()
        joined = self.client.post(f"{self.base}/gradio_api/queue/join", json=body)
        if joined.status_code != 200:
            return time.perf_counter() - started, f"join HTTP {joined.status_code}", self.history
        event_id = joined.json()["event_id"]
        with self.client.stream("GET", f"{self.base}/gradio_api/queue/data", params={"session_hash": self.session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id) or message.get("msg") != "process_completed":
                    continue
                seconds = time.perf_counter() - started
                if not message.get("success"):
                    return seconds, f"event failed: {str(message.get('output'))[:200]}", self.history
                return seconds, "", message["output"]["data"][1]
        return time.perf_counter() - started, "stream ended without an answer", self.history

    def check(self, history: list) -> str:
        """"" if ``history`` is this session's own; else what leaked."""
        questions = [m for m in history if m.get("role") == "user"]
        if len(questions) != len(self.asked) or any(tag not in json.dumps(q, ensure_ascii=False) for tag, q in zip(self.asked, questions)):
            return f"chat {self.number}: history holds other questions"
        last = json.dumps(history[-1], ensure_ascii=False)
        turn = len(self.asked)
        if "nd-source" in last and f'id=\\"nd-{turn}-' not in last and f'id="nd-{turn}-' not in last:
            return f"chat {self.number}: answer {turn} carries another session's turn number"
        return ""


def _news_file(path: Path, number: int, articles: int = 40) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(articles):
            topic = TOPICS[(number + i) % len(TOPICS)]
            text = " ".join(
                f"Upload {number} says the {topic} board of district {i} met on day {k} and approved line {number * 1000 + i * 31 + k}."
                for k in range(40)
            )
            out.write(json.dumps({"title": f"Upload {number} district {i} {topic}", "text": text, "date": "2025-10-02"}) + "\n")
    return path


def _chat_loop(session: ChatSession, questions: list[str], phase: Phase, stop_at: float, lock: threading.Lock) -> None:
    i = session.number
    while time.monotonic() < stop_at:
        tag = f"(chat {session.number} turn {len(session.asked) + 1})"
        question = f"{questions[i % len(questions)]} {tag}"
        i += 1
        session.asked.append(tag)
        seconds, error, history = session.ask(question)
        if not error and "nd-error" in json.dumps(history[-1:] if history else []):
            error = f"chat {session.number}: error message in the chat"
        leak = "" if error else session.check(history)
        with lock:
            if error:
                phase.errors.append(error)
                session.asked.pop()
            else:
                phase.latencies.append(seconds)
                session.history = history
            if leak:
                phase.leaks.append(leak)


def run(
    chats: int = 20, seconds: float = 300, idle_seconds: float = 60, *, upload_articles: int = 40, workdir: Path | None = None, embedding=None
) -> list[Phase]:
    """Serve the app, run ``chats`` sessions for ``idle_seconds`` idle then ``seconds`` with an ingest; the two ``Phase``s.

    The ingest uploads files of ``upload_articles`` generated articles (about 2.6 KB each), one after another."""
    from rag.web import app as webui
    from rag.assistant import Assistant
    from rag.settings import load_settings

    root = Path(workdir or tempfile.mkdtemp(prefix="nd-load-"))
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus)
    settings = load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive", port=_free_port())
    assistant = Assistant(settings, embedding=embedding)
    assistant.ingest()
    # One upload before the idle phase, so both phases answer over the same kind of index: on the
    # one-article sample corpus a question's top 5 holds only that article's 2 passages, and the first
    # upload would fill the other 3 with 40-sentence passages whose sentences the answerer embeds
    # (measured: 162 -> 463 ms per question with no write running), which is index size, not the write.
    assistant.library.add_file(_news_file(root / "upload0.jsonl", 0, upload_articles), "upload0.jsonl")
    questions = [json.loads(line)["question"] for line in (ROOT / "rag" / "eval" / "sample_eval.jsonl").read_text().splitlines() if line.strip()]
    assistant.query(questions[0])  # warm: models loaded, BM25 built
    demo = webui.build_ui(assistant)
    webui.launch(demo, settings, prevent_thread_lock=True, quiet=True)
    base = f"http://127.0.0.1:{settings.web.port}"
    phases = []
    try:
        import httpx

        with httpx.Client(timeout=30) as client:
            fn_index, trigger = _chat_event(base, client)
        sessions = [ChatSession(base, n, fn_index, trigger) for n in range(chats)]
        for name, duration in (("idle", idle_seconds), ("ingest", seconds)):
            phase, lock, stop = Phase(name), threading.Lock(), threading.Event()
            stop_at = time.monotonic() + duration

            def keep_ingesting(phase=phase, stop=stop) -> None:
                number = 0
                while not stop.is_set():
                    number += 1
                    outcomes = assistant.library.add_file(_news_file(root / f"upload{number}.jsonl", number, upload_articles), f"upload{number}.jsonl")
                    if any(o.kind == "failed" for o in outcomes):
                        phase.errors.append(f"ingest {number}: {outcomes}")
                    phase.ingested_files += 1

            writer = threading.Thread(target=keep_ingesting) if name == "ingest" else None
            if writer:
                writer.start()
                time.sleep(1.0)  # the ingest is under way before the questions start
            threads = [threading.Thread(target=_chat_loop, args=(s, questions, phase, stop_at, lock)) for s in sessions]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            stop.set()
            if writer:
                writer.join()
            phases.append(phase)
    finally:
        demo.close()
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300, help="duration of the phase with an ingest running")
    parser.add_argument("--idle-seconds", type=float, default=60, help="duration of the idle baseline phase")
    parser.add_argument("--upload-articles", type=int, default=40, help="generated articles per uploaded file")
    args = parser.parse_args(argv)
    phases = run(args.chats, args.seconds, args.idle_seconds, upload_articles=args.upload_articles)
    print(f"{args.chats} concurrent chats, extractive answers, {os.cpu_count()} cores\n")
    print("| phase | seconds | answers | errors | leaks | p50 s | p95 s | files ingested |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for phase, seconds in zip(phases, (args.idle_seconds, args.seconds)):
        print(
            f"| {phase.name} | {seconds:g} | {len(phase.latencies)} | {len(phase.errors)} | {len(phase.leaks)} | "
            f"{phase.p(50):.2f} | {phase.p(95):.2f} | {phase.ingested_files} |"
        )
    idle, busy = phases
    print(f"\np95 during the ingest / idle p95: {busy.p(95) / max(idle.p(95), 1e-9):.2f}x (target ≤ 2x)")
    for line in (idle.errors + busy.errors + idle.leaks + busy.leaks)[:10]:
        print(f"  {line}")
    return 0 if not (idle.errors or busy.errors or idle.leaks or busy.leaks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
