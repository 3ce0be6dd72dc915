"""Retrieval and refusal on ordinary variations of the questions: one typo, a long compound wording, another language.

For each RealTimeQA dev question (``../shared/eval/realtimeqa``) and each out-of-corpus question, asks
the question as written, with one generated typo (a random letter of a random word of five letters or
more swapped with its neighbour, dropped, doubled or replaced; fixed seed), and wrapped in a long,
compound wording (one of several fixed frames around the question, adding a second request). Prints,
per variant: hit@1/5/10 over distinct articles of the top 10 passages, the share of answerable
questions refused (lower is better), the share of out-of-corpus questions refused (higher is better),
and how many questions had a word corrected. A few questions translated by hand into Spanish,
German and French show what a question in another language gets.

    python benchmarks/robustness.py [--limit N] [--seed 7]

Uses the evaluation collection that ``python -m rag eval`` builds (same data dir and corpus), so run
that once first or expect a full ingest. Skips with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "realtimeqa"

FRAMES = (
    "I have been trying to keep up with the news lately and there is one thing I cannot quite remember, so "
    "maybe you can help me with it: {q} Please also tell me briefly what else the reports said about it.",
    "Quick question for a piece I am writing, and I would appreciate a careful answer with the details: {q} "
    "And if the articles mention when this happened, include that too.",
    "{q} I am asking because a colleague brought it up in a meeting this morning and I would like to check the "
    "facts before we publish anything, so please say which article it comes from.",
)

TRANSLATED = (  # (language, question, the English question it translates)
    ("es", "¿Qué fabricante de automóviles retiró 2,9 millones de vehículos esta semana?",
     "Which automaker recalled 2.9 million vehicles this week?"),
    ("de", "Welcher Autohersteller hat diese Woche 2,9 Millionen Fahrzeuge zurückgerufen?",
     "Which automaker recalled 2.9 million vehicles this week?"),
    ("fr", "Quelle émission très populaire a été renouvelée pour une nouvelle saison ?",
     "Which wildly popular show was recently green lit for a new season?"),
)  # fmt: skip


def typo(question: str, rng: random.Random) -> str:
    """``question`` with one typo in one of its longer words."""
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", question)]
    if not words:
        return question
    match = rng.choice(words)
    word = match.group(0)
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        new = word[: i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "drop":
        new = word[:i] + word[i + 1 :]
    elif kind == "double":
        new = word[:i] + word[i] + word[i:]
    else:
        new = word[:i] + rng.choice([c for c in "aeioustnrl" if c != word[i]]) + word[i + 1 :]
    return question[: match.start()] + new + question[match.end() :]


def long_form(question: str, rng: random.Random) -> str:
    return rng.choice(FRAMES).format(q=question)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N questions of each file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not (SHARED / "questions.dev.jsonl").is_file():
        print(f"skipped: {SHARED} not found (the RealTimeQA evaluation data lives in ../shared)")
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rag.eval.run import Evaluator, hit_at_k, load_questions
    from rag.settings import load_settings

    questions = load_questions(SHARED / "questions.dev.jsonl", limit=args.limit)
    questions += load_questions(SHARED / "unanswerable.dev.jsonl", answerable=False, limit=args.limit)
    evaluator = Evaluator(load_settings(), corpus=SHARED / "corpus.jsonl.gz")
    evaluator.ingest(show_progress=True)
    gold = evaluator.gold_ids(questions)
    assistant = evaluator.base
    variants = {"as written": lambda q, r: q, "one typo": typo, "long, compound": long_form}
    rows = []
    for name, make in variants.items():
        rng = random.Random(args.seed)
        hits = {1: 0, 5: 0, 10: 0}
        refused_yes = refused_no = corrected = 0
        answerable = [q for q in questions if q.answerable]
        for q in questions:
            text = make(q.question, rng)
            top10 = assistant.retrieve(text, top_k=10, as_of=q.as_of)
            weak = assistant.retrieve(text, as_of=q.as_of).weak
            corrected += bool(top10.corrections)
            if q.answerable:
                ranked = list(dict.fromkeys(h.passage.article_id for h in top10.passages))
                for k in hits:
                    hits[k] += hit_at_k(ranked, gold[q.id], k)
                refused_yes += weak
            else:
                refused_no += weak
        n, m = len(answerable), len(questions) - len(answerable)
        rows.append([name, *(f"{hits[k] / n:.3f}" for k in hits), f"{refused_yes / n:.3f}", f"{refused_no / m:.3f}" if m else "-", str(corrected)])
    header = ["questions", "hit@1", "hit@5", "hit@10", "refused: answerable", "refused: out-of-corpus", "corrected"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print()
    for language, question, english in TRANSLATED:
        answer = assistant.query(question, llm=False)
        print(f"[{language}] {question}\n     -> refused={answer.refused}: {answer.text[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
