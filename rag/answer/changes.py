"""What is new in a story since a date: the facts (sentences) of articles published after it that no
article up to it stated, each cited, oldest first; restated facts left out.

The story's articles are its timeline's (``timeline.build_timeline``: the retriever's articles for the
topic, without time prior, above ``timeline_min_relevance``). Each article is read whole from the
store and split into sentences (``sentences.py``; headlines and near-empty lines dropped, as for
evidence). The sentences of articles dated up to ``since`` are what was known; the later articles are
read in date order, and each of their sentences is new unless a known sentence already states it,
judged like a citation (``claims.check_claim`` passes: its numbers, dates, names and negation, and
``corroborate_min_support`` of its words) or nearly the same sentence (cosine similarity of
``RESTATED_SIMILARITY`` with no number, name or negation disagreeing); a new sentence then counts as
known, so a later article repeating it is left out too. Undated articles cannot be placed and are
skipped. Faces render the ``Changes``; the Timeline tab's *new since* control is ``web.timeline``'s.
"""

from __future__ import annotations

import time

from rag.answer.claims import check_claim
from rag.answer.extractive import informative
from rag.answer.sentences import Sentence, content_words, split_sentences
from rag.types import Changes, Citation, Passage, ScoredPassage

# Two sentences this close (MiniLM cosine) say the same thing when the cheap checks see no conflict:
# "The ferry terminal will open in March" / "The terminal is to open in March". Set by hand on the tests'
# stories and the RealTimeQA copies; a number or name that differs fails the checks whatever the cosine.
RESTATED_SIMILARITY = 0.85


def changes(assistant, topic: object, *, since, date_from=None, date_to=None, sources=None, as_of=None, limit=None) -> Changes:
    """``Assistant.changes``: options validated like a timeline's, ``since`` required, then ``story_changes``."""
    from rag.answer.timeline import checked_story
    from rag.retrieval.options import InvalidOption, check_date

    topic, options, limit = checked_story(assistant.settings, topic, date_from, date_to, sources, as_of, limit)
    since_day = check_date(since, "since")
    if since_day is None:
        raise InvalidOption("since: give the date to compare with, as YYYY-MM-DD (for example 2025-11-01)", "since", "missing", since)
    return story_changes(assistant, topic, since_day, options, limit)


def story_changes(assistant, topic: str, since, options, limit: int | None = None) -> Changes:
    """The ``Changes`` of ``topic`` after ``since`` under validated ``options``."""
    from rag.answer.timeline import build_timeline

    started = time.perf_counter()
    result = Changes(topic=topic, since=since)
    timeline = build_timeline(assistant, topic, options, limit)
    if not timeline.entries:
        result.notice = timeline.notice
        return result
    before = [e.article_id for e in timeline.entries if e.date and e.date <= since]
    after = [e.article_id for e in timeline.entries if e.date and e.date > since]  # date order already
    result.articles_before, result.articles_after = len(before), len(after)
    if not after:
        result.notice = f"No article on this story was published after {since.isoformat()}."
        return result
    known = [s for article_id in before for s in article_sentences(assistant, article_id)]
    fresh = [s for article_id in after for s in article_sentences(assistant, article_id)]
    every = known + fresh
    vectors = _vectors(assistant.embedding, [s.text for s in every])
    similarity = vectors @ vectors.T  # every pair once (unit vectors), not a product per comparison
    words = [content_words(s.text) for s in every]  # each sentence's words once, not per pair
    min_support = assistant.settings.news.corroborate_min_support
    known_at = list(range(len(known)))  # indexes into ``every`` of what is known so far
    for at in range(len(known), len(every)):
        if any(restates(every[at].text, every[k].text, float(similarity[at, k]), min_support, words[at], words[k]) for k in known_at):
            result.restated += 1
            continue
        known_at.append(at)
        result.entries.append(_cite(every[at], len(result.entries) + 1))
    if not before:
        result.notice = f"No article on this story is dated on or before {since.isoformat()}: all its facts are new."
    elif not result.entries:
        result.notice = f"The articles after {since.isoformat()} only restate what was known."
    result.timings_ms["total"] = (time.perf_counter() - started) * 1000
    return result


def restates(new: str, old: str, similarity: float, min_support: float, new_words: set[str], old_words: set[str]) -> bool:
    """Whether the known sentence ``old`` already states ``new`` (see the module docstring); ``new_words``
    and ``old_words`` are their ``content_words``."""
    if len(new_words & old_words) < 0.5 * len(new_words) and similarity < RESTATED_SIMILARITY:
        return False  # cheap pre-filter: neither rule could hold
    verdict = check_claim(new, old, min_support=min_support)
    return verdict.outcome == "pass" or (verdict.outcome == "undecided" and similarity >= RESTATED_SIMILARITY)


def article_sentences(assistant, article_id: str) -> list[Sentence]:
    """The informative sentences of a whole stored article, with offsets into its text."""
    article = assistant.article(article_id)
    if article is None:
        return []
    whole = Passage(f"{article.id}#all", article.id, article.text, 0, len(article.text), article.title, article.date, article.source, article.url)
    return [s for s in split_sentences(ScoredPassage(whole, 0.0)) if informative(s, set())]


def _vectors(embedding, texts: list[str]):
    import numpy as np

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.asarray(embedding.get_text_embedding_batch(texts), dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def _cite(sentence: Sentence, number: int) -> Citation:
    """The sentence as a citation whose passage is the sentence itself (the reader shows the article)."""
    p = sentence.passage.passage
    return Citation(number, p.article_id, p.title, p.date, p.source, p.url, sentence.text, sentence.start, sentence.end,
                        sentence.text, 0.0, sentence.start, sentence.end)  # fmt: skip
