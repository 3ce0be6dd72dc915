"""Grounded generation: an LLM writes the answer from the retrieved passages, then citations are checked.

Streams the LLM's tokens as they come, then hands the full text to ``cite.CitationVerifier``. An answer
in which no sentence is supported by the passages is not shown: the extractive answer (the passages'
own sentences) replaces it, with a notice; so does the LLM's own "the articles don't say", since the
refusal decision is the deterministic threshold's (see ``finish``).
Weak evidence never reaches this module: the assistant refuses before generation. Which LLM runs is
``llm.py``'s business; any LlamaIndex ``LLM`` works here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.cite import CitationVerifier
from rag.answer.prompts import DONT_SAY, answer_messages
from rag.answer.sentences import same_span
from rag.types import Answer, ScoredPassage, StreamEvent

NO_DIRECT_ANSWER_NOTICE = "The model found no direct answer in the passages, so their most relevant sentences are shown."
UNVERIFIED_NOTICE = "The model's answer could not be checked against the articles, so their own sentences are shown."


class LLMAnswerer:
    """Answers with a LlamaIndex LLM, citing verified passages."""

    def __init__(
        self, llm, verifier: CitationVerifier, fallback: ExtractiveAnswerer, *, context_sentences: int, model_name: str = ""
    ) -> None:
        """``context_sentences``: the ``llm_context_sentences`` setting (0: the LLM reads whole passages)."""
        self.llm = llm
        self.verifier = verifier
        self.fallback = fallback
        self.context_sentences = context_sentences
        self.model_name = model_name or getattr(getattr(llm, "metadata", None), "model_name", "") or type(llm).__name__

    def stream(self, question: str, hits: list[ScoredPassage], *, as_of: dt.date | None = None, **fields) -> Iterator[StreamEvent]:
        """Token events as the LLM writes, then one ``answer`` event with the checked ``Answer``."""
        hits, excerpts = self.excerpts(question, hits)
        messages = answer_messages(question, hits, today=as_of, excerpts=excerpts)
        text = ""
        for response in self.llm.stream_chat(messages):
            delta = response.delta or ""
            if delta:
                text += delta
                yield StreamEvent("token", delta)
        yield StreamEvent("answer", answer=self.finish(question, text, hits, as_of=as_of, **fields))

    def excerpts(self, question: str, hits: list[ScoredPassage]) -> tuple[list[ScoredPassage], list[str] | None]:
        """The passages to show the LLM and, when ``context_sentences`` is set, the text of each.

        On 2 CPU cores the prompt dominates the time to first token (the 1.5B model reads about 40
        tokens/s), so instead of five whole passages (~1,000 tokens) the LLM sees the
        ``context_sentences`` sentences that best match the question (the extractive answerer's
        ranking), grouped under their passage in reading order, "…" marking a gap. Passages without a
        chosen sentence are left out and the rest renumbered. Citations are still verified against the
        whole passages.
        """
        if not self.context_sentences:
            return hits, None
        by_passage: dict[str, list] = {}
        taken: list = []
        for sentence, _score in self.fallback.rank_sentences(question, hits):
            if len(taken) == self.context_sentences:
                break
            # Overlapping chunks repeat sentences: show each stretch of an article once.
            if any(same_span(sentence, other) for other in taken):
                continue
            taken.append(sentence)
            by_passage.setdefault(sentence.passage.passage.id, []).append(sentence)
        shown, texts = [], []
        for hit in hits:
            sentences = sorted(by_passage.get(hit.passage.id, []), key=lambda s: s.start)
            if not sentences:
                continue
            text = sentences[0].text
            for previous, sentence in zip(sentences, sentences[1:]):
                gap = hit.passage.text[previous.end - hit.passage.start : sentence.start - hit.passage.start]
                text += (" " if not gap.strip() else " … ") + sentence.text
            shown.append(hit)
            texts.append(text)
        return (shown, texts) if shown else (hits, None)

    def answer(self, question: str, hits: list[ScoredPassage], **fields) -> Answer:
        final = None
        for event in self.stream(question, hits, **fields):
            final = event.answer or final
        return final

    def finish(self, question: str, text: str, hits: list[ScoredPassage], **fields) -> Answer:
        """Turn the raw LLM text into a checked ``Answer``."""
        raw = text.strip()
        if not raw or _is_dont_say(raw):
            # The evidence already passed the deterministic refusal threshold, and a small model is an
            # unreliable judge of absence (it refuses rephrasings of questions it answers), so show the
            # passages' own best sentences instead, saying the model found no direct answer.
            answer = self.fallback.answer(question, hits, **fields)
            answer.notice = NO_DIRECT_ANSWER_NOTICE
            return answer
        checked = self.verifier.check(raw, hits, question=question)
        if checked.supported_sentences == 0:
            answer = self.fallback.answer(question, hits, **fields)
            answer.notice = UNVERIFIED_NOTICE
            return answer
        return Answer(
            question=question,
            text=checked.text,
            citations=checked.citations,
            mode="llm",
            unsupported=checked.unsupported,
            **fields,
        )


def _is_dont_say(text: str) -> bool:
    normalised = text.lower().replace("’", "'")
    return normalised.startswith(DONT_SAY.lower().rstrip(".")) or normalised.startswith("the articles do not say")
