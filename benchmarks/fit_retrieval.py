"""Fit the article-score weights and the time prior of rag/retrieval/hybrid.py, cross-validated by week.

The command behind the retrieval defaults in rag/rag.toml. For every RealTimeQA dev question
(``../shared/eval/realtimeqa``) it computes, once, the features retrieval scores articles with — best
passage cosine among the ``candidates`` nearest passages, best passage BM25, whole-article BM25 and
title BM25 (each BM25 scaled to 0..1 per question) and the article's age on the question date — from
the evaluation collection that ``python -m rag eval`` builds (the same store, embeddings and lexical
index the product uses). Then it ranks articles under every setting of a grid and prints:

* the best setting on all dev questions, with hit@1/5/10 and MRR over articles;
* the same figures cross-validated by week: for each of the 11 quiz weeks, the setting that does best on
  the other weeks scores the held-out week (a gain that only fits the dev questions does not survive);
* the settings the folds chose, and the ten best settings on dev.

    python benchmarks/fit_retrieval.py [--candidates 50]

The objective is MRR + 0.5 * hit@5. Run ``python -m rag eval ...`` once first (it builds the index).
Skips with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "realtimeqa"
GRID = {
    "dense_weight": [1.0],
    "passage_bm25_weight": [0.0, 0.25, 0.5, 1.0],
    "article_bm25_weight": [0.0, 0.25, 0.5, 1.0, 2.0],
    "title_bm25_weight": [0.0, 0.1, 0.25, 0.5],
    "recency_weight": [0.0, 0.05, 0.1, 0.2, 0.4],
    "recency_half_life_days": [3, 7, 14, 30],
    "recency_floor": [0.01, 0.05, 0.2],
}


def features(assistant, questions, gold, candidates: int):
    """Per question: gold article codes, article features and article days (numpy arrays)."""
    import numpy as np

    retriever = assistant.retriever
    retriever.refresh()
    lex = retriever.lexical
    ids = [p.id for p in lex.passages]
    vectors = assistant.store.passage_vectors(ids)  # the stored embeddings, read once
    code = {a: i for i, a in enumerate(lex.article_ids)}
    rows = []
    for q in questions:
        golds = [code[g] for g in gold[q.id] if g in code]
        if not golds:
            continue
        allowed = lex.passage_day <= q.as_of.toordinal()
        dense = np.where(allowed, vectors @ np.asarray(assistant.embedding.get_query_embedding(q.question)), -np.inf)
        top = np.argpartition(-dense, candidates)[:candidates]
        passage_dense = np.full(len(ids), dense[top].min(), dtype=np.float32)
        passage_dense[top] = dense[top]
        passage_bm25, article_bm25, title_bm25 = lex.scores(lex.query_terms(q.question))
        passage_bm25 = np.where(allowed, passage_bm25, 0.0)
        ok = np.zeros(len(lex.article_ids), bool)
        ok[lex.passage_article[allowed]] = True
        best_dense = np.full(len(lex.article_ids), -np.inf)
        np.maximum.at(best_dense, lex.passage_article, np.where(allowed, passage_dense, -np.inf))
        best_bm25 = np.zeros(len(lex.article_ids))
        np.maximum.at(best_bm25, lex.passage_article, _scaled(passage_bm25))
        age = (q.as_of.toordinal() - lex.article_day).astype(float)
        rows.append({
            "week": q.id.split("_")[0], "gold": golds, "ok": ok, "dense": best_dense, "passage": best_bm25,
            "article": _scaled(np.where(ok, article_bm25, 0.0)), "title": _scaled(np.where(ok, title_bm25, 0.0)),
            "age": age, "unknown_age": (lex.article_day < 0) | (age < 0),
        })  # fmt: skip
    return rows


def _scaled(x):
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x


def gold_ranks(setting: dict, rows) -> "np.ndarray":  # noqa: F821
    """0-based rank of each question's best gold article under ``setting`` (the formula of retrieve.py)."""
    import numpy as np

    w, hl, floor = setting["recency_weight"], setting["recency_half_life_days"], setting["recency_floor"]
    ranks = []
    for r in rows:
        score = (setting["dense_weight"] * r["dense"] + setting["passage_bm25_weight"] * r["passage"]
                 + setting["article_bm25_weight"] * r["article"] + setting["title_bm25_weight"] * r["title"])  # fmt: skip
        if w:
            age = np.where(r["unknown_age"], hl, r["age"])
            score = score + w * np.log(floor + (1 - floor) * 0.5 ** (age / hl))
        score = np.where(r["ok"], score, -np.inf)
        ranks.append(int((score > max(score[g] for g in r["gold"])).sum()))
    return np.array(ranks)


def metrics(ranks) -> dict[str, float]:
    return {"hit@1": (ranks < 1).mean(), "hit@5": (ranks < 5).mean(), "hit@10": (ranks < 10).mean(), "mrr": (1 / (ranks + 1)).mean()}


def objective(ranks) -> float:
    return float((1 / (ranks + 1)).mean() + 0.5 * (ranks < 5).mean())


def settings_grid():
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        if setting["recency_weight"] == 0 and (setting["recency_half_life_days"] != 7 or setting["recency_floor"] != 0.05):
            continue  # without a prior its shape does not matter
        yield setting


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=50, help="passages the dense search returns")
    args = parser.parse_args(argv)
    if not (SHARED / "questions.dev.jsonl").is_file():
        print(f"skipped: {SHARED} not found (the RealTimeQA evaluation data lives in ../shared)")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rag.eval.run import Evaluator, load_questions
    from rag.settings import load_settings

    questions = load_questions(SHARED / "questions.dev.jsonl")
    evaluator = Evaluator(load_settings(), corpus=SHARED / "corpus.jsonl.gz")
    evaluator.ingest(show_progress=True)
    rows = features(evaluator.base, questions, evaluator.gold_ids(questions), args.candidates)
    settings = list(settings_grid())
    ranks = np.array([gold_ranks(s, rows) for s in settings])
    scores = np.array([objective(r) for r in ranks])
    weeks = np.array([r["week"] for r in rows])
    held, chosen = np.zeros(len(rows), int), []
    for week in sorted(set(weeks)):
        train = weeks != week
        best = int(np.argmax([objective(r[train]) for r in ranks]))
        chosen.append(settings[best])
        held[~train] = ranks[best][~train]
    fmt = lambda m: "  ".join(f"{k} {v:.3f}" for k, v in m.items())  # noqa: E731
    best = int(scores.argmax())
    print(f"{len(rows)} questions with a gold article in the index, {len(settings)} settings, {len(set(weeks))} weeks")
    print(f"best on dev:         {fmt(metrics(ranks[best]))}\n  {settings[best]}")
    print(f"cross-validated by week: {fmt(metrics(held))}")
    print("settings the folds chose:")
    for key in GRID:
        print(f"  {key}: " + ", ".join(f"{value} ({n})" for value, n in Counter(c[key] for c in chosen).most_common()))
    print("ten best on dev:")
    for i in np.argsort(-scores)[:10]:
        print(f"  {fmt(metrics(ranks[i]))}  {settings[i]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
