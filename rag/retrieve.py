"""Finding the passages that answer a question: dense + BM25, fused, filtered, recency-aware, deduplicated.

* Dense: cosine similarity of the question's embedding to each passage's (Chroma, through ``store.py``).
* BM25: ``bm25s`` over title + passage text (stemmed, English stop words), built in memory from the
  store and rebuilt when the number of passages changes. With a ``cache_dir`` the index and its
  passage table are saved on disk, keyed by the store's contents, so the next process loads them
  instead of reading every passage out of Chroma and re-indexing (see ``Bm25Cache``).
* Fusion: reciprocal rank fusion of the two candidate lists. Written here rather than with LlamaIndex's
  ``QueryFusionRetriever`` because we also need per-passage dense scores (the refusal threshold), a
  recency weight and a per-article cap, which it has no hooks for. ``HybridRetriever`` still *is* a
  LlamaIndex ``BaseRetriever``, so it plugs into LlamaIndex query engines.
* Filters: date range, sources, article ids, and the "as of" date (nothing published after it).
* Refusal: ``Retrieval.weak`` is set when both the best dense similarity is under ``min_evidence``
  and the best lexical coverage of the question's terms is under ``min_coverage``; the assistant then
  says the articles don't contain the answer.

Answer composition is left to ``answer.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .types import Passage, ScoredPassage


FRESHNESS_S = 1.0  # how often a query checks the store for writes by other processes
_MAX_OVERSAMPLED = 2000  # nearest ids fetched unfiltered before falling back to Chroma's where= (32 ms at 48k)


@dataclass(frozen=True)
class Filters:
    """Restrictions on what retrieval may return. Dates are inclusive."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.date_from:
            clauses.append({"day": {"$gte": self.date_from.toordinal()}})
        if self.date_to:
            clauses.append({"day": {"$lte": self.date_to.toordinal()}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def admits(self, passage: Passage) -> bool:
        day = passage.date
        if self.date_from and (day is None or day < self.date_from):
            return False
        if self.date_to and day is not None and day > self.date_to:
            return False
        if self.sources and passage.source not in self.sources:
            return False
        return not self.article_ids or passage.article_id in self.article_ids


@dataclass
class Retrieval:
    """What retrieval found: the ranked passages and how strong the best evidence was."""

    passages: list[ScoredPassage]
    best_similarity: float  # the best passage's cosine similarity to the question
    coverage: float  # the best IDF-weighted share of question terms found in one returned passage
    weak: bool  # both signals under their thresholds: the articles likely don't contain the answer
    timings_ms: dict[str, float] = field(default_factory=dict)


# Words of a question's phrasing, not of its topic. The stemmer does not map irregular forms
# ("say" / "said", "give" / "gave"), and an absent term counts as evidence that the answer is missing,
# so without this list "What did Kast say ...?" looked unanswerable against an article full of "said".
QUESTION_WORDS = (
    "say", "said", "says", "tell", "told", "give", "gave", "given", "make", "made", "get", "got",
    "take", "took", "many", "much", "according", "happened", "happen", "new", "latest", "recently",
)


class Bm25Index:
    """BM25 over passages with ``bm25s``; a weight mask applies the filters inside the scoring."""

    def __init__(self, passages: Sequence[Passage], retriever=None) -> None:
        """Index ``passages``, or adopt ``retriever``, a ``bm25s.BM25`` already built over them (the cache)."""
        import bm25s
        import numpy as np
        import Stemmer

        self.passages = list(passages)
        self._position = {p.id: i for i, p in enumerate(self.passages)}
        # Column arrays for the filter mask: one numpy expression per query instead of a Python call
        # per passage (measured: 48k passages, 60 ms -> 1 ms per query).
        self._day = np.array([p.date.toordinal() if p.date else -1 for p in self.passages], dtype=np.int64)
        self._source = np.array([p.source for p in self.passages], dtype=object)
        # Article ids as integer codes: np.isin on integers sorts (fast at any size), while on object
        # arrays it compares every passage with every id (80 s at 300k passages and 27k articles).
        self._article_code = {a: i for i, a in enumerate(dict.fromkeys(p.article_id for p in self.passages))}
        self._article = np.array([self._article_code[p.article_id] for p in self.passages], dtype=np.int64)
        self._indexed = np.ones(len(self.passages), dtype=bool)
        self._stemmer = Stemmer.Stemmer("english")
        self._retriever = retriever or bm25s.BM25()
        if self.passages and retriever is None:
            corpus = [f"{p.title}\n{p.text}" for p in self.passages]
            tokens = bm25s.tokenize(corpus, stopwords="en_plus", stemmer=self._stemmer, show_progress=False)
            self._retriever.index(tokens, show_progress=False)

    def position(self, passage_id: str) -> int | None:
        return self._position.get(passage_id)

    def restrict_to(self, complete_article_ids: set[str]) -> None:
        """Only passages of these (completely indexed) articles may be returned."""
        self._indexed = self._of_articles(complete_article_ids)

    def _of_articles(self, article_ids):
        """Boolean array: which passages belong to one of ``article_ids``."""
        import numpy as np

        codes = [self._article_code[a] for a in article_ids if a in self._article_code]
        return np.isin(self._article, np.asarray(codes, dtype=np.int64))

    def coverage(self, question: str, passage_ids: Sequence[str]) -> float:
        """The largest IDF-weighted share of the question's terms that one of ``passage_ids`` contains.

        The refusal signal next to dense similarity: "Who won the 2022 World Cup?" against articles
        that never mention a cup scores near 0 even when the embedding finds a vaguely similar passage,
        while a name-heavy question ("Who is Kast?") scores high where dense similarity is low. Terms
        absent from every passage weigh like the rarest ones: they are evidence the answer is not here.
        """
        import math

        import bm25s
        import numpy as np

        terms = set(bm25s.tokenize([question], stopwords="en_plus", stemmer=self._stemmer, return_ids=False, show_progress=False)[0])
        terms -= set(self._stemmer.stemWords(QUESTION_WORDS))
        positions = [self._position[pid] for pid in passage_ids if pid in self._position]
        if not terms or not positions or not self.passages:
            return 0.0
        scores = self._retriever.scores
        indptr, indices, n = scores["indptr"], scores["indices"], len(self.passages)
        positions = np.asarray(positions)
        covered = np.zeros(len(positions))
        total = 0.0
        for term in terms:
            column = self._retriever.vocab_dict.get(term)
            docs = indices[indptr[column] : indptr[column + 1]] if column is not None else indices[:0]
            df = max(1, len(docs))  # an absent term weighs like the rarest one ("say" vs "said" misses)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            total += idf
            # A broadcast comparison: np.isin sorts ``docs`` (thousands of ids for common terms) per call.
            covered += idf * (docs[:, None] == positions).any(axis=0)
        return float(covered.max() / total) if total else 0.0

    def mask(self, filters: Filters):
        """1.0 for each passage that ``filters`` admit and whose article is completely indexed, else 0.0.

        Same rules as ``Filters.admits`` (an undated passage passes ``date_to`` but not ``date_from``).
        """
        import numpy as np

        keep = self._indexed.copy()
        if filters.date_from:
            keep &= self._day >= filters.date_from.toordinal()
        if filters.date_to:
            keep &= self._day <= filters.date_to.toordinal()  # undated (-1) passes, as in Filters.admits
        if filters.sources:
            keep &= np.isin(self._source, list(filters.sources))
        if filters.article_ids:
            keep &= self._of_articles(filters.article_ids)
        return keep.astype(np.float32)

    def search(self, question: str, k: int, filters: Filters) -> list[ScoredPassage]:
        import bm25s

        if not self.passages:
            return []
        query = bm25s.tokenize([question], stopwords="en_plus", stemmer=self._stemmer, show_progress=False)
        if not query.ids or not query.ids[0]:
            return []
        mask = self.mask(filters)
        k = min(k, int(mask.sum()))
        if k == 0:
            return []
        indices, scores = self._retriever.retrieve(query, k=k, weight_mask=mask, show_progress=False, n_threads=1)
        return [
            ScoredPassage(self.passages[i], score=float(s), bm25_score=float(s))
            for i, s in zip(indices[0], scores[0])
            if s > 0
        ]


class Bm25Cache:
    """The BM25 index and its passage table on disk, keyed by what the store holds.

    Building the index means reading every passage out of Chroma and tokenising it, in every process
    that opens the store: 22 s at 100k passages and 76 s at 300k, against 2.1 s and 9.5 s from the
    cache (benchmarks/query_latency.py, 2 cores). The key is a hash
    of the store's passage count and article registry (id, content hash, status of every article):
    every write changes the registry, so a key match means the same passages. One entry per
    collection is kept; entries are written to a temporary folder and renamed, so a crash never
    leaves a half-written entry under a valid key. bm25s saves the index as numpy arrays and JSON;
    the passages go to a JSON file beside it (no pickle: nothing in the cache is executable).
    """

    VERSION = 2  # bump when the tokenisation or the file layout changes

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def key(cls, collection: str, passage_count: int, registry: dict) -> str:
        digest = hashlib.sha256(f"{cls.VERSION}\0{collection}\0{passage_count}".encode())
        for article_id in sorted(registry):
            entry = registry[article_id]
            digest.update(f"\0{article_id}\0{entry.content_hash}\0{entry.status}".encode())
        return digest.hexdigest()[:24]

    def _entry(self, collection: str, key: str) -> Path:
        return self.directory / f"{collection}-{key}"

    def load(self, collection: str, key: str) -> Bm25Index | None:
        """The cached index for ``key``, or None when there is none (or it cannot be read)."""
        import bm25s

        from .store import passage_from

        entry = self._entry(collection, key)
        if not (entry / "passages.json").is_file():
            return None
        try:
            rows = json.loads((entry / "passages.json").read_text(encoding="utf-8"))
            retriever = bm25s.BM25.load(str(entry), mmap=False, show_progress=False)
            passages = [passage_from(pid, meta, text) for pid, meta, text in rows]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: rebuilt from the store and saved again
        return Bm25Index(passages, retriever)

    def save(self, collection: str, key: str, index: Bm25Index) -> None:
        """Store ``index`` under ``key`` and drop this collection's older entries (best effort)."""
        from .store import passage_metadata

        if not index.passages:
            return
        staging = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{collection}-", dir=self.directory))
            index._retriever.save(str(staging), show_progress=False)
            rows = [[p.id, passage_metadata(p), p.text] for p in index.passages]
            (staging / "passages.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            target = self._entry(collection, key)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
            prefix = f"{collection}-"
            for old in self.directory.glob(f"{prefix}*"):
                rest = old.name[len(prefix) :]  # another collection's entries have more than a key here
                if old != target and len(rest) == len(key) and all(c in "0123456789abcdef" for c in rest):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:  # a read-only or full disk only costs the next start-up its rebuild
            if staging:
                shutil.rmtree(staging, ignore_errors=True)


class HybridRetriever:
    """Dense + BM25 retrieval over a ``Store`` with an embedding model; see the module docstring."""

    def __init__(
        self,
        store,
        embedding,
        *,
        mode: str = "hybrid",
        candidates: int = 50,
        rrf_k: int = 60,
        max_passages_per_article: int = 2,
        recency_weight: float = 0.0,
        recency_half_life_days: float = 14.0,
        min_evidence: float = 0.4,
        min_coverage: float = 0.6,
        cache_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.embedding = embedding
        self.mode = mode
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.max_passages_per_article = max_passages_per_article
        self.recency_weight = recency_weight
        self.recency_half_life_days = recency_half_life_days
        self.min_evidence = min_evidence
        self.min_coverage = min_coverage
        self._bm25: Bm25Index | None = None
        self._bm25_size = -1
        self._checked_at = 0.0
        self._complete: set[str] = set()
        self._lock = threading.Lock()
        self._cache = Bm25Cache(cache_dir) if cache_dir else None
        # Set by the owner while it writes to the store: queries keep to the index as last refreshed
        # (the last consistent one) instead of rebuilding it after every batch; refresh when done.
        self.paused = False

    def refresh(self) -> None:
        """Rebuild the BM25 index and the set of completely indexed articles from the store (or the cache)."""
        from .store import COMPLETE

        with self._lock:
            registry = self.store.registry()
            count = self.store.count_passages()
            collection = self.store.name
            key = Bm25Cache.key(collection, count, registry) if self._cache else ""
            # Built in every mode: its term statistics feed the refusal decision too.
            index = self._cache.load(collection, key) if self._cache else None
            if index is None:
                index = Bm25Index(self.store.all_passages())
                # Saved only if no other process wrote while the passages were read.
                if self._cache and Bm25Cache.key(collection, self.store.count_passages(), self.store.registry()) == key:
                    self._cache.save(collection, key, index)
            self._complete = {article_id for article_id, e in registry.items() if e.status == COMPLETE}
            index.restrict_to(self._complete)
            self._bm25 = index
            self._bm25_size = count

    def _ensure_fresh(self) -> None:
        """Rebuild when the store changed, checking at most once a second.

        Counting passages costs a Chroma round trip (5.6 ms at 48k passages, a seventh of a query);
        ``refresh`` after an ingest in this process, and other processes' writes show up within a second.
        """
        import time

        now = time.monotonic()
        if self._bm25 is not None and (self.paused or now - self._checked_at < FRESHNESS_S):
            return
        self._checked_at = now
        if self._bm25_size != self.store.count_passages():
            self.refresh()

    def search(
        self, question: str, top_k: int = 5, filters: Filters | None = None, as_of: dt.date | None = None
    ) -> Retrieval:
        """The ``top_k`` best passages for ``question`` under ``filters``, as of the date ``as_of``."""
        import time

        filters = filters or Filters()
        if as_of and (filters.date_to is None or filters.date_to > as_of):
            filters = Filters(filters.date_from, as_of, filters.sources, filters.article_ids)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        self._ensure_fresh()

        dense: list[ScoredPassage] = []
        best = 0.0
        # The question's embedding is needed in every mode: its similarity decides refusal.
        vector = self.embedding.get_query_embedding(question)
        timings["embed"] = (time.perf_counter() - started) * 1000
        t = time.perf_counter()
        dense_hits = self._dense(vector, filters)
        best = max((h.dense_score or 0.0 for h in dense_hits), default=0.0)
        if self.mode != "bm25":
            dense = dense_hits
        timings["dense"] = (time.perf_counter() - t) * 1000

        lexical: list[ScoredPassage] = []
        if self.mode != "dense" and self._bm25 is not None:
            t = time.perf_counter()
            lexical = self._bm25.search(question, self.candidates, filters)
            timings["bm25"] = (time.perf_counter() - t) * 1000

        fused = self._fuse(dense, lexical, as_of)[:top_k]
        coverage = self._bm25.coverage(question, [h.passage.id for h in fused]) if self._bm25 else 0.0
        weak = best < self.min_evidence and coverage < self.min_coverage
        timings["total"] = (time.perf_counter() - started) * 1000
        return Retrieval(passages=fused, best_similarity=best, coverage=coverage, weak=weak, timings_ms=timings)

    def _dense(self, vector: list[float], filters: Filters) -> list[ScoredPassage]:
        """The ``candidates`` passages nearest to ``vector`` that pass ``filters``.

        Chroma's filtered query (``where=``) scans metadata in SQLite: measured 330-430 ms per query
        over 48k passages, against 5-11 ms for an unfiltered HNSW query of 50-500 ids. So ask for
        enough nearest ids that ``candidates`` of them pass the filter, and filter them here with the
        in-memory passage table (BM25 holds every passage anyway); ``where=`` is left for filters so
        selective that oversampling would not pay.
        """
        import math

        table = self._bm25
        if table is None or not table.passages:
            hits = self.store.dense_search(vector, self.candidates, filters.chroma_where())
            return [h for h in hits if h.passage.article_id in self._complete]
        allowed = table.mask(filters) > 0
        admitted, total = int(allowed.sum()), len(table.passages)
        if admitted == 0:
            return []
        wanted = min(total, math.ceil(self.candidates * total / admitted * 1.5))
        if wanted <= _MAX_OVERSAMPLED:
            hits = []
            for pid, similarity in self.store.dense_ids(vector, wanted, total=self._bm25_size):
                i = table.position(pid)
                if i is not None and allowed[i]:
                    hits.append(ScoredPassage(table.passages[i], similarity, dense_score=similarity))
                    if len(hits) == self.candidates:
                        return hits
            if wanted >= total or len(hits) == admitted:
                return hits
        hits = self.store.dense_search(vector, self.candidates, filters.chroma_where())
        return [h for h in hits if h.passage.article_id in self._complete]

    def _fuse(self, dense: list[ScoredPassage], lexical: list[ScoredPassage], as_of: dt.date | None) -> list[ScoredPassage]:
        scores: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        dense_score: dict[str, float] = {}
        bm25_score: dict[str, float] = {}
        for ranking, store_to in ((dense, dense_score), (lexical, bm25_score)):
            for rank, hit in enumerate(ranking):
                pid = hit.passage.id
                by_id[pid] = hit.passage
                scores[pid] = scores.get(pid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                store_to[pid] = hit.dense_score if store_to is dense_score else hit.bm25_score
        if self.recency_weight > 0:
            reference = as_of or dt.date.today()
            for pid, passage in by_id.items():
                if passage.date:
                    age = max(0, (reference - passage.date).days)
                    scores[pid] *= 1.0 + self.recency_weight * 0.5 ** (age / self.recency_half_life_days)
        ranked = sorted(scores, key=lambda pid: scores[pid], reverse=True)
        per_article: dict[str, int] = {}
        results = []
        for pid in ranked:
            passage = by_id[pid]
            if per_article.get(passage.article_id, 0) >= self.max_passages_per_article:
                continue
            per_article[passage.article_id] = per_article.get(passage.article_id, 0) + 1
            results.append(ScoredPassage(passage, scores[pid], dense_score.get(pid), bm25_score.get(pid)))
        return results

    def as_llamaindex(self, top_k: int = 5, filters: Filters | None = None):
        """This retriever as a LlamaIndex ``BaseRetriever`` returning ``NodeWithScore``s."""
        from llama_index.core.retrievers import BaseRetriever
        from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

        outer = self

        class _Retriever(BaseRetriever):
            def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
                found = outer.search(query_bundle.query_str, top_k=top_k, filters=filters)
                return [
                    NodeWithScore(
                        node=TextNode(
                            id_=h.passage.id,
                            text=h.passage.text,
                            start_char_idx=h.passage.start,
                            end_char_idx=h.passage.end,
                            metadata={"article_id": h.passage.article_id, "title": h.passage.title, "source": h.passage.source},
                        ),
                        score=h.score,
                    )
                    for h in found.passages
                ]

        return _Retriever()
