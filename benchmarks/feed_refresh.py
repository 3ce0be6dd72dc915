"""Questions answered while a feed refresh runs: latency beside the refresh, against the idle index.

Indexes the bundled sample corpus (``corpus/``) into a temporary store with the extractive answerer,
serves a generated RSS 2.0 feed of ``--items`` news-like articles (each item linking to its own HTML
page) from 127.0.0.1, subscribes to it without indexing, asks the sample questions
(``rag/eval/sample_eval.jsonl``) on the idle index (the baseline, same run), then refreshes the feed on a
background thread (``FeedService.refresh``: what the app's background refresh and "Refresh now" run:
pages fetched and cleaned, then indexed through the writer queue) and asks the same questions in a
loop until the refresh is done. Prints per phase the number of questions, median, p95 and slowest
answer time, the ratios during/idle, and the refresh's own time.

    python benchmarks/feed_refresh.py [--items 50]

The issue's target: questions during a refresh no slower than 2x the idle ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "bridge", "satellite", "festival", "factory"]


def percentile(values: list[float], q: float) -> float:
    from rag.eval.run import percentile as _percentile

    return _percentile(values, q) or 0.0


def site(items: int) -> tuple[ThreadingHTTPServer, str]:
    """A local server with ``/feed.xml`` (RSS 2.0) and one HTML page per item; (server, feed URL)."""
    pages: dict[str, bytes] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    entries = []
    for i in range(items):
        topic = TOPICS[i % len(TOPICS)]
        title = f"District {i} {topic} report"
        body = "".join(
            f"<p>The {topic} board of district {i} met on day {k} and approved budget line {i * 31 + k} after a long debate "
            f"about the {TOPICS[(i + k) % len(TOPICS)]} works, which officials said would employ {k + i % 50} people.</p>"
            for k in range(12)
        )
        pages[f"/news/{i}.html"] = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>".encode()
        entries.append(
            f"<item><title>{title}</title><link>{base}/news/{i}.html</link><guid>{base}/news/{i}.html</guid>"
            f"<pubDate>Mon, {i % 28 + 1:02d} Sep 2025 09:00:00 GMT</pubDate></item>"
        )
    pages["/feed.xml"] = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Benchmark wire</title><link>http://example.invalid/</link>'
        f"<description>generated</description>{''.join(entries)}</channel></rss>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{base}/feed.xml"


def run(items: int = 50, idle_rounds: int = 3, workdir: Path | None = None) -> dict:
    """Measure; returns {"idle": [...s], "during": [...s], "answered_while_running": n, "refresh_s": s, "added": n}."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    root = Path(workdir or tempfile.mkdtemp(prefix="nd-feed-"))
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus)
    assistant = Assistant(load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive"))
    assistant.ingest()
    questions = [json.loads(line)["question"] for line in (ROOT / "rag" / "eval" / "sample_eval.jsonl").read_text().splitlines() if line.strip()]
    assistant.query(questions[0])  # warm-up: models loaded, BM25 built
    server, feed_url = site(items)
    assistant.feeds.add(feed_url, refresh=False)

    def timed(question: str) -> float:
        started = time.perf_counter()
        assistant.query(question)
        return time.perf_counter() - started

    idle = [timed(q) for _ in range(idle_rounds) for q in questions]
    result: dict = {}

    def refresh() -> None:
        started = time.perf_counter()
        (feed,) = assistant.feeds.refresh()
        result["refresh_s"] = time.perf_counter() - started
        result["added"], result["failed"] = feed.added, feed.failed

    writer = threading.Thread(target=refresh)
    writer.start()
    during, answered_while_running, i = [], 0, 0
    while writer.is_alive():
        during.append(timed(questions[i % len(questions)]))
        answered_while_running += writer.is_alive()
        i += 1
    writer.join()
    server.shutdown()
    server.server_close()
    result.update(idle=idle, during=during, answered_while_running=answered_while_running, items=items)
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50, help="items in the generated feed")
    parser.add_argument("--idle-rounds", type=int, default=3, help="times the sample questions are asked on the idle index")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    r = run(args.items, args.idle_rounds)
    print(
        f"feed: {r['items']} items, {r['added']} added, {r['failed']} failed, refreshed in {r['refresh_s']:.1f} s "
        f"(extractive answers, {os.cpu_count()} cores, load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after)\n"
    )
    print("| phase | questions | p50 s | p95 s | slowest s | answered while the refresh ran |")
    print("| --- | --- | --- | --- | --- | --- |")
    idle, during = r["idle"], r["during"]
    for name, values, running in (("idle index (baseline)", idle, ""), ("during the feed refresh", during, str(r["answered_while_running"]))):
        print(f"| {name} | {len(values)} | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} | {max(values):.2f} | {running} |")
    p50 = percentile(during, 50) / max(percentile(idle, 50), 1e-9)
    p95 = percentile(during, 95) / max(percentile(idle, 95), 1e-9)
    print(f"| ratio during / idle | | {p50:.2f}x | {p95:.2f}x | | target ≤ 2x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
