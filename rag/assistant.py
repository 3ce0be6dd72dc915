"""The configured assistant: builds each pipeline stage from settings once, and holds them.

Faces (``rag.query``, the CLI, the web app, the evaluator) call an ``Assistant``; they never build
stages themselves. Every dependency can be handed to the constructor (a test passes a small real
component or a fake); whatever is not handed in is built from ``Settings`` on first use, so creating an
``Assistant`` loads no model and opens no store.

Models are heavy (the local LLM alone is 1.1 GB), so the embedding model and the LLM are kept in a
process-wide cache keyed by the settings that shape them (``components.py``): a second ``Assistant``
(or ``rag.query``'s default one) with the same settings reuses them instead of loading its own copy.
The steps of answering after retrieval (refusing, streaming the LLM) are ``rag.answer.steps``'.

Writes run beside reads: an ingest or a removal takes the writer queue (``writes.py``: one writer at a time,
in order), never the short lock that guards building the stages, so questions are answered during an ingest. They see the index as it was before the write, and the new
articles once it has committed. Managing articles for a face (uploads, pastes, URLs, deletes, re-sync,
with result lines) is ``articles.py``'s ``ArticleService``, reached as ``Assistant.library``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.answer.extractive import ExtractiveAnswerer, refusal
from rag.ingest.library import ArticleService
from rag.ingest.chunk import Chunker
from rag.ingest.articles import BadSource, make_article
from rag.embed import embedding_from, word_piece_counter
from rag.ingest.fetch import allow_private
from rag.answer.generate import LLMAnswerer
from rag.answer.steps import refusal_for, stream_llm_answer, with_authors
from rag.answer import changes as story_changes, provenance, timeline as story_timeline
from rag.components import shared_component, shared_llm
from rag.priority import QuestionsInFlight
from rag.ingest.pipeline import IngestReport, Ingestor
from rag.llm import cancel_options
from rag.retrieval.options import OPTION_NAMES, bounded_options, check_date, check_question
from rag.answer.prompts import rewrite_messages
from rag.retrieval.hybrid import HybridRetriever
from rag.settings import Settings, load_settings
from rag.retrieval.spelling import model_vocabulary
from rag.store import Store, make_client
from rag.present.text import SEARCHING
from rag.types import Answer, ArticleInfo, StreamEvent
from rag.writes import WriterQueue


class Assistant:
    """Ingest articles and answer questions about them with cited passages.

    >>> assistant = Assistant()                 # settings from rag.toml and RAG_* variables
    >>> assistant.ingest()                       # the corpus folder, incrementally
    >>> answer = assistant.query("Why did Peru declare a state of emergency?")
    >>> print(answer.text, answer.citations[0].quote)
    """

    def __init__(
        self, settings: Settings | None = None, *, embedding=None, store=None, chunker=None, answerer=None, llm=None
    ) -> None:
        """Every argument but ``settings`` is optional: a LlamaIndex embedding model or LLM, a ``Store``,
        a ``Chunker`` or an answerer handed in here is used instead of the one the settings describe."""
        self.settings = settings or load_settings()
        self._embedding = embedding
        self._embedding_given = embedding is not None
        self._background_embedding = None  # what an ingest embeds with (see ingest_embedding)
        self._store = store
        self._chunker = chunker
        self._answerer = answerer
        self._retriever = None
        self._llm = llm
        self._generator = None
        self._llm_notice = ""  # why the extractive answerer is used instead of the configured LLM
        self._llm_checked = False
        self._library = None
        # Building a stage takes this short lock; it is never held while articles are written.
        self._lock = threading.RLock()
        self._writes = WriterQueue()
        self._writing = False  # an ingest or removal of this assistant is running
        self.questions = QuestionsInFlight()  # entered around each answer; an ingest yields the cores meanwhile

    # --- stages, built on first use ------------------------------------------------------------------

    @property
    def embedding(self):
        with self._lock:
            if self._embedding is None:
                s = self.settings.embedding
                self._embedding = shared_component(("embedding", s), lambda: embedding_from(s))
            return self._embedding

    @property
    def ingest_embedding(self):
        """The embedding an ingest uses: full priority, but ``ingest_nice`` while questions are being
        answered, so they get the cores first (``priority.ingest_embedding``)."""
        with self._lock:
            if self._background_embedding is None:
                from rag.priority import ingest_embedding

                given = self._embedding_given
                self._background_embedding = ingest_embedding(lambda: self.embedding, self.settings, self.questions, given=given)
            return self._background_embedding

    @property
    def store(self):
        with self._lock:
            if self._store is None:
                s = self.settings.storage
                client = make_client(data_dir=s.data_dir, host=s.chroma_host, port=s.chroma_port, ssl=s.chroma_ssl)
                self._store = Store(client, s.collection)
            return self._store

    def _embed_model_dir(self) -> Path | None:
        """The configured embedding model's folder (its vocabulary counts word pieces), None for the bundled one."""
        path = self.settings.embedding.embed_model_path
        return Path(path) if path else None

    @property
    def chunker(self):
        with self._lock:
            if self._chunker is None:
                s = self.settings
                self._chunker = Chunker(word_piece_counter(self._embed_model_dir()), s.ingest.chunk_size, s.ingest.chunk_overlap)
            return self._chunker

    @property
    def retriever(self):
        with self._lock:
            if self._retriever is None:
                s = self.settings
                model_dir = self._embed_model_dir()
                self._retriever = HybridRetriever(
                    self.store,
                    self.embedding,
                    s.retrieval,
                    cache_dir=s.storage.data_dir / "cache" / "bm25",
                    known_words=lambda: model_vocabulary(model_dir),
                )
                # Built while a write runs: keep to the index as it stands until the write commits.
                self._retriever.paused = self._writing
            return self._retriever

    @property
    def answerer(self):
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(self.embedding, self.settings.answer)
            return self._answerer

    @property
    def generator(self):
        """The LLM answerer, or None when answers are extractive (``llm_status`` says why)."""
        with self._lock:
            if not self._llm_checked:
                self._llm_checked = True
                llm = self._llm
                if llm is None:
                    llm, self._llm_notice = shared_llm(self.settings)
                if llm is not None:
                    self._llm = llm
                    self._generator = LLMAnswerer.build(llm, self.answerer, self.settings)
            return self._generator

    @property
    def llm(self):
        """The LlamaIndex LLM that writes answers, or None in extractive mode (``llm_status`` says why)."""
        self.generator  # builds it (and the LLM) on first use
        return self._llm

    def llm_status(self) -> str:
        """One line saying which LLM answers, or that the extractive mode is on and why."""
        generator = self.generator
        if generator is None:
            return self._llm_notice or "extractive mode"
        return f"LLM: {generator.model_name}"

    # --- articles ------------------------------------------------------------------------------------

    @property
    def library(self):
        """The ``ArticleService``: add files, pasted text and URLs, delete, re-sync, with result lines."""
        with self._lock:
            if self._library is None:
                self._library = ArticleService(self)
            return self._library

    @property
    def feeds(self):
        """The ``FeedService`` (``feeds.py``): RSS/Atom subscriptions, refreshes and one-off feed ingests."""
        from rag.ingest.feeds import FeedService

        with self._lock:
            self._feeds = getattr(self, "_feeds", None) or FeedService(self)
            return self._feeds

    def article(self, article_id: str):
        """The whole indexed ``Article`` with this id (text, title, date, source, url), or None."""
        return self.store.article(article_id)

    def ingest(
        self,
        sources: Iterable[str | Path] | None = None,
        *,
        sync: bool = False,
        show_progress: bool = False,
        on_progress=None,
        served_beyond_localhost: bool = False,
    ):
        """Index ``sources`` (default: the corpus folder); returns an ``IngestReport``.

        Writes are queued (one at a time, in order); questions asked meanwhile are answered from the
        index as it was, and see the new articles once this returns. ``served_beyond_localhost``: the
        caller is an app reachable from other machines, so URLs may not reach private or loopback
        addresses unless the ``fetch_allow_private`` setting says so.
        """
        s = self.settings
        ingestor = Ingestor(
            self.store,
            self.ingest_embedding,
            self.chunker,
            s.ingest,
            allow_private=allow_private(s.ingest.fetch_allow_private, served_beyond_localhost=served_beyond_localhost),
        )
        sources = list(sources) if sources else [s.storage.corpus_dir]
        with self._writing_batch():
            report = ingestor.ingest(sources, sync=sync, show_progress=show_progress, on_progress=on_progress)
        changed = set(report.added) | set(report.updated)
        if changed:  # a date after today is likely a typo or a parse error: say so (retrieval gives it no recency boost)
            today = dt.date.today()
            report.future_dated = [(a.id, a.date) for a in self.articles() if a.id in changed and a.date and a.date > today]
        return report

    def writes_pending(self) -> int:
        """Writes (ingests, removals) running or waiting their turn right now."""
        return self._writes.waiting()

    def ingest_text(self, text: str, *, title: str = "", date: str | dt.date | None = None, url: str = "", source: str = ""):
        """Index pasted text as an article (cleaned like a file); returns an ``IngestReport``."""
        date = check_date(date, "date")  # an unreadable date is an error, not silently "undated"
        try:
            article = make_article(text, origin="pasted", title=title or None, date=date, url=url, source=source)
        except BadSource as error:
            return IngestReport(failed=[("pasted text", str(error))])
        # Pasted articles are identified by their content, so pasting the same text twice is a no-op.
        article = dataclasses.replace(article, id=f"p_{article.content_hash[:16]}")
        return self.ingest([article])

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles, newest first."""
        return self.store.articles()

    def remove(self, article_ids: Iterable[str]) -> int:
        """Delete articles (and their passages) by id; returns how many existed (queued like ``ingest``).
        Any write first finishes what a killed one left (``Store.repair``): ``remove([])`` does only that."""
        with self._writing_batch():
            self.store.repair()  # a removal killed earlier is finished first
            return self.store.remove(article_ids)

    @contextlib.contextmanager
    def _writing_batch(self):
        """Hold the writer queue; pause the retriever's store polling meanwhile and refresh it after."""
        with self._writes:
            with self._lock:
                self._writing = True
                if self._retriever is not None:
                    self._retriever.paused = True
            try:
                yield
            finally:
                with self._lock:
                    self._writing = False
                    retriever = self._retriever
                if retriever is not None:
                    # Rebuilt outside the stage lock; queries keep using the old index until it is
                    # swapped in, and polling resumes only then (else a query would rebuild it too).
                    retriever.refresh()
                    retriever.paused = False

    # --- questions -----------------------------------------------------------------------------------

    def retrieve(
        self,
        question: str,
        *,
        top_k: int | None = None,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        sources: Iterable[str] | None = None,
        article_ids: Iterable[str] | None = None,
        as_of: dt.date | str | None = None,
    ):
        """Ranked passages for ``question`` (a ``Retrieval``), without composing an answer.

        Raises ``TypeError``/``ValueError`` for invalid options (see ``rag.retrieval.options.query_options``).
        """
        question = check_question(question, self.settings.retrieval.max_question_chars)
        options = bounded_options(
            self.settings.retrieval.max_top_k, top_k=top_k, date_from=date_from, date_to=date_to, sources=sources,
            article_ids=article_ids, as_of=as_of,
        )  # fmt: skip
        return self._retrieve(question, options)

    def _retrieve(self, question: str, options):
        return self.retriever.search(question, options)

    def query(self, question: str, **options) -> Answer:
        """Answer ``question`` from the articles, citing the passages used.

        Options: ``top_k``, ``date_from``, ``date_to``, ``sources``, ``article_ids`` and ``as_of``
        (the day the question is asked; articles published after it are ignored), and ``llm=False``
        for the extractive answer. When the best evidence is too weak the answer says the articles
        don't contain it (``Answer.refused``) and no LLM is called.
        """
        final = None
        for event in self.stream(question, **options):
            final = event.answer or final
        return final

    def stream(self, question: str, *, llm: bool = True, stop=None, **options) -> Iterator[StreamEvent]:
        """Like ``query``, but yields the answer's steps as ``StreamEvent``s: a ``stage`` event ("search")
        first; then with an LLM the ``evidence`` event as soon as it is ready, the ``write`` stage, the LLM's
        ``token`` events while it writes the short answer, the ``check`` stage, then the ``answer`` event;
        without one (or for a refusal) the ``answer`` event after the search stage.

        In order: the options are checked (a bad one is one clear ``TypeError``/``ValueError``); retrieval; a
        refusal when it found nothing to answer from (``refusal_for``); else the evidence and the LLM's short
        answer (``stream_llm_answer``), or the evidence alone; cited articles' authors are added (``with_authors``).
        A notice says why the LLM did not answer when it was wanted (the answerer's own notice wins over it).
        ``stop`` (a ``threading.Event``): once set, the LLM stops at once, even while reading its prompt."""
        return with_authors(self._events(question, llm=llm, stop=stop, **options), self.store.authors)

    def _events(self, question: str, *, llm: bool, stop, **options) -> Iterator[StreamEvent]:
        question = check_question(question, self.settings.retrieval.max_question_chars)
        unknown = sorted(set(options) - set(OPTION_NAMES))
        if unknown:
            raise TypeError(f"unknown option {', '.join(unknown)}; the options are {', '.join(OPTION_NAMES)} and llm")
        checked = bounded_options(self.settings.retrieval.max_top_k, **options)
        started = time.perf_counter()
        as_of = checked.as_of
        if not question:
            yield StreamEvent("answer", answer=refusal(question, as_of=as_of, mode="refused"))
            return
        with self.questions:
            yield StreamEvent("stage", SEARCHING, stage="search")
            retrieval = self._retrieve(question, checked)
            timings = {"retrieval": retrieval.timings_ms.get("total", 0.0)}
            generator = self.generator if llm else None
            notice = "" if generator or not llm else self._llm_notice
            answer = refusal_for(question, checked, retrieval, timings, self.articles)
            if answer is None and generator is not None:
                passages = retrieval.passages
                answer, failure = yield from stream_llm_answer(generator, self.answerer, question, passages, as_of, timings, started, stop=stop)
                notice = failure or notice
            elif answer is None:
                t = time.perf_counter()
                answer = self.answerer.answer(question, retrieval.passages, as_of=as_of, timings_ms=timings)
                timings["answer"] = (time.perf_counter() - t) * 1000
                timings["evidence"] = (time.perf_counter() - started) * 1000  # the evidence is the whole answer here
            if notice and not answer.notice:
                answer.notice = notice
            if answer.refused:  # nothing answered: "extractive" or "llm" would claim a backend did
                answer.mode = "refused"
            answer = provenance.annotate(self, answer, question, timings)  # corroboration, evidence dates, freshness
            timings["total"] = (time.perf_counter() - started) * 1000
            yield StreamEvent("answer", answer=answer)

    def timeline(self, query: str, *, date_from=None, date_to=None, sources=None, as_of=None, limit: int | None = None):
        """The story ``query`` as a ``Timeline`` (``timeline.py``): its articles in date order, each with its best sentence, cited."""
        return story_timeline.timeline(self, query, date_from=date_from, date_to=date_to, sources=sources, as_of=as_of, limit=limit)

    def changes(self, topic: str, *, since, **options):
        """What is new in story ``topic`` since ``since``: a ``Changes`` (``changes.py``); filters as for ``timeline``."""
        return story_changes.changes(self, topic, since=since, **options)

    def rewrite_followup(self, question: str, history: list[tuple[str, str]], stop=None) -> str:
        """``question`` made standalone using ``history`` ((question, answer text) pairs), via the LLM.

        Returns ``question`` as asked when there is no history, no LLM, rewriting is turned off, the LLM
        wrote no new question, or ``stop`` (a ``threading.Event``, which ends the LLM call at once) was set.
        Checked first like any question (``InvalidOption`` when too long), so the LLM never reads one.
        """
        checked = check_question(question, self.settings.retrieval.max_question_chars)
        if not history or not self.settings.answer.rewrite_followups or self.generator is None:
            return question  # not the checked text: whitespace mended is no rewrite (no standalone_question)
        text = ""
        try:
            # Streamed so we can stop at the end of the first line: small models sometimes go on.
            for response in self._llm.stream_chat(rewrite_messages(checked, history), **cancel_options(self._llm, stop)):
                text += response.delta or ""
                if "\n" in text.strip():
                    break
        except Exception:
            return question  # rewriting is an aid; the original question still works
        rewritten = (text.strip().strip('"').splitlines() or [""])[0].strip()
        stopped = stop is not None and stop.is_set()  # its line may be cut short
        return question if stopped or rewritten in ("", checked) else rewritten
