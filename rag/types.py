"""The typed objects that flow between pipeline stages.

Plain dataclasses with no behaviour beyond (de)serialisation, so every stage, the CLI and the web UI
agree on one vocabulary: an ``Article`` is split into ``Passage``s, retrieval returns ``ScoredPassage``s,
and answering returns an ``Answer`` whose ``Citation``s point at exact character spans of articles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """A cleaned news article, ready to be chunked.

    ``text`` is the article body after boilerplate removal; it is otherwise verbatim, and every
    offset elsewhere (``Passage.start``, ``Citation.start``) indexes into it.
    """

    id: str
    title: str
    text: str
    date: dt.date | None = None
    source: str = ""
    url: str = ""
    authors: tuple[str, ...] = ()
    content_hash: str = ""
    origin: str = ""  # the file path or URL the article was read from
    # Why a date given in the metadata was not used ("n/a": undated), for the ingest's report; not stored.
    date_note: str = field(default="", compare=False)

    @property
    def day(self) -> int | None:
        """Publication date as a proleptic ordinal day number (what Chroma range filters compare)."""
        return self.date.toordinal() if self.date else None


@dataclass(frozen=True)
class Passage:
    """A chunk of one article: ``text == article.text[start:end]``."""

    id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str = ""
    date: dt.date | None = None
    source: str = ""
    url: str = ""
    # Reported speech in the passage: (start, end, speaker) spans, article offsets (rag.ingest.speakers);
    # None for a passage indexed before attribution existed (then computed from the text when needed).
    speakers: tuple[tuple[int, int, str], ...] | None = None


@dataclass(frozen=True)
class ScoredPassage:
    """A retrieved passage with the scores that ranked it (``score`` is the fused one)."""

    passage: Passage
    score: float
    dense_score: float | None = None  # cosine similarity to the question, when dense retrieval saw it
    bm25_score: float | None = None


@dataclass(frozen=True)
class Report:
    """One article stating a claim (or, in a ``Conflict``, contradicting it): where, and the sentence."""

    article_id: str
    title: str
    date: dt.date | None
    source: str
    url: str
    quote: str
    start: int = 0  # offsets of ``quote`` into the article text
    end: int = 0


@dataclass(frozen=True)
class Outlet:
    """The articles of one independent outlet stating a claim: an agency's story and the sites that
    carry it (``wire``: a credit or near-identical text ties them), or one outlet's own articles."""

    name: str
    reports: tuple[Report, ...]
    wire: bool = False

    @property
    def sites(self) -> list[str]:
        return list(dict.fromkeys(r.source or r.article_id for r in self.reports))


@dataclass(frozen=True)
class Conflict:
    """Another article that states the claim with another number: ``claim_value`` vs ``other_value``."""

    report: Report
    claim_value: str  # "34 charges": the cited claim's number (with the word after it)
    other_value: str  # "30 charges": the other article's
    text: str = ""  # "CNN says 34 charges; usatoday.com says 30 charges"


@dataclass(frozen=True)
class Corroboration:
    """Who states a cited claim: the cited article's outlet first, then the other independent outlets;
    ``conflicts`` the articles giving another number; ``summary`` the line every face shows."""

    outlets: tuple[Outlet, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer: the passage used and the span inside it that supports it.

    ``start``/``end`` are offsets into the article text (not into ``passage``) of the supporting
    span, ``quote == article.text[start:end]``; ``passage_start``/``passage_end`` locate the whole
    passage the same way, so a UI can show the passage and highlight the quote inside it.
    """

    number: int
    article_id: str
    title: str
    date: dt.date | None
    source: str
    url: str
    passage: str
    start: int
    end: int
    quote: str
    score: float
    passage_start: int = 0
    passage_end: int = 0
    verified: bool | None = None  # None: not checked (extractive answers quote the passage itself)
    speaker: str = ""  # who the quoted sentence is attributed to (reported speech), "" for none
    authors: tuple[str, ...] = ()  # the article's authors, when known
    corroboration: Corroboration | None = None  # who else states this quote (``answer/corroborate.py``)


@dataclass
class Answer:
    """The result of a question: text with ``[n]`` markers and the citations they refer to.

    ``evidence`` holds the sentences quoted from the articles as the evidence (what every face shows
    first), each its own numbered ``Citation``; ``text`` is the answer: the LLM's short answer with the
    ``[n]`` of the evidence sentence that states it (``mode`` "llm"), or the evidence itself, quoted
    (``mode`` "extractive"). ``citations`` is every citation ``text`` and ``evidence`` refer to.
    ``refused`` is True when the articles do not contain the answer; then ``citations`` is empty.
    ``unsupported`` lists answer sentences that no cited passage supports (LLM answers only).
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    mode: str = "extractive"
    as_of: dt.date | None = None
    unsupported: list[str] = field(default_factory=list)
    notice: str = ""  # e.g. why the extractive mode answered instead of the configured LLM
    standalone_question: str = ""  # the question after follow-up rewriting, when it differs
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence: list[Citation] = field(default_factory=list)
    evidence_from: dt.date | None = None  # the oldest and newest dated article behind the answer
    evidence_to: dt.date | None = None
    freshness: str = ""  # "The newest article on this is from 12 days ago (...)" on present-tense questions

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return _jsonable(dataclasses.asdict(self))


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows about one stored article (for listings)."""

    id: str
    title: str
    date: dt.date | None
    source: str
    url: str
    chunks: int
    content_hash: str
    origin: str = ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer, in order: ``stage`` events naming what is being done now (``stage``
    its name: "search", "write", "check"; ``text`` the line every face shows, e.g. "Reading 7 sentences,
    writing the short answer…"), ``evidence`` (an ``Answer`` holding the evidence, quoted and cited,
    before the LLM is asked), ``token`` events carrying the LLM's short answer as it is written
    (unchecked: the faces show the final answer, not these), and last ``answer``, the final, checked
    ``Answer``. A refusal is a ``search`` stage and a single ``answer`` event."""

    kind: str  # "stage" | "evidence" | "token" | "answer"
    text: str = ""
    answer: Answer | None = None
    stage: str = ""  # for kind "stage": "search" | "write" | "check"


@dataclass(frozen=True)
class TimelineEntry:
    """One article of a story timeline: its metadata and the sentence that best matches the query,
    as a ``Citation`` (``quote`` the sentence, ``start``/``end`` its offsets into the article)."""

    article_id: str
    title: str
    date: dt.date | None
    source: str
    url: str
    citation: Citation
    relevance: float  # the sentence's score: cosine similarity + half the share of the query's words


@dataclass
class Changes:
    """What is new in a story since a date: sentences of articles published after ``since`` that no
    article up to ``since`` stated, each a ``Citation``, oldest first (``answer/changes.py``)."""

    topic: str
    since: dt.date | None
    entries: list[Citation] = field(default_factory=list)
    restated: int = 0  # sentences after ``since`` left out because an earlier article stated them
    articles_before: int = 0
    articles_after: int = 0
    notice: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return _jsonable(dataclasses.asdict(self))


@dataclass
class Timeline:
    """The articles matching ``query`` in date order (undated last); empty with a ``notice`` saying why
    when none matches (filters that exclude everything, no evidence, another language)."""

    query: str
    entries: list[TimelineEntry] = field(default_factory=list)
    notice: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return _jsonable(dataclasses.asdict(self))
