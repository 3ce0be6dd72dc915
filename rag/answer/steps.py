"""The answering steps after retrieval that are no answerer's own: refusing, and streaming the LLM's answer.

``refusal_for`` is the refusal decision: the answer when retrieval found nothing to answer from
(no passage, too weak evidence, a question in another language), saying which kind; ``stream_llm_answer``
streams an LLM answerer's evidence and tokens and falls back to the extractive answer when the LLM fails
mid-answer; ``with_authors`` names each cited article's authors (the registry knows them, passages do
not). Retrieving, and composing the answer itself, are the retriever's and the answerers'
(``extractive.py``, ``generate.py``); running the steps in order is ``Assistant.stream``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from rag.answer.extractive import refusal
from rag.retrieval.options import filter_mismatch
from rag.retrieval.spelling import other_language_message
from rag.types import Answer, ArticleInfo, StreamEvent


def refusal_for(question: str, options, retrieval, timings: dict, articles: Callable[[], Sequence[ArticleInfo]]) -> Answer | None:
    """The answer when there is nothing to answer from, saying why; None when there is.

    ``articles`` lists the indexed articles; it is called only when filters excluded every passage.
    """
    if retrieval.passages and retrieval.language == "en" and not retrieval.weak:
        return None
    answer = refusal(question, as_of=options.as_of, timings_ms=timings)
    mismatch = filter_mismatch(options, articles()) if not retrieval.passages and options.restricted else ""
    if mismatch:  # the filters excluded every article: say which, not "the articles don't say"
        answer.text = mismatch
    elif retrieval.language != "en":
        answer.text = other_language_message(retrieval.language)
    return answer


def with_authors(events: Iterable[StreamEvent], lookup: Callable[[Iterable[str]], dict]) -> Iterator[StreamEvent]:
    """``events`` with each answer's citations given their articles' authors (``lookup``: ids -> authors,
    asked once per article: the evidence event and the final answer cite mostly the same ones)."""
    known: dict[str, tuple[str, ...]] = {}
    for event in events:
        answer = event.answer
        if answer is not None and answer.citations:
            new = {c.article_id for c in answer.citations} - set(known)
            if new:
                known |= {article_id: () for article_id in new} | lookup(new)
            named = {c.article_id: known[c.article_id] for c in answer.citations if known[c.article_id]}
            if named:
                cited = [replace(c, authors=named.get(c.article_id, c.authors)) for c in answer.citations]
                by_number = {c.number: c for c in cited}
                evidence = [by_number.get(c.number, c) for c in answer.evidence]
                event = replace(event, answer=replace(answer, citations=cited, evidence=evidence))
        yield event


def stream_llm_answer(generator, fallback, question: str, passages, as_of, timings: dict, started: float, stop=None):
    """Stream the LLM answerer's events (evidence, stages, tokens); returns (answer, notice).

    A server gone away mid-answer does not fail the question: ``fallback`` (the extractive answerer)
    answers, with a notice saying why; the evidence already shown stays what it was.
    """
    t = time.perf_counter()
    answer, notice = None, ""
    try:
        for event in generator.stream(question, passages, as_of=as_of, timings_ms=timings, stop=stop):
            since_start = (time.perf_counter() - started) * 1000  # the face's view: from the question
            if event.kind == "answer":
                answer = event.answer
                timings["short_answer"] = since_start
                continue
            if event.kind in ("evidence", "token"):
                timings.setdefault("evidence" if event.kind == "evidence" else "first_token", since_start)
            yield event
    except Exception as error:
        notice = f"extractive mode: the LLM failed ({type(error).__name__}: {error})"
        answer = fallback.answer(question, passages, as_of=as_of, timings_ms=timings)
    timings["generation"] = (time.perf_counter() - t) * 1000
    return answer, notice
