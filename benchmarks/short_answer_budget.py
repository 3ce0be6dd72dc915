"""The short answer's reading accuracy and time against the size of its context, on gold articles.

For each answerable question of a RealTimeQA set, the sentences of its gold article(s) are ranked the way
the assistant ranks evidence (the extractive answerer's scoring), and the LLM is asked for the short
answer from the best sentences that fit a prompt-token budget. Prints, per budget: reading accuracy
(an accepted answer contained in the short answer alone), the same on the questions whose answer is
worded in a gold article, the prompt tokens of the context, and time to the short answer (p50 / p95).
No index is built: only the gold articles are read, so the curve costs minutes, not the 26 of an ingest.
``--replay`` re-checks the replies a previous ``--out`` file recorded instead of asking the LLM again (the
same prompts give the same replies: generation is greedy), so a change to the check alone is measured
before/after on the very same replies, in seconds, whatever the load of the machine.

    python benchmarks/short_answer_budget.py --budgets 0,200,300,400 --limit 102
    python benchmarks/short_answer_budget.py --set 2023 --budgets 0,200,400 --limit 100

Needs ``../shared/eval`` and the ``local`` extra; skips with a message without them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
SETS = {"2022": ROOT.parent / "shared" / "eval" / "realtimeqa", "2023": ROOT.parent / "shared" / "eval" / "realtimeqa2023"}


def load_questions(folder: Path, limit: int) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "questions.dev.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("gold_doc_ids") and r.get("answer_text")][:limit]


def gold_hits(question: dict, articles: dict[str, dict], max_articles: int):
    """One whole-article passage per gold article (cleaned as ingest cleans it)."""
    from rag.ingest.clean import clean_article_text, parse_date
    from rag.types import Passage, ScoredPassage

    hits = []
    for doc_id in question["gold_doc_ids"][:max_articles]:
        row = articles.get(doc_id)
        if not row:
            continue
        text = clean_article_text(row.get("text") or "").text
        if not text.strip():
            continue
        date = parse_date(row.get("publish_date"))
        passage = Passage(doc_id, doc_id, text, 0, len(text), row.get("title") or "", date, row.get("source_domain") or "")
        hits.append(ScoredPassage(passage, 1.0))
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="2022")
    parser.add_argument("--budgets", default="0,200,300,400", help="llm_context_tokens values (the evidence always goes in: 0 is the evidence alone)")
    parser.add_argument("--limit", type=int, default=102, help="questions (in file order)")
    parser.add_argument("--gold-articles", type=int, default=1, help="gold articles read per question")
    parser.add_argument("--out", type=Path, help="write one JSON line per question and budget here")
    parser.add_argument("--replay", type=Path, help="a previous --out file: check its recorded replies, no LLM (its questions only)")
    args = parser.parse_args(argv)
    folder = SETS[args.set]
    if not (folder / "questions.dev.jsonl").exists():
        print(f"skipped: {folder} is not there (see ../shared/README.md)")
        return 0
    replies = {}
    if args.replay:
        replies = {(r["id"], r["budget"]): r for r in map(json.loads, args.replay.read_text().splitlines()) if r.get("raw") is not None}
        if not replies:  # else the LLM would run, unasked
            print(f"no recorded replies in {args.replay}")
            return 1
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("skipped: the local LLM needs the 'local' extra: pip install -e '.[local]'")
        return 0

    from rag.answer.extractive import ExtractiveAnswerer
    from rag.answer.short import ShortAnswerer, llama_counter
    from rag.eval.metrics import contains_answer, normalise
    from rag.embed import embedding_from
    from rag.llm.factory import make_llm
    from rag.settings import load_settings

    settings = load_settings()
    questions = load_questions(folder, args.limit)
    if args.replay:
        ids = {key[0] for key in replies}
        questions = [q for q in questions if q["question_id"] in ids]
    from realtimeqa import read_articles

    articles = read_articles(folder / "corpus.jsonl.gz", {d for q in questions for d in q["gold_doc_ids"][: args.gold_articles]})
    embedding = embedding_from(settings.embedding)
    ranker = ExtractiveAnswerer(embedding, settings.answer)
    budgets = [int(b) for b in args.budgets.split(",")]
    count = None
    if args.replay:  # no LLM: the context is counted with the model's own tokenizer, as the recorded run counted it
        from llama_cpp import Llama
        from rag.llm.gguf import resolve_gguf

        vocab = Llama(str(resolve_gguf(settings.generation.llm_model_path, settings.storage.data_dir)), vocab_only=True, verbose=False)
        count = llama_counter(vocab)
        llm = None
    else:
        llm = make_llm("local", settings.generation, cache_dir=settings.storage.data_dir)
    short = ShortAnswerer(
        llm, token_budget=budgets[0], max_tokens=settings.answer.short_answer_max_tokens, min_support=settings.citation.cite_min_support,
        best_sentences=settings.answer.answer_sentences, count_tokens=count,
    )
    if llm is not None:
        short.warm_up()
    print(f"{len(questions)} questions ({args.set}), {args.gold_articles} gold article(s) each, budgets {budgets}", flush=True)
    out = args.out.open("w") if args.out else None
    rows: dict[int, list[dict]] = {b: [] for b in budgets}
    prepared = []  # ranking first (no LLM), then one pass per budget: no prompt shares a prefix with the last
    for question in questions:
        hits = gold_hits(question, articles, args.gold_articles)
        if not hits:
            continue
        ranked = ranker.rank_sentences(question["question"], hits)
        evidence = [s for s, _ in ranker.evidence(question["question"], ranked)]
        worded = any(normalise(a) in normalise(h.passage.title + " " + h.passage.text) for a in question["answer_text"] for h in hits)
        as_of = dt.date(*map(int, question["question_date"].split("/")))
        prepared.append((question, ranked, evidence, worded, as_of))
    skipped = 0
    for budget in budgets:
        short.token_budget = budget
        for question, ranked, evidence, worded, as_of in prepared:
            started = time.perf_counter()
            context, tokens = short.select(evidence, ranked)
            recorded = replies.get((question["question_id"], budget))
            if args.replay and (recorded is None or recorded["tokens"] != tokens):
                skipped += 1  # not reached by the recorded run, or its context differed: the reply is not this context's
                continue
            raw = recorded["raw"] if recorded else "".join(short.stream(question["question"], context, as_of=as_of))
            seconds = recorded["seconds"] if recorded else time.perf_counter() - started
            result = short.verify(raw, context, question["question"], dict(ranked))
            shown = result.text if result.verified else ""
            row = {
                "id": question["question_id"], "budget": budget, "raw": raw, "text": shown, "tokens": tokens,
                "sentences": len(context), "seconds": seconds, "worded": worded, "verified": result.verified,
                "correct": contains_answer(shown, question["answer_text"]),
                "correct_raw": contains_answer(raw, question["answer_text"]),
                "lead_correct": contains_answer(evidence[0].text if evidence else "", question["answer_text"]),
                "in_context": contains_answer(" ".join(s.text for s in context), question["answer_text"]),
            }
            rows[budget].append(row)
            if out:
                out.write(json.dumps(row) + "\n")
                out.flush()
        print(f"  budget {budget} done" + (f" ({skipped} recorded replies skipped so far)" if args.replay else ""), flush=True)
    print("| context budget (prompt tokens) | reading accuracy (checked short answer) | unchecked | on answer-worded-in-gold | evidence lead sentence | answer in context | verified | context tokens p50 | short answer p50 / p95 s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for budget, got in rows.items():
        worded = [r for r in got if r["worded"]]
        seconds = sorted(r["seconds"] for r in got)
        p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
        print(
            f"| {budget} | {statistics.mean(r['correct'] for r in got):.3f} | {statistics.mean(r['correct_raw'] for r in got):.3f} "
            f"| {statistics.mean(r['correct'] for r in worded):.3f} ({len(worded)}) | {statistics.mean(r['lead_correct'] for r in got):.3f} "
            f"| {statistics.mean(r['in_context'] for r in got):.3f} | {statistics.mean(r['verified'] for r in got):.3f} | {statistics.median(r['tokens'] for r in got):.0f} "
            f"| {statistics.median(seconds):.2f} / {p95:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
