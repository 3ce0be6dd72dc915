"""Finding the passages that answer a question: articles ranked on all their evidence, then their best passages.

* Question: misspelt words are corrected against the articles' own words first (``spelling.py``).
* Dense: cosine similarity of the question's embedding to each passage's (Chroma HNSW, ``store.py``).
* Lexical: BM25 over passages, over whole articles and over titles (``lexical.py``).
* Articles, not passages, are ranked: an article's score is a weighted sum of its best passage's
  cosine similarity, its best passage's BM25, its whole-text BM25 and its title's BM25 (each BM25
  divided by the best score of the question, so the weights compare like with like), plus a time
  prior: ``recency_weight * log(floor + (1 - floor) * 0.5 ** (age / half_life))`` for the article's
  age on the as-of day, which is 0 on that day and falls towards ``log(floor)`` for old articles.
  The weights, the floor and the half-life are fitted on the RealTimeQA dev questions and checked by
  cross-validation by week (README "Quality"; ``python -m rag eval``). Whole-article evidence and the
  time prior are what a passage-level reciprocal rank fusion lacked: it ranked below BM25 over whole
  articles with a 14-day window.
* Passages: each of the best articles contributes its best passage (by the same cosine + BM25
  weights) in article order, then second passages, up to ``max_passages_per_article``.
* Written here rather than with LlamaIndex's ``QueryFusionRetriever``: article-level scores, the time
  prior and the refusal signals have no hooks there. ``as_llamaindex()`` still gives a LlamaIndex
  ``BaseRetriever``, so it plugs into LlamaIndex query engines.
* Filters: date range, sources, article ids, and the "as of" date (nothing published after it).
* Refusal: ``Retrieval.weak`` is set when both the best dense similarity is under ``min_evidence``
  and the best lexical coverage of the question's terms is under ``min_coverage``; the assistant then
  says the articles don't contain the answer.

Answer composition is left to ``answer.py``.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.retrieval.lexical import LexicalCache, LexicalIndex
from rag.retrieval.spelling import question_language
from rag.types import Passage, ScoredPassage


FRESHNESS_S = 1.0  # how often a query checks the store for writes by other processes
_MAX_OVERSAMPLED = 2000  # nearest ids fetched unfiltered before falling back to Chroma's where= (32 ms at 48k)


def refuses(similarity: float, coverage: float, min_evidence: float, min_coverage: float) -> bool:
    """The refusal rule: both the best dense similarity and the lexical coverage are under their thresholds.

    The evaluator (``metrics.py``) replays it over recorded signals to calibrate the two thresholds.
    """
    return similarity < min_evidence and coverage < min_coverage


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
    question: str = ""  # the question as searched, after spelling correction
    corrections: tuple[tuple[str, str], ...] = ()  # (misspelt word, correction) pairs
    language: str = "en"  # the question's language; the articles are searched in English only
    timings_ms: dict[str, float] = field(default_factory=dict)


class HybridRetriever:
    """Dense + lexical retrieval over a ``Store`` with an embedding model; see the module docstring.

    ``settings``: the ``RetrievalSettings`` group (``retrieval_mode``, ``top_k``, ``candidates``, the
    ``*_weight`` fields, ``recency_*``, ``max_passages_per_article``, ``correct_spelling``,
    ``min_evidence``, ``min_coverage``, ``judge_parts``, ``coverage_terms``). ``known_words``: a function returning the
    words that are spelled right even where the articles lack them (``spelling.model_vocabulary``);
    ``None`` turns off spelling correction and language detection.
    """

    def __init__(self, store, embedding, settings, *, cache_dir: Path | None = None, known_words=None) -> None:
        self.store = store
        self.embedding = embedding
        self.settings = settings
        self._known_words = known_words  # a callable giving the words spelled right (spelling.py)
        self._lexical: LexicalIndex | None = None
        self._speller = None
        self._size = -1
        self._checked_at = 0.0
        self._complete: set[str] = set()
        self._lock = threading.Lock()
        self._cache = LexicalCache(cache_dir) if cache_dir else None
        # Set by the owner while it writes to the store: queries keep to the index as last refreshed
        # (the last consistent one) instead of rebuilding it after every batch; refresh when done.
        self.paused = False

    def refresh(self) -> None:
        """Rebuild the lexical indexes and the set of completely indexed articles from the store (or the cache)."""
        from rag.store import COMPLETE

        with self._lock:
            registry = self.store.registry()
            count = self.store.count_passages()
            collection = self.store.name
            key = LexicalCache.key(collection, count, registry) if self._cache else ""
            # Built in every mode: its term statistics feed the refusal decision too.
            index = self._cache.load(collection, key) if self._cache else None
            if index is None:
                index = LexicalIndex(self.store.all_passages())
                # Saved only if no other process wrote while the passages were read.
                if self._cache and LexicalCache.key(collection, self.store.count_passages(), self.store.registry()) == key:
                    self._cache.save(collection, key, index)
            self._complete = {article_id for article_id, e in registry.items() if e.status == COMPLETE}
            index.restrict_to(self._complete)
            self._lexical = index
            self._speller = None  # rebuilt from the new word counts on first use
            self._size = count

    def _ensure_fresh(self) -> None:
        """Rebuild when the store changed, checking at most once a second.

        Counting passages costs a Chroma round trip (5.6 ms at 48k passages, a seventh of a query);
        ``refresh`` after an ingest in this process, and other processes' writes show up within a second.
        """
        import time

        now = time.monotonic()
        if self._lexical is not None and (self.paused or now - self._checked_at < FRESHNESS_S):
            return
        self._checked_at = now
        if self._size != self.store.count_passages():
            self.refresh()

    def speller(self):
        """The question speller for the current articles (built on first use), or None when turned off."""
        if self._known_words is None or self._lexical is None:
            return None
        if self._speller is None:
            from rag.retrieval.spelling import Speller, english_words

            self._speller = Speller(self._lexical.word_counts, self._known_words(), dictionary=english_words)
        return self._speller

    def search(
        self, question: str, top_k: int | None = None, filters: Filters | None = None, as_of: dt.date | None = None, *, time_prior: bool = True
    ) -> Retrieval:
        """The ``top_k`` (default: the setting) best passages for ``question`` under ``filters``, as of ``as_of``.

        ``time_prior=False`` ranks articles on their evidence alone (a story timeline wants old articles too)."""
        import time

        top_k = top_k or self.settings.top_k
        filters = filters or Filters()
        if as_of and (filters.date_to is None or filters.date_to > as_of):
            filters = Filters(filters.date_from, as_of, filters.sources, filters.article_ids)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        self._ensure_fresh()
        speller = self.speller()
        language = question_language(question, speller)
        if language != "en":
            timings["total"] = (time.perf_counter() - started) * 1000
            return Retrieval([], 0.0, 0.0, weak=True, timings_ms=timings, question=question, language=language)
        corrected = speller.correct(question) if speller and self.settings.correct_spelling else None
        text = corrected.text if corrected else question

        # The question's embedding is needed in every mode: its similarity decides refusal.
        vector = self.embedding.get_query_embedding(text)
        timings["embed"] = (time.perf_counter() - started) * 1000
        t = time.perf_counter()
        dense_hits = self._dense(vector, filters)
        best = max((h.dense_score or 0.0 for h in dense_hits), default=0.0)
        timings["dense"] = (time.perf_counter() - t) * 1000

        passages: list[ScoredPassage] = []
        coverage = 0.0
        if self._lexical is not None and self._lexical.passages:
            t = time.perf_counter()
            passages = self._rank(text, dense_hits, filters, as_of, top_k, time_prior)
            timings["lexical"] = (time.perf_counter() - t) * 1000
            coverage = self._lexical.coverage(text, [h.passage.id for h in passages], self.settings.coverage_terms)
        else:  # nothing indexed through this process yet (or an empty store): dense hits as they come
            passages = dense_hits[:top_k]
        if passages and self.settings.judge_parts:
            best, coverage = self._judge_parts(text, best, coverage, filters, passages)
        weak = refuses(best, coverage, self.settings.min_evidence, self.settings.min_coverage)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Retrieval(
            passages=passages,
            best_similarity=best,
            coverage=coverage,
            weak=weak,
            timings_ms=timings,
            question=text,
            corrections=corrected.changes if corrected else (),
        )

    def _judge_parts(self, question: str, best: float, coverage: float, filters: Filters, passages):
        """The refusal signals of a question of several sentences: the strongest of the whole and its parts.

        A long or compound question ("I was reading about the border. Why did Peru declare a state of
        emergency? Please say which article it comes from.") dilutes the whole question's embedding and
        term coverage with its framing; each sentence is judged on its own, against the same passages,
        and the question is answerable if one of them is.
        """
        import re

        from rag.answer.sentences import content_words, sentence_tokenizer

        sentences = [question[a:b] for a, b in sentence_tokenizer().span_tokenize(question)]
        # A colon or semicolon also ends a part: "One thing I can't remember: why did Peru ...?"
        parts = [part for sentence in sentences for part in re.split(r"[:;]\s+", sentence)]
        parts = [p for p in parts if len(content_words(p)) >= 2]
        if len(parts) < 2:
            return best, coverage
        ids = [h.passage.id for h in passages]
        for part in parts:
            hits = self._dense(self.embedding.get_query_embedding(part), filters)
            best = max(best, max((h.dense_score or 0.0 for h in hits), default=0.0))
            coverage = max(coverage, self._lexical.coverage(part, ids, self.settings.coverage_terms))
        return best, coverage

    def _weights(self) -> tuple[float, float, float, float]:
        """(dense, passage BM25, article BM25, title BM25) weights for the retrieval mode."""
        s = self.settings
        dense, lexical = s.retrieval_mode != "bm25", s.retrieval_mode != "dense"
        return (
            s.dense_weight if dense else 0.0,
            s.passage_bm25_weight if lexical else 0.0,
            s.article_bm25_weight if lexical else 0.0,
            s.title_bm25_weight if lexical else 0.0,
        )

    def time_prior(self, article_days, as_of: dt.date | None):
        """The log time prior of each article (``article_days``: ordinal days, -1 undated).

        0 on the as-of day, falling towards ``recency_weight * log(recency_floor)`` with age. An undated
        article, or one dated after the reference day (a wrong date, or a future one when no as-of day
        is given), is given the prior of an article one half-life old: no permanent boost, no penalty.
        """
        import numpy as np

        s = self.settings
        if not s.recency_weight:
            return np.zeros(len(article_days))
        reference = (as_of or dt.date.today()).toordinal()
        age = (reference - article_days).astype(float)
        age = np.where((article_days < 0) | (age < 0), s.recency_half_life_days, age)
        decay = 0.5 ** (age / s.recency_half_life_days)
        return s.recency_weight * np.log(s.recency_floor + (1 - s.recency_floor) * decay)

    def _rank(self, question: str, dense_hits: list[ScoredPassage], filters: Filters, as_of, top_k: int, prior: bool = True) -> list[ScoredPassage]:
        """Score articles on all their evidence, then take their best passages (module docstring)."""
        import numpy as np

        lex = self._lexical
        w_dense, w_passage, w_article, w_title = self._weights()
        allowed = lex.mask(filters)
        passage_bm25, article_bm25, title_bm25 = lex.scores(lex.query_terms(question))
        passage_bm25 = np.where(allowed, passage_bm25, 0.0)
        article_ok = np.zeros(len(lex.article_ids), dtype=bool)
        article_ok[lex.passage_article[allowed]] = True
        article_bm25, title_bm25 = np.where(article_ok, article_bm25, 0.0), np.where(article_ok, title_bm25, 0.0)

        # Dense similarity of the passages the HNSW search returned; every other passage is taken to be
        # as far as the farthest one returned (an upper bound, and the same for all of them).
        floor = min((h.dense_score or 0.0 for h in dense_hits), default=0.0)
        passage_dense = np.full(len(lex.passages), floor, dtype=np.float32)
        seen = {}
        for h in dense_hits:
            i = lex.position(h.passage.id)
            if i is not None:
                passage_dense[i] = seen[i] = h.dense_score or floor
        # Which passages of a chosen article to show: cosine plus scaled BM25, equally weighted whatever
        # the article weights (with passage_bm25_weight 0, cosine alone would pick among the passages
        # the dense search never returned by chance).
        relevance = (w_dense > 0) * passage_dense + (w_passage > 0 or w_article > 0) * _scaled(passage_bm25)
        relevance = np.where(allowed, relevance, -np.inf)

        article_dense = np.full(len(lex.article_ids), -np.inf)
        np.maximum.at(article_dense, lex.passage_article, np.where(allowed, passage_dense, -np.inf))
        article_passage = np.zeros(len(lex.article_ids))
        np.maximum.at(article_passage, lex.passage_article, _scaled(passage_bm25))
        score = (
            w_dense * article_dense
            + w_passage * article_passage
            + w_article * _scaled(article_bm25)
            + w_title * _scaled(title_bm25)
            + (self.time_prior(lex.article_day, as_of) if prior else 0.0)
        )
        score = np.where(article_ok, score, -np.inf)

        cap = self.settings.max_passages_per_article
        wanted = min(int(article_ok.sum()), top_k)
        ranked_articles = np.argsort(-score)[:wanted]
        rounds: list[list[ScoredPassage]] = [[] for _ in range(cap)]
        for code in ranked_articles:
            members = lex.article_passages(code)
            best = members[np.argsort(-relevance[members])][:cap]
            for round_, i in enumerate(best):
                if np.isfinite(relevance[i]):
                    p = lex.passages[i]
                    rounds[round_].append(ScoredPassage(p, float(score[code]), seen.get(i), float(passage_bm25[i])))
        return [hit for round_ in rounds for hit in round_][:top_k]

    def _dense(self, vector: list[float], filters: Filters) -> list[ScoredPassage]:
        """The ``candidates`` passages nearest to ``vector`` that pass ``filters``.

        Chroma's filtered query (``where=``) scans metadata in SQLite: measured 330-430 ms per query
        over 48k passages, against 5-11 ms for an unfiltered HNSW query of 50-500 ids. So ask for
        enough nearest ids that ``candidates`` of them pass the filter, and filter them here with the
        in-memory passage table (BM25 holds every passage anyway); ``where=`` is left for filters so
        selective that oversampling would not pay.
        """
        import math

        table = self._lexical
        if table is None or not table.passages:
            hits = self.store.dense_search(vector, self.settings.candidates, filters.chroma_where())
            return [h for h in hits if h.passage.article_id in self._complete]
        allowed = table.mask(filters)
        admitted, total = int(allowed.sum()), len(table.passages)
        if admitted == 0:
            return []
        # Nearest ids to ask for: if the filter admitted passages at the rate it admits them overall
        # (admitted / total), candidates * total / admitted would hold ``candidates`` admitted ones;
        # 1.5x that is a margin for filters that admit fewer of the nearest passages than of all
        # (set by hand, not fitted: a shortfall only costs the where= query below).
        wanted = min(total, math.ceil(self.settings.candidates * total / admitted * 1.5))
        if wanted <= _MAX_OVERSAMPLED:
            hits = []
            for pid, similarity in self.store.dense_ids(vector, wanted, total=self._size):
                i = table.position(pid)
                if i is not None and allowed[i]:
                    hits.append(ScoredPassage(table.passages[i], similarity, dense_score=similarity))
                    if len(hits) == self.settings.candidates:
                        return hits
            if wanted >= total or len(hits) == admitted:
                return hits
        hits = self.store.dense_search(vector, self.settings.candidates, filters.chroma_where())
        return [h for h in hits if h.passage.article_id in self._complete]

    def as_llamaindex(self, top_k: int | None = None, filters: Filters | None = None):
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


def _scaled(scores):
    """``scores`` divided by their maximum (all zeros stay zeros): BM25 on the same 0..1 scale as cosine."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores
