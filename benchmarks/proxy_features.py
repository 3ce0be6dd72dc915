"""A cheap proxy of retrieval's article features for a RealTimeQA corpus that is not indexed yet.

Embedding a whole corpus is the slow part of measuring retrieval (the 2023 set's ~29,000 passages at
1.3-10 passages/s on a loaded 2-core machine). This writes, for ``benchmarks/fit_retrieval.py
--features DIR``, the features of every dev question from one embedding per article instead: the
dense similarity of the question to the article's title and first 150 words (the product's MiniLM
model), whole-article and title BM25 (bm25s with the product's tokenisation, scaled 0..1 per question),
no passage BM25, the article's age on the question's date, and the wording rule of the time prior.
Articles dated after the question's date are hidden, as the as-of date hides them. On the 2022 set the
proxy gave 0.637 / 0.912 hit@1/5 against 0.657 / 0.912 for the real index (README "Two corpora").

    python benchmarks/proxy_features.py realtimeqa2023 --out DIR   # then: fit_retrieval.py --features DIR

A proxy: the README labels its figures as such; measure on the real index when it exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import pickle
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"


def _scaled(x):
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x


def main(argv: list[str] | None = None) -> int:
    import bm25s
    import numpy as np
    import Stemmer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", choices=("realtimeqa", "realtimeqa2023"))
    parser.add_argument("--out", required=True, help="folder for CORPUS.pkl (fit_retrieval.py --features)")
    args = parser.parse_args(argv)
    folder = SHARED / args.corpus
    if not (folder / "questions.dev.jsonl").is_file():
        print(f"skipped: {folder} not found (the RealTimeQA evaluation data lives in ../shared)")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rag.embed import make_embedding
    from rag.retrieval.ranking import prior_strength

    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle]
    questions = [json.loads(line) for line in (folder / "questions.dev.jsonl").open(encoding="utf-8")]
    stemmer = Stemmer.Stemmer("english")
    tokens = lambda texts: bm25s.tokenize(texts, stopwords="en_plus", stemmer=stemmer, show_progress=False)  # noqa: E731
    whole, titles = bm25s.BM25(), bm25s.BM25()
    whole.index(tokens([f"{a['title'] or ''}\n{a['text']}" for a in articles]), show_progress=False)
    titles.index(tokens([a["title"] or "" for a in articles]), show_progress=False)
    embedding = make_embedding("torch")
    leads = np.asarray(embedding.get_text_embedding_batch([f"{a['title'] or ''}\n{' '.join(a['text'].split()[:150])}" for a in articles]), dtype=np.float32)
    code = {a["doc_id"]: i for i, a in enumerate(articles)}
    day = np.array([dt.datetime.strptime(a["publish_date"][:10], "%Y/%m/%d").toordinal() for a in articles])

    def bm25(index, terms):
        known = [t for t in terms if t in index.vocab_dict]
        return index.get_scores(known) if known else np.zeros(len(articles))

    rows = []
    for q in questions:
        asked = dt.datetime.strptime(q["question_date"], "%Y/%m/%d").date()
        ok = day <= asked.toordinal()
        gold = [code[g] for g in q["gold_doc_ids"] if g in code and ok[code[g]]]
        if not gold:
            continue  # every gold article is dated after the question: not findable as of its date
        terms = bm25s.tokenize([q["question"]], stopwords="en_plus", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        rows.append({
            "week": q["week"], "id": q["question_id"], "question": q["question"], "gold": gold, "ok": ok,
            "dense": leads @ np.asarray(embedding.get_query_embedding(q["question"]), dtype=np.float32),
            "passage": np.zeros(len(articles)), "article": _scaled(np.where(ok, bm25(whole, terms), 0.0)),
            "title": _scaled(np.where(ok, bm25(titles, terms), 0.0)), "age": (asked.toordinal() - day).astype(float),
            "unknown_age": np.zeros(len(articles), bool), "strength": prior_strength(q["question"], asked),
        })  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.corpus}.pkl").write_bytes(pickle.dumps(rows))
    print(f"{len(rows)} of {len(questions)} questions findable as of their date; wrote {out / (args.corpus + '.pkl')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
