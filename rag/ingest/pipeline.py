"""Ingestion: sources → articles → passages → vectors → store, incrementally and crash-safely.

Decides, per article, whether to index it (new), re-index it (changed content, or left ``pending`` by
an interrupted run), skip it (unchanged, or a duplicate of another article's content) and, in sync
mode, which stored articles to drop because their files are gone. Each article id is written at most
once per run: the same source read twice is a duplicate, and a second, different text under an id
already used in the run (a live blog's records sharing one URL) gets an id of its own. Passages of
many articles are embedded together in batches (the embedding model is the bottleneck; large batches
keep it busy).
Loading and cleaning are ``corpus.py``'s; the storage protocol that makes it crash-safe is ``store.py``'s.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.articles import LoadFailure
from rag.ingest.corpus import load_sources
from rag.ingest.sources import expand_sources, is_blank, is_url, origin_file
from rag.store import COMPLETE
from rag.types import Article, Passage

ProgressCallback = Callable[[int, str], None]  # (articles seen so far, what happened to the last one)
STAGES = ("load", "chunk", "embed", "store")
EMBED_STEP = 128  # passages per embedding call, so progress moves within a long article (4 model batches)


@dataclass
class IngestReport:
    """What one ingest run did. ``failed`` holds (source, reason) pairs, one line each."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (article id or origin, id it duplicates)
    failed: list[tuple[str, str]] = field(default_factory=list)
    failed_unlisted: int = 0  # failures past the ``max_failures_listed`` cap: counted, not listed
    removed: list[str] = field(default_factory=list)
    # Complete articles found without their passages (a removal killed by an older version), made pending
    # so they are re-indexed when their source is read (``Store.repair``).
    repaired: list[str] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0
    undated: list[tuple[str, str]] = field(default_factory=list)  # (article id, why its given date was not used)
    # (article id, date) of added/updated articles dated after the day of the ingest (filled by the Assistant).
    future_dated: list[tuple[str, object]] = field(default_factory=list)
    # Where the time went: "load" (reading, extracting, cleaning, de-duplicating), "chunk", "embed", "store".
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"duplicates {len(self.duplicates)}, failed {len(self.failed) + self.failed_unlisted}, removed {len(self.removed)} "
            f"({self.passages} passages embedded in {self.seconds:.1f} s)"
        )

    def fail(self, origin: str, reason: str, max_listed: int) -> None:
        """Record a failure: listed while fewer than ``max_listed`` are, else only counted; a whole file or
        URL that failed is always listed (a bomb's record failures must not hide the file beside it)."""
        file_path = origin_file(origin)
        if file_path is None or str(file_path) == origin:  # a whole file or URL: listed first, always
            self.failed.insert(sum(1 for o, _ in self.failed if str(origin_file(o)) == o or is_url(o)), (origin, reason))
        elif len(self.failed) < max_listed:
            self.failed.append((origin, reason))
        else:
            self.failed_unlisted += 1

    def timing(self) -> str:
        """One line of where the time went, e.g. ``load 0.5 s, chunk 12.1 s, embed 480.2 s, store 26.9 s``."""
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.stage_seconds.items())


def embed_text(passage: Passage) -> str:
    """What the embedding model reads for a passage: its article's title, then the passage."""
    return f"{passage.title}\n{passage.text}" if passage.title else passage.text


def embed_by_length(
    embedding, texts: list[str], length: Callable[[str], int] = len, *, step: int = 0, on_step: Callable[[int], None] | None = None
) -> list[list[float]]:
    """``embedding.get_text_embedding_batch(texts)``, with the texts sent shortest first by ``length``.

    The model pads each batch to its longest input, so batches of similar lengths waste no work. Pass
    the model's word-piece count as ``length`` (``Chunker.count_pieces``): characters are a poor proxy.
    Measured on 2 cores (benchmarks/ingest_throughput.py), against the model alone on uniform inputs
    of the passages' mean length: unsorted 63%, sorted by characters 85%, by word pieces 90% (and 101%
    of the model alone on the same passages, padded per batch).

    With ``step``, the sorted texts are sent ``step`` at a time and ``on_step(n)`` is called after each
    slice with the ``n`` texts it embedded, so a progress bar moves with the real work.
    """
    if not texts:
        return []
    order = sorted(range(len(texts)), key=lambda i: length(texts[i]))
    ordered = [texts[i] for i in order]
    step = step or len(ordered)
    vectors = []
    for begin in range(0, len(ordered), step):
        vectors += embedding.get_text_embedding_batch(ordered[begin : begin + step])
        if on_step:
            on_step(min(step, len(ordered) - begin))
    result: list[list[float]] = [[] for _ in texts]
    for position, i in enumerate(order):
        result[i] = vectors[position]
    return result


class Ingestor:
    """Indexes articles into a ``Store`` with a ``Chunker`` and a LlamaIndex embedding model."""

    def __init__(
        self,
        store,
        embedding,
        chunker,
        settings,
        *,
        allow_private: bool = False,
        batch_passages: int = 256,
    ) -> None:
        """``settings``: the ``IngestSettings`` group (``max_file_mb``, ``fetch_timeout_s``, the total
        deadline per URL). ``allow_private`` lets URLs reach loopback and private addresses
        (``fetch.allow_private`` decides it from ``fetch_allow_private`` and where the app is served);
        ``batch_passages``: how many chunked passages are gathered before they are embedded and stored."""
        self.store = store
        self.embedding = embedding
        self.chunker = chunker
        self.max_bytes = int(settings.max_file_mb * 1e6)
        self.fetch_timeout_s = settings.fetch_timeout_s
        self.allow_private = allow_private
        self.batch_passages = batch_passages
        self.caps = {
            "max_records": settings.max_records_per_file, "max_failures": settings.max_failures_per_file,
            "max_total_bytes": int(settings.max_decompressed_mb * 1e6),
        }  # fmt: skip
        self.max_failures_listed = settings.max_failures_listed

    def ingest(
        self,
        sources: Iterable[str | Path],
        *,
        sync: bool = False,
        show_progress: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Index ``sources`` (files, folders, URLs); with ``sync``, drop articles whose files are gone."""
        from tqdm import tqdm

        sources = list(sources)
        started = time.perf_counter()
        report = IngestReport()
        report.repaired = self.store.repair()["pending"]  # what a killed write left is finished first
        registry = self.store.registry()
        hash_owner = {e.content_hash: e.id for e in registry.values() if e.status == COMPLETE}
        batch: list[tuple[Article, list[Passage]]] = []
        batch_size = 0
        # The bar counts passages embedded, the real work: articles are read in a blink and then wait
        # for the model (a bar of articles read ran ahead and stalled). Articles read are its postfix.
        bar = tqdm(desc="ingest", unit=" passages", disable=not show_progress, dynamic_ncols=True)
        seen = 0

        def embedded(count: int) -> None:
            bar.update(count)
            if on_progress:
                on_progress(seen, f"embedding: {bar.n} passages done")
        stage = report.stage_seconds
        items = load_sources(
            sources, max_bytes=self.max_bytes, fetch_timeout_s=self.fetch_timeout_s, allow_private=self.allow_private, **self.caps
        )
        seen_ids: dict[str, str] = {}  # article id -> content hash, for this run

        while True:
            t = time.perf_counter()
            item = next(items, None)
            if item is None:
                break
            seen += 1
            bar.set_postfix(articles=seen, refresh=False)
            if isinstance(item, LoadFailure):
                report.fail(item.origin, item.reason, self.max_failures_listed)
                outcome = f"failed: {item.origin}: {item.reason}"
                stage["load"] += time.perf_counter() - t
            else:
                item, outcome = self._plan(item, registry, hash_owner, seen_ids, report)
                stage["load"] += time.perf_counter() - t
                if outcome in ("added", "updated"):
                    if item.date_note:
                        report.undated.append((item.id, item.date_note))
                    t = time.perf_counter()
                    passages = self.chunker.split(item)
                    stage["chunk"] += time.perf_counter() - t
                    batch.append((item, passages))
                    batch_size += len(passages)
                    if batch_size >= self.batch_passages:
                        self._flush(batch, report, embedded)
                        batch, batch_size = [], 0
                outcome = f"{outcome}: {item.title}"
            if on_progress:
                on_progress(seen, outcome)
        self._flush(batch, report, embedded)
        bar.close()

        if sync:
            report.removed = self._sync(sources, registry)
        report.seconds = time.perf_counter() - started
        return report

    def _plan(
        self, article: Article, registry: dict, hash_owner: dict[str, str], seen_ids: dict[str, str], report: IngestReport
    ) -> tuple[Article, str]:
        """What to do with ``article`` (``added``, ``updated``, ``unchanged``, ``duplicate of …``), and
        the article to do it with (its id made unique within the run when it collides)."""
        if article.id in seen_ids:
            if seen_ids[article.id] == article.content_hash:  # the same file or record read twice
                report.duplicates.append((article.origin or article.id, article.id))
                return article, f"duplicate of {article.id}"
            # A different text under an id this run already wrote: keep both. The suffix comes from
            # the content, so re-ingesting the same source gives this text the same id again.
            article = dataclasses.replace(article, id=f"{article.id}~{article.content_hash[:12]}")
            if article.id in seen_ids:
                report.duplicates.append((article.origin or article.id, article.id))
                return article, f"duplicate of {article.id}"
        seen_ids[article.id] = article.content_hash
        entry = registry.get(article.id)
        if entry and entry.status == COMPLETE and entry.content_hash == article.content_hash:
            report.unchanged.append(article.id)
            return article, "unchanged"
        owner = hash_owner.get(article.content_hash)
        if owner and owner != article.id:
            report.duplicates.append((article.id, owner))
            return article, f"duplicate of {owner}"
        if entry and hash_owner.get(entry.content_hash) == article.id:
            del hash_owner[entry.content_hash]  # its old text is being replaced: no longer stored
        hash_owner[article.content_hash] = article.id
        (report.updated if entry else report.added).append(article.id)
        return article, "updated" if entry else "added"

    def _flush(self, batch: list[tuple[Article, list[Passage]]], report: IngestReport, on_step: Callable[[int], None] | None = None) -> None:
        if not batch:
            return
        t = time.perf_counter()
        texts = [embed_text(p) for _, passages in batch for p in passages]
        vectors = embed_by_length(self.embedding, texts, self.chunker.count_pieces, step=EMBED_STEP, on_step=on_step)
        report.stage_seconds["embed"] += time.perf_counter() - t
        t = time.perf_counter()
        rows, offset = [], 0
        for article, passages in batch:
            rows.append((article, passages, vectors[offset : offset + len(passages)]))
            offset += len(passages)
        self.store.write_articles(rows)
        report.stage_seconds["store"] += time.perf_counter() - t
        report.passages += len(texts)

    def _sync(self, sources: list[str | Path], registry: dict) -> list[str]:
        """Ids of stored articles read from under ``sources`` whose files no longer exist (removed)."""
        roots = [Path(s).resolve() for s in sources if not is_url(s) and not isinstance(s, Article) and not is_blank(s)]
        gone = []
        for entry in registry.values():
            file_path = origin_file(entry.origin)  # "file.jsonl:12" / "file.json#3" -> the file
            if file_path is None:  # a URL, or pasted text
                continue
            under = any(file_path == root or root in file_path.parents for root in roots)
            if under and not file_path.exists():
                gone.append(entry.id)
        self.store.remove(gone)
        return gone


__all__ = ["IngestReport", "Ingestor", "embed_text", "expand_sources"]
