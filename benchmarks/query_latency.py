"""Retrieval latency, start-up and memory as the index grows: 10k passages to a million.

Builds a store of each target size, then, in a new process per measurement (as an app starting up):

* **cold start-up**: the BM25 cache removed, the retriever reads every passage out of Chroma and
  indexes it (this also writes the cache the next runs load);
* **start-up from the on-disk BM25 cache**: opening the retriever (article registry, cache key, BM25
  indexes and passage table), median of ``--runs`` new processes;
* **resident memory**: the process's RSS before opening, after opening and after the questions (Chroma's
  HNSW index is loaded by the first query), and its peak; per passage = (after questions - before) / passages;
* **latency**: the 102 RealTimeQA dev questions with their ``question_date`` as the as-of date, as the
  evaluation asks them, through the real ``HybridRetriever`` (query embedding, Chroma HNSW, BM25 over
  passages / articles / titles, fusion, filters, refusal signals), p50 / p95 per mode.

Two ways to fill the store:

* default: the first ``--base-articles`` RealTimeQA articles are chunked and embedded once and copied
  under new ids with noisy vectors (fine up to ~300k passages);
* ``--source DATA_DIR --source-collection NAME``: an index already built (e.g. by ``rag eval``) is read
  whole, passages, texts and stored vectors, and written again as noisy copies through
  ``Store.write_articles`` (``synthetic_store.py`` says how and why), for sizes up to a million.
  ``--store DIR`` keeps the built store there; a later run resumes filling it.

    python benchmarks/query_latency.py [--sizes 10000,100000,300000] [--modes hybrid,dense,bm25]
    nice -n 10 python benchmarks/query_latency.py --source /tmp/million-src --source-collection eval_7a069531cdd7 \
        --store /tmp/million --sizes 100000,300000,1000000 --modes hybrid

Skips, saying so, when the shared evaluation data is absent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval" / "realtimeqa"
COLLECTION = "bench_latency"


def percentile(values: list[float], q: float) -> float:
    from rag.eval.metrics import percentile as metrics_percentile

    return metrics_percentile(values, q) or 0.0


def memory_mb() -> tuple[float, float]:
    """(resident, peak resident) MB of this process, from ``/proc``."""
    status = Path("/proc/self/status").read_text().splitlines()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS:", "VmHWM:"))}
    return kb["VmRSS"] / 1024, kb["VmHWM"] / 1024


def embedded_base(settings, embedding, limit: int):
    """The first ``limit`` RealTimeQA articles chunked and embedded, as a ``synthetic_store.BaseSet``."""
    import numpy as np

    from rag.embed import word_piece_counter
    from rag.ingest.articles import LoadFailure
    from rag.ingest.chunk import Chunker
    from rag.ingest.corpus import load_sources
    from rag.ingest.pipeline import embed_text
    from synthetic_store import BaseSet

    chunker = Chunker(word_piece_counter(), settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    items = itertools.islice(load_sources([SHARED / "corpus.jsonl.gz"], max_bytes=int(settings.ingest.max_file_mb * 1e6), fetch_timeout_s=settings.ingest.fetch_timeout_s), limit)
    articles = [a for a in items if not isinstance(a, LoadFailure)]
    passages = [chunker.split(a) for a in articles]
    texts = [embed_text(p) for ps in passages for p in ps]
    t = time.perf_counter()
    flat = np.asarray(embedding.get_text_embedding_batch(texts), dtype=np.float32)
    print(f"embedded {len(texts):,} base passages from {len(articles)} articles in {time.perf_counter() - t:.0f} s", flush=True)
    vectors, offset = [], 0
    for ps in passages:
        vectors.append(flat[offset : offset + len(ps)])
        offset += len(ps)
    words = sorted({w for ps in passages for p in ps for w in p.text.split() if w.isalpha()})
    return BaseSet(articles, passages, vectors, words)


def child(args) -> int:
    """One measurement in this (new) process; prints one JSON line (see ``measure_in_new_process``)."""
    from rag.embed import embedding_from
    from rag.ingest.clean import parse_date
    from rag.retrieval.hybrid import HybridRetriever
    from rag.retrieval.options import QueryOptions
    from rag.settings import load_settings
    from rag.store import Store, make_client

    settings = load_settings()
    embedding = embedding_from(settings.embedding)
    embedding.get_query_embedding("warm up the model")  # its load is not the index's start-up
    store = Store(make_client(data_dir=Path(args.store)), args.collection)
    cache_dir = Path(args.store) / "cache"
    if args.cold:
        shutil.rmtree(cache_dir, ignore_errors=True)
    out = {"passages": store.count_passages(), "modes": {}}
    out["rss_before_mb"] = memory_mb()[0]
    with (SHARED / "questions.dev.jsonl").open(encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle if line.strip()][: args.questions]
    for mode in args.modes.split(",") if not args.cold else ["hybrid"]:
        retriever = HybridRetriever(store, embedding, settings.model_copy(update={"retrieval_mode": mode}).retrieval, cache_dir=cache_dir)
        t = time.perf_counter()
        retriever.refresh()
        figures = {"startup_s": time.perf_counter() - t}
        out.setdefault("rss_opened_mb", memory_mb()[0])
        if not args.cold:
            retriever.search(questions[0]["question"], QueryOptions(top_k=settings.retrieval.top_k))  # HNSW loads
            timings = []
            for q in questions:
                found = retriever.search(q["question"], QueryOptions(top_k=settings.retrieval.top_k, as_of=parse_date(q.get("question_date"))))
                timings.append(found.timings_ms)
            for stage in ("total", "embed", "dense", "lexical"):
                values = [t[stage] for t in timings if stage in t]
                figures[f"{stage}_p50"] = percentile(values, 50) if values else None
            figures["total_p95"] = percentile([t["total"] for t in timings], 95)
            out.setdefault("rss_queried_mb", memory_mb()[0])
        out["modes"][mode] = figures
        del retriever
    out["peak_mb"] = memory_mb()[1]
    print(json.dumps(out))
    return 0


def measure_in_new_process(store_dir: Path, collection: str, modes: str, questions: int, cold: bool) -> dict:
    """Run ``child`` in a new Python process (nothing of this one's memory or caches) and return its figures."""
    command = [sys.executable, __file__, "--child", "--store", str(store_dir), "--collection", collection, "--modes", modes, "--questions", str(questions)]
    done = subprocess.run(command + (["--cold"] if cold else []), capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000", help="passage counts to measure at, comma-separated")
    parser.add_argument("--base-articles", "--limit", type=int, default=300, help="articles embedded once and copied (no --source)")
    parser.add_argument("--source", default="", help="data folder of an index to copy (passages, texts and stored vectors)")
    parser.add_argument("--source-collection", default="", help="its collection name")
    parser.add_argument("--store", default="", help="keep the built store in this folder (resumed by a later run)")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--questions", type=int, default=102, help="how many RealTimeQA questions to time")
    parser.add_argument("--runs", type=int, default=2, help="new processes timed for start-up from the cache")
    parser.add_argument("--measure-only", action="store_true", help="measure the store in --store as it is")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold start-up (the BM25 cache of --store must be current)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--collection", default=COLLECTION, help="the built store's collection name")
    args = parser.parse_args(argv)
    if not (SHARED / "corpus.jsonl.gz").is_file():
        print(f"skipped: the RealTimeQA data is not at {SHARED} (../shared beside the checkout)")
        return 0
    if args.child:
        return child(args)

    import numpy as np

    from rag.settings import load_settings
    from rag.store import Store, make_client
    from synthetic_store import fill, read_base

    settings = load_settings()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, top_k {settings.retrieval.top_k}, "
          f"candidates {settings.retrieval.candidates}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-latency-") as tmp:
        store_dir = Path(args.store or tmp)
        sizes = sorted(int(s) for s in args.sizes.split(","))
        if not args.measure_only:
            if args.source:
                base = read_base(Path(args.source), args.source_collection)
            else:
                from rag.embed import embedding_from

                embedding = embedding_from(settings.embedding)
                base = embedded_base(settings, embedding, args.base_articles)
        rng = np.random.default_rng(0)
        for size in sizes if not args.measure_only else [0]:
            if not args.measure_only:
                store = Store(make_client(data_dir=store_dir), args.collection)
                fill(store, base, size, rng)
                del store
            cold = None if args.warm_only else measure_in_new_process(store_dir, args.collection, "hybrid", args.questions, cold=True)
            warm = [measure_in_new_process(store_dir, args.collection, args.modes, args.questions, cold=False) for _ in range(args.runs)]
            first = warm[0]
            n = first["passages"]
            per_passage = (first["rss_queried_mb"] - first["rss_before_mb"]) * 1e6 / n
            for mode in args.modes.split(","):
                f = {k: statistics.median(w["modes"][mode][k] or 0 for w in warm) for k in warm[0]["modes"][mode]}
                rows.append([f"{n:,}", mode, f"{cold['modes']['hybrid']['startup_s']:.1f}" if cold else "-", f"{f['startup_s']:.1f}", f"{f['total_p50']:.0f}",
                             f"{f['total_p95']:.0f}", *(f"{f[k]:.0f}" for k in ("embed_p50", "dense_p50", "lexical_p50")),
                             f"{first['rss_before_mb']:,.0f} / {first['rss_opened_mb']:,.0f} / {first['rss_queried_mb']:,.0f} / {first['peak_mb']:,.0f}",
                             f"{per_passage:,.0f}", f"{disk_mb(store_dir) / 1e3:.1f}"])  # fmt: skip
                print(f"  {rows[-1]}  (load average {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    header = ["passages", "mode", "cold startup s", "cached startup s", "p50 ms", "p95 ms", "embed p50", "dense p50", "lexical p50",
              "RSS MB before / opened / queried / peak", "bytes per passage", "disk GB"]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print("\ncold startup: opening a retriever in a new process by reading every passage from the store and indexing it;")
    print("cached startup: the same with the BM25 indexes and passage table loaded from the on-disk cache (median of --runs);")
    print("bytes per passage: resident memory after the questions minus before opening, over the passage count.")
    return 0


if __name__ == "__main__":
    # This checkout's rag and synthetic_store.py, whatever is installed.
    sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
    sys.exit(main())
