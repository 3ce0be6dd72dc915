"""Ingest throughput on the RealTimeQA corpus: newsdesk's stages vs stock LlamaIndex, and the model ceiling.

Three measurements on the same articles (``../shared/eval/realtimeqa/corpus.jsonl.gz``, 3,773 news
articles; ``--limit`` for a subset), each into a throwaway Chroma store in a temporary folder:

1. newsdesk: the real ``Ingestor`` (what ``python -m rag ingest`` runs), split into its own stage
   timings (``IngestReport.stage_seconds``: load = parsing, cleaning and de-duplicating; chunking;
   embedding; store writes), then the same corpus again, unchanged. Articles/s, chunks/s and embedded
   word pieces/s per stage and overall, and the peak RSS of the ingest.
2. stock LlamaIndex: ``VectorStoreIndex.from_documents`` with the same embedding model and a
   ``ChromaVectorStore`` at default settings (``SentenceSplitter`` 1,024 tiktoken tokens, overlap 200,
   metadata embedded with the text).
3. the model alone (ONNX Runtime, no tokenising, pooling or Python per text): on uniform inputs of 256
   word pieces and of the passages' mean length, and on ``--ceiling-passages`` of the same passages,
   pre-tokenised and padded per batch: the ceiling any pipeline on this machine can reach.

all-MiniLM-L6-v2 reads at most 256 word pieces (254 plus two special tokens), so the table also gives
the share of each pipeline's chunk text the model actually reads: stock 1,024-token chunks are cut.

    python benchmarks/ingest_throughput.py [--limit 300] [--skip-stock] [--ceiling-passages 2048]

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


def bench_newsdesk(settings, embedding, counter, limit: int | None, data_dir: Path) -> dict:
    """The real ``Ingestor`` (what ``python -m rag ingest`` runs) with its own stage timings, then again unchanged."""
    import gzip

    from rag.ingest.chunk import Chunker
    from rag.ingest.pipeline import Ingestor, embed_text
    from rag.store import Store, make_client

    source = CORPUS
    if limit:
        source = data_dir / "subset.jsonl.gz"
        with gzip.open(CORPUS, "rt", encoding="utf-8") as full, gzip.open(source, "wt", encoding="utf-8") as part:
            part.writelines(itertools.islice(full, limit))
    store = Store(make_client(data_dir=data_dir), "bench_newsdesk")
    chunker = Chunker(counter, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    ingestor = Ingestor(store, embedding, chunker, settings.ingest)
    first = ingestor.ingest([source], show_progress=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    again = ingestor.ingest([source])

    texts = [embed_text(p) for p in store.all_passages()]
    lengths = word_pieces(counter, texts)
    n_articles = len(first.added) + len(first.duplicates) + len(first.failed)
    n_chunks, read = len(texts), sum(min(n, MODEL_READS) for n in lengths)
    stage = first.stage_seconds
    return {
        "rows": [
            row("load: parse + clean + de-duplicate", stage["load"], n_articles, 0, 0),
            row("chunk", stage["chunk"], n_articles, n_chunks, 0),
            row("embed", stage["embed"], n_articles, n_chunks, read),
            row("store writes", stage["store"], n_articles, n_chunks, 0),
            row("newsdesk Ingestor end to end", first.seconds, n_articles, n_chunks, read),
            row(f"re-ingest unchanged ({len(again.unchanged)} unchanged)", again.seconds, n_articles, 0, 0),
        ],
        "summary": first.summary(),
        "embed_rate": read / stage["embed"] if stage["embed"] else 0.0,
        "overhead_share": (stage["load"] + stage["chunk"] + stage["store"]) / first.seconds if first.seconds else 0.0,
        "peak_mb": peak_mb,
        "texts": texts,
        "chunks": n_chunks,
        "mean_pieces": sum(lengths) / max(1, n_chunks),
        "share": read_share(lengths),
        "read": read,
    }


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


def bench_ceiling(embedding, batches: int, batch_size: int = 32, pieces: int = MODEL_READS) -> tuple[list[str], float]:
    """ONNX Runtime alone on batches of ``pieces``-long inputs (no tokenising, pooling or Python per text)."""
    import numpy as np

    session = getattr(embedding, "session", None)
    name = f"model alone, uniform {pieces}-piece inputs"
    if session is None:
        return [name + " (onnx backend only)", "-", "-", "-", "-"], 0.0
    ids = np.full((batch_size, pieces + 2), 1000, dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    session.run(["last_hidden_state"], feed)  # warm-up
    t = time.perf_counter()
    for _ in range(batches):
        session.run(["last_hidden_state"], feed)
    seconds = time.perf_counter() - t
    read = batches * batch_size * pieces
    return row(name, seconds, 0, batches * batch_size, read), read / seconds


def bench_ceiling_same(embedding, texts: list[str], batch_size: int = 32, group: int = 256) -> tuple[list[str], float]:
    """ONNX Runtime alone on ``texts`` themselves: tokenised beforehand, sorted by length within groups of
    ``group`` (as ingest sends them), padded per batch. The ceiling for exactly these passages."""
    import numpy as np

    session = getattr(embedding, "session", None)
    name = f"model alone, {len(texts):,} of the same passages"
    if session is None:
        return [name + " (onnx backend only)", "-", "-", "-", "-"], 0.0
    encoded = [e.ids for e in embedding.tokenizer.encode_batch(texts)]
    feeds = []
    for g in range(0, len(encoded), group):
        ordered = sorted(encoded[g : g + group], key=len)
        for b in range(0, len(ordered), batch_size):
            rows = ordered[b : b + batch_size]
            ids = np.zeros((len(rows), max(map(len, rows))), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, seq in enumerate(rows):
                ids[r, : len(seq)], mask[r, : len(seq)] = seq, 1
            feeds.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    session.run(["last_hidden_state"], feeds[0])  # warm-up
    t = time.perf_counter()
    for feed in feeds:
        session.run(["last_hidden_state"], feed)
    seconds = time.perf_counter() - t
    read = sum(min(len(seq) - 2, MODEL_READS) for seq in encoded)
    return row(name, seconds, 0, len(texts), read), read / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--skip-stock", action="store_true", help="skip the stock LlamaIndex run")
    parser.add_argument("--ceiling-batches", type=int, default=20, help="batches of 32 for the uniform model-alone figures")
    parser.add_argument("--ceiling-passages", type=int, default=2048, help="passages for the same-passages model-alone figure")
    args = parser.parse_args(argv)
    if not CORPUS.is_file():
        print(f"skipped: the RealTimeQA corpus is not at {CORPUS} (../shared beside the checkout)")
        return 0

    from rag.embed import embedding_from, word_piece_counter
    from rag.settings import load_settings

    settings = load_settings()
    embedding = embedding_from(settings.embedding)
    counter = word_piece_counter(Path(settings.embedding.embed_model_path) if settings.embedding.embed_model_path else None)
    print(f"{os.cpu_count()} CPUs, embedding backend {settings.embedding.embed_backend}, chunk_size {settings.ingest.chunk_size}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        ours = bench_newsdesk(settings, embedding, counter, args.limit, Path(tmp))
        print(f"newsdesk done: {ours['summary']}; peak RSS {ours['peak_mb']:,.0f} MB", file=sys.stderr, flush=True)
        articles = None
        if not args.skip_stock:
            from rag.ingest.articles import LoadFailure
            from rag.ingest.corpus import load_sources

            items = itertools.islice(load_sources([CORPUS], max_bytes=int(settings.ingest.max_file_mb * 1e6), fetch_timeout_s=settings.ingest.fetch_timeout_s), args.limit)
            articles = [a for a in items if not isinstance(a, LoadFailure)]
        stock = bench_stock(articles, embedding, counter, Path(tmp)) if articles else None
    sample = ours["texts"][: args.ceiling_passages]
    same_row, same_rate = bench_ceiling_same(embedding, sample)
    uniform_row, uniform_rate = bench_ceiling(embedding, args.ceiling_batches, pieces=round(ours["mean_pieces"]))
    rows = ours["rows"] + (stock["rows"] if stock else []) + [
        bench_ceiling(embedding, args.ceiling_batches)[0], uniform_row, same_row,
    ]
    print()
    print_table(["stage", "seconds", "articles/s", "chunks/s", "embedded pieces/s"], rows)
    print(f"\nnewsdesk: {ours['summary']}")
    print(f"peak RSS of the newsdesk ingest: {ours['peak_mb']:,.0f} MB (this process, before the stock run)")
    for name, figures in (("newsdesk", ours), ("stock", stock)):
        if figures:
            print(f"{name}: {figures['chunks']:,} chunks, {figures['mean_pieces']:.0f} word pieces each on average; "
                  f"the model reads {figures['share']:.1%} of the chunk text ({figures['read']:,} word pieces)")  # fmt: skip
    if same_rate:
        print(f"embed stage vs the model alone: {ours['embed_rate'] / same_rate:.0%} of it on the same passages, "
              f"{ours['embed_rate'] / uniform_rate:.0%} of it on uniform inputs of the mean length")  # fmt: skip
    print(f"load + chunk + store writes: {ours['overhead_share']:.1%} of ingest time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
