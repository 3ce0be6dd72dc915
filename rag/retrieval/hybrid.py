"""Finding the passages that answer a question: the retriever (``HybridRetriever``) over a store.

* Question: misspelt words are corrected against the articles' own words first (``spelling.py``).
* Dense: cosine similarity of the question's embedding to each passage's (Chroma HNSW, ``store.py``).
* Lexical: BM25 over passages, over whole articles and over titles (``lexical.py``).
* Articles, not passages, are ranked on all their evidence with a time prior, then their best passages
  are taken (``ranking.py``). Whole-article evidence and the time prior are what a passage-level
  reciprocal rank fusion lacked: it ranked below BM25 over whole articles with a 14-day window.
* Written here rather than with LlamaIndex's ``QueryFusionRetriever``: article-level scores, the time
  prior and the refusal signals have no hooks there. ``as_llamaindex()`` still gives a LlamaIndex
  ``BaseRetriever``, so it plugs into LlamaIndex query engines.
* Filters: ``QueryOptions`` (``options.py``: date range, sources, article ids, the "as of" cut-off).
* Refusal: ``Retrieval.weak`` by ``refusal_rule``: the two thresholds (``refusal.refuses``: best similarity
  under ``min_evidence`` and coverage under ``min_coverage``, the default), or when the trained answerability
  model (``answerability.py``) puts the probability that the passages answer the question under ``min_answerable``; its signals (best dense
  similarity, coverage of the question's terms, ...) are judged on the question's parts too
  (``refusal.py``); the assistant then says the articles don't contain the answer.

This module keeps the indexes fresh and runs the steps; answer composition is left to ``rag/answer``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.retrieval.answerability import AnswerabilityModel, fully_covered, signals
from rag.retrieval.lexical import LexicalCache, LexicalIndex
from rag.retrieval.options import QueryOptions
from rag.retrieval.ranking import rank
from rag.retrieval.refusal import judge_parts, question_parts, refuses
from rag.retrieval.spelling import question_language
from rag.types import ScoredPassage


FRESHNESS_S = 1.0  # how often a query checks the store for writes by other processes
_MAX_OVERSAMPLED = 2000  # nearest ids fetched unfiltered before falling back to Chroma's where= (32 ms at 48k)


@dataclass
class Retrieval:
    """What retrieval found: the ranked passages and how strong the best evidence was."""

    passages: list[ScoredPassage]
    best_similarity: float  # the best passage's cosine similarity to the question
    coverage: float  # the best IDF-weighted share of question terms found in one returned passage
    weak: bool  # refused by refusal_rule: the articles likely don't contain the answer
    question: str = ""  # the question as searched, after spelling correction
    corrections: tuple[tuple[str, str], ...] = ()  # (misspelt word, correction) pairs
    language: str = "en"  # the question's language; the articles are searched in English only
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerability: float = 0.0  # P(the passages answer the question), answerability.py's model (refusal_rule "model" only)
    signals: dict[str, float] = field(default_factory=dict)  # what that model read (answerability.signals; "model" only)


class HybridRetriever:
    """Dense + lexical retrieval over a ``Store`` with an embedding model; see the module docstring.

    ``settings``: the ``RetrievalSettings`` group (``retrieval_mode``, ``top_k``, ``candidates``, the
    ``*_weight`` fields, ``recency_*``, ``max_passages_per_article``, ``correct_spelling``,
    ``min_answerable``, ``answerability_model``, ``judge_parts``, ``coverage_terms``). ``known_words``: a function returning the
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
        self._generation = ""  # the store's write token at the last refresh (Store.generation)
        self._checked_at = 0.0
        self._complete: set[str] = set()
        self._pending: set[str] = set()  # registry entries not complete at the last refresh
        self._lock = threading.Lock()
        self._cache = LexicalCache(cache_dir) if cache_dir else None
        self._answerability: AnswerabilityModel | None = None
        # Set by the owner while it writes to the store: queries keep to the index as last refreshed
        # (the last consistent one) instead of rebuilding it after every batch; refresh when done.
        self.paused = False

    def refresh(self) -> None:
        """Rebuild the lexical indexes and the set of completely indexed articles from the store (or the cache)."""
        with self._lock:
            collection = self.store.name

            def state():  # what the store holds (LexicalCache.key's order); the write token read first
                generation = self.store.generation()
                return self.store.count_passages(), generation, *self.store.statuses()

            count, generation, complete, others = state()
            key = LexicalCache.key(collection, count, generation, complete, others) if self._cache else ""
            # Built in every mode: its term statistics feed the refusal decision too.
            index = self._cache.load(collection, key) if self._cache else None
            if index is None:
                index = LexicalIndex(self.store.all_passages())
                # Saved only if no other process wrote while the passages were read.
                if self._cache and LexicalCache.key(collection, *state()) == key:
                    self._cache.save(collection, key, index)
            self._complete = set(complete)
            self._pending = set(others)
            index.restrict_to(self._complete)
            self._lexical = index
            self._speller = None  # rebuilt from the new word counts on first use
            self._size = count
            self._generation = generation

    def ensure_fresh(self) -> None:
        """Rebuild when the store changed, checking at most once a second.

        Counting passages costs a Chroma round trip (5.6 ms at 48k passages, a seventh of a query);
        ``refresh`` after an ingest in this process, and other processes' writes show up within a second.
        The count alone misses an article another process marked complete after its passages were
        counted here (refreshed between its last passage and its ``complete``): articles pending at the
        last refresh are looked up too.
        """
        import time

        now = time.monotonic()
        if self._lexical is not None and (self.paused or now - self._checked_at < FRESHNESS_S):
            return
        self._checked_at = now
        if (
            self._size != self.store.count_passages()
            or self._generation != self.store.generation()
            or (self._pending and self.store.completed_among(self._pending))
        ):
            self.refresh()

    def speller(self):
        """The question speller for the current articles (built on first use), or None when turned off."""
        if self._known_words is None or self._lexical is None:
            return None
        if self._speller is None:
            from rag.retrieval.spelling import Speller, english_words

            self._speller = Speller(self._lexical.word_counts, self._known_words(), dictionary=english_words)
        return self._speller

    @property
    def lexical(self) -> LexicalIndex | None:
        """The lexical indexes and passage table as last refreshed (None before the first query or ``refresh``)."""
        return self._lexical

    def search(self, question: str, options: QueryOptions | None = None, *, time_prior: bool = True) -> Retrieval:
        """The best passages for ``question`` under ``options`` (its filters, ``top_k`` or the setting, ``as_of``).

        ``time_prior=False`` ranks articles on their evidence alone (a story timeline wants old articles too)."""
        import time

        options = options or QueryOptions()
        top_k = options.top_k or self.settings.top_k
        timings: dict[str, float] = {}
        started = time.perf_counter()
        self.ensure_fresh()
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
        dense_hits = self.dense_candidates(vector, options)
        best = _best_similarity(dense_hits)
        timings["dense"] = (time.perf_counter() - t) * 1000

        passages: list[ScoredPassage] = []
        coverage = 0.0
        if self._lexical is not None and self._lexical.passages:
            t = time.perf_counter()
            passages = rank(self._lexical, self.settings, text, dense_hits, options, top_k, time_prior)
            timings["lexical"] = (time.perf_counter() - t) * 1000
            coverage = self._lexical.coverage(text, [h.passage.id for h in passages], self.settings.coverage_terms)
        else:  # nothing indexed through this process yet (or an empty store): dense hits as they come
            passages = dense_hits[:top_k]
        if passages and self.settings.judge_parts:
            ids = [h.passage.id for h in passages]
            best, coverage = judge_parts(
                text, best, coverage,
                lambda part: _best_similarity(self.dense_candidates(self.embedding.get_query_embedding(part), options)),
                lambda part: self._lexical.coverage(part, ids, self.settings.coverage_terms),
            )  # fmt: skip
        found, probability = {}, 0.0
        if self.settings.refusal_rule == "model":
            # The model's signals cost a second BM25 pass and more (answerability.signals): measured only for it.
            if passages and self._lexical is not None and self._lexical.passages:
                ids = [h.passage.id for h in passages]
                parts = question_parts(text) if self.settings.judge_parts else []
                coverage_all = max(self._lexical.coverage(part, ids, 0) for part in [text, *parts])
                found = signals(self._lexical, text, passages, dense_hits, best, coverage, coverage_all)
                probability = self.answerability_model().probability(found)
            weak = probability < self.settings.min_answerable and not fully_covered(found)
        else:  # no passage at all gives similarity 0: refused
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
            answerability=probability,
            signals=found,
        )

    def answerability_model(self) -> AnswerabilityModel:
        """The answerability model of ``answerability_model`` (the bundled one when empty), read once."""
        if self._answerability is None:
            self._answerability = AnswerabilityModel.load(self.settings.answerability_model or None)
        return self._answerability

    def dense_candidates(self, vector: list[float], options: QueryOptions) -> list[ScoredPassage]:
        """The ``candidates`` passages nearest to ``vector`` that pass the filters of ``options``.

        Chroma's filtered query (``where=``) scans metadata in SQLite: measured 330-430 ms per query
        over 48k passages, against 5-11 ms for an unfiltered HNSW query of 50-500 ids. So ask for
        enough nearest ids that ``candidates`` of them pass the filter, and filter them here with the
        in-memory passage table (BM25 holds every passage anyway); ``where=`` is left for filters so
        selective that oversampling would not pay.
        """
        import math

        table = self._lexical
        if table is None or not table.passages:
            hits = self.store.dense_search(vector, self.settings.candidates, options.chroma_where())
            return [h for h in hits if h.passage.article_id in self._complete]
        allowed = table.mask(options)
        admitted, total = int(allowed.sum()), len(table.passages)
        if admitted == 0:
            return []
        # Nearest ids to ask for: if the filter admitted passages at the rate it admits them overall
        # (admitted / total), candidates * total / admitted would hold ``candidates`` admitted ones;
        # 1.5x that is a margin for filters that admit fewer of the nearest passages than of all
        # (set by hand, not fitted). On a shortfall, ask again for 4x as many, up to _MAX_OVERSAMPLED:
        # the nearest passages of a story told over many days are often near-copies of each other, so an
        # as-of date can cut most of them (at 100k passages a where= fallback took 1.3-1.8 s, 25x the
        # whole query; a second unfiltered HNSW query costs milliseconds).
        wanted = min(total, math.ceil(self.settings.candidates * total / admitted * 1.5))
        while wanted <= _MAX_OVERSAMPLED:
            hits: list[ScoredPassage] = []
            nearest = self.store.dense_ids(vector, wanted, total=self._size)
            for (pid, similarity), i in zip(nearest, table.positions([pid for pid, _ in nearest])):
                if i >= 0 and allowed[i]:
                    hits.append(ScoredPassage(table.passages[int(i)], similarity, dense_score=similarity))
                    if len(hits) == self.settings.candidates:
                        return hits
            if wanted >= total or len(hits) == admitted:
                return hits
            if wanted >= _MAX_OVERSAMPLED:
                break
            wanted = min(total, _MAX_OVERSAMPLED, wanted * 4)
        hits = self.store.dense_search(vector, self.settings.candidates, options.chroma_where())
        return [h for h in hits if h.passage.article_id in self._complete]

    def as_llamaindex(self, options: QueryOptions | None = None):
        """This retriever as a LlamaIndex ``BaseRetriever`` returning ``NodeWithScore``s."""
        from llama_index.core.retrievers import BaseRetriever
        from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

        outer = self

        class _Retriever(BaseRetriever):
            def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
                found = outer.search(query_bundle.query_str, options)
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


def _best_similarity(hits: list[ScoredPassage]) -> float:
    """The best cosine similarity among dense ``hits`` (0 for none): the dense refusal signal."""
    return max((h.dense_score or 0.0 for h in hits), default=0.0)
