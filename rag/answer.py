"""The extractive answerer: the retrieved sentences that best answer the question, each cited.

No LLM, so it is fast and never invents: it splits the retrieved passages into sentences (NLTK's
Punkt, the sentence splitter LlamaIndex uses), scores each by embedding similarity to the question
plus ``sentence_overlap_weight`` times the share of the question's content words it contains, keeps
the best ``answer_sentences``
(skipping repeats from overlapping passages) and cites each one ``[n]``. Also builds the calm
"the articles don't say" answer used whenever retrieval found only weak evidence.
Retrieval is ``retrieve.py``'s; generated answers and citation checking are ``generate.py``'s.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from .types import Answer, Citation, ScoredPassage

NOT_IN_ARTICLES = "The articles don't say. None of the indexed articles contains an answer to this question."
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


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def refusal(question: str, **fields) -> Answer:
    """The "not in the articles" answer: no citations, ``refused`` set."""
    return Answer(question=question, text=NOT_IN_ARTICLES, citations=[], refused=True, **fields)


def number_citations(chosen: list[tuple[Sentence, float]]) -> tuple[list[int], list[Citation]]:
    """Citation numbers for each chosen sentence, in order of first use, one per passage span."""
    numbers: list[int] = []
    citations: list[Citation] = []
    by_passage: dict[str, int] = {}
    for sentence, score in chosen:
        passage = sentence.passage.passage
        if passage.id not in by_passage:
            by_passage[passage.id] = len(citations) + 1
            citations.append(
                Citation(
                    number=len(citations) + 1,
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
                )
            )
        else:  # a second sentence from the same passage widens its quoted span
            index = by_passage[passage.id] - 1
            first = citations[index]
            start, end = min(first.start, sentence.start), max(first.end, sentence.end)
            quote = passage.text[start - passage.start : end - passage.start]
            citations[index] = dataclasses.replace(first, start=start, end=end, quote=quote)
        numbers.append(by_passage[passage.id])
    return numbers, citations


class ExtractiveAnswerer:
    """Composes an ``Answer`` from retrieved passages without an LLM.

    ``settings``: the ``AnswerSettings`` group (``answer_sentences``, ``sentence_overlap_weight``).
    """

    def __init__(self, embedding, settings) -> None:
        self.embedding = embedding
        self.answer_sentences = settings.answer_sentences
        self.overlap_weight = settings.sentence_overlap_weight

    def rank_sentences(self, question: str, hits: list[ScoredPassage]) -> list[tuple[Sentence, float]]:
        """Every sentence of ``hits``, best first, with its score."""
        import numpy as np

        sentences = [s for hit in hits for s in split_sentences(hit)]
        if not sentences:
            return []
        question_words = content_words(question)
        vectors = np.array(self.embedding.get_text_embedding_batch([s.text for s in sentences]))
        query = np.array(self.embedding.get_query_embedding(question))
        similarity = vectors @ query
        scored = []
        for sentence, sim in zip(sentences, similarity):
            overlap = len(question_words & content_words(sentence.text)) / max(1, len(question_words))
            scored.append((sentence, float(sim) + self.overlap_weight * overlap))
        scored.sort(key=lambda pair: pair[1], reverse=True)
        return scored

    def answer(self, question: str, hits: list[ScoredPassage], **fields) -> Answer:
        chosen: list[tuple[Sentence, float]] = []
        for sentence, score in self.rank_sentences(question, hits):
            if any(_same_span(sentence, other) for other, _ in chosen):
                continue  # overlapping passages repeat sentences
            chosen.append((sentence, score))
            if len(chosen) == self.answer_sentences:
                break
        if not chosen:
            return refusal(question, mode="extractive", **fields)
        numbers, citations = number_citations(chosen)
        text = " ".join(f"{sentence.text.strip()} [{n}]" for (sentence, _), n in zip(chosen, numbers))
        return Answer(question=question, text=text, citations=citations, mode="extractive", **fields)


def _same_span(a: Sentence, b: Sentence) -> bool:
    return a.passage.passage.article_id == b.passage.passage.article_id and a.start < b.end and b.start < a.end
