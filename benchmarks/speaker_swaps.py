"""The speaker-swap claims of the faithfulness benchmark: quotes given to the wrong person, and to the right one.

From RealTimeQA articles (``corpus.jsonl.gz``) in which at least two different named people (or bodies)
are quoted, by the index-time attribution (``rag.ingest.speakers``), each quoted sentence of speaker A
gives two claims the way an LLM would write them:

* ``speaker`` (supported): "A said that <the quoted words>." (surname only, as answers name people);
* ``speaker-swap`` (corrupted): "B said that <the quoted words>.", B another speaker of the same article.

A reported-speech sentence without quotation marks that names A ("Smith said the bill ...") gives a
``speaker-swap`` claim with A's name replaced by B's. The speakers are the rule-based attribution's
own, so a misattributed sentence makes a wrong "supported" claim: ``--audit`` prints a sample to check
by hand (the README gives the share found right). Each article is in one half, ``fit`` or ``report``
(by a hash of its id), so rules tuned on one half are reported on the other.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections import defaultdict

_QUOTED = re.compile(r"[“\"]([^”\"]{20,}?)[,.!?]?[”\"]")


def half_of(doc_id: str) -> str:
    """``fit`` or ``report``: a fixed split of the articles by a hash of their id."""
    return "fit" if int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 2 == 0 else "report"


def surname(speaker: str) -> str:
    words = speaker.split(" of ")[0].split()
    return words[-1] if words else speaker


def named(speaker: str) -> bool:
    return speaker[:1].isupper()


def read_quoted_articles(corpus, limit: int, seed: int, skip: set[str]):
    """Up to ``limit`` articles (records) quoting two or more named speakers, fixed by ``seed``."""
    from rag.answer.sentences import sentence_tokenizer
    from rag.ingest.speakers import attribute, same_speaker

    records = []
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["doc_id"] not in skip and len(record.get("text") or "") > 1500:
                records.append(record)
    random.Random(seed).shuffle(records)
    chosen = []
    for record in records:
        spans = attribute(record["text"], sentence_tokenizer())
        speakers = []
        for span in spans:
            if named(span.speaker) and not any(same_speaker(span.speaker, s) for s in speakers):
                speakers.append(span.speaker)
        if len(speakers) >= 2:
            chosen.append((record, spans, speakers))
        if len(chosen) >= limit:
            break
    return chosen


def speaker_claims(chosen, rng: random.Random):
    """Pool items ``(kind, supported, claim, doc, hit index, None)`` for the chosen articles."""
    from rag.answer.sentences import split_sentences
    from rag.ingest.speakers import same_speaker, speaker_at

    pool = []
    for record, spans, speakers, hits in chosen:
        for index, hit in enumerate(hits):
            for sentence in split_sentences(hit):
                speaker = speaker_at([(s.start, s.end, s.speaker) for s in spans], sentence.start, sentence.end)
                if not named(speaker):
                    continue
                others = [s for s in speakers if not same_speaker(s, speaker) and surname(s).lower() not in sentence.text.lower()]
                if not others:
                    continue
                other = rng.choice(others)
                text = " ".join(sentence.text.split())
                quoted = _QUOTED.search(text)
                if quoted and len(quoted.group(1).split()) >= 6:
                    words = quoted.group(1).strip().rstrip(",.")
                    words = words[0].lower() + words[1:] if not words.startswith(("I ", "I'")) else words
                    pool.append(("speaker", True, f"{surname(speaker)} said that {words}.", record["doc_id"], index, None))
                    pool.append(("speaker-swap", False, f"{surname(other)} said that {words}.", record["doc_id"], index, None))
                elif surname(speaker) in text and text.count(surname(speaker)) == 1:
                    pool.append(("speaker-swap", False, text.replace(surname(speaker), surname(other)), record["doc_id"], index, None))
    return pool


def audit(chosen, count: int, rng: random.Random) -> None:
    """Print ``count`` attributed sentences with their speaker, to check by hand."""
    rows = [(record["text"][s.start : s.end], s.speaker) for record, spans, _, _ in chosen for s in spans if named(s.speaker)]
    for text, speaker in rng.sample(rows, min(count, len(rows))):
        print(f"{speaker!r:32} | {' '.join(text.split())[:160]}")


def by_half(outcomes) -> dict[str, dict]:
    """Outcomes split into the two halves (each row carries its doc id as the 4th element)."""
    split: dict[str, dict] = {"fit": defaultdict(list), "report": defaultdict(list)}
    for kind, rows in outcomes.items():
        for row in rows:
            split[half_of(row[3])][kind].append(row)
    return split
