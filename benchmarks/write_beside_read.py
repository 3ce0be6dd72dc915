"""Questions answered while a large file is ingesting: latency beside a write, against the idle index.

Indexes the bundled sample corpus (``corpus/``) into a temporary store with the extractive answerer,
asks the sample questions (``rag/eval/sample_eval.jsonl``) on the idle index (the baseline, same run), then
uploads a generated news-like file of ``--mb`` megabytes through ``Assistant.library.add_file`` (what
the web app's "Add files" runs) on a background thread, and asks the same questions in a loop until
the ingest commits. Prints per phase the number of questions, median, p95 and slowest answer time,
how many were answered while the ingest was still running, and the ingest's own time.

    python benchmarks/write_beside_read.py [--mb 1.0]

The issue's figure: before writes ran beside reads, a question waited for the whole ingest (73 s
behind a 1.16 MB upload that took 110 s); the target is under 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "bridge", "satellite", "festival", "factory"]


def percentile(values: list[float], q: float) -> float:
    from rag.eval.run import percentile as _percentile

    return _percentile(values, q) or 0.0


def news_file(path: Path, megabytes: float) -> Path:
    """A JSONL file of distinct short news articles adding up to about ``megabytes`` MB."""
    with path.open("w", encoding="utf-8") as out:
        i = 0
        while out.tell() < megabytes * 1e6:
            topic = TOPICS[i % len(TOPICS)]
            text = " ".join(
                f"The {topic} board of district {i} met on day {k} and approved budget line {i * 31 + k} after a long debate "
                f"about the {TOPICS[(i + k) % len(TOPICS)]} works, which officials said would employ {k + i % 50} people."
                for k in range(12)
            )
            record = {"title": f"District {i} {topic} report", "text": text, "date": f"2025-10-{i % 28 + 1:02d}", "url": f"https://example.org/{i}"}
            out.write(json.dumps(record) + "\n")
            i += 1
    return path


def run(megabytes: float = 1.0, idle_rounds: int = 2, workdir: Path | None = None) -> dict:
    """Measure; returns {"idle": [...s], "during": [...s], "answered_while_running": n, "ingest_s": s, "passages": n}."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    root = Path(workdir or tempfile.mkdtemp(prefix="nd-wbr-"))
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus)
    settings = load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive")
    assistant = Assistant(settings)
    assistant.ingest()
    questions = [json.loads(line)["question"] for line in (ROOT / "rag" / "eval" / "sample_eval.jsonl").read_text().splitlines() if line.strip()]
    assistant.query(questions[0])  # warm-up: models loaded, BM25 built

    def timed(question: str) -> float:
        started = time.perf_counter()
        assistant.query(question)
        return time.perf_counter() - started

    idle = [timed(q) for _ in range(idle_rounds) for q in questions]
    upload = news_file(root / "upload.jsonl", megabytes)
    result: dict = {}

    def ingest() -> None:
        started = time.perf_counter()
        outcomes = assistant.library.add_file(upload, upload.name)
        result["ingest_s"] = time.perf_counter() - started
        result["added"] = sum(o.kind == "added" for o in outcomes)

    writer = threading.Thread(target=ingest)
    writer.start()
    during, answered_while_running, i = [], 0, 0
    time.sleep(0.5)  # let it start reading and embedding
    while writer.is_alive():
        during.append(timed(questions[i % len(questions)]))
        answered_while_running += writer.is_alive()
        i += 1
    writer.join()
    result.update(idle=idle, during=during, answered_while_running=answered_while_running, mb=upload.stat().st_size / 1e6)
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=1.0, help="size of the uploaded file (MB)")
    parser.add_argument("--idle-rounds", type=int, default=2, help="times the sample questions are asked on the idle index")
    args = parser.parse_args(argv)
    r = run(args.mb, args.idle_rounds)
    print(f"upload: {r['mb']:.2f} MB, {r['added']} articles, ingested in {r['ingest_s']:.1f} s (extractive answers, {os.cpu_count()} cores)\n")
    print("| phase | questions | p50 s | p95 s | slowest s | answered while the ingest ran |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, values, running in (("idle index (baseline)", r["idle"], ""), ("during the ingest", r["during"], str(r["answered_while_running"]))):
        print(f"| {name} | {len(values)} | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} | {max(values):.2f} | {running} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
