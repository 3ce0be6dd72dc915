"""Corroboration over the RealTimeQA corpus: precision of "also reported by", wire copies counted once,
conflicting figures found, and the time corroboration adds to an answer.

Three parts, over the 2022 RealTimeQA corpus (``/work/shared/eval/realtimeqa``: CNN, USA Today and The
Week, several outlets' copies of the same stories), indexed as ``rag eval`` indexes it (its collection
in ``--data-dir``, read only; build it with ``rag eval --retrieval-only`` first):

1. **Answers**: each dev question is answered (extractive, as of its question date) with corroboration
   on; the time ``Corroborator.annotate`` takes per answer is the extra time (p50, p95).
2. **Hand-checked sample** (``--judged``, default ``benchmarks/corroboration_judged.jsonl``): claims
   (evidence sentences of those answers that some other article states too, in question order; the
   committed file holds the 17 such claims of the 102 dev answers, judged by the feature's developer, and
   33 random corpus sentences that another article states, ``--extend-sample``, judged by a second
   session; ``news_claim: false`` marks newsletter promos and related-story link lines, scored apart too), each
   match judged by hand (``yes``: the other sentence states the claim; ``no``: it does not) and each
   claim's outlet count judged (the number of independent outlets once copies of one story are put
   together). The file holds article ids and sentence offsets into the stored articles, with a few words
   of each sentence as a cue, never the articles' text (the corpus is not redistributed). The run
   recomputes every claim's corroboration and scores it against the judgements: precision of the
   matches (unjudged new matches are counted apart), and the share of claims whose outlet count
   equals the judged one (copies collapsed). ``--write-sample FILE`` writes a fresh, unjudged sample of
   50 (the dev claims, then random corpus sentences that another article states, one per article).
3. **Constructed conflicts**: ``--conflicts`` articles (fixed seed) with a sentence holding a number are
   indexed into a temporary store with a copy in which that number is changed, among as many other
   articles; for each, the original sentence's corroboration must name the copy as a conflict with the
   two numbers (recall), and no other conflict (false conflicts are counted).

    python benchmarks/corroboration.py [--data-dir /tmp/evaldata] [--questions 102] [--conflicts 50] [--parts answers,judged,conflicts]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
EVAL = Path(os.environ.get("RAG_EVAL_DIR", ROOT.parent / "shared" / "eval" / "realtimeqa"))
if not EVAL.exists():
    EVAL = Path("/work/shared/eval/realtimeqa")
JUDGED = Path(__file__).with_name("corroboration_judged.jsonl")


def assistant_for(data_dir: Path, corpus: Path, collection: str | None = None):
    from rag.assistant import Assistant
    from rag.eval.questions import corpus_collection
    from rag.settings import load_settings

    settings = load_settings(data_dir=data_dir, llm="extractive", collection=collection or corpus_collection(corpus))
    return Assistant(settings)


def cue(text: str, words: int = 8) -> str:
    """The first few words of a sentence: enough to recognise it, not a copy of the article."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def digest(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]


def citation_at(assistant, article_id: str, start: int, end: int):
    from rag.types import Citation

    article = assistant.article(article_id)
    if article is None:
        return None
    quote = article.text[start:end]
    return Citation(1, article.id, article.title, article.date, article.source, article.url, quote, start, end, quote, 1.0)


def answers(assistant, questions: list[dict]):
    """(question, Answer) for each question, asked as of its date; the corroboration times in ms."""
    out, times = [], []
    for q in questions:
        answer = assistant.query(q["question"], as_of=q["question_date"].replace("/", "-"))
        if not answer.refused:
            out.append((q, answer))
            times.append(answer.timings_ms.get("corroboration", 0.0))
    return out, times


def _row(citation, corroboration, as_of, origin: str) -> dict | None:
    others = [(o, r) for o in corroboration.outlets for r in o.reports if r.article_id != citation.article_id]
    if not others:
        return None
    return {
        "origin": origin, "as_of": as_of.toordinal() if as_of else None, "article_id": citation.article_id,
        "start": citation.start, "end": citation.end, "claim_cue": cue(citation.quote), "claim_sha": digest(citation.quote),
        "matches": [{"article_id": r.article_id, "start": r.start, "end": r.end, "source": r.source, "outlet": o.name,
                     "cue": cue(r.quote), "sha": digest(r.quote), "verdict": ""} for o, r in others],
        "outlets_found": len(corroboration.outlets), "outlets_judged": None, "note": "",
    }  # fmt: skip


def sample(assistant, answered, size: int, seed: int, rows: list[dict] | None = None) -> list[dict]:
    """``size`` claims that another article states, unjudged: first ``rows`` (a judged sample to extend,
    kept as it is) or the evidence of the dev answers (in question order), then, as those are too few
    (most claims are stated by one article only), sentences of articles drawn at random (fixed seed, one
    claim per article), corroborated over the whole corpus."""
    from rag.answer.changes import article_sentences
    from rag.answer.provenance import corroborator as make_corroborator
    from rag.answer.sentences import cite_sentence

    rows = list(rows or [])
    seen = {(r["article_id"], r["start"]) for r in rows}
    sampled = {r["article_id"] for r in rows if r["origin"] == "random sentence"}
    for q, answer in answered:
        for c in answer.evidence:
            row = _row(c, c.corroboration, answer.as_of, f"answer {q['question_id']}")
            if row and (c.article_id, c.start) not in seen and len(rows) < size:
                seen.add((c.article_id, c.start))
                rows.append(row)
    corroborator = make_corroborator(assistant)
    articles = [a.id for a in assistant.articles()]
    random.Random(seed).shuffle(articles)
    for article_id in articles:
        if len(rows) >= size:
            break
        if article_id in sampled:
            continue
        sentences = [s for s in article_sentences(assistant, article_id) if len(s.text.split()) >= 10]
        random.Random(f"{seed}-{article_id}").shuffle(sentences)
        vectors = assistant.embedding.get_text_embedding_batch([s.text.strip() for s in sentences[:8]]) if sentences else []
        for sentence, vector in zip(sentences[:8], vectors):
            citation = cite_sentence(sentence, 1, 1.0)
            row = _row(citation, corroborator.corroboration(citation, vector, None, {}), None, "random sentence")
            if row and (citation.article_id, citation.start) not in seen:
                seen.add((citation.article_id, citation.start))
                rows.append(row)
                break
    return rows


def score_sample(assistant, rows: list[dict]) -> dict:
    """Precision of the matches and the share of claims whose outlet count is the judged one."""
    from rag.answer.provenance import corroborator as make_corroborator

    corroborator = make_corroborator(assistant)
    judged = yes = unjudged = claims = outlets_right = drifted = 0
    news = {"claims": 0, "judged": 0, "yes": 0}  # the same, without boilerplate lines (newsletter promos, link lines)
    for row in rows:
        citation = citation_at(assistant, row["article_id"], row["start"], row["end"])
        if citation is None or digest(citation.quote) != row["claim_sha"]:
            drifted += 1
            continue
        claims += 1
        news["claims"] += row.get("news_claim", True)
        as_of = dt.date.fromordinal(row["as_of"]) if row.get("as_of") else None  # later articles are not searched
        vector = assistant.embedding.get_text_embedding_batch([citation.quote.strip()])[0]
        found = corroborator.corroboration(citation, vector, as_of, {})
        verdicts = {(m["article_id"], m["start"]): m["verdict"] for m in row["matches"]}
        for outlet in found.outlets:
            for r in outlet.reports:
                if r.article_id == citation.article_id:
                    continue
                verdict = verdicts.get((r.article_id, r.start), "")
                if verdict in ("yes", "no"):
                    judged += 1
                    yes += verdict == "yes"
                    if row.get("news_claim", True):
                        news["judged"] += 1
                        news["yes"] += verdict == "yes"
                else:
                    unjudged += 1
        if row["outlets_judged"] is not None:
            outlets_right += len(found.outlets) == row["outlets_judged"]
    return {"claims": claims, "drifted": drifted, "matches judged": judged, "precision": yes / judged if judged else None,
            "unjudged matches": unjudged, "outlet count right": outlets_right / claims if claims else None,
            "news claims": news["claims"], "news matches": news["judged"], "news precision": news["yes"] / news["judged"] if news["judged"] else None}  # fmt: skip


def corpus_records(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


_NUMBER = re.compile(r"(?<![\w.,$])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,]\d)")


def changed(number: str) -> str:
    """Another plausible figure of the same shape: 34 -> 41, 1,200 -> 1,207."""
    value = int(number.replace(",", ""))
    if 1900 <= value <= 2100:
        return ""
    other = value + 7 if value < 50 else value + value // 5 + 3
    return f"{other:,}" if "," in number else str(other)


def conflicts(count: int, distractors: int, seed: int, records: list[dict], keep: Path | None = None) -> dict:
    """Recall of constructed conflicts (a copy with one number changed) and false conflicts; each miss
    printed (stderr). ``keep``: index into this folder (kept: a second run re-uses it) instead of a temporary one."""
    from rag.answer.provenance import corroborator as make_corroborator
    from rag.answer.sentences import sentence_tokenizer

    rng = random.Random(seed)
    pool = [r for r in records if r.get("text") and len(r["text"]) > 1500]
    rng.shuffle(pool)
    cases, others = [], []
    for record in pool:
        if len(cases) < count:
            sentences = [s for p in record["text"].split("\n") for s in sentence_tokenizer().tokenize(p)]
            options = [s for s in sentences if 12 <= len(s.split()) <= 45 and any(changed(m.group(1)) for m in _NUMBER.finditer(s))]
            if options:
                sentence = rng.choice(options)
                match = next(m for m in _NUMBER.finditer(sentence) if changed(m.group(1)))
                new = sentence[: match.start()] + changed(match.group(1)) + sentence[match.end() :]
                cases.append((record, sentence, new, match.group(1), changed(match.group(1))))
                continue
        if len(others) < distractors:
            others.append(record)
        if len(cases) == count and len(others) == distractors:
            break
    with contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for record, sentence, new, _, _ in cases:
            lines.append(record)
            copy = dict(record, doc_id=record["doc_id"] + "_copy", text=record["text"].replace(sentence, new, 1),
                        url=(record.get("url") or "").replace("://", "://copy."), source_domain="copy-" + (record.get("source_domain") or "site"))
            lines.append(copy)
        lines += others
        corpus = folder / "conflicts.jsonl"
        corpus.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
        assistant = assistant_for(folder / "data", corpus, "conflicts")
        started = time.perf_counter()
        assistant.ingest([corpus])
        print(f"  indexed {len(lines)} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        corroborator = make_corroborator(assistant)
        found = false = missing = 0
        by_url = {a.url: a for a in assistant.articles()}
        for record, sentence, _, old, new in cases:
            original = by_url.get(record.get("url"))
            article = assistant.article(original.id) if original else None
            start = article.text.find(sentence) if article else -1
            if start < 0:
                missing += 1
                continue
            citation = citation_at(assistant, article.id, start, start + len(sentence))
            vector = assistant.embedding.get_text_embedding_batch([sentence])[0]
            result = corroborator.corroboration(citation, vector, None, {})
            right = [x for x in result.conflicts if x.report.source.startswith("copy-") and old in x.claim_value and new in x.other_value]
            found += bool(right)
            if not right:
                supported = any(r.source.startswith("copy-") for o in result.outlets for r in o.reports)
                print(f"  missed {old} -> {new}: {'the copy counted as support' if supported else 'no conflict with the copy'}; "
                      f"conflicts {[(x.report.source, x.claim_value, x.other_value) for x in result.conflicts]}; {cue(sentence, 14)}", file=sys.stderr)  # fmt: skip
            false += len(result.conflicts) - len(right)
        return {"cases": len(cases) - missing, "found": found, "recall": found / max(1, len(cases) - missing), "false conflicts": false}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("RAG_DATA_DIR", "/tmp/evaldata")))
    parser.add_argument("--questions", type=int, default=102)
    parser.add_argument("--conflicts", type=int, default=50)
    parser.add_argument("--distractors", type=int, default=100)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--conflicts-dir", type=Path, help="index the constructed set here and keep it (default: a temporary folder)")
    parser.add_argument("--judged", type=Path, default=JUDGED)
    parser.add_argument("--parts", default="answers,judged,conflicts", help="which parts to run, comma-separated")
    parser.add_argument("--write-sample", type=Path, help="write a fresh unjudged sample of 50 claims here and stop")
    parser.add_argument("--extend-sample", action="store_true", help="with --write-sample: keep the --judged claims (no answers asked) and add random ones")
    args = parser.parse_args()
    corpus = EVAL / "corpus.jsonl.gz"
    if not corpus.exists():
        print(f"skipped: the RealTimeQA corpus is not at {corpus} (set RAG_EVAL_DIR)")
        return 0
    assistant = assistant_for(args.data_dir, corpus)
    if not assistant.articles():
        print(f"skipped: no RealTimeQA index in {args.data_dir}; build it with `python -m rag eval --retrieval-only ...`")
        return 0
    questions = [json.loads(line) for line in (EVAL / "questions.dev.jsonl").open()][: args.questions]
    assistant.query(questions[0]["question"])  # warm-up: models loaded, BM25 index read
    parts = set(args.parts.split(","))
    extend = [json.loads(line) for line in args.judged.open()] if args.extend_sample and args.judged.exists() else []
    asked = "answers" in parts or (args.write_sample and not extend)
    answered, times = answers(assistant, questions) if asked else ([], [])
    if args.write_sample:
        rows = sample(assistant, answered, 50, args.seed, extend)
        args.write_sample.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"wrote {len(rows)} unjudged claims to {args.write_sample}")
        return 0
    table = []
    if times:
        table += [("answers corroborated (dev questions)", f"{len(times)}", ""),
                  ("corroboration per answer, p50 / p95", _p50_p95(times), "p50 <= 1 s")]  # fmt: skip
    if "judged" in parts and args.judged.exists():
        judged = score_sample(assistant, [json.loads(line) for line in args.judged.open()])
        table += [
            ("'also reported by' precision (hand-checked)", f"{_fmt(judged['precision'])} ({judged['matches judged']} matches, {judged['claims']} claims)", ">= 0.90"),
            ("the same, news claims only (no promo or link lines)", f"{_fmt(judged['news precision'])} ({judged['news matches']} matches, {judged['news claims']} claims)", ""),
            ("unjudged matches / drifted claims", f"{judged['unjudged matches']} / {judged['drifted']}", "0 / 0"),
            ("outlet count right (copies collapsed)", _fmt(judged["outlet count right"]), ""),
        ]  # fmt: skip
    if "conflicts" in parts:
        conflict = conflicts(args.conflicts, args.distractors, args.seed, corpus_records(corpus), args.conflicts_dir)
        table += [
            ("constructed conflicts found", f"{_fmt(conflict['recall'])} ({conflict['found']} of {conflict['cases']})", ">= 0.90"),
            ("false conflicts on the constructed set", f"{conflict['false conflicts']}", ""),
        ]  # fmt: skip
    print("| measure | value | target |\n| --- | --- | --- |")
    for row in table:
        print("| " + " | ".join(row) + " |")
    return 0


def _p50_p95(ms: list[float]) -> str:
    return f"{statistics.median(ms) / 1000:.2f} s / {sorted(ms)[int(0.95 * (len(ms) - 1))] / 1000:.2f} s"


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
