"""Retrieval latency as the index grows: p50/p95 per retrieval mode at 10k, 100k and 300k passages.

Builds a throwaway store in a temporary folder: the first ``--base-articles`` RealTimeQA articles are
chunked and embedded once, then written again and again under new article ids (``<id>~<copy>``) until
the store holds each target number of passages. Copies keep their text and dates; their vectors get a
little Gaussian noise (σ = 0.02, renormalised) so the HNSW graph does not hold exact duplicates, which
would make it unrealistically easy (or hard) to search. At each size a retriever is opened twice,
building BM25 from every passage in the store and loading it from the on-disk BM25 cache (both
start-up costs are printed), and the 102
RealTimeQA questions are asked with their ``question_date`` as the as-of date, as the evaluation does.

    python benchmarks/query_latency.py [--sizes 10000,100000,300000] [--base-articles 300] [--modes hybrid,dense,bm25]

Skips, saying so, when the shared evaluation data is absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "realtimeqa"


def percentile(values: list[float], q: float) -> float:
    from rag.eval.run import percentile as _percentile

    return _percentile(values, q) or 0.0


def base_set(settings, embedding, limit: int):
    """The first ``limit`` articles with their passages and passage vectors (a numpy array per article)."""
    import numpy as np

    from rag.ingest.chunk import Chunker
    from rag.ingest.articles import LoadFailure
    from rag.ingest.corpus import load_sources
    from rag.embed import word_piece_counter
    from rag.ingest.pipeline import embed_text

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
    return articles, passages, vectors


def copy_of(article, passages, vectors, copy: int, rng):
    """The article and its passages under new ids, with slightly perturbed vectors."""
    import numpy as np

    if copy == 0:
        return article, passages, vectors.tolist()
    new_id = f"{article.id}~{copy}"
    # A different content hash too, or the registry's duplicate detection would be the thing measured.
    clone = dataclasses.replace(article, id=new_id, content_hash=f"{article.content_hash}~{copy}")
    clones = [dataclasses.replace(p, id=f"{new_id}#{i}", article_id=new_id) for i, p in enumerate(passages)]
    noisy = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return clone, clones, noisy.tolist()


def fill(store, base, target: int, state: dict, rng) -> None:
    """Write copies of the base set until the store holds ``target`` passages."""
    articles, passages, vectors = base
    batch, size = [], 0
    t = time.perf_counter()
    while state["passages"] < target:
        index = state["next"] % len(articles)
        copy = state["next"] // len(articles)
        state["next"] += 1
        batch.append(copy_of(articles[index], passages[index], vectors[index], copy, rng))
        size += len(passages[index])
        state["passages"] += len(passages[index])
        if size >= 2000 or state["passages"] >= target:
            store.write_articles(batch)
            batch, size = [], 0
    print(f"store holds {store.count_passages():,} passages (writes took {time.perf_counter() - t:.0f} s)", flush=True)


def make_retriever(store, embedding, settings, mode: str, cache_dir: Path | None):
    from rag.retrieval.hybrid import HybridRetriever

    return HybridRetriever(store, embedding, settings.model_copy(update={"retrieval_mode": mode}).retrieval, cache_dir=cache_dir)


def cold_startup(store, embedding, settings, cache_dir: Path) -> float:
    """Seconds to open a retriever with no BM25 cache (every passage read from Chroma and indexed)."""
    import shutil

    shutil.rmtree(cache_dir, ignore_errors=True)
    retriever = make_retriever(store, embedding, settings, "hybrid", cache_dir)
    t = time.perf_counter()
    retriever.refresh()  # also writes the cache the next measurements load
    return time.perf_counter() - t


def measure(store, embedding, settings, mode: str, questions: list[dict], cache_dir: Path) -> dict:
    """Open a retriever in ``mode`` (BM25 from the cache) and time every question; one table row."""
    from rag.ingest.clean import parse_date
    from rag.retrieval.options import QueryOptions

    retriever = make_retriever(store, embedding, settings, mode, cache_dir)
    t = time.perf_counter()
    retriever.refresh()
    startup = time.perf_counter() - t
    retriever.search(questions[0]["question"], QueryOptions(top_k=settings.retrieval.top_k))  # warm-up
    timings = []
    for q in questions:
        result = retriever.search(q["question"], QueryOptions(top_k=settings.retrieval.top_k, as_of=parse_date(q.get("question_date"))))
        timings.append(result.timings_ms)

    def stage(name: str) -> list[float]:
        return [t[name] for t in timings if name in t]

    figures = {"startup_s": startup, "p50": percentile(stage("total"), 50), "p95": percentile(stage("total"), 95)}
    for name in ("embed", "dense", "lexical"):
        figures[f"{name}_p50"] = percentile(stage(name), 50) if stage(name) else None
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000", help="passage counts to measure at, comma-separated")
    parser.add_argument("--base-articles", "--limit", type=int, default=300, help="articles embedded once and copied")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--questions", type=int, default=102, help="how many RealTimeQA questions to time")
    args = parser.parse_args(argv)
    if not (SHARED / "corpus.jsonl.gz").is_file():
        print(f"skipped: the RealTimeQA data is not at {SHARED} (../shared beside the checkout)")
        return 0

    import numpy as np

    from rag.embed import make_embedding
    from rag.settings import load_settings
    from rag.store import Store, make_client

    sizes = sorted(int(s) for s in args.sizes.split(","))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    with (SHARED / "questions.dev.jsonl").open(encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle if line.strip()][: args.questions]
    settings = load_settings()
    embedding = make_embedding(settings.embedding.embed_backend, settings.embedding.embed_model_path, settings.embedding.embed_batch_size)
    print(f"{os.cpu_count()} CPUs, top_k {settings.retrieval.top_k}, candidates {settings.retrieval.candidates}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="newsdesk-latency-") as tmp:
        store = Store(make_client(data_dir=Path(tmp)), "bench_latency")
        base = base_set(settings, embedding, args.base_articles)
        state = {"next": 0, "passages": 0}
        cache_dir = Path(tmp) / "cache"
        for size in sizes:
            fill(store, base, size, state, rng)
            cold = cold_startup(store, embedding, settings, cache_dir)
            for mode in modes:
                f = measure(store, embedding, settings, mode, questions, cache_dir)
                rows.append([f"{store.count_passages():,}", mode, f"{cold:.1f}", f"{f['startup_s']:.1f}", f"{f['p50']:.0f}", f"{f['p95']:.0f}"]
                            + ["-" if f[k] is None else f"{f[k]:.0f}" for k in ("embed_p50", "dense_p50", "lexical_p50")])  # fmt: skip
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    header = ["passages", "mode", "startup s", "cached startup s", "p50 ms", "p95 ms", "embed p50", "dense p50", "lexical p50"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print("\nstartup: opening a retriever (article registry + BM25 index) by reading every passage from the store;")
    print("cached startup: the same with the BM25 index and passage table loaded from the on-disk cache.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
