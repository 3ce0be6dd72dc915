"""The evidence: the retrieved sentences that best answer the question, each quoted and cited.

No LLM, so it is fast and never invents: it splits the retrieved passages into sentences
(``sentences.py``), scores each by embedding similarity to the question plus
``sentence_overlap_weight`` times the share of the question's content words it contains (plus a boost
for the asked person's own words when the question is "What did X say?"), minus
``evidence_retrieval_weight`` times how far the sentence's article scored below the best article in
retrieval (its fused score: evidence and time prior, ``rag.retrieval.ranking``), and keeps
the best ``answer_sentences`` that tell the reader something (``informative``: no headline, no
sentence that only restates the question; no repeat from overlapping passages) and are about it
(``relevant``: a sentence sharing no content word with the question needs ``evidence_min_similarity``),
each its own ``[n]``.
That evidence is what every face shows first, and the extractive answer when no LLM answers.
Also builds the calm "the articles don't say" answer used whenever retrieval found only weak evidence.
Retrieval is ``rag.retrieval``'s; generated answers and citation checking are ``generate.py``'s.
"""

from __future__ import annotations

import re

from rag.answer.roles import asked_speaker
from rag.answer.sentences import Sentence, cite_sentence, content_words, relevant, same_span, speaker_of, split_sentences
from rag.ingest.speakers import same_speaker, speaker_of_claim
from rag.present.text import DONT_SAY
from rag.types import Answer, ScoredPassage

NOT_IN_ARTICLES = f"{DONT_SAY} None of the indexed articles contains an answer to this question."


# A sentence must add this many content words to the question's to be evidence: "Port Vell ferry
# terminal construction begins" adds two to "When will the Port Vell ferry terminal open?", and is a
# headline besides; "The terminal is due to open in March 2027" adds three.
MIN_NEW_WORDS = 2
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
# "What did X say?": X's own words first, in tiers. A sentence attributed to X (``rag.ingest.speakers``)
# gains SPEAKER_BOOST, and a direct quote that carries its attribution ("“You have 111 days ...,” he
# said") QUOTE_BOOST more, so X's quotes come before the sentences that report them or only mention X
# ("the statements from Kast ..."); within a tier the usual score orders them. The question's words
# that name X count as found in X's sentences ("he said" does not repeat the name).
SPEAKER_BOOST, QUOTE_BOOST = 1.0, 1.0


def _folded(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def is_headline(sentence: Sentence) -> bool:
    """The article's title, or a line of its own without a sentence's ending (a headline, a sub-head)."""
    passage = sentence.passage.passage
    if passage.title and _folded(sentence.text) == _folded(passage.title):
        return True
    line_start = sentence.start == passage.start or passage.text[sentence.start - passage.start - 1 : sentence.start - passage.start] == "\n"
    return line_start and not _SENTENCE_END.search(sentence.text.strip())


def informative(sentence: Sentence, question_words: set[str]) -> bool:
    """Whether ``sentence`` can be evidence: not a headline, and more than a restatement of the question."""
    return not is_headline(sentence) and len(content_words(sentence.text) - question_words) >= MIN_NEW_WORDS


def refusal(question: str, **fields) -> Answer:
    """The "not in the articles" answer: no citations, ``refused`` set."""
    return Answer(question=question, text=NOT_IN_ARTICLES, citations=[], refused=True, **fields)


class ExtractiveAnswerer:
    """Composes an ``Answer`` from retrieved passages without an LLM.

    ``settings``: the ``AnswerSettings`` group (``answer_sentences``, ``sentence_overlap_weight``,
    ``evidence_retrieval_weight``, ``evidence_min_similarity``).
    """

    def __init__(self, embedding, settings) -> None:
        self.embedding = embedding
        self.answer_sentences = settings.answer_sentences
        self.overlap_weight = settings.sentence_overlap_weight
        self.retrieval_weight = settings.evidence_retrieval_weight
        self.min_similarity = settings.evidence_min_similarity

    def rank_sentences(self, question: str, hits: list[ScoredPassage], *, standing: bool = True) -> list[tuple[Sentence, float]]:
        """Every sentence of ``hits`` about the question (``relevant``), best first, with its score.

        ``standing=False`` leaves out the article's retrieval standing (a story timeline ranks each
        article's sentences among themselves, and keeps old articles on purpose).
        """
        import numpy as np

        sentences = [s for hit in hits for s in split_sentences(hit)]
        if not sentences:
            return []
        question_words = content_words(question)
        vectors = np.array(self.embedding.get_text_embedding_batch([s.text for s in sentences]))
        query = np.array(self.embedding.get_query_embedding(question))
        similarity = vectors @ query
        asked = asked_speaker(question)
        asked_words = content_words(asked) if asked else set()
        # A sentence of an article that retrieval ranked well below the best (an old background piece the
        # time prior pushed down, or one that matches the question's words only here and there) must beat
        # the best article's sentences by that much more: sentence similarity alone let old background
        # sentences into the evidence once the article weights favoured whole-article BM25 (README "Two corpora").
        best = max(hit.score for hit in hits)
        weight = self.retrieval_weight if standing else 0.0
        scored = []
        for sentence, sim in zip(sentences, similarity):
            words = content_words(sentence.text)
            if asked and same_speaker(asked, speaker_of(sentence)):
                words = words | asked_words  # the speaker asked about counts as named in their own sentence
                own_quote = any(q in sentence.text for q in "“”\"") and speaker_of_claim(sentence.text) is not None
                sim += SPEAKER_BOOST + (QUOTE_BOOST if own_quote else 0.0)
            overlap = len(question_words & words) / max(1, len(question_words))
            if relevant(overlap > 0, float(sim), self.min_similarity):
                scored.append((sentence, float(sim) + self.overlap_weight * overlap))
        return self.with_standing(scored, best, weight)

    @staticmethod
    def with_standing(scored: list[tuple[Sentence, float]], best: float, weight: float) -> list[tuple[Sentence, float]]:
        """``scored`` less ``weight`` times how far each sentence's article stands behind the ``best``
        article's retrieval score, best first (``benchmarks/evidence_standing.py`` sweeps ``weight``)."""
        rescored = [(sentence, score - weight * (best - sentence.passage.score)) for sentence, score in scored]
        rescored.sort(key=lambda pair: pair[1], reverse=True)
        return rescored

    def evidence(self, question: str, ranked: list[tuple[Sentence, float]], limit: int | None = None) -> list[tuple[Sentence, float]]:
        """The best ``limit`` (default ``answer_sentences``) informative sentences of ``ranked``, no repeats."""
        limit = self.answer_sentences if limit is None else limit
        question_words = content_words(question)
        chosen: list[tuple[Sentence, float]] = []
        for sentence, score in ranked:
            if len(chosen) == limit:
                break
            if informative(sentence, question_words) and not any(same_span(sentence, other) for other, _ in chosen):
                chosen.append((sentence, score))
        return chosen

    def answer(self, question: str, hits: list[ScoredPassage], **fields) -> Answer:
        """The evidence of ``hits`` as the answer."""
        return self.quote(question, self.evidence(question, self.rank_sentences(question, hits)), **fields)

    def quote(self, question: str, chosen: list[tuple[Sentence, float]], **fields) -> Answer:
        """An ``Answer`` quoting the ``chosen`` sentences (``evidence``' result), each cited; a refusal for none."""
        if not chosen:
            return refusal(question, mode="extractive", **fields)
        citations = [cite_sentence(sentence, n, score) for n, (sentence, score) in enumerate(chosen, 1)]
        text = " ".join(f"{c.quote.strip()} [{c.number}]" for c in citations)
        return Answer(question=question, text=text, citations=citations, mode="extractive", evidence=list(citations), **fields)
