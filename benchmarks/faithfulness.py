"""Faithfulness of the citation check: are corrupted claims caught and supported claims accepted?

Builds a claim set from the RealTimeQA dev corpus (``../shared/eval/realtimeqa``; skipped with a message
when absent) with a fixed seed, from the gold articles of the dev questions:

* supported: ``sentence`` (a passage sentence verbatim), ``paraphrase`` (the same sentence rewritten
  by deterministic rules: attribution dropped, synonyms, number words for digits, a leading
  time/place phrase moved; no LLM), ``answer`` (a dev question's accepted answer as a short
  answer-first claim, checked with the question, cited to the sentence that contains it);
* corrupted, each from a passage sentence: ``entity`` (a name swapped with another name of the same
  shape from the same article: a demonym for a demonym, a multi-word name for a multi-word name, a
  single name for a single name; no NER model is installed), ``number`` (a number changed), ``date``
  (a weekday, month or year changed), ``negation`` (a "not" added after the first auxiliary verb, or
  removed), ``swap`` (two names of the sentence exchanged: subject and object; not two items of one list,
  "Finland and Sweden", whose exchange changes nothing), ``answer-swap`` (a
  short answer replaced by another name from the same article).

Claims are grouped into answers of three claims about one article, cited ``[n]`` to the passage they
come from, with (up to) five passages of the article as the retrieved hits, and each answer goes
through ``CitationVerifier.check`` as the LLM answerer calls it. A claim is accepted when it comes back
cited (verified), caught when it comes back unsupported. Prints detection per corruption type,
acceptance per supported type, and the time the check adds per answer and per claim (p50/p95).

    python benchmarks/faithfulness.py                       # cheap checks only (fast)
    python benchmarks/faithfulness.py --judge llm --answers 40   # with the bundled 1.5B judge
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "eval" / "realtimeqa"

AUXILIARIES = "is are was were will would can could has have had should does did may might must".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
SYNONYMS = {
    "said": "stated", "says": "states", "announced": "said", "about": "around", "more than": "over",
    "people": "individuals", "help": "assist", "began": "started", "start": "begin", "big": "large",
    "large": "big", "also": "", "major": "significant", "attempt": "try", "purchase": "buy",
}
NUMBER_WORDS = {"2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten"}
NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z\u00C0-\u024F]+(?:\s+[A-Z][a-zA-Z\u00C0-\u024F]+)*")
STOP_NAMES = set(MONTHS + WEEKDAYS + "The A An I He She They It This That But And In On At For Mr Mrs Ms Dr President".split())


def percentile(values, q):
    from rag.eval.run import percentile as _percentile

    return _percentile(values, q) or 0.0


def load_articles(limit: int):
    questions = [json.loads(line) for line in open(SHARED / "questions.dev.jsonl", encoding="utf-8")]
    from realtimeqa import read_articles

    articles = read_articles(SHARED / "corpus.jsonl.gz", {d for q in questions for d in q["gold_doc_ids"]})
    return questions, dict(list(articles.items())[:limit])


def passages_of(record):
    """Passages of ~800 characters cut at paragraph ends, as ``ScoredPassage`` hits, with the speakers
    the index would store (attributed over the whole article, ``rag.ingest.speakers``)."""
    from rag.answer.sentences import sentence_tokenizer
    from rag.ingest.speakers import attribute
    from rag.types import Passage, ScoredPassage

    text = record["text"]
    spans = [(s.start, s.end, s.speaker) for s in attribute(text, sentence_tokenizer())]
    hits, start = [], 0
    for match in re.finditer(r"\n+|$", text):
        if match.end() - start >= 800 or match.end() == len(text):
            chunk = text[start : match.start()]
            if chunk.strip():
                inside = tuple(span for span in spans if start <= span[0] and span[1] <= match.start())
                passage = Passage(f"{record['doc_id']}#{len(hits)}", record["doc_id"], chunk, start, match.start(), record.get("title") or "", speakers=inside)
                hits.append(ScoredPassage(passage, 1.0))
            start = match.end()
    return hits


def names_in(sentence: str) -> list[str]:
    found = []
    for match in NAME.finditer(sentence):
        words = [w for w in match.group(0).split() if w not in STOP_NAMES]
        if words:
            found.append(" ".join(words))
    return list(dict.fromkeys(found))


def shape(name: str) -> str:
    if " " in name:
        return "multi"
    return "demonym" if name.endswith(("an", "ese", "ish")) else "single"


def corrupt(kind: str, sentence: str, article_names: list[str], rng: random.Random) -> str | None:
    if kind == "entity":
        names = names_in(sentence)
        rng.shuffle(names)
        for name in names:
            others = [n for n in article_names if shape(n) == shape(name) and n.lower() not in sentence.lower() and name.lower() not in n.lower()]
            if others:
                return sentence.replace(name, rng.choice(others), 1)
        return None
    if kind == "number":
        numbers = [m for m in re.finditer(r"\b\d+(?:[.,]\d+)?\b", sentence) if not re.fullmatch(r"(19|20)\d\d", m.group(0))]
        if not numbers:
            return None
        m = rng.choice(numbers)
        value = m.group(0).replace(",", "")
        new = str(float(value) + rng.choice([1, 2, 3]) if "." in value else int(value) + rng.choice([1, 2, 3, 7]))
        return sentence[: m.start()] + new + sentence[m.end() :]
    if kind == "date":
        for pool in (WEEKDAYS, MONTHS):
            found = [w for w in pool if re.search(rf"\b{w}\b", sentence)]
            if found:
                old = found[0]
                return re.sub(rf"\b{old}\b", rng.choice([w for w in pool if w != old]), sentence, count=1)
        year = re.search(r"\b(19|20)\d\d\b", sentence)
        if year:
            return sentence[: year.start()] + str(int(year.group(0)) + rng.choice([-2, -1, 1, 2])) + sentence[year.end() :]
        return None
    if kind == "negation":
        if re.search(r"\b(not|never|no)\b|n't", sentence):
            return re.sub(r"\s+\b(not|never)\b|n't", "", sentence, count=1)
        aux = re.search(rf"\b({'|'.join(AUXILIARIES)})\b", sentence)
        return sentence[: aux.end()] + " not" + sentence[aux.end() :] if aux else None
    if kind == "swap":
        names = [n for n in names_in(sentence) if sentence.count(n) == 1]
        if len(names) < 2:
            return None
        a, b = names[0], names[-1]
        if a in b or b in a:
            return None
        # Names that are items of one list ("Finland and Sweden", "Ford, GM or Toyota") share a role:
        # exchanging them leaves the claim as true as it was, so it is no corruption.
        first, second = sorted((a, b), key=sentence.index)
        between = sentence[sentence.index(first) + len(first) : sentence.index(second)]
        for name in names:
            between = between.replace(name, "")
        if re.fullmatch(r"(?:\s|,|&|\band\b|\bor\b)*", between):
            return None
        return sentence.replace(a, "\0").replace(b, a).replace("\0", b)
    raise ValueError(kind)


def paraphrase(sentence: str) -> str | None:
    """Deterministic meaning-preserving rewrites; None when no rule applies."""
    text = sentence
    text = re.sub(r",\s+(?:he|she|they|officials|police|[A-Z][a-z]+(?: [A-Z][a-z]+)*) (?:said|says|told [A-Z][A-Za-z ]+)\.$", ".", text)
    text = re.sub(r"^(.+?), according to [^,.]+\.$", r"\1.", text)
    for old, new in SYNONYMS.items():
        text = re.sub(rf"\b{old}\b", new, text, count=1)
    text = re.sub(r"\b(\d+)\b", lambda m: NUMBER_WORDS.get(m.group(1), m.group(1)), text, count=1)
    moved = re.match(r"^(On|In|Last|This) ([^,]{3,30}), (.+)\.$", text)
    if moved:
        text = f"{moved.group(3)[0].upper()}{moved.group(3)[1:]} {moved.group(1).lower()} {moved.group(2)}."
    text = re.sub(r"\s{2,}", " ", text)
    return text if text != sentence else None


def build_set(seed: int, per_type: int, speaker_articles: int = 0, per_speaker_type: int = 0):
    from rag.answer.sentences import split_sentences
    from rag.answer.claims import phrase_in
    from speaker_swaps import read_quoted_articles, speaker_claims

    questions, articles = load_articles(200)
    rng = random.Random(seed)
    pool = []  # (kind, supported, claim, article id, hit index, question)
    corrupted_kinds = ["entity", "number", "date", "negation", "swap"]
    hits_of = {doc: passages_of(record) for doc, record in articles.items()}
    for doc, hits in hits_of.items():
        article_names = names_in(articles[doc]["text"])
        for index, hit in enumerate(hits):
            for sentence in split_sentences(hit):
                text = " ".join(sentence.text.split())
                if not 8 <= len(text.split()) <= 45 or text.startswith(("“", '"')) or not text.endswith("."):
                    continue
                pool.append(("sentence", True, text, doc, index, None))
                rewritten = paraphrase(text)
                if rewritten:
                    pool.append(("paraphrase", True, rewritten, doc, index, None))
                for kind in corrupted_kinds:
                    bad = corrupt(kind, text, article_names, rng)
                    if bad and bad != text:
                        pool.append((kind, False, bad, doc, index, None))
    for q in questions:
        doc = q["gold_doc_ids"][0]
        if doc not in hits_of:
            continue
        answer = q["answer_text"][0].strip("“”\"' ")
        article_names = [n for n in names_in(articles[doc]["text"]) if shape(n) == shape(answer) and n.lower() not in answer.lower()]
        for index, hit in enumerate(hits_of[doc]):
            if any(phrase_in(answer, s.text) for s in split_sentences(hit)):
                pool.append(("answer", True, answer, doc, index, q["question"]))
                wrong = [n for n in article_names if not any(phrase_in(n, s.text) and phrase_in(answer, s.text) for s in split_sentences(hit))]
                if wrong:
                    pool.append(("answer-swap", False, rng.choice(wrong), doc, index, q["question"]))
                break
    if speaker_articles:
        quoted = read_quoted_articles(SHARED / "corpus.jsonl.gz", speaker_articles, seed, set())
        chosen = []
        for record, spans, speakers in quoted:
            hits_of.setdefault(record["doc_id"], passages_of(record))
            chosen.append((record, spans, speakers, hits_of[record["doc_id"]]))
        pool.extend(speaker_claims(chosen, rng))
    by_kind = defaultdict(list)
    for item in pool:
        by_kind[item[0]].append(item)
    claims = []
    for kind in sorted(by_kind):
        items = by_kind[kind]
        rng.shuffle(items)
        claims.extend(items[: per_speaker_type if kind.startswith("speaker") and per_speaker_type else per_type])
    return claims, hits_of


def group_answers(claims, rng):
    """Answers of up to three claims about one article (short answers alone, with their question)."""
    by_doc = defaultdict(list)
    answers = []
    for claim in claims:
        if claim[5] is not None:
            answers.append([claim])
        else:
            by_doc[claim[3]].append(claim)
    for doc, items in by_doc.items():
        rng.shuffle(items)
        answers.extend(items[i : i + 3] for i in range(0, len(items), 3))
    rng.shuffle(answers)
    return answers


def run(verifier, answers, hits_of):
    outcomes, answer_times, claim_times, cpu_times = defaultdict(list), [], [], []
    for done, answer in enumerate(answers):
        if done % 10 == 0:
            print(f"  {done}/{len(answers)} answers", file=sys.stderr, flush=True)
            if done % 50 == 0 and hasattr(verifier.embedding, "save"):
                verifier.embedding.save()  # a run stopped half-way keeps its vectors
        doc = answer[0][3]
        cited = sorted({c[4] for c in answer})
        others = [i for i in range(len(hits_of[doc])) if i not in cited]
        shown = (cited + others)[: max(5, len(cited))]
        hits = [hits_of[doc][i] for i in shown]
        text = " ".join(f"{c[2].rstrip('.')} [{shown.index(c[4]) + 1}]." for c in answer)
        started, cpu_started = time.perf_counter(), time.process_time()
        checked = verifier.check(text, hits, question=answer[0][5])
        elapsed = time.perf_counter() - started
        cpu_times.append(time.process_time() - cpu_started)
        answer_times.append(elapsed)
        claim_times.append(elapsed / len(answer))
        unsupported = {" ".join(u.split()).rstrip(".") for u in checked.unsupported}
        verified_text = checked.text
        for kind, supported, claim, doc, *_ in answer:
            key = " ".join(claim.split()).rstrip(".")
            accepted = key not in unsupported and (key + " [" in verified_text or key + ". [" in verified_text)
            outcomes[kind].append((supported, accepted, claim, doc))
    return outcomes, answer_times, claim_times, cpu_times


class CachedEmbedding:
    """The embedding model with its vectors kept in a file (``--embed-cache``), so a second run of the same
    set (after a rule change, or the branch before it) costs only the checks. Same model, same vectors."""

    def __init__(self, embedding, path: Path | None) -> None:
        import pickle

        self.embedding, self.path = embedding, path
        self.vectors = pickle.loads(path.read_bytes()) if path and path.is_file() else {}

    def get_text_embedding_batch(self, texts):
        missing = [t for t in dict.fromkeys(texts) if ("t", t) not in self.vectors]
        if missing:
            for text, vector in zip(missing, self.embedding.get_text_embedding_batch(missing)):
                self.vectors[("t", text)] = vector
        return [self.vectors[("t", t)] for t in texts]

    def get_query_embedding(self, text):
        if ("q", text) not in self.vectors:
            self.vectors[("q", text)] = self.embedding.get_query_embedding(text)
        return self.vectors[("q", text)]

    def save(self) -> None:
        import pickle

        if self.path:
            self.path.write_bytes(pickle.dumps(self.vectors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judge", choices=["none", "llm"], default="none", help="cheap checks only, or with the LLM judge")
    parser.add_argument("--per-type", type=int, default=60, help="claims per kind (fixed seed)")
    parser.add_argument("--answers", type=int, default=0, help="judge only the first N answers (0: all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--model-path", default="", help="a GGUF file (default: the bundled 1.5B model)")
    parser.add_argument("--cache-dir", default="data", help="where the bundled GGUF is assembled")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--show-misses", action="store_true", help="print the claims judged wrongly (fit half)")
    parser.add_argument("--speaker-articles", type=int, default=150, help="articles quoting two named speakers (0: no speaker claims)")
    parser.add_argument("--per-speaker-type", type=int, default=200, help="claims per speaker kind")
    parser.add_argument("--checker", choices=["cite", "short"], default="cite", help="CitationVerifier, or the short answer's check")
    parser.add_argument("--embed-cache", default="", help="keep the vectors in this file (check times then exclude embedding)")
    parser.add_argument("--audit", type=int, default=0, help="print N attributed sentences to check by hand, and stop")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not found (the RealTimeQA dev corpus lives in ../shared beside the checkout)")
        return

    from rag.answer.cite import CitationVerifier
    from rag.embed import embedding_from
    from rag.settings import load_settings
    from speaker_swaps import audit, by_half, half_of, read_quoted_articles

    if args.audit:
        quoted = read_quoted_articles(SHARED / "corpus.jsonl.gz", args.speaker_articles, args.seed, set())
        audit([(r, spans, speakers, None) for r, spans, speakers in quoted], args.audit, random.Random(args.seed))
        return

    settings = load_settings()
    started = time.perf_counter()
    claims, hits_of = build_set(args.seed, args.per_type, args.speaker_articles, args.per_speaker_type)
    print(f"claim set built in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    answers = group_answers(claims, random.Random(args.seed))
    if args.answers:
        answers = answers[: args.answers]
    judge = None
    note = "cheap checks only"
    if args.judge == "llm":
        from rag.answer.entail import EntailmentJudge
        from rag.llm.factory import make_llm

        started = time.perf_counter()
        generation = settings.model_copy(
            update={"llm_model_path": args.model_path, "llm_temperature": 0.0, "llm_threads": args.threads}
        ).generation
        llm = make_llm("local", generation, cache_dir=Path(args.cache_dir))
        judge = EntailmentJudge(llm, min_yes=settings.citation.cite_judge_min_yes)
        note = f"LLM judge {llm.metadata.model_name} (loaded in {time.perf_counter() - started:.1f} s)"
    embedding = CachedEmbedding(embedding_from(settings.embedding), Path(args.embed_cache) if args.embed_cache else None)
    verifier = CitationVerifier(embedding, settings.citation, judge=judge)
    run(verifier, answers[:3], hits_of)  # warm-up: embedding and stemmer loaded, llama.cpp buffers
    if judge:
        judge.calls = 0
    if args.checker == "short":  # the answer path's check (short.py); timings then are not comparable
        from short_check import run_short

        started = time.perf_counter()
        outcomes = run_short(embedding, settings, answers, hits_of, judge)
        answer_times = claim_times = cpu_times = [(time.perf_counter() - started) / max(1, len(answers))]
    else:
        outcomes, answer_times, claim_times, cpu_times = run(verifier, answers, hits_of)
    embedding.save()

    total = sum(len(v) for v in outcomes.values())
    print(f"\n{note}; {total} claims in {len(answers)} answers, seed {args.seed}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}" + (f"; judge calls {judge.calls}" if judge else ""))
    split = by_half(outcomes)
    print("\n| claims | kind | n (all) | all | fit half | report half |\n| --- | --- | --- | --- | --- | --- |")
    totals = {"all": ([], []), "fit": ([], []), "report": ([], [])}
    for kind in sorted(outcomes, key=lambda k: (outcomes[k][0][0], k)):
        supported = outcomes[kind][0][0]
        cells = []
        for name, rows in (("all", outcomes[kind]), ("fit", split["fit"][kind]), ("report", split["report"][kind])):
            good = [accepted if supported else not accepted for _, accepted, *_ in rows]
            totals[name][0 if supported else 1].extend(good)
            cells.append(f"{sum(good) / len(good):.3f} ({len(good)})" if good else "-")
        print(f"| {'supported' if supported else 'corrupted'} | {kind} | {len(outcomes[kind])} | {' | '.join(cells)} |")
        if args.show_misses:  # the fit half's only: rules are tuned on it, the report half is what they reach
            for _, accepted, claim, doc in outcomes[kind]:
                if accepted != supported and half_of(doc) == "fit":
                    print(f"|   | miss | | {claim[:200]} |")
    for label, which in (("corrupted", 1), ("supported", 0)):
        cells = [f"**{sum(v[which]) / len(v[which]):.3f}**" if v[which] else "-" for v in totals.values()]
        print(f"| **{label}** | all | {len(totals['all'][which])} | {' | '.join(cells)} |")
    print(
        f"\ncheck time per answer p50 / p95: {statistics.median(answer_times):.3f} / {percentile(answer_times, 95):.3f} s; "
        f"per claim p50 / p95: {statistics.median(claim_times):.3f} / {percentile(claim_times, 95):.3f} s; "
        f"CPU time per answer (all threads; what an idle machine would see, divided by its cores) p50 / p95: "
        f"{statistics.median(cpu_times):.3f} / {percentile(cpu_times, 95):.3f} s"
    )


if __name__ == "__main__":
    main()
