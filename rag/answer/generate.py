"""Evidence first, then the LLM's short answer: the answer a reader gets, streamed in that order.

``LLMAnswerer.stream`` yields, in order: an ``evidence`` event (the extractive evidence, quoted and
cited, ready in well under a second), a ``stage`` event saying how many sentences the LLM reads, the
short answer's ``token`` events as the LLM writes them, a ``stage`` event for the check, and the
``answer`` event: the checked short answer above the same evidence. A short answer that the check
cannot tie to a sentence is not shown: the evidence stands alone, with a notice saying so; so does the
LLM's own "the articles don't say", since the refusal decision is the deterministic threshold's.
Weak evidence never reaches this module: the assistant refuses before generation. Which LLM runs is
``rag.llm``'s business; any LlamaIndex ``LLM`` works here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.sentences import cite_sentence
from rag.answer.short import ShortAnswerer
from rag.present.text import CHECKING, writing_stage
from rag.types import Answer, ScoredPassage, StreamEvent

NO_DIRECT_ANSWER_NOTICE = "The model found no direct answer in these sentences; the evidence is shown alone."
UNVERIFIED_NOTICE = "The model's short answer could not be matched to a sentence of the articles, so it is not shown; the evidence is."


class LLMAnswerer:
    """Answers with the evidence (``evidence``, an ``ExtractiveAnswerer``) and the short answer (``short``)."""

    def __init__(self, short: ShortAnswerer, evidence: ExtractiveAnswerer, model_name: str = "") -> None:
        self.short = short
        self.evidence = evidence
        llm = short.llm
        self.model_name = model_name or getattr(getattr(llm, "metadata", None), "model_name", "") or type(llm).__name__

    @classmethod
    def build(cls, llm, evidence: ExtractiveAnswerer, settings) -> LLMAnswerer:
        """The answerer ``settings`` describe (the ``answer`` and ``citation`` groups) around ``llm``."""
        from rag.answer.entail import EntailmentJudge

        c, a = settings.citation, settings.answer
        judge = EntailmentJudge(llm, min_yes=c.cite_judge_min_yes) if c.cite_judge else None
        short = ShortAnswerer(
            llm, token_budget=a.llm_context_tokens, max_tokens=a.short_answer_max_tokens, min_support=c.cite_min_support,
            best_sentences=a.answer_sentences, judge=judge,
        )
        return cls(short, evidence)

    def stream(
        self, question: str, hits: list[ScoredPassage], *, as_of: dt.date | None = None, timings_ms: dict | None = None, stop=None, **fields
    ) -> Iterator[StreamEvent]:
        """The ``evidence`` event, the ``write`` stage, the short answer's ``token`` events, the ``check``
        stage, then the ``answer`` event. ``stop`` (an Event): once set, the LLM stops writing."""
        timings = timings_ms if timings_ms is not None else {}
        ranked = self.evidence.rank_sentences(question, hits)
        chosen = self.evidence.evidence(question, ranked)
        shown = self.evidence.quote(question, chosen, as_of=as_of, timings_ms=timings, **fields)
        yield StreamEvent("evidence", answer=shown)
        if shown.refused:  # no sentence worth quoting: nothing for the model to read either
            yield StreamEvent("answer", answer=shown)
            return
        context, tokens = self.short.select([sentence for sentence, _ in chosen], ranked)
        timings["context_tokens"] = tokens
        yield StreamEvent("stage", writing_stage(len(context)), stage="write")
        raw = ""
        for delta in self.short.stream(question, context, as_of=as_of, stop=stop):
            raw += delta
            yield StreamEvent("token", delta)
        yield StreamEvent("stage", CHECKING, stage="check")
        yield StreamEvent("answer", answer=self.finish(shown, self.short.verify(raw, context, question, dict(ranked)), ranked))

    def finish(self, shown: Answer, short, ranked) -> Answer:
        """The final answer: the checked short answer above the evidence, or the evidence with a notice."""
        if not short.verified:
            notice = NO_DIRECT_ANSWER_NOTICE if short.reason.startswith("the model found no") else UNVERIFIED_NOTICE
            return dataclasses.replace(shown, notice=notice)  # dropped, not shown as unverified: the notice says so
        citations = list(shown.evidence)
        sentence = short.context[short.cited - 1]
        number = next((c.number for c in citations if c.article_id == sentence.passage.passage.article_id and c.start == sentence.start), 0)
        if not number:  # stated by a context sentence beyond the evidence: cite it too
            score = next((s for candidate, s in ranked if candidate is sentence), 0.0)
            number = len(citations) + 1
            citations.append(cite_sentence(sentence, number, score))
        citations[number - 1] = dataclasses.replace(citations[number - 1], verified=True)
        return dataclasses.replace(
            shown, text=f"{short.text} [{number}]", citations=citations, evidence=citations[: len(shown.evidence)], mode="llm"
        )

    def answer(self, question: str, hits: list[ScoredPassage], **fields) -> Answer:
        final = None
        for event in self.stream(question, hits, **fields):
            final = event.answer if event.kind == "answer" else final
        return final
