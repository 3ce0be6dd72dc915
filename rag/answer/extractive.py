"""The extractive answerer: the retrieved sentences that best answer the question, each cited.

No LLM, so it is fast and never invents: it splits the retrieved passages into sentences
(``sentences.py``), scores each by embedding similarity to the question plus
``sentence_overlap_weight`` times the share of the question's content words it contains, keeps the
best ``answer_sentences`` (skipping repeats from overlapping passages) and cites each one ``[n]``.
Also builds the calm "the articles don't say" answer used whenever retrieval found only weak evidence.
Retrieval is ``retrieve.py``'s; generated answers and citation checking are ``generate.py``'s.
"""

from __future__ import annotations

from rag.answer.sentences import Sentence, content_words, number_citations, same_span, split_sentences
from rag.present.text import DONT_SAY
from rag.types import Answer, ScoredPassage

NOT_IN_ARTICLES = f"{DONT_SAY} None of the indexed articles contains an answer to this question."


def refusal(question: str, **fields) -> Answer:
    """The "not in the articles" answer: no citations, ``refused`` set."""
    return Answer(question=question, text=NOT_IN_ARTICLES, citations=[], refused=True, **fields)


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
            if any(same_span(sentence, other) for other, _ in chosen):
                continue  # overlapping passages repeat sentences
            chosen.append((sentence, score))
            if len(chosen) == self.answer_sentences:
                break
        if not chosen:
            return refusal(question, mode="extractive", **fields)
        numbers, citations = number_citations(chosen)
        text = " ".join(f"{sentence.text.strip()} [{n}]" for (sentence, _), n in zip(chosen, numbers))
        return Answer(question=question, text=text, citations=citations, mode="extractive", **fields)
