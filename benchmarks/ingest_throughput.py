"""Ingest throughput on the RealTimeQA corpus: newsdesk's stages vs stock LlamaIndex, and the model ceiling.

Three measurements on the same articles (``../shared/eval/realtimeqa/corpus.jsonl.gz``, 3,773 news
articles; ``--limit`` for a subset), each into a throwaway Chroma store in a temporary folder:

1. newsdesk, stage by stage: parsing + cleaning (``corpus.load_sources``), chunking (``Chunker``, 200
   word pieces), embedding (the configured model, batches as ``Ingestor`` sends them) and store writes
   (``Store.write_articles``). Articles/s, chunks/s and embedded word pieces/s per stage and overall.
2. stock LlamaIndex: ``VectorStoreIndex.from_documents`` with the same embedding model and a
   ``ChromaVectorStore`` at default settings (``SentenceSplitter`` 1,024 tiktoken tokens, overlap 200,
   metadata embedded with the text).
3. the model alone: ONNX Runtime on pre-tokenised, pre-padded batches of 256 word pieces, with no
   Python around it: the ceiling any pipeline on this machine can reach.

all-MiniLM-L6-v2 reads at most 256 word pieces (254 plus two special tokens), so the table also gives
the share of each pipeline's chunk text the model actually reads: stock 1,024-token chunks are cut.

    python benchmarks/ingest_throughput.py [--limit 300] [--skip-stock] [--ceiling-batches 20]

Skips, saying so, when the shared evaluation data is absent.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "realtimeqa" / "corpus.jsonl.gz"
MODEL_READS = 254  # word pieces read per input besides [CLS] and [SEP]


def word_pieces(counter, texts) -> list[int]:
    """Word pieces per text (no special tokens, no truncation)."""
    return [len(counter(t)) for t in texts]


def read_share(lengths: list[int]) -> float:
    """Share of the word pieces in ``lengths`` that fall within what the model reads."""
    total = sum(lengths)
    return sum(min(n, MODEL_READS) for n in lengths) / total if total else 1.0


def row(name: str, seconds: float, articles: int, chunks: int, pieces: int) -> list[str]:
    """A table row: the stage, its seconds, and its rates ("-" for what the stage does not handle)."""
    rates = [f"{n / seconds:,.1f}" if seconds > 0 and n else "-" for n in (articles, chunks, pieces)]
    return [name, f"{seconds:,.1f}", *rates]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def bench_newsdesk(settings, embedding, counter, limit: int | None, data_dir: Path) -> tuple[list, dict]:
    """Each newsdesk ingest stage timed on its own; returns the articles and the figures."""
    from rag.chunk import Chunker
    from rag.corpus import LoadFailure, load_sources
    from rag.ingest import embed_by_length, embed_text
    from rag.store import Store, make_client

    t = time.perf_counter()
    items = itertools.islice(load_sources([CORPUS], max_bytes=int(settings.max_file_mb * 1e6)), limit)
    articles = [a for a in items if not isinstance(a, LoadFailure)]
    parse_s = time.perf_counter() - t

    chunker = Chunker(counter, settings.chunk_size, settings.chunk_overlap)
    t = time.perf_counter()
    passages = [chunker.split(a) for a in articles]
    chunk_s = time.perf_counter() - t
    texts = [embed_text(p) for ps in passages for p in ps]
    lengths = word_pieces(counter, texts)

    # Batches as Ingestor sends them: whole articles until >= 256 passages.
    batches, batch = [], []
    for article, ps in zip(articles, passages):
        batch.append((article, ps))
        if sum(len(x) for _, x in batch) >= 256:
            batches.append(batch)
            batch = []
    batches += [batch] if batch else []
    t = time.perf_counter()
    vectors = [embed_by_length(embedding, [embed_text(p) for _, ps in b for p in ps]) for b in batches]
    embed_s = time.perf_counter() - t

    store = Store(make_client(data_dir=data_dir), "bench_newsdesk")
    t = time.perf_counter()
    for b, vs in zip(batches, vectors):
        rows, offset = [], 0
        for article, ps in b:
            rows.append((article, ps, vs[offset : offset + len(ps)]))
            offset += len(ps)
        store.write_articles(rows)
    store_s = time.perf_counter() - t

    n_chunks, read = len(texts), sum(min(n, MODEL_READS) for n in lengths)
    figures = {
        "rows": [
            row("parse + clean", parse_s, len(articles), 0, 0),
            row("chunk", chunk_s, len(articles), n_chunks, 0),
            row("embed", embed_s, len(articles), n_chunks, read),
            row("store writes", store_s, len(articles), n_chunks, 0),
            row("newsdesk total", parse_s + chunk_s + embed_s + store_s, len(articles), n_chunks, read),
        ],
        "chunks": n_chunks,
        "mean_pieces": sum(lengths) / max(1, n_chunks),
        "share": read_share(lengths),
        "read": read,
    }
    return articles, figures


def bench_end_to_end(settings, embedding, counter, limit: int | None, data_dir: Path) -> list[list[str]]:
    """The real ``Ingestor`` (what ``python -m rag ingest`` runs), then again over the unchanged corpus."""
    import gzip

    from rag.chunk import Chunker
    from rag.ingest import Ingestor
    from rag.store import Store, make_client

    source = CORPUS
    if limit:
        source = data_dir / "subset.jsonl.gz"
        with gzip.open(CORPUS, "rt", encoding="utf-8") as full, gzip.open(source, "wt", encoding="utf-8") as part:
            part.writelines(itertools.islice(full, limit))
    store = Store(make_client(data_dir=data_dir), "bench_end_to_end")
    ingestor = Ingestor(store, embedding, Chunker(counter, settings.chunk_size, settings.chunk_overlap), max_bytes=int(settings.max_file_mb * 1e6))
    first = ingestor.ingest([source])
    again = ingestor.ingest([source])
    articles = len(first.added) + len(first.duplicates)
    return [
        row("newsdesk Ingestor end to end", first.seconds, articles, first.passages, 0),
        row(f"re-ingest unchanged ({len(again.unchanged)} unchanged)", again.seconds, articles, 0, 0),
    ]


def bench_stock(articles, embedding, counter, data_dir: Path) -> dict:
    """Stock LlamaIndex ``VectorStoreIndex.from_documents`` into Chroma, same embedding model."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    documents = [
        Document(text=a.text, metadata={"title": a.title, "date": a.date.isoformat() if a.date else "", "source": a.source})
        for a in articles
    ]
    client = chromadb.PersistentClient(path=str(data_dir / "stock"), settings=ChromaSettings(anonymized_telemetry=False))
    vector_store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("stock"))
    storage = StorageContext.from_defaults(vector_store=vector_store)
    t = time.perf_counter()
    VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embedding)
    seconds = time.perf_counter() - t
    # What the model was given: each default chunk with its metadata, as LlamaIndex embeds it.
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    lengths = word_pieces(counter, [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
    read = sum(min(n, MODEL_READS) for n in lengths)
    return {
        "rows": [row("stock VectorStoreIndex", seconds, len(articles), len(nodes), read)],
        "chunks": len(nodes),
        "mean_pieces": sum(lengths) / max(1, len(nodes)),
        "share": read_share(lengths),
        "read": read,
    }


def bench_ceiling(embedding, batches: int, batch_size: int = 32, pieces: int = MODEL_READS) -> list[str]:
    """ONNX Runtime alone on batches of ``pieces``-long inputs (no tokenising, pooling or Python per text)."""
    import numpy as np

    session = getattr(embedding, "_session", None)
    if session is None:
        return ["model alone (onnx backend only)", "-", "-", "-", "-"]
    ids = np.full((batch_size, pieces + 2), 1000, dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    session.run(["last_hidden_state"], feed)  # warm-up
    t = time.perf_counter()
    for _ in range(batches):
        session.run(["last_hidden_state"], feed)
    seconds = time.perf_counter() - t
    return row(f"model alone ({pieces}-piece inputs)", seconds, 0, batches * batch_size, batches * batch_size * pieces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--skip-stock", action="store_true", help="skip the stock LlamaIndex run")
    parser.add_argument("--ceiling-batches", type=int, default=20, help="batches of 32 for the model-alone figure")
    args = parser.parse_args(argv)
    if not CORPUS.is_file():
        print(f"skipped: the RealTimeQA corpus is not at {CORPUS} (../shared beside the checkout)")
        return 0

    from rag.embed import make_embedding, word_piece_counter
    from rag.settings import load_settings

    settings = load_settings()
    embedding = make_embedding(settings.embed_backend, settings.embed_model_path, settings.embed_batch_size)
    counter = word_piece_counter(Path(settings.embed_model_path) if settings.embed_model_path else None)
    print(f"{os.cpu_count()} CPUs, embedding backend {settings.embed_backend}, chunk_size {settings.chunk_size}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        articles, ours = bench_newsdesk(settings, embedding, counter, args.limit, Path(tmp))
        print(f"newsdesk stages done ({len(articles)} articles)", file=sys.stderr, flush=True)
        ours["rows"] += bench_end_to_end(settings, embedding, counter, args.limit, Path(tmp))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"newsdesk end to end done; peak RSS so far {peak_mb:,.0f} MB", file=sys.stderr, flush=True)
        stock = None if args.skip_stock else bench_stock(articles, embedding, counter, Path(tmp))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = ours["rows"] + (stock["rows"] if stock else []) + [
        bench_ceiling(embedding, args.ceiling_batches),
        bench_ceiling(embedding, args.ceiling_batches, pieces=round(ours["mean_pieces"])),  # newsdesk's mean chunk
    ]
    print()
    print_table(["stage", "seconds", "articles/s", "chunks/s", "embedded pieces/s"], rows)
    print(f"\npeak RSS of this process: {peak_mb:,.0f} MB (newsdesk alone, before the stock run: see stderr)")
    for name, figures in (("newsdesk", ours), ("stock", stock)):
        if figures:
            print(f"{name}: {figures['chunks']:,} chunks, {figures['mean_pieces']:.0f} word pieces each on average; "
                  f"the model reads {figures['share']:.1%} of the chunk text ({figures['read']:,} word pieces)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
