"""Evaluation: how well retrieval, answering and refusal work on a question set with known answers.

``python -m rag eval --questions FILE --corpus SOURCE`` indexes ``SOURCE`` into a collection of its own
(``eval_<hash of the corpus content>`` in the configured data dir, so the user's index is
untouched and a second run re-uses it through the incremental ingest), then asks every question under
every *configuration*: a retrieval setting (``bm25``, ``dense``, ``hybrid``; a bare mode keeps the
user's recency setting, ``MODE:0`` turns recency off, ``MODE:W:HL`` sets weight and half-life) crossed with an answer backend (``extractive``, or an LLM backend named like ``settings.answer.llm``).
Each configuration is an ``Assistant`` built from the user's settings with a few fields changed, and all
of them share one embedding model and one store, so nothing is loaded or indexed twice.

Measured per configuration:

* retrieval ``hit@1/5/10`` and ``mrr`` on gold article ids, over the *articles* of the top 10 passages
  in rank order (a hit@k when one of the first k distinct articles is gold, comparable with article-level
  retrieval such as the BM25-over-articles reference);
* ``answer_accuracy``: an accepted answer appears in the answer text after :func:`normalise` (the
  headline); ``answer_f1``: SQuAD-style token F1 of the answer's first sentence against the best accepted
  answer (partial credit for paraphrases); ``answer_accuracy_raw``: the LLM's text before the citation check;
* ``short_accuracy``: the answer a reader sees first, *alone*: the LLM's checked short answer (none when
  its check failed: the evidence shown instead does not count) or the extractive answer's lead sentence;
  ``short_named_accuracy`` also accepts a short answer that picks out the right quiz choice alone
  (:func:`names_answer`: "Fiona" for "Hurricane Fiona"), since a quiz's wording is not the article's;
* ``failures``: how many answerable questions fall in each ``FAILURE_CLASSES`` class (each outcome's
  ``failure``): correct, retrieval_miss, gold_rank_6_10, gold_in_context_wrong, wrongly_refused;
* with ``--gold-context``, ``reading_accuracy`` (and ``_raw``, ``reading_f1``, latency): each answerable
  question answered from the passages retrieval finds *inside its gold articles* (same ``top_k``), so
  reading failures are told apart from retrieval failures;
* ``answer_in_gold``: share of answerable questions whose accepted answer occurs (as ``answer_accuracy``
  matches it) in a gold article's stored title or text: the ceiling of the headline accuracy for a
  reader that answers in its sources' words (an answer worded only by the quiz, "Europe" for a story
  that says "the European Union", cannot be matched however well the article is read);
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
such as recency weights; ``--gold-context-only`` skips the normal answers and measures reading alone.
The question set and configurations are ``questions.py``'s, the result records ``results.py``'s, the
metric functions ``metrics.py``'s (pure, tested by hand), the summaries, tables and files
``report.py``'s; their names are re-exported here. Outputs: tables on the terminal and, with
``--out``, ``summary.json``, ``results.jsonl`` and ``comparison.png`` (matplotlib, extra ``eval``;
skipped with a hint without it). What an answer *is* — retrieval, answering, refusal — stays the
``Assistant``'s; this module only asks and scores.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.eval.questions import MODES, EvalQuestion, RetrievalConfig, corpus_collection, load_questions, parse_configs
from rag.eval.results import EvalRun, Outcome
from rag.eval.report import (
    PLOT_HINT, STAGES, format_reading_table, format_table, plot_comparison, reading_summary, refusal_calibration,
    refusal_line, stage_ms, summarise, write_outputs,
)  # fmt: skip
from rag.eval.metrics import (
    FAILURE_CLASSES, HIT_KS, all_verified, balanced_accuracy, best_thresholds, citation_is_correct, citation_precision,
    contains_answer, failure_class, hit_at_k, lead, mean, mrr, names_answer, normalise, percentile, reciprocal_rank, refusal_rate,
    refuses, token_f1,
)  # fmt: skip
from rag.types import Answer
from rag.answer.cite import MARKER

RETRIEVAL_TOP_K = max(HIT_KS)
SUMMARY_KEYS = (  # at least these, in every summary.json object
    "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "citation_precision", "verified_rate",
    "refusal_answerable", "refusal_unanswerable", "p50_ms", "p95_ms",
)  # fmt: skip

# --- running ---------------------------------------------------------------------------------------


class Evaluator:
    """Asks a question set under several configurations of one base ``Assistant`` and scores the answers.

    ``embedding``/``store`` may be handed in (as to ``Assistant``); otherwise the base assistant builds
    them from ``settings`` once and every configuration borrows them, as it borrows one LLM per backend.
    """

    def __init__(self, settings, *, corpus: str | Path, embedding=None, store=None) -> None:
        from rag.assistant import Assistant

        self.corpus = Path(corpus)
        self.settings = settings.model_copy(update={"collection": corpus_collection(corpus)})
        self.base = Assistant(self.settings, embedding=embedding, store=store)
        self.aliases: dict[str, str] = {}  # article id -> the id its text is stored under (duplicates)
        self._llms: dict[str, Any] = {}  # backend -> the LlamaIndex LLM loaded for it
        self._gold_texts: dict[str, str] = {}  # article id -> its stored title and text (answer_in_gold)

    def ingest(self, *, show_progress: bool = True) -> dict[str, Any]:
        """Index the corpus into the evaluation collection (incremental) and note duplicate ids."""
        report = self.base.ingest([self.corpus], show_progress=show_progress)
        self.aliases = {dup: owner for dup, owner in report.duplicates}
        return {
            "collection": self.settings.storage.collection,
            "data_dir": str(self.settings.storage.data_dir),
            "added": len(report.added),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "duplicates": len(report.duplicates),
            "failed": len(report.failed),
            "passages_embedded": report.passages,
            "passages_stored": self.base.store.count_passages(),
            "seconds": round(report.seconds, 1),
        }

    def assistant(self, config: RetrievalConfig, backend: str, **updates: Any):
        """An ``Assistant`` for one configuration (plus ``updates`` to its settings), sharing the embedding model, store and LLM."""
        from rag.assistant import Assistant

        settings = self.settings.model_copy(update={**config.updates(), "llm": backend if backend != "none" else "extractive", **updates})
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
        self._llms[backend] = assistant.llm  # the LLM it loaded, shared by every configuration
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
        gold_context: bool = False,
        show_progress: bool = True,
    ) -> EvalRun:
        """Ask every question under every (retrieval configuration × backend); return outcomes and summaries.

        With ``gold_context`` each answerable question with gold articles is also answered from the
        gold articles' best passages (reading apart from retrieval). With ``answers=False`` the normal
        answer is skipped; without ``gold_context`` too, backends are ignored (reported as ``"none"``):
        only retrieval metrics and the refusal signals, with ``refused`` the retriever's ``weak`` decision.
        """
        from tqdm import tqdm

        gold = self.gold_ids(questions)
        composing = answers or gold_context
        skipped = {b: reason for b in backends if composing and (reason := self.unavailable(b))}
        backends = [b for b in backends if b not in skipped] if composing else ["none"]
        outcomes: list[Outcome] = []
        summaries = []
        with tqdm(
            total=len(questions) * len(configs) * len(backends), desc="eval", unit=" q", disable=not show_progress, dynamic_ncols=True
        ) as bar:
            for backend in backends:
                for number, config in enumerate(configs):
                    bar.set_postfix_str(f"{config.name}/{backend}")
                    assistant = self.assistant(config, backend)
                    # Gold-context reading sees top_k passages of the gold articles: without the
                    # per-article cap, which would leave a one-article question 2 passages.
                    reader = self.assistant(config, backend, max_passages_per_article=self.settings.retrieval.top_k) if gold_context else None
                    # Keep one-off costs out of the timed questions: the BM25 index, and on the first
                    # configuration of a backend the lazy imports and first model runs.
                    assistant.retriever.refresh()
                    if number == 0 and questions and composing:
                        assistant.query(questions[0].question, as_of=questions[0].as_of)
                    done = []
                    for question in questions:
                        outcome = self._ask(assistant, question, gold[question.id], config.name, backend, answers)
                        if gold_context and question.answerable and gold[question.id]:
                            self._read(reader, question, gold[question.id], outcome)
                        done.append(outcome)
                        bar.update(1)
                    outcomes.extend(done)
                    summaries.append(summarise(done, config, backend, self.settings.retrieval))
        return EvalRun(outcomes, summaries, skipped)

    def _ask(self, assistant, q: EvalQuestion, gold: set[str], config: str, backend: str, answers: bool = True) -> Outcome:
        # Retrieval metrics at top 10; the refusal signals at the top_k the answer uses; then the
        # answer exactly as a user asking on q.as_of gets it.
        passages = assistant.retrieve(q.question, top_k=RETRIEVAL_TOP_K, as_of=q.as_of).passages
        ranked = list(dict.fromkeys(hit.passage.article_id for hit in passages))  # articles, in rank order
        signals = assistant.retrieve(q.question, as_of=q.as_of)
        raw = None
        if answers:
            answer, raw = _streamed(assistant.stream(q.question, as_of=q.as_of))
        else:
            took = signals.timings_ms.get("total", 0.0)
            answer = Answer(q.question, "", refused=signals.weak, mode="", timings_ms={"retrieval": took, "total": took})
        good, total = citation_precision(answer.citations, gold, q.answers) if q.answerable else (0, len(answer.citations))
        correct = (not answer.refused and contains_answer(answer.text, q.answers)) if q.answerable and answers else None
        in_context = bool(gold & {hit.passage.article_id for hit in signals.passages}) if gold else None
        failure = None
        if correct is not None and gold:
            failure = failure_class(correct=correct, refused=answer.refused, gold_in_context=in_context, gold_in_top10=bool(gold & set(ranked)))
        elif correct is not None:  # no gold articles known: only the answer can be judged
            failure = "wrongly_refused" if answer.refused else ("correct" if correct else None)
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
            correct=correct,
            citations=total,
            citations_correct=good,
            verified=None if answer.refused or not answers else all_verified(answer.citations),
            citations_checked=sum(c.verified is not None for c in answer.citations),
            timings_ms={k: round(v, 1) for k, v in answer.timings_ms.items()},
            notice=answer.notice,
            f1=None if correct is None else (0.0 if answer.refused else token_f1(lead(answer.text), q.answers)),
            raw=raw,
            raw_correct=None if raw is None or correct is None else (not answer.refused and contains_answer(raw, q.answers)),
            gold_in_context=in_context,
            answer_in_gold=self._answer_in_gold(gold, q.answers) if q.answerable and gold else None,
            failure=failure,
            **short_scores("", answer, backend, q) if correct is not None else {},
        )

    def _answer_in_gold(self, gold: set[str], answers) -> bool:
        for article_id in gold:
            if article_id not in self._gold_texts:
                article = self.base.store.article(article_id)
                self._gold_texts[article_id] = f"{article.title}\n{article.text}" if article else ""
        return contains_answer(" \n".join(self._gold_texts[a] for a in sorted(gold)), answers)

    def _read(self, assistant, q: EvalQuestion, gold: set[str], outcome: Outcome) -> None:
        # Reading apart from retrieval: the same retrieval restricted to the gold articles (same top_k,
        # same as-of date), then the configuration's answerer on those passages, with no refusal
        # threshold in between (the evidence is known to hold the answer).
        hits = assistant.retrieve(q.question, article_ids=sorted(gold), as_of=q.as_of).passages
        started, timings, raw, generator = time.perf_counter(), {}, None, assistant.generator
        if not hits:
            answer = Answer(q.question, "", refused=True, mode="none")
        elif generator is not None:
            answer, raw = _streamed(generator.stream(q.question, hits, as_of=q.as_of), started, timings)
        else:
            answer = assistant.answerer.answer(q.question, hits, as_of=q.as_of)
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        outcome.reading_answer, outcome.reading_mode, outcome.reading_raw = answer.text, answer.mode, raw
        outcome.reading_correct = not answer.refused and contains_answer(answer.text, q.answers)
        outcome.reading_raw_correct = None if raw is None else contains_answer(raw, q.answers)
        outcome.reading_f1 = 0.0 if answer.refused else token_f1(lead(answer.text), q.answers)
        for name, value in short_scores("reading_", answer, outcome.backend, q).items():
            setattr(outcome, name, value)
        outcome.reading_timings_ms = timings


def short_scores(prefix: str, answer: Answer, backend: str, q: EvalQuestion) -> dict:
    """The short answer alone, scored: the LLM's checked short answer, or the extractive answer's lead
    sentence; nothing when an LLM backend's short answer failed its check (the evidence must not count)."""
    if answer.refused:
        short = ""
    elif answer.mode == "llm":
        short = MARKER.sub("", answer.text).strip()
    else:
        short = lead(answer.text) if backend == "extractive" else ""
    return {
        f"{prefix}short_answer": short,
        f"{prefix}short_correct": bool(short) and contains_answer(short, q.answers),
        f"{prefix}short_named": bool(short) and names_answer(short, q.answers, q.choices),
    }


def _streamed(events, started: float | None = None, timings: dict[str, float] | None = None) -> tuple[Answer, str | None]:
    """The final ``Answer`` of a stream and the raw text of its tokens (``None`` when nothing streamed)."""
    tokens, answer = [], None
    for event in events:
        if event.kind == "token":
            if started is not None and timings is not None and not tokens:
                timings["first_token"] = round((time.perf_counter() - started) * 1000, 1)
            tokens.append(event.text)
        elif event.answer is not None:  # evidence, then the answer (stage events carry none)
            answer = event.answer
    return answer, ("".join(tokens) if tokens else None)


def main(settings, args) -> int:
    """The ``python -m rag eval`` command (arguments parsed in ``rag/cli/main.py``)."""
    try:
        configs = parse_configs(args.configs, settings.retrieval.recency_half_life_days)
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
    reading_only = getattr(args, "gold_context_only", False)
    answers = not getattr(args, "retrieval_only", False) and not reading_only
    gold_context = getattr(args, "gold_context", False) or reading_only
    run = evaluator.run(questions, configs, backends, answers=answers, gold_context=gold_context, show_progress=not args.quiet)
    run.ingest = ingest
    for backend, reason in run.skipped.items():
        print(f"skipped backend {backend}: {reason}")
    print(format_table(run.summaries))
    if any(s["backend"] == "extractive" for s in run.summaries):
        print("verified: extractive citations quote the passage itself and are not checked; they count as verified.")
    if answers or gold_context:
        print(format_reading_table(run.summaries))
        print("acc raw / read raw: the LLM's text before the citation check; read: answered from the gold articles' passages;")
        print("short: the short answer alone (extractive: the lead sentence); named: or it picks out the right quiz choice.")
    for s in run.summaries:
        if "suggested_min_evidence" in s:
            print(refusal_line(s, settings.retrieval))
    if args.out:
        for path in write_outputs(run, Path(args.out)):
            print(f"wrote {path}")
    for note in run.notes:
        print(note)
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


__all__ = [  # the metric and report names are re-exported: `from rag.eval.run import ...` keeps working
    "FAILURE_CLASSES", "MODES", "PLOT_HINT", "STAGES", "EvalQuestion", "EvalRun", "Evaluator", "Outcome", "RetrievalConfig",
    "all_verified", "balanced_accuracy", "best_thresholds", "citation_is_correct", "citation_precision", "contains_answer", "names_answer",
    "corpus_collection", "failure_class", "format_reading_table", "format_table", "hit_at_k", "lead", "load_questions",
    "mean", "mrr", "normalise", "parse_configs", "percentile", "plot_comparison", "reading_summary", "reciprocal_rank",
    "refusal_calibration", "refusal_line", "refusal_rate", "refuses", "stage_ms", "summarise", "token_f1", "write_outputs",
]  # fmt: skip
