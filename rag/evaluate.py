"""Evaluation: how well retrieval, answering and refusal work on a question set with known answers.

``python -m rag eval --questions FILE --corpus SOURCE`` indexes ``SOURCE`` into a collection of its own
(``eval_<hash of the corpus content>`` in the configured data dir, so the user's index is
untouched and a second run re-uses it through the incremental ingest), then asks every question under
every *configuration*: a retrieval setting (``bm25``, ``dense``, ``hybrid``; a bare mode keeps the
user's recency setting, ``MODE:0`` turns recency off, ``MODE:W:HL`` sets weight and half-life) crossed with an answer backend (``extractive``, or an LLM backend named like ``settings.llm``).
Each configuration is an ``Assistant`` built from the user's settings with a few fields changed, and all
of them share one embedding model and one store, so nothing is loaded or indexed twice.

Measured per configuration:

* retrieval ``hit@1/5/10`` and ``mrr`` on gold article ids, over the *articles* of the top 10 passages
  in rank order (a hit@k when one of the first k distinct articles is gold, comparable with article-level
  retrieval such as the BM25-over-articles reference);
* ``answer_accuracy``: an accepted answer appears in the answer text after :func:`normalise`;
* ``citation_precision``: share of citations whose article is gold or whose passage contains an
  accepted answer;
* ``verified_rate``: share of (non-refused) answers whose every citation has ``verified`` not False.
  Extractive citations quote the passage itself and are never checked (``verified is None``); they count
  as verified, and ``checked_rate`` says how many citations were actually checked;
* ``refusal_answerable`` (lower is better) and ``refusal_unanswerable`` (higher is better);
* ``extractive_fallback_rate`` (LLM backends): answers the LLM wrote but the citation check rejected;
* latency p50/p95 per stage (retrieval, answer or generation, first token, total) from ``Answer.timings_ms``;
* the refusal signals of both question sets (``Retrieval.best_similarity``, the best dense cosine, and
  ``Retrieval.coverage``) and the thresholds that would best separate them (balanced accuracy):
  ``suggested_min_evidence`` at the configured ``min_coverage``, and ``suggested_joint`` for both.

``--retrieval-only`` skips answering (retrieval metrics and refusal signals only), for quick sweeps
such as recency weights. The metric functions at the top are small and pure so they can be tested by hand. Outputs: a table on
the terminal and, with ``--out``, ``summary.json``, ``results.jsonl`` and ``comparison.png``
(matplotlib, extra ``eval``). What an answer *is* — retrieval, answering, refusal — stays the
``Assistant``'s; this module only asks and scores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from .clean import parse_date
from .types import Answer

HIT_KS = (1, 5, 10)
RETRIEVAL_TOP_K = max(HIT_KS)
MODES = ("hybrid", "dense", "bm25")
SUMMARY_KEYS = (  # at least these, in every summary.json object
    "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "citation_precision", "verified_rate",
    "refusal_answerable", "refusal_unanswerable", "p50_ms", "p95_ms",
)  # fmt: skip

# --- metric functions (pure) -----------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                         "\u00ab": '"', "\u00bb": '"'})  # fmt: skip


def normalise(text: str) -> str:
    """Lower-case ``text``, fold accents and curly quotes, turn punctuation into spaces, squeeze spaces.

    ``“Squid Game”`` and ``"squid game"`` both become ``squid game``; ``José`` becomes ``jose``.
    """
    text = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any accepted answer occurs in ``text`` as whole words, after :func:`normalise`.

    Whole words: ``"10"`` is not found in ``"100 people"``. An empty answer never matches.
    """
    haystack = f" {normalise(text)} "
    return any((needle := normalise(a)) and f" {needle} " in haystack for a in answers)


def hit_at_k(ranked_article_ids: Sequence[str], gold: Iterable[str], k: int) -> bool:
    """Whether any of the first ``k`` ranked passages (given by their article ids) is from a gold article."""
    gold = set(gold)
    return any(a in gold for a in ranked_article_ids[:k])


def reciprocal_rank(ranked_article_ids: Sequence[str], gold: Iterable[str]) -> float:
    """1 / rank of the first passage from a gold article (ranks start at 1); 0 when there is none."""
    gold = set(gold)
    return next((1.0 / rank for rank, a in enumerate(ranked_article_ids, 1) if a in gold), 0.0)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; ``None`` for no values (a metric that does not apply, not a zero)."""
    values = list(values)
    return sum(values) / len(values) if values else None


def mrr(reciprocal_ranks: Iterable[float]) -> float | None:
    """Mean reciprocal rank over questions (see :func:`reciprocal_rank`)."""
    return mean(reciprocal_ranks)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) with linear interpolation between ranks, like ``numpy.percentile``."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def citation_is_correct(article_id: str, passage: str, gold: Iterable[str], answers: Iterable[str]) -> bool:
    """A citation is correct when its article is gold or its passage contains an accepted answer."""
    return article_id in set(gold) or contains_answer(passage, answers)


def citation_precision(citations: Iterable[Any], gold: Iterable[str], answers: Iterable[str]) -> tuple[int, int]:
    """(correct, total) citations of one answer; pooled over questions by the caller."""
    gold, answers = set(gold), list(answers)
    judged = [citation_is_correct(c.article_id, c.passage, gold, answers) for c in citations]
    return sum(judged), len(judged)


def all_verified(citations: Iterable[Any]) -> bool:
    """True unless a citation was checked and failed (``verified is False``); unchecked counts as verified."""
    return all(c.verified is not False for c in citations)


def refuses(similarity: float, coverage: float, min_evidence: float, min_coverage: float) -> bool:
    """The retriever's refusal rule: both the best dense similarity and the lexical coverage are low."""
    return similarity < min_evidence and coverage < min_coverage


def refusal_rate(signals: Sequence[tuple[float, float]], min_evidence: float, min_coverage: float = math.inf) -> float:
    """Share of questions refused, given each one's (best similarity, coverage) and the two thresholds.

    The default ``min_coverage=inf`` leaves the decision to the similarity alone.
    """
    if not signals:
        return math.nan
    return sum(refuses(s, c, min_evidence, min_coverage) for s, c in signals) / len(signals)


def balanced_accuracy(
    answerable: Sequence[tuple[float, float]],
    unanswerable: Sequence[tuple[float, float]],
    min_evidence: float,
    min_coverage: float = math.inf,
) -> float:
    """Mean of the share of answerable questions answered and the share of must-refuse ones refused."""
    return (refusal_rate(unanswerable, min_evidence, min_coverage) + 1 - refusal_rate(answerable, min_evidence, min_coverage)) / 2


def _cut_points(values: Iterable[float]) -> list[float]:
    # Every distinct way of splitting the observed values: below all, between neighbours, above all.
    ordered = sorted(set(values))
    return [ordered[0] - 1e-9] + [(a + b) / 2 for a, b in pairwise(ordered)] + [ordered[-1] + 1e-9]


def best_thresholds(
    answerable: Sequence[tuple[float, float]], unanswerable: Sequence[tuple[float, float]], *, min_coverage: float | None = None
) -> tuple[float, float, float]:
    """The (``min_evidence``, ``min_coverage``, balanced accuracy) that best separates the two sets.

    Inputs are each question's (best similarity, coverage). With ``min_coverage`` given, only
    ``min_evidence`` is searched (``math.inf`` for similarity alone). Candidates are midpoints between
    observed values; among equally good ones the lowest thresholds (fewest refusals) win.
    """
    if not answerable or not unanswerable:
        return math.nan, math.nan, math.nan
    both = [*answerable, *unanswerable]
    coverages = [min_coverage] if min_coverage is not None else _cut_points(c for _, c in both)
    best = (math.nan, math.nan, -1.0)
    for coverage in coverages:
        for evidence in _cut_points(s for s, _ in both):
            score = balanced_accuracy(answerable, unanswerable, evidence, coverage)
            if score > best[2] + 1e-12:
                best = (evidence, coverage, score)
    return best


# --- questions and configurations -----------------------------------------------------------------


@dataclass(frozen=True)
class EvalQuestion:
    """One question: accepted answers, gold articles (by id or by file name), the day it is asked."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    gold_ids: tuple[str, ...] = ()
    gold_origin_names: tuple[str, ...] = ()  # file names, for sets that must not depend on paths
    as_of: dt.date | None = None
    answerable: bool = True

    @property
    def has_gold(self) -> bool:
        return bool(self.gold_ids or self.gold_origin_names)


def load_questions(path: str | Path, *, answerable: bool = True, limit: int | None = None) -> list[EvalQuestion]:
    """Read a JSONL question file.

    Fields: ``question``; accepted answers as ``answer_text`` or ``answers`` (a list or one string);
    optional ``gold_doc_ids``, ``gold_origin_names``, ``question_date`` or ``as_of``, and ``question_id``
    or ``id``. ``answerable=False`` marks a must-refuse set (its answers, if any, are ignored).
    """
    questions = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            answers = record.get("answer_text", record.get("answers")) or []
            answers = [answers] if isinstance(answers, str) else answers
            questions.append(
                EvalQuestion(
                    id=str(record.get("question_id") or record.get("id") or f"{Path(path).stem}:{number}"),
                    question=record["question"],
                    answers=tuple(str(a) for a in answers) if answerable else (),
                    gold_ids=tuple(record.get("gold_doc_ids") or ()),
                    gold_origin_names=tuple(record.get("gold_origin_names") or ()),
                    as_of=parse_date(record.get("question_date") or record.get("as_of")),
                    answerable=answerable,
                )
            )
            if limit and len(questions) >= limit:
                break
    return questions


@dataclass(frozen=True)
class RetrievalConfig:
    """A retrieval setting to compare: ``mode`` plus an optional recency boost."""

    mode: str
    recency_weight: float | None = None  # None: the user's setting
    recency_half_life_days: float | None = None  # None: the user's setting

    @property
    def name(self) -> str:
        if self.recency_weight is None:
            return self.mode
        if not self.recency_weight:
            return f"{self.mode}:0"
        return f"{self.mode}:{self.recency_weight:g}:{self.recency_half_life_days or 0:g}"

    def updates(self) -> dict[str, Any]:
        """The ``Settings`` fields this configuration changes."""
        changes: dict[str, Any] = {"retrieval_mode": self.mode}
        if self.recency_weight is not None:
            changes["recency_weight"] = self.recency_weight
        if self.recency_half_life_days:
            changes["recency_half_life_days"] = self.recency_half_life_days
        return changes


def parse_configs(spec: str, default_half_life: float = 14.0) -> list[RetrievalConfig]:
    """``"hybrid,dense,bm25,hybrid:1:30"`` → configurations; each item is ``MODE[:WEIGHT[:HALF_LIFE_DAYS]]``."""
    configs = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        mode, *numbers = item.split(":")
        if mode not in MODES or len(numbers) > 2:
            raise ValueError(f"bad configuration {item!r}: use MODE[:RECENCY_WEIGHT[:HALF_LIFE_DAYS]], MODE one of {', '.join(MODES)}")
        weight = float(numbers[0]) if numbers else None
        half_life = float(numbers[1]) if len(numbers) > 1 else (default_half_life if weight else None)
        configs.append(RetrievalConfig(mode, weight, half_life))
    return configs


def corpus_collection(source: str | Path) -> str:
    """A Chroma collection name keyed by the corpus content: ``eval_`` + 12 hex of a sha256.

    The hash covers each file's bytes (and, for a folder, its relative names), not paths or mtimes, so
    the same corpus copied or re-mounted elsewhere finds its index again, and an edited one gets a
    fresh collection. Hashing the 13 MB RealTimeQA file takes about 50 ms.
    """
    path = Path(source).expanduser().resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else "").encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "eval_" + digest.hexdigest()[:12]


# --- running ---------------------------------------------------------------------------------------


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


@dataclass
class EvalRun:
    """Everything one evaluation produced: per-question outcomes, per-configuration summaries, skips."""

    outcomes: list[Outcome]
    summaries: list[dict[str, Any]]
    skipped: dict[str, str]  # backend -> why it was not run
    ingest: dict[str, Any] = field(default_factory=dict)


class Evaluator:
    """Asks a question set under several configurations of one base ``Assistant`` and scores the answers.

    ``embedding``/``store`` may be handed in (as to ``Assistant``); otherwise the base assistant builds
    them from ``settings`` once and every configuration borrows them, as it borrows one LLM per backend.
    """

    def __init__(self, settings, *, corpus: str | Path, embedding=None, store=None) -> None:
        from .assistant import Assistant

        self.corpus = Path(corpus)
        self.settings = settings.model_copy(update={"collection": corpus_collection(corpus)})
        self.base = Assistant(self.settings, embedding=embedding, store=store)
        self.aliases: dict[str, str] = {}  # article id -> the id its text is stored under (duplicates)
        self._llms: dict[str, Any] = {}  # backend -> the LlamaIndex LLM loaded for it

    def ingest(self, *, show_progress: bool = True) -> dict[str, Any]:
        """Index the corpus into the evaluation collection (incremental) and note duplicate ids."""
        report = self.base.ingest([self.corpus], show_progress=show_progress)
        self.aliases = {dup: owner for dup, owner in report.duplicates}
        return {
            "collection": self.settings.collection,
            "data_dir": str(self.settings.data_dir),
            "added": len(report.added),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "duplicates": len(report.duplicates),
            "failed": len(report.failed),
            "passages_embedded": report.passages,
            "passages_stored": self.base.store.count_passages(),
            "seconds": round(report.seconds, 1),
        }

    def assistant(self, config: RetrievalConfig, backend: str):
        """An ``Assistant`` for one configuration, sharing the embedding model, store and LLM."""
        from .assistant import Assistant

        settings = self.settings.model_copy(update={**config.updates(), "llm": backend if backend != "none" else "extractive"})
        return Assistant(settings, embedding=self.base.embedding, store=self.base.store, llm=self._llms.get(backend))

    def unavailable(self, backend: str) -> str | None:
        """Why ``backend`` cannot answer here (``None`` when it can); loads its LLM once when it can."""
        if backend == "extractive" or backend in self._llms:
            return None
        assistant = self.assistant(RetrievalConfig("hybrid"), backend)
        generator = getattr(assistant, "generator", None)  # the Assistant's LLM answerer, None if unavailable
        if generator is None:
            status = getattr(assistant, "llm_status", None)
            return status() if status else "this Assistant has no LLM answerer"
        self._llms[backend] = generator.llm
        return None

    def gold_ids(self, questions: Sequence[EvalQuestion]) -> dict[str, set[str]]:
        """Each question's gold article ids as stored: given ids (through duplicate aliases) and file names."""
        by_name: dict[str, set[str]] = {}
        if any(q.gold_origin_names for q in questions):
            for info in self.base.articles():
                by_name.setdefault(Path(info.origin).name, set()).add(info.id)
        gold = {}
        for q in questions:
            ids = {self.aliases.get(i, i) for i in q.gold_ids}
            for name in q.gold_origin_names:
                ids |= by_name.get(name, set())
            gold[q.id] = ids
        return gold

    def run(
        self,
        questions: Sequence[EvalQuestion],
        configs: Sequence[RetrievalConfig],
        backends: Sequence[str] = ("extractive",),
        *,
        answers: bool = True,
        show_progress: bool = True,
    ) -> EvalRun:
        """Ask every question under every (retrieval configuration × backend); return outcomes and summaries.

        With ``answers=False`` nothing is answered (backends are ignored, reported as ``"none"``): only
        retrieval metrics and the refusal signals, with ``refused`` the retriever's ``weak`` decision.
        """
        from tqdm import tqdm

        gold = self.gold_ids(questions)
        skipped = {b: reason for b in backends if answers and (reason := self.unavailable(b))}
        backends = [b for b in backends if b not in skipped] if answers else ["none"]
        outcomes: list[Outcome] = []
        summaries = []
        with tqdm(
            total=len(questions) * len(configs) * len(backends), desc="eval", unit=" q", disable=not show_progress, dynamic_ncols=True
        ) as bar:
            for backend in backends:
                for number, config in enumerate(configs):
                    bar.set_postfix_str(f"{config.name}/{backend}")
                    assistant = self.assistant(config, backend)
                    # Keep one-off costs out of the timed questions: the BM25 index, and on the first
                    # configuration of a backend the lazy imports and first model runs.
                    assistant.retriever.refresh()
                    if number == 0 and questions and answers:
                        assistant.query(questions[0].question, as_of=questions[0].as_of)
                    done = []
                    for question in questions:
                        done.append(self._ask(assistant, question, gold[question.id], config.name, backend, answers))
                        bar.update(1)
                    outcomes.extend(done)
                    summaries.append(summarise(done, config, backend, self.settings))
        return EvalRun(outcomes, summaries, skipped)

    def _ask(self, assistant, q: EvalQuestion, gold: set[str], config: str, backend: str, answers: bool = True) -> Outcome:
        # Retrieval metrics at top 10; the refusal signals at the top_k the answer uses; then the
        # answer exactly as a user asking on q.as_of gets it.
        passages = assistant.retrieve(q.question, top_k=RETRIEVAL_TOP_K, as_of=q.as_of).passages
        ranked = list(dict.fromkeys(hit.passage.article_id for hit in passages))  # articles, in rank order
        signals = assistant.retrieve(q.question, as_of=q.as_of)
        if answers:
            answer = assistant.query(q.question, as_of=q.as_of)
        else:
            took = signals.timings_ms.get("total", 0.0)
            answer = Answer(q.question, "", refused=signals.weak, mode="", timings_ms={"retrieval": took, "total": took})
        good, total = citation_precision(answer.citations, gold, q.answers) if q.answerable else (0, len(answer.citations))
        return Outcome(
            config=config,
            backend=backend,
            question_id=q.id,
            question=q.question,
            answerable=q.answerable,
            as_of=q.as_of.isoformat() if q.as_of else None,
            gold_ids=sorted(gold),
            retrieved=ranked,
            hits={f"hit@{k}": hit_at_k(ranked, gold, k) for k in HIT_KS} if gold else None,
            reciprocal_rank=reciprocal_rank(ranked, gold) if gold else None,
            best_similarity=round(float(signals.best_similarity), 4),
            coverage=round(float(getattr(signals, "coverage", 0.0)), 4),
            refused=answer.refused,
            answer=answer.text,
            mode=answer.mode,
            correct=(not answer.refused and contains_answer(answer.text, q.answers)) if q.answerable and answers else None,
            citations=total,
            citations_correct=good,
            verified=None if answer.refused or not answers else all_verified(answer.citations),
            citations_checked=sum(c.verified is not None for c in answer.citations),
            timings_ms={k: round(v, 1) for k, v in answer.timings_ms.items()},
            notice=answer.notice,
        )


# Answer.timings_ms names a stage "answer" for extractive answers and "generation" for LLM ones.
STAGES = {"retrieval": ("retrieval",), "answer": ("answer", "generation"), "first_token": ("first_token",), "total": ("total",)}


def stage_ms(timings: dict[str, float], stage: str) -> float | None:
    """The time of ``stage`` (see ``STAGES``) in one answer's ``timings_ms``, if it ran."""
    return next((timings[key] for key in STAGES[stage] if key in timings), None)


def summarise(outcomes: Sequence[Outcome], config: RetrievalConfig, backend: str, settings=None) -> dict[str, Any]:
    """One configuration's metrics (see the module docstring); ``None`` where a metric does not apply.

    With ``settings``, also the refusal thresholds that would best separate the two question sets:
    ``min_evidence`` alone at the configured ``min_coverage``, and both together.
    """
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    with_gold = [o for o in answerable if o.hits is not None]
    asked = [o for o in answerable if o.mode]  # empty when the run did not answer (retrieval only)
    answered = [o for o in outcomes if o.mode and not o.refused]
    cited = sum(o.citations for o in answerable)
    all_citations = sum(o.citations for o in outcomes)

    def rate(flags: Iterable[bool]) -> float | None:
        return mean(1.0 if f else 0.0 for f in flags)

    summary: dict[str, Any] = {
        "config": f"{config.name}/{backend}",
        "retrieval_mode": config.mode,
        "recency_weight": config.recency_weight if config.recency_weight is not None else getattr(settings, "recency_weight", None),
        "recency_half_life_days": config.recency_half_life_days or getattr(settings, "recency_half_life_days", None),
        "backend": backend,
        "questions": len(answerable),
        "questions_with_gold": len(with_gold),
        "must_refuse_questions": len(unanswerable),
        **{f"hit@{k}": rate(o.hits[f"hit@{k}"] for o in with_gold) for k in HIT_KS},
        "mrr": mrr(o.reciprocal_rank for o in with_gold),
        "answer_accuracy": rate(o.correct for o in asked),
        "citation_precision": sum(o.citations_correct for o in answerable) / cited if cited else None,
        "verified_rate": rate(o.verified for o in answered),
        "checked_rate": sum(o.citations_checked for o in outcomes) / all_citations if all_citations else None,
        "extractive_fallback_rate": rate(o.mode == "extractive" for o in answered) if backend != "extractive" else None,
        "refusal_answerable": rate(o.refused for o in answerable),
        "refusal_unanswerable": rate(o.refused for o in unanswerable),
    }
    for stage in STAGES:
        times = [t for o in outcomes if (t := stage_ms(o.timings_ms, stage)) is not None]
        prefix = "" if stage == "total" else f"{stage}_"
        summary[f"{prefix}p50_ms"] = percentile(times, 50)
        summary[f"{prefix}p95_ms"] = percentile(times, 95)
    summary.update(refusal_calibration(answerable, unanswerable, settings))
    return summary


def refusal_calibration(answerable: Sequence[Outcome], unanswerable: Sequence[Outcome], settings=None) -> dict[str, Any]:
    """The refusal signals of both sets, and the thresholds that would separate them best."""
    yes = [(o.best_similarity, o.coverage) for o in answerable]
    no = [(o.best_similarity, o.coverage) for o in unanswerable]
    result: dict[str, Any] = {
        "best_similarity_answerable_p50": percentile((s for s, _ in yes), 50),
        "best_similarity_unanswerable_p50": percentile((s for s, _ in no), 50),
        "coverage_answerable_p50": percentile((c for _, c in yes), 50),
        "coverage_unanswerable_p50": percentile((c for _, c in no), 50),
    }
    if not yes or not no or settings is None:
        return result
    evidence, _, balanced = best_thresholds(yes, no, min_coverage=settings.min_coverage)
    joint_evidence, joint_coverage, joint_balanced = best_thresholds(yes, no)
    result |= {
        "suggested_min_evidence": round(evidence, 4),
        "balanced_accuracy_at_suggested": round(balanced, 4),
        "balanced_accuracy_current": round(balanced_accuracy(yes, no, settings.min_evidence, settings.min_coverage), 4),
        "suggested_joint": {
            "min_evidence": round(joint_evidence, 4),
            "min_coverage": round(joint_coverage, 4),
            "balanced_accuracy": round(joint_balanced, 4),
        },
    }
    return result


# --- output ----------------------------------------------------------------------------------------

_TABLE = [  # (header, summary key, format)
    ("config", "config", "{}"),
    ("hit@1", "hit@1", "{:.3f}"),
    ("hit@5", "hit@5", "{:.3f}"),
    ("hit@10", "hit@10", "{:.3f}"),
    ("MRR", "mrr", "{:.3f}"),
    ("acc", "answer_accuracy", "{:.3f}"),
    ("cit.prec", "citation_precision", "{:.3f}"),
    ("verified", "verified_rate", "{:.3f}"),
    ("refuse:ans", "refusal_answerable", "{:.3f}"),
    ("refuse:unans", "refusal_unanswerable", "{:.3f}"),
    ("p50 ms", "p50_ms", "{:.0f}"),
    ("p95 ms", "p95_ms", "{:.0f}"),
]


def format_table(summaries: Sequence[dict[str, Any]]) -> str:
    """The summaries as an aligned text table ("-" where a metric does not apply)."""
    rows = [[h for h, _, _ in _TABLE]]
    for s in summaries:
        rows.append(["-" if s.get(key) is None else fmt.format(s[key]) for _, key, fmt in _TABLE])
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_outputs(run: EvalRun, out: Path) -> list[Path]:
    """Write ``summary.json``, ``results.jsonl``, ``run.json`` and ``comparison.png`` into ``out``."""
    import dataclasses

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(run.summaries, indent=2) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for outcome in run.outcomes:
            handle.write(json.dumps(dataclasses.asdict(outcome), ensure_ascii=False) + "\n")
    (out / "run.json").write_text(json.dumps({"ingest": run.ingest, "skipped": run.skipped}, indent=2) + "\n", encoding="utf-8")
    written = [out / "summary.json", out / "results.jsonl", out / "run.json"]
    if run.summaries:
        written.append(plot_comparison(run.summaries, out / "comparison.png"))
    return written


def plot_comparison(summaries: Sequence[dict[str, Any]], path: Path) -> Path:
    """Grouped bars of the quality metrics and of latency, one group per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = ["hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "citation_precision", "refusal_answerable", "refusal_unanswerable"]
    latency = ["retrieval_p50_ms", "answer_p50_ms", "p50_ms", "p95_ms"]
    names = [s["config"] for s in summaries]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(10, 1.4 * len(names) + 6), 9), height_ratios=[3, 2])
    for axis, metrics, label in ((top, quality, "share"), (bottom, latency, "ms")):
        width = 0.8 / len(metrics)
        for i, metric in enumerate(metrics):
            values = [s.get(metric) or 0.0 for s in summaries]
            axis.bar([x + i * width for x in range(len(names))], values, width, label=metric)
        axis.set_xticks([x + 0.4 - width / 2 for x in range(len(names))], names, rotation=20, ha="right")
        axis.set_ylabel(label)
        axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    top.set_ylim(0, 1.0)
    top.set_title("newsdesk evaluation (refusal_answerable: lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def refusal_line(summary: dict[str, Any], settings) -> str:
    """One line on the refusal signals of a configuration and the thresholds that would fit them best."""
    joint = summary["suggested_joint"]
    return (
        f"{summary['config']}: refusal signals, median answerable / must-refuse: similarity "
        f"{summary['best_similarity_answerable_p50']:.3f} / {summary['best_similarity_unanswerable_p50']:.3f}, coverage "
        f"{summary['coverage_answerable_p50']:.3f} / {summary['coverage_unanswerable_p50']:.3f}. Balanced accuracy "
        f"{summary['balanced_accuracy_current']:.3f} now (min_evidence {settings.min_evidence}, min_coverage {settings.min_coverage}); "
        f"{summary['balanced_accuracy_at_suggested']:.3f} at min_evidence {summary['suggested_min_evidence']:.3f}; "
        f"{joint['balanced_accuracy']:.3f} at min_evidence {joint['min_evidence']:.3f} + min_coverage {joint['min_coverage']:.3f}"
    )


def main(settings, args) -> int:
    """The ``python -m rag eval`` command (arguments parsed in ``rag/__main__.py``)."""
    try:
        configs = parse_configs(args.configs, settings.recency_half_life_days)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    questions = load_questions(args.questions, limit=args.limit)
    if args.refuse:
        questions += load_questions(args.refuse, answerable=False, limit=args.limit)
    if not questions:
        print("error: no questions", file=sys.stderr)
        return 2
    if not Path(args.corpus).exists():
        print(f"error: corpus {args.corpus} not found", file=sys.stderr)
        return 2

    evaluator = Evaluator(settings, corpus=args.corpus)
    started = time.perf_counter()
    ingest = evaluator.ingest(show_progress=not args.quiet)
    print(f"corpus: {ingest['passages_stored']} passages in collection {ingest['collection']} "
          f"({ingest['added'] + ingest['updated']} articles indexed now, {ingest['unchanged']} unchanged, "
          f"{ingest['duplicates']} duplicates, {ingest['failed']} failed; {ingest['seconds']} s)")  # fmt: skip
    answers = not getattr(args, "retrieval_only", False)
    run = evaluator.run(questions, configs, backends, answers=answers, show_progress=not args.quiet)
    run.ingest = ingest
    for backend, reason in run.skipped.items():
        print(f"skipped backend {backend}: {reason}")
    print(format_table(run.summaries))
    if any(s["backend"] == "extractive" for s in run.summaries):
        print("verified: extractive citations quote the passage itself and are not checked; they count as verified.")
    for s in run.summaries:
        if "suggested_min_evidence" in s:
            print(refusal_line(s, settings))
    if args.out:
        for path in write_outputs(run, Path(args.out)):
            print(f"wrote {path}")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


__all__ = [
    "EvalQuestion", "EvalRun", "Evaluator", "Outcome", "RetrievalConfig", "all_verified", "balanced_accuracy",
    "best_thresholds", "citation_is_correct", "citation_precision", "contains_answer", "corpus_collection",
    "format_table", "hit_at_k", "load_questions", "mean", "mrr", "normalise", "parse_configs", "percentile",
    "plot_comparison", "reciprocal_rank", "refusal_calibration", "refusal_rate", "refuses", "stage_ms", "summarise",
    "write_outputs",
]  # fmt: skip
