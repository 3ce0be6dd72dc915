"""The sentences of retrieved passages: splitting them, their content words, and citing the chosen ones.

Shared by the extractive answerer (``extractive.py``), the citation check (``cite.py``, ``claims.py``),
the LLM's excerpts (``generate.py``), refusal by question parts (``rag.retrieval.refusal``) and the evaluator's
answer lead (``metrics.py``): NLTK's Punkt (the sentence splitter LlamaIndex uses) taught news
abbreviations, the stop-word rule for content words, when two sentences are the same stretch of an
article, and numbering citations ``[n]`` in order of first use. Scoring sentences is left to the
callers.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from rag.ingest.speakers import speaker_at, speakers_of
from rag.types import Citation, ScoredPassage

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being do does did what which who whom "
    "whose when where why how this that these those it its as into about than then there their they he she his her "
    "him we you your i me my our not no yes will would can could should may might has have had recently new this week "
    "last year".split()
)


@dataclass(frozen=True)
class Sentence:
    passage: ScoredPassage
    start: int  # offsets into the article text
    end: int
    text: str


# Abbreviations news copy is full of; untrained Punkt would end a sentence at "Dec." or "Gov.".
_ABBREVIATIONS = (
    "jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr prof gov sen rep gen lt col capt sgt "
    "st jr sr inc corp co ltd vs etc no u.s u.k u.n a.m p.m"
).split()


@functools.cache
def sentence_tokenizer():
    """NLTK's Punkt (what LlamaIndex splits sentences with), taught common news abbreviations."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    parameters = PunktParameters()
    parameters.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(parameters)


def split_sentences(hit: ScoredPassage) -> list[Sentence]:
    """The sentences of a retrieved passage with their offsets into the article."""
    passage = hit.passage
    sentences = []
    for paragraph in re.finditer(r"[^\n]+", passage.text):
        for start, end in sentence_tokenizer().span_tokenize(paragraph.group(0)):
            text = paragraph.group(0)[start:end]
            if len(_WORD.findall(text.lower())) >= 3:
                offset = passage.start + paragraph.start()
                sentences.append(Sentence(hit, offset + start, offset + end, text))
    return sentences


def speaker_of(sentence: Sentence) -> str:
    """Who ``sentence`` is attributed to (reported speech, ``rag.ingest.speakers``), "" when nobody."""
    return speaker_at(speakers_of(sentence.passage.passage, sentence_tokenizer()), sentence.start, sentence.end)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def relevant(shares_a_word: bool, similarity: float, floor: float) -> bool:
    """Whether a sentence is about the question at all: it shares a content word with it, or its cosine
    similarity reaches ``floor``. The evidence (``extractive.py``, floor ``evidence_min_similarity``) fills
    its slots from the best sentences of the retrieved passages, so without a floor an off-topic line of the
    top article (a caption, an injected "ignore all previous instructions") took the last slot once the
    other articles' sentences scored lower; the short answer's check (``short.py``) asks more of the
    sentence an answer cites (``MIN_QUESTION_SIMILARITY``)."""
    return shares_a_word or similarity >= floor


def same_span(a: Sentence, b: Sentence) -> bool:
    """Whether two sentences overlap in the same article (overlapping passages repeat sentences)."""
    return a.passage.passage.article_id == b.passage.passage.article_id and a.start < b.end and b.start < a.end


def cite_sentence(sentence: Sentence, number: int, score: float) -> Citation:
    """The ``Citation`` numbered ``number`` quoting ``sentence`` (with its passage, for the reader)."""
    passage = sentence.passage.passage
    return Citation(
        number=number,
        article_id=passage.article_id,
        title=passage.title,
        date=passage.date,
        source=passage.source,
        url=passage.url,
        passage=passage.text,
        start=sentence.start,
        end=sentence.end,
        quote=sentence.text,
        score=round(float(score), 4),
        passage_start=passage.start,
        passage_end=passage.end,
        speaker=speaker_of(sentence),
    )


def number_citations(chosen: list[tuple[Sentence, float]]) -> tuple[list[int], list[Citation]]:
    """Citation numbers for each chosen sentence, in order of first use, one per passage span."""
    numbers: list[int] = []
    citations: list[Citation] = []
    by_passage: dict[str, int] = {}
    for sentence, score in chosen:
        passage = sentence.passage.passage
        if passage.id not in by_passage:
            by_passage[passage.id] = len(citations) + 1
            citations.append(cite_sentence(sentence, len(citations) + 1, score))
        else:  # a second sentence from the same passage widens its quoted span
            index = by_passage[passage.id] - 1
            first = citations[index]
            start, end = min(first.start, sentence.start), max(first.end, sentence.end)
            quote = passage.text[start - passage.start : end - passage.start]
            citations[index] = dataclasses.replace(first, start=start, end=end, quote=quote)
        numbers.append(by_passage[passage.id])
    return numbers, citations
