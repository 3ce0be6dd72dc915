"""Evidence selection that weighs each article's retrieval standing: citation precision, lead sentence, refusal.

The sweep behind ``evidence_retrieval_weight`` (rag/rag.toml). For the dev questions of a RealTimeQA
corpus in ``../shared/eval`` (and the out-of-corpus questions of ``--refuse``) it retrieves once per
retrieval setting (``--retrieval NAME=KEY:VALUE,...``; ``old`` and ``refit`` are built in: the 2022 fit
and the two-corpus refit of ``benchmarks/fit_retrieval.py``), each question on its own date, through
the product's ``Assistant`` (its store, lexical index, refusal rule); ranks the sentences of the
returned passages once (``ExtractiveAnswerer.rank_sentences`` without the standing term); then, for
every weight of ``--weights``, re-scores them with ``- weight * (best article score - the sentence's
article score)`` (``ExtractiveAnswerer.with_standing``, what ``rank_sentences`` does with
``evidence_retrieval_weight``) and picks the evidence (``ExtractiveAnswerer.evidence``); for every floor of
``--floors`` it first drops the sentences that ``sentences.relevant`` rejects at that
``evidence_min_similarity`` (a recorded score is the sentence's cosine similarity exactly when it shares
no content word with the question, the only case the floor judges). Printed per (retrieval, floor, weight):

* hit@1/5/10 over articles (independent of the weight);
* citation precision of the evidence (``rag.eval.metrics.citation_precision``: a cited article is gold or
  its passage holds an accepted answer), and the share of evidence sentences from articles more than
  30 days older than the question ("old");
* the extractive answer's lead sentence, scored like ``rag eval``'s ``short_accuracy`` / ``short_named``;
* refused: answerable, and out-of-corpus (``--refuse``) — the weight cannot change them, the retrieval
  setting can.

    python benchmarks/evidence_standing.py --corpus realtimeqa --data-dir /tmp/c22data [--weights 0,0.5,1,2]
        [--retrieval old,refit] [--refuse ../shared/eval/realtimeqa/unanswerable.dev.jsonl]

``rag eval --configs hybrid --backends extractive`` with ``RAG_EVIDENCE_RETRIEVAL_WEIGHT`` set measures
one point of this sweep end to end (and agrees with it: same retrieval, same ranking). The corpus must be
indexed first (``python -m rag eval --retrieval-only`` builds it). Skips with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
RETRIEVAL = {
    "old": {"passage_bm25_weight": 0.0, "article_bm25_weight": 0.25, "title_bm25_weight": 0.1,
            "recency_weight": 0.2, "recency_half_life_days": 7, "recency_floor": 0.01},
    "refit": {"passage_bm25_weight": 0.5, "article_bm25_weight": 1.0, "title_bm25_weight": 0.0,
              "recency_weight": 0.4, "recency_half_life_days": 3, "recency_floor": 0.1},
}  # fmt: skip
OLD_DAYS = 30  # an evidence sentence from an article this much older than the question counts as "old"


def parse_retrieval(spec: str) -> dict[str, dict[str, float]]:
    """``"old,refit,mine=article_bm25_weight:0.5:recency_floor:0.05"`` → named setting overrides."""
    named = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, rest = item.partition("=")
        if not rest:
            named[name] = RETRIEVAL[name]
            continue
        parts = rest.split(":")
        named[name] = {key: float(value) for key, value in zip(parts[::2], parts[1::2])}
    return named


def record(assistant, questions, gold):
    """Per question: the retrieval (hit@k of its articles, refusal) and its sentences ranked without the standing term."""
    from rag.eval.metrics import HIT_KS, hit_at_k
    from rag.eval.run import RETRIEVAL_TOP_K

    rows = []
    for q in questions:
        top = assistant.retrieve(q.question, top_k=RETRIEVAL_TOP_K, as_of=q.as_of).passages
        articles = list(dict.fromkeys(h.passage.article_id for h in top))
        retrieval = assistant.retrieve(q.question, as_of=q.as_of)
        ranked = [] if retrieval.weak else assistant.answerer.rank_sentences(q.question, retrieval.passages, standing=False)
        best = max((h.score for h in retrieval.passages), default=0.0)
        hits = {k: hit_at_k(articles, gold[q.id], k) for k in HIT_KS} if gold[q.id] else None
        rows.append({"q": q, "gold": gold[q.id], "hits": hits, "weak": retrieval.weak, "ranked": ranked, "best": best})
    return rows


def score(rows, answerer, weight: float, floor: float = -1.0) -> dict[str, float]:
    """The figures of one (retrieval, floor, weight) point over recorded ``rows``."""
    from rag.answer.sentences import relevant
    from rag.answer.sentences import content_words
    from rag.eval.metrics import HIT_KS, citation_precision
    from rag.eval.run import short_scores

    good = total = old = correct = named = refused_ok = refused_ooc = n_ok = n_ooc = 0
    hits = dict.fromkeys(HIT_KS, 0)
    n_gold = 0
    for r in rows:
        q = r["q"]
        asked = content_words(q.question)
        kept = [(s, v) for s, v in r["ranked"] if relevant(bool(content_words(s.text) & asked), v, floor)]
        rescored = answerer.with_standing(kept, r["best"], weight)
        chosen = [] if r["weak"] else answerer.evidence(q.question, rescored)
        answer = answerer.quote(q.question, chosen)
        if not q.answerable:
            n_ooc += 1
            refused_ooc += answer.refused
            continue
        n_ok += 1
        refused_ok += answer.refused
        if r["hits"] is not None:
            n_gold += 1
            for k in hits:
                hits[k] += r["hits"][k]
        g, t = citation_precision(answer.citations, r["gold"], q.answers)
        good, total = good + g, total + t
        old += sum(c.date is not None and q.as_of is not None and (q.as_of - c.date) > dt.timedelta(days=OLD_DAYS) for c in answer.citations)
        lead = short_scores("", answer, "extractive", q)  # the lead sentence, as ``rag eval`` scores it
        correct += lead["short_correct"]
        named += lead["short_named"]
    return {
        **{f"hit@{k}": v / max(1, n_gold) for k, v in hits.items()},
        "cit. prec.": good / max(1, total), "old": old / max(1, total),
        "lead short": correct / max(1, n_ok), "lead named": named / max(1, n_ok),
        "refused ans.": refused_ok / max(1, n_ok), "refused OOC": refused_ooc / max(1, n_ooc) if n_ooc else float("nan"),
    }  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="realtimeqa", help="a folder of ../shared/eval (realtimeqa, realtimeqa2023)")
    parser.add_argument("--data-dir", default=None, help="the data dir holding the corpus's evaluation collection")
    parser.add_argument("--refuse", default=str(SHARED / "realtimeqa" / "unanswerable.dev.jsonl"), help="out-of-corpus questions ('' for none)")
    parser.add_argument("--retrieval", default="old,refit", help="named retrieval settings: old, refit, or NAME=KEY:VALUE:KEY:VALUE")
    parser.add_argument("--weights", default="0,0.25,0.5,1,2", help="evidence_retrieval_weight values")
    parser.add_argument("--floors", default="-1", help="evidence_min_similarity values (-1: no floor)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N answerable questions")
    args = parser.parse_args(argv)
    questions_file = SHARED / args.corpus / "questions.dev.jsonl"
    if not questions_file.is_file():
        print(f"skipped: no {questions_file} (the evaluation data lives in ../shared)")
        return 0
    from rich.console import Console
    from rich.table import Table

    from rag.eval.metrics import HIT_KS
    from rag.eval.questions import RetrievalConfig, load_questions
    from rag.eval.run import Evaluator
    from rag.settings import load_settings

    questions = load_questions(questions_file, limit=args.limit)
    if args.refuse:
        questions += load_questions(args.refuse, answerable=False)
    base = load_settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    evaluator = Evaluator(base, corpus=SHARED / args.corpus / "corpus.jsonl.gz")
    evaluator.ingest(show_progress=True)
    gold = evaluator.gold_ids(questions)
    weights = [float(w) for w in args.weights.split(",")]
    table = Table(title=f"evidence standing, {args.corpus} ({sum(q.answerable for q in questions)} answerable, "
                  f"{sum(not q.answerable for q in questions)} out-of-corpus)")  # fmt: skip
    columns = [*(f"hit@{k}" for k in HIT_KS), "cit. prec.", "old", "lead short", "lead named", "refused ans.", "refused OOC"]
    floors = [float(f) for f in args.floors.split(",")]
    for name in ["retrieval", "floor", "evidence weight", *columns]:
        table.add_column(name, justify="right" if name not in ("retrieval",) else "left")
    for name, overrides in parse_retrieval(args.retrieval).items():
        # Recorded with no floor: every floor is applied to the same ranking afterwards.
        assistant = evaluator.assistant(RetrievalConfig("hybrid"), "extractive", evidence_min_similarity=-1.0, **overrides)
        assistant.retriever.refresh()
        rows = record(assistant, questions, gold)
        for floor in floors:
            for weight in weights:
                figures = score(rows, assistant.answerer, weight, floor)
                table.add_row(name, f"{floor:g}", f"{weight:g}", *(f"{figures[c]:.3f}" for c in columns))
                print(name, floor, weight, {c: round(figures[c], 3) for c in columns}, file=sys.stderr, flush=True)
        print(f"{name}: recorded {len(rows)} questions", file=sys.stderr)
    Console(width=200).print(table)  # all columns, also when the output is a file
    return 0


if __name__ == "__main__":
    sys.exit(main())
