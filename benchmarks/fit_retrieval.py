"""Fit the article-score weights and the time prior of rag/retrieval/hybrid.py, cross-validated by week.

The command behind the retrieval defaults in rag/rag.toml. For every dev question of the RealTimeQA
corpora in ``../shared/eval`` (``realtimeqa``: 2022, CNN quiz and its linked articles; ``realtimeqa2023``:
2023, news-search results) it computes, once, the features retrieval scores articles with — best
passage cosine among the ``candidates`` nearest passages, best passage BM25, whole-article BM25 and
title BM25 (each BM25 scaled to 0..1 per question), the article's age on the question date and whether
the time prior applies to the question's wording (``ranking.prior_strength``) — from
the evaluation collection that ``python -m rag eval`` builds (the same store, embeddings and lexical
index the product uses). Then it ranks articles under every setting of a grid and prints:

* per corpus, the best setting on its dev questions, with hit@1/5/10 and MRR over articles;
* the same figures cross-validated by week: for each quiz week, the setting that does best on the
  other weeks scores the held-out week (a gain that only fits the dev questions does not survive);
* with both corpora: the setting fitted on one corpus reported on the other (both ways), and the
  setting best on both together (the sum of their objectives) with its by-week figures per corpus;
* the settings the folds chose, and the ten best settings.

    python benchmarks/fit_retrieval.py [--candidates 50] [--data-dir realtimeqa2023=/tmp/data23] [--features /tmp/rows]

The objective is MRR + 0.5 * hit@5. Run ``python -m rag eval ...`` once per corpus first (it builds the
index; ``--data-dir CORPUS=DIR`` when a corpus's collection lives in another data dir); ``--features``
caches each corpus's features in a folder so a re-run takes seconds.
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
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
CORPORA = ("realtimeqa", "realtimeqa2023")
GRID = {
    "dense_weight": [1.0],
    "passage_bm25_weight": [0.0, 0.25, 0.5, 1.0],
    "article_bm25_weight": [0.0, 0.25, 0.5, 1.0, 2.0],
    "title_bm25_weight": [0.0, 0.1, 0.25, 0.5],
    "recency_weight": [0.0, 0.05, 0.1, 0.2, 0.4],
    "recency_half_life_days": [3, 7, 14, 30],
    "recency_floor": [0.01, 0.05, 0.1, 0.2],
}


def features(assistant, questions, gold, candidates: int):
    """Per question: gold article codes, article features and article days (numpy arrays)."""
    import numpy as np

    from rag.retrieval.ranking import prior_strength

    retriever = assistant.retriever
    retriever.refresh()
    lex = retriever.lexical
    ids = lex.passages.ids()
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
            "age": age, "unknown_age": (lex.article_day < 0) | (age < 0), "strength": prior_strength(q.question, q.as_of),
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
        if w and r.get("strength", 1.0):
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


def corpus_rows(corpus: str, data_dir: str | None, candidates: int, cache: Path | None):
    """The features of ``corpus``'s dev questions, from ``cache`` (a pickle of numpy arrays we wrote) or computed."""
    import pickle

    if cache and cache.is_file():
        return pickle.loads(cache.read_bytes())  # our own file, written below: not untrusted input
    from rag.eval.run import Evaluator, load_questions
    from rag.settings import load_settings

    questions = load_questions(SHARED / corpus / "questions.dev.jsonl")
    evaluator = Evaluator(load_settings(**({"data_dir": data_dir} if data_dir else {})), corpus=SHARED / corpus / "corpus.jsonl.gz")
    evaluator.ingest(show_progress=True)
    rows = features(evaluator.base, questions, evaluator.gold_ids(questions), candidates)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(rows))
    return rows


def by_week(ranks, scores_of, rows, settings):
    """Held-out ranks: each week scored by the setting best on the other weeks; and the settings chosen."""
    import numpy as np

    weeks = np.array([r["week"] for r in rows])
    held, chosen = np.zeros(len(rows), int), []
    for week in sorted(set(weeks)):
        train = weeks != week
        best = int(np.argmax([scores_of(i, train) for i in range(len(ranks))]))
        chosen.append(settings[best])
        held[~train] = ranks[best][~train]
    return held, chosen


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=50, help="passages the dense search returns")
    parser.add_argument("--data-dir", action="append", default=[], help="CORPUS=DIR: where that corpus's eval collection is")
    parser.add_argument("--features", default="", help="folder caching each corpus's features (CORPUS.pkl)")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="only these corpora (default: every one present)")
    args = parser.parse_args(argv)
    corpora = [c for c in (args.corpus or CORPORA) if (SHARED / c / "questions.dev.jsonl").is_file()]
    if not corpora:
        print(f"skipped: no RealTimeQA set found in {SHARED} (the evaluation data lives in ../shared)")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    dirs = dict(item.split("=", 1) for item in args.data_dir)
    data = {c: corpus_rows(c, dirs.get(c), args.candidates, Path(args.features) / f"{c}.pkl" if args.features else None) for c in corpora}
    settings = list(settings_grid())
    ranks = {c: np.array([gold_ranks(s, rows) for s in settings]) for c, rows in data.items()}
    fmt = lambda m: "  ".join(f"{k} {v:.3f}" for k, v in m.items())  # noqa: E731
    for c, rows in data.items():
        scores = np.array([objective(r) for r in ranks[c]])
        best = int(scores.argmax())
        held, chosen = by_week(ranks[c], lambda i, train, c=c: objective(ranks[c][i][train]), rows, settings)
        print(f"== {c}: {len(rows)} questions with a gold article in the index, {len(settings)} settings, {len(chosen)} weeks")
        print(f"best on dev:             {fmt(metrics(ranks[c][best]))}\n  {settings[best]}")
        print(f"cross-validated by week: {fmt(metrics(held))}")
        print("settings the folds chose:")
        for key in GRID:
            print(f"  {key}: " + ", ".join(f"{value} ({n})" for value, n in Counter(x[key] for x in chosen).most_common()))
        print("ten best on dev:")
        for i in np.argsort(-scores)[:10]:
            print(f"  {fmt(metrics(ranks[c][i]))}  {settings[i]}")
    if len(data) == 2:
        a, b = corpora
        for source, target in ((a, b), (b, a)):
            best = int(np.argmax([objective(r) for r in ranks[source]]))
            print(f"== fitted on {source}, on {target}: {fmt(metrics(ranks[target][best]))}  {settings[best]}")
        joint = np.array([objective(ra) + objective(rb) for ra, rb in zip(ranks[a], ranks[b])])
        best = int(joint.argmax())
        print(f"== best on both together: {settings[best]}")
        for c in corpora:
            print(f"  {c}: {fmt(metrics(ranks[c][best]))}")
        # By week on both: a held-out week of either corpus is scored by the setting best on all the other weeks.
        for c in corpora:
            other = b if c == a else a
            whole = [objective(r) for r in ranks[other]]
            held, _ = by_week(ranks[c], lambda i, train, c=c, whole=whole: objective(ranks[c][i][train]) + whole[i], data[c], settings)
            print(f"  {c}, cross-validated by week (the other corpus whole in every fold): {fmt(metrics(held))}")
        for i in np.argsort(-joint)[:10]:
            print(f"  {fmt(metrics(ranks[a][i]))} | {fmt(metrics(ranks[b][i]))}  {settings[i]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
