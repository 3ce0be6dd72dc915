"""Evaluation results: one ``Outcome`` per question and configuration, and the ``EvalRun`` holding them all.

Plain records, so the evaluator (``run.py``) fills them and the report (``report.py``) reads them
without importing each other. What each field means is said beside it; the metrics in ``run.py``'s
module docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """One question under one configuration: what was retrieved and answered, and how it scored."""

    config: str
    backend: str
    question_id: str
    question: str
    answerable: bool
    as_of: str | None
    gold_ids: list[str]
    retrieved: list[str]  # article id of each of the top-10 passages, best first
    hits: dict[str, bool] | None  # "hit@k" -> bool; None without gold articles
    reciprocal_rank: float | None
    best_similarity: float  # the refusal signals at the answering top_k
    coverage: float
    refused: bool
    answer: str
    mode: str  # "extractive" or "llm"; "" when not answered (retrieval only)
    correct: bool | None  # None for must-refuse questions
    citations: int
    citations_correct: int
    verified: bool | None  # None when refused
    citations_checked: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""
    f1: float | None = None  # token F1 of the answer's first sentence (metrics.lead) against the answers
    raw: str | None = None  # the LLM's own text before the citation check; None for extractive answers
    raw_correct: bool | None = None
    gold_in_context: bool | None = None  # a gold passage was among the top_k passages the answer was built from
    answer_in_gold: bool | None = None  # an accepted answer occurs in a gold article's stored title or text
    failure: str | None = None  # one of metrics.FAILURE_CLASSES; None when not asked or not answerable
    # The answer a reader sees first, alone: the LLM's checked short answer, or the extractive answer's
    # lead sentence; an LLM backend whose short answer failed the check has none (scores False).
    short_answer: str = ""
    short_correct: bool | None = None  # contains an accepted answer (as ``correct``)
    short_named: bool | None = None  # names an accepted answer or the right quiz choice (metrics.names_answer)
    # The same question answered from the gold articles' best passages only (--gold-context).
    reading_answer: str = ""
    reading_mode: str = ""  # "" when not read with gold context
    reading_raw: str | None = None
    reading_correct: bool | None = None
    reading_raw_correct: bool | None = None
    reading_f1: float | None = None
    reading_short_answer: str = ""
    reading_short_correct: bool | None = None
    reading_short_named: bool | None = None
    reading_timings_ms: dict[str, float] | None = None


@dataclass
class EvalRun:
    """Everything one evaluation produced: per-question outcomes, per-configuration summaries, skips."""

    outcomes: list[Outcome]
    summaries: list[dict[str, Any]]
    skipped: dict[str, str]  # backend -> why it was not run
    ingest: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said to the user after the run (e.g. a plot not drawn)
