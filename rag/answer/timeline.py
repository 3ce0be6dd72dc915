"""Story timelines: the articles that match a query, in date order, each with its best sentence, cited.

Deterministic and without an LLM: the hybrid retriever (``rag.retrieval.hybrid``) ranks articles on their
evidence alone (no time prior: a story's first days matter as much as its last), at most
``timeline_max_articles`` of them; the extractive answerer's sentence scoring (``extractive.py``: cosine
similarity to the query plus half the share of its content words) picks each article's best
sentence from its best passage, and articles whose best sentence scores under
``timeline_min_relevance`` are dropped (the best article is kept whenever retrieval found evidence).
Filters (dates, sources) are validated like a question's (``rag.retrieval.options``). Rendering is the faces'
(``web.timeline``, the CLI); Markdown export is ``present.markdown``'s.
"""

from __future__ import annotations

import time

from rag.answer.sentences import cite_sentence
from rag.types import Timeline, TimelineEntry

NO_MATCH = "No article matches this story: try other words, or widen the dates or sources."


def timeline(assistant, query: object, *, date_from=None, date_to=None, sources=None, as_of=None, limit=None) -> Timeline:
    """``Assistant.timeline``: the options validated like a question's, then ``build_timeline``."""
    query, options, limit = checked_story(assistant.settings, query, date_from, date_to, sources, as_of, limit)
    return build_timeline(assistant, query, options, limit)


def checked_story(settings, query: object, date_from, date_to, sources, as_of, limit):
    """A story query, its filters and its article ``limit`` validated like a question's (the timeline's and
    ``changes.py``'s rule): ``(query, QueryOptions, limit)``, or ``InvalidOption``/``TypeError``."""
    from rag.retrieval.options import check_at_most, check_question, check_top_k, query_options

    query = check_question(query, settings.retrieval.max_question_chars)
    options = query_options(date_from=date_from, date_to=date_to, sources=sources, as_of=as_of)
    limit = check_top_k(limit, "limit", "articles")  # same rule as top_k, named as the caller named it
    check_at_most(limit, settings.news.max_timeline_limit, "limit", "max_timeline_limit", "articles")
    return query, options, limit


def build_timeline(assistant, query: str, options, limit: int | None = None) -> Timeline:
    """The ``Timeline`` for ``query`` under validated ``options`` (``options.QueryOptions``)."""
    import dataclasses

    from rag.retrieval.options import filter_mismatch
    from rag.retrieval.spelling import other_language_message

    started = time.perf_counter()
    s = assistant.settings.news
    limit = limit or s.timeline_max_articles
    timeline = Timeline(query=query)
    if not query:
        timeline.notice = "Type what the story is about, e.g. “Peru Chile border migrants”."
        return timeline
    retrieval = assistant.retriever.search(query, dataclasses.replace(options, top_k=limit), time_prior=False)
    timeline.timings_ms["retrieval"] = retrieval.timings_ms.get("total", 0.0)
    if not retrieval.passages:
        if options.restricted:
            timeline.notice = filter_mismatch(options, assistant.articles()) or NO_MATCH
        else:
            timeline.notice = NO_MATCH if assistant.articles() else filter_mismatch(options, [])
        return timeline
    if retrieval.language != "en":
        timeline.notice = other_language_message(retrieval.language)
        return timeline
    if retrieval.weak:
        timeline.notice = NO_MATCH
        return timeline

    t = time.perf_counter()
    best_passage = {}
    for hit in retrieval.passages:  # the retriever lists each article's best passage first
        best_passage.setdefault(hit.passage.article_id, hit)
    hits = list(best_passage.values())
    chosen, headline = {}, {}
    for sentence, score in assistant.answerer.rank_sentences(retrieval.question, hits, standing=False):
        article_id, title = sentence.passage.passage.article_id, sentence.passage.passage.title
        if _same_text(sentence.text, title):  # a page's heading kept in its text: the title is shown anyway
            headline.setdefault(article_id, (sentence, score))
        else:
            chosen.setdefault(article_id, (sentence, score))
    chosen = {**headline, **chosen}  # the heading only when the passage has no other sentence
    order = [hit.passage.article_id for hit in hits if hit.passage.article_id in chosen]
    kept = [a for rank, a in enumerate(order) if rank == 0 or chosen[a][1] >= s.timeline_min_relevance]
    kept.sort(key=lambda a: (chosen[a][0].passage.passage.date is None, chosen[a][0].passage.passage.date or 0, a))
    for number, article_id in enumerate(kept, 1):
        sentence, score = chosen[article_id]
        p = sentence.passage.passage
        citation = cite_sentence(sentence, number, score)
        timeline.entries.append(TimelineEntry(p.article_id, p.title, p.date, p.source, p.url, citation, round(float(score), 4)))
    timeline.timings_ms["sentences"] = (time.perf_counter() - t) * 1000
    timeline.timings_ms["total"] = (time.perf_counter() - started) * 1000
    return timeline


def _same_text(a: str, b: str) -> bool:
    def fold(text: str) -> str:
        return " ".join(text.lower().split()).rstrip(".")

    return bool(b) and fold(a) == fold(b)
