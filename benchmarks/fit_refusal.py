"""Fit the answerability model that decides refusal (rag/retrieval/answerability.py), and report it held out.

The command behind ``rag/retrieval/answerability.json`` and ``min_answerable`` in rag/rag.toml. For both
RealTimeQA corpora in ``../shared/eval`` (``realtimeqa``, 2022, and ``realtimeqa2023``) it asks, with each
question's date as the as-of date, through the product's own retriever:

* the corpus's answerable dev questions, as written and with one generated typo (``robustness.typo``, seed 7);
* the 400 out-of-corpus questions of ``unanswerable.train.jsonl`` (training only) and the 50 of
  ``unanswerable.dev.jsonl`` (reporting only),

and records ``Retrieval.signals`` (no date among them) in ``--signals`` (re-used when present). Then it
fits a logistic regression (scikit-learn, class-balanced, standardised signals) and prints, on questions
it was not fitted to: answerable refused (as written and with a typo) and out-of-corpus refused, for

* today's rule before this model (best similarity < 0.65 and coverage < 0.70), for comparison, and the same
  two-threshold rule refitted on the same training sets (the thresholds that refuse the most out-of-corpus
  questions while refusing at most ``--refuse-answerable`` of the answerable ones): per corpus by week,
  fitted on one corpus and reported on the other, and fitted on both;
* each corpus on its own, cross-validated by quiz week (answerable) and on the dev out-of-corpus set;
* fitted on one corpus, reported on the other (both ways);
* the shipped model, fitted on both corpora: cross-validated by week, and on the dev out-of-corpus set.

The threshold is the probability under which a share ``--refuse-answerable`` of the training answerable
questions falls (in-sample, so held-out refusals run a little higher). ``--write`` saves the shipped model
to rag/retrieval/answerability.json (``min_answerable`` in rag.toml is set to its threshold by hand).

    python benchmarks/fit_refusal.py [--data-dir realtimeqa2023=/tmp/data23] [--signals /tmp/signals] [--write]

Each corpus is indexed by ``python -m rag eval`` first (its own collection, ``--data-dir`` or the settings'
data dir). Skips with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
CORPORA = ("realtimeqa", "realtimeqa2023")
OUT_OF_CORPUS = SHARED / "realtimeqa"  # unanswerable.train.jsonl / unanswerable.dev.jsonl: 2024 news, in neither
MODEL = Path(__file__).resolve().parents[1] / "rag" / "retrieval" / "answerability.json"
OLD_RULE = (0.65, 0.70)  # min_evidence, min_coverage before the model
# The signals the shipped model reads. The others (margin, agreement, title overlap, terms no article
# uses, best article BM25) scored a little higher on the 2022 corpus (out-of-corpus refused 0.80 vs 0.74
# at the same answerable rate) but depend on the corpus's size: on a one- or two-article corpus (the
# bundled sample) margin and title overlap are extreme and the model refused every question.
DEFAULT_FEATURES = ("similarity", "coverage", "coverage_all", "missing_names")


def collect(corpus: str, data_dir: str | None) -> list[dict]:
    """Signals of every question of ``corpus`` (answerable, with a typo, out-of-corpus train and dev)."""
    from robustness import typo

    from rag.eval.run import Evaluator, load_questions
    from rag.settings import load_settings

    settings = load_settings(refusal_rule="model", **({"data_dir": data_dir} if data_dir else {}))  # the model's signals
    evaluator = Evaluator(settings, corpus=SHARED / corpus / "corpus.jsonl.gz")
    evaluator.ingest(show_progress=True)
    assistant = evaluator.base
    sets = {
        "answerable": load_questions(SHARED / corpus / "questions.dev.jsonl"),
        "train": load_questions(OUT_OF_CORPUS / "unanswerable.train.jsonl", answerable=False),
        "dev": load_questions(OUT_OF_CORPUS / "unanswerable.dev.jsonl", answerable=False),
    }
    rng = random.Random(7)
    rows = []
    for name, questions in sets.items():
        for q in questions:
            variants = [("", q.question)] + ([("typo", typo(q.question, rng))] if name == "answerable" else [])
            for kind, text in variants:
                found = assistant.retrieve(text, as_of=q.as_of)
                rows.append({
                    "corpus": corpus, "set": kind or name, "id": q.id, "week": q.id.split("_")[0] if q.answerable else "",
                    "label": int(q.answerable), "signals": found.signals, "question": text,
                })  # fmt: skip
    return rows


def matrix(rows, features):
    import numpy as np

    return np.array([[r["signals"].get(f, 0.0) if r["signals"] else 0.0 for f in features] for r in rows], dtype=float)


def fit(rows, features, refuse_answerable: float):
    """(model dict, probability function) fitted on ``rows`` (answerable as written + out-of-corpus train)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from rag.retrieval.answerability import fully_covered

    x, y = matrix(rows, features), np.array([r["label"] for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000).fit((x - mean) / scale, y)

    def probability(test_rows):
        """P(answerable); 1 for a fully covered question, which the product answers whatever the model says."""
        z = model.intercept_[0] + ((matrix(test_rows, features) - mean) / scale) @ model.coef_[0]
        empty = np.array([not r["signals"] for r in test_rows])
        covered = np.array([fully_covered(r["signals"] or {}) for r in test_rows])
        return np.where(empty, 0.0, np.where(covered, 1.0, 1 / (1 + np.exp(-z))))

    threshold = float(np.quantile(probability([r for r in rows if r["label"] and r["set"] == "answerable"]), refuse_answerable))
    saved = {
        "features": list(features), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(threshold, 4),
    }  # fmt: skip
    return saved, probability, threshold


def refused(probability, rows, threshold) -> float | None:
    return float((probability(rows) < threshold).mean()) if rows else None


def pick(rows, corpus=None, sets=("answerable",)):
    return [r for r in rows if (corpus is None or r["corpus"] in corpus) and r["set"] in sets]


def by_week(rows, corpora, features, args):
    """Answerable (as written, typo) refused, each week's questions judged by a model fitted without that week."""
    import numpy as np

    answerable = pick(rows, corpora)
    typos = {r["corpus"] + r["id"]: r for r in pick(rows, corpora, ("typo",))}
    out, out_typo = [], []
    for week in sorted({r["week"] for r in answerable}):
        train = [r for r in pick(rows, corpora, training_sets(args)) if r["week"] != week or not r["label"]]
        _, probability, threshold = fit(train, features, args.refuse_answerable)
        held = [r for r in answerable if r["week"] == week]
        out += list(probability(held) < threshold)
        out_typo += list(probability([typos[r["corpus"] + r["id"]] for r in held]) < threshold)
    return float(np.mean(out)), float(np.mean(out_typo))


def training_sets(args) -> tuple[str, ...]:
    """The sets a model is fitted on: answerable (and, with --train-typos, their typo versions) and out-of-corpus train."""
    return ("answerable", "typo", "train") if args.train_typos else ("answerable", "train")


def old_rule(rows) -> float | None:
    return threshold_rule(rows, OLD_RULE)


def threshold_rule(rows, thresholds) -> float | None:
    """Share of ``rows`` the two-threshold rule refuses at ``thresholds`` (min_evidence, min_coverage)."""
    if not rows:
        return None
    s, c = thresholds
    return sum(not r["signals"] or (r["signals"]["similarity"] < s and r["signals"]["coverage"] < c) for r in rows) / len(rows)


def fit_thresholds(rows, refuse_answerable: float) -> tuple[float, float]:
    """The rule's (min_evidence, min_coverage) that refuses the most out-of-corpus ``rows`` while refusing at most
    ``refuse_answerable`` of the answerable ones (as written); ties go to the fewer answerable refused."""
    import numpy as np

    answerable = [r for r in rows if r["label"] and r["set"] == "answerable"]
    outside = [r for r in rows if not r["label"]]

    def arrays(group):
        sim = np.array([r["signals"]["similarity"] if r["signals"] else -1.0 for r in group])
        cov = np.array([r["signals"]["coverage"] if r["signals"] else -1.0 for r in group])
        return sim, cov

    (sa, ca), (so, co) = arrays(answerable), arrays(outside)
    best, chosen = (-1.0, 0.0), OLD_RULE
    for s in np.arange(0.40, 0.851, 0.01):
        for c in np.arange(0.30, 1.001, 0.01):
            ans = float(((sa < s) & (ca < c)).mean())
            if ans > refuse_answerable:
                continue
            key = (float(((so < s) & (co < c)).mean()), -ans)
            if key > best:
                best, chosen = key, (round(float(s), 2), round(float(c), 2))
    return chosen


def thresholds_by_week(rows, corpora, args):
    """Answerable (as written, typo) refused by the refitted two-threshold rule, each week judged by thresholds fitted without it."""
    import numpy as np

    answerable = pick(rows, corpora)
    typos = {r["corpus"] + r["id"]: r for r in pick(rows, corpora, ("typo",))}
    out, out_typo = [], []
    for week in sorted({r["week"] for r in answerable}):
        train = [r for r in pick(rows, corpora, ("answerable", "train")) if r["week"] != week or not r["label"]]
        chosen = fit_thresholds(train, args.refuse_answerable)
        held = [r for r in answerable if r["week"] == week]
        out += [threshold_rule([r], chosen) for r in held]
        out_typo += [threshold_rule([typos[r["corpus"] + r["id"]]], chosen) for r in held]
    return float(np.mean(out)), float(np.mean(out_typo))


def table(lines) -> str:
    """The report as a Markdown table (README-ready)."""
    cell = lambda v: "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    header = ["refusal", "answerable refused", "with one typo", "out-of-corpus refused (dev)"]
    return "\n".join("| " + " | ".join(map(cell, row)) + " |" for row in [header, ["---"] * 4, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", action="append", default=[], help="CORPUS=DIR: where that corpus's eval collection is")
    parser.add_argument("--signals", default="", help="folder caching each corpus's signals as CORPUS.json (read if present, else written)")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="only these corpora (default: both)")
    parser.add_argument("--only", choices=CORPORA, help="collect the signals of this corpus only (with --signals), then stop")
    parser.add_argument("--refuse-answerable", type=float, default=0.03, help="share of training answerable questions under the threshold")
    parser.add_argument("--features", default="", help="comma-separated signals (answerability.FEATURES; default: DEFAULT_FEATURES)")
    parser.add_argument("--train-typos", action="store_true", help="fit on the answerable questions' typo versions too")
    parser.add_argument("--write", action="store_true", help="save the model fitted on both corpora to rag/retrieval/answerability.json")
    args = parser.parse_args(argv)
    if not all((SHARED / c / "questions.dev.jsonl").is_file() for c in args.corpus or CORPORA):
        print(f"skipped: {SHARED} lacks {' or '.join(CORPORA)} (the RealTimeQA evaluation data lives in ../shared)")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    dirs = dict(item.split("=", 1) for item in args.data_dir)

    corpora = args.corpus or list(CORPORA)
    rows = []
    for corpus in [args.only] if args.only else corpora:
        cache = Path(args.signals) / f"{corpus}.json" if args.signals else None
        if cache and cache.is_file():
            rows += json.loads(cache.read_text(encoding="utf-8"))
            continue
        rows += (found := collect(corpus, dirs.get(corpus)))
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(found), encoding="utf-8")
    if args.only:
        return 0
    features = tuple(args.features.split(",")) if args.features else DEFAULT_FEATURES
    lines = []
    for corpus in corpora:
        lines.append([f"{corpus}: before (similarity < {OLD_RULE[0]} and coverage < {OLD_RULE[1]})",
                      old_rule(pick(rows, [corpus])), old_rule(pick(rows, [corpus], ("typo",))), old_rule(pick(rows, [corpus], ("dev",)))])  # fmt: skip
    # The two-threshold rule refitted the same way (same training sets, same answerable share).
    for corpus in corpora:
        chosen = fit_thresholds(pick(rows, [corpus], ("answerable", "train")), args.refuse_answerable)
        answerable, typo_rate = thresholds_by_week(rows, [corpus], args)
        lines.append([f"{corpus}: thresholds fitted on it {chosen}, by week", answerable, typo_rate, threshold_rule(pick(rows, [corpus], ("dev",)), chosen)])
    if len(corpora) == 2:
        for source, target in (corpora, corpora[::-1]):
            chosen = fit_thresholds(pick(rows, [source], ("answerable", "train")), args.refuse_answerable)
            lines.append([f"{target}: thresholds fitted on {source} only {chosen}"] + [threshold_rule(pick(rows, [target], (s,)), chosen) for s in ("answerable", "typo", "dev")])
        chosen = fit_thresholds(pick(rows, corpora, ("answerable", "train")), args.refuse_answerable)
        both, both_typo = thresholds_by_week(rows, corpora, args)
        lines.append([f"both corpora: thresholds fitted on both {chosen}, by week", both, both_typo, None])
        for corpus in corpora:
            lines.append([f"{corpus}: thresholds fitted on both {chosen}, dev out-of-corpus", None, None, threshold_rule(pick(rows, [corpus], ("dev",)), chosen)])
    for corpus in corpora:
        answerable, typo_rate = by_week(rows, [corpus], features, args)
        _, probability, threshold = fit(pick(rows, [corpus], training_sets(args)), features, args.refuse_answerable)
        lines.append([f"{corpus}: fitted on it, by week", answerable, typo_rate, refused(probability, pick(rows, [corpus], ("dev",)), threshold)])
    if len(corpora) == 2:
        for source, target in (corpora, corpora[::-1]):
            _, probability, threshold = fit(pick(rows, [source], training_sets(args)), features, args.refuse_answerable)
            lines.append([f"{target}: fitted on {source} only"] + [refused(probability, pick(rows, [target], (s,)), threshold) for s in ("answerable", "typo", "dev")])
    saved, probability, threshold = fit(pick(rows, corpora, training_sets(args)), features, args.refuse_answerable)
    if len(corpora) == 2:
        for corpus in corpora:
            lines.append([f"{corpus}: shipped (fitted on both), dev out-of-corpus", None, None, refused(probability, pick(rows, [corpus], ("dev",)), threshold)])
        both, both_typo = by_week(rows, corpora, features, args)
        lines.append(["both corpora: the shipped fit, by week", both, both_typo, None])
    print(table(lines))
    print("coefficients (standardised signals):", ", ".join(f"{f} {c:+.2f}" for f, c in zip(saved["features"], saved["coef"])))
    print(f"threshold (min_answerable): {threshold:.4f}")
    if args.write:
        given = list(argv if argv is not None else sys.argv[1:])
        kept = [a for i, a in enumerate(given) if a not in ("--signals", "--data-dir") and (i == 0 or given[i - 1] not in ("--signals", "--data-dir"))]
        saved = {"command": " ".join(["python benchmarks/fit_refusal.py", *kept]),
                 "fitted_on": corpora, "model": "scikit-learn LogisticRegression(C=0.1, class_weight='balanced') on standardised signals", **saved}  # fmt: skip
        MODEL.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL} (threshold {threshold:.4f}: set min_answerable in rag/rag.toml to it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
