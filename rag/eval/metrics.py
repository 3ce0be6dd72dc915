"""Evaluation metrics: small pure functions that score one answer or one ranking, testable by hand.

Answer matching (:func:`normalise`, :func:`contains_answer`, :func:`token_f1`), retrieval ranks
(:func:`hit_at_k`, :func:`reciprocal_rank`), citations, the per-question failure class
(:func:`failure_class`) and the refusal-threshold search. Asking the questions and aggregating the
scores is ``run.py``'s; printing and writing them ``report.py``'s.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import numpy

from rag.answer.cite import MARKER  # citation markers: stripped from the answer's lead
from rag.retrieval.refusal import refuses  # the rule itself lives with retrieval; re-exported for the evaluator

HIT_KS = (1, 5, 10)
FAILURE_CLASSES = ("correct", "retrieval_miss", "gold_rank_6_10", "gold_in_context_wrong", "wrongly_refused")

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                         "\u00ab": '"', "\u00bb": '"'})  # fmt: skip


def normalise(text: str) -> str:
    """Lower-case ``text``, fold accents and curly quotes, turn punctuation into spaces, squeeze spaces.

    ``“Squid Game”`` and ``"squid game"`` both become ``squid game``; ``José`` becomes ``jose``.
    """
    text = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any accepted answer occurs in ``text`` as whole words, after :func:`normalise`.

    Whole words: ``"10"`` is not found in ``"100 people"``. An empty answer never matches.
    """
    haystack = f" {normalise(text)} "
    return any((needle := normalise(a)) and f" {needle} " in haystack for a in answers)


def names_answer(text: str, answers: Iterable[str], choices: Sequence[str] = ()) -> bool:
    """Whether a short answer names an accepted answer: contains one (:func:`contains_answer`), or, for a
    quiz question, picks out the right choice alone among its ``choices``.

    A choice is picked by the share of its words (:func:`answer_tokens`) the answer has; the best share
    must be the right choice's and no other's. So "Fiona" names "Hurricane Fiona" among four hurricanes,
    "Tony Awards" names "The Tony Awards", while "space station" names neither "International Space
    Station" nor "Tiangong Space Station", and "Burmese python" does not name "Snake": no word shared.
    """
    if contains_answer(text, answers):
        return True
    words = set(answer_tokens(text))
    if not words or not choices:
        return False
    shares = [len(words & set(choice)) / len(set(choice)) if choice else 0.0 for choice in map(answer_tokens, choices)]
    best = max(shares)
    right = {normalise(a) for a in answers}
    return best > 0 and shares.count(best) == 1 and normalise(choices[shares.index(best)]) in right


def hit_at_k(ranked_article_ids: Sequence[str], gold: Iterable[str], k: int) -> bool:
    """Whether any of the first ``k`` ranked passages (given by their article ids) is from a gold article."""
    gold = set(gold)
    return any(a in gold for a in ranked_article_ids[:k])


def reciprocal_rank(ranked_article_ids: Sequence[str], gold: Iterable[str]) -> float:
    """1 / rank of the first passage from a gold article (ranks start at 1); 0 when there is none."""
    gold = set(gold)
    return next((1.0 / rank for rank, a in enumerate(ranked_article_ids, 1) if a in gold), 0.0)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; ``None`` for no values (a metric that does not apply, not a zero)."""
    values = list(values)
    return sum(values) / len(values) if values else None


def mrr(reciprocal_ranks: Iterable[float]) -> float | None:
    """Mean reciprocal rank over questions (see :func:`reciprocal_rank`)."""
    return mean(reciprocal_ranks)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) with linear interpolation between ranks (``numpy.percentile``); ``None`` for no values."""
    values = list(values)
    return float(numpy.percentile(values, q)) if values else None


def citation_is_correct(article_id: str, passage: str, gold: Iterable[str], answers: Iterable[str]) -> bool:
    """A citation is correct when its article is gold or its passage contains an accepted answer."""
    return article_id in set(gold) or contains_answer(passage, answers)


def citation_precision(citations: Iterable[Any], gold: Iterable[str], answers: Iterable[str]) -> tuple[int, int]:
    """(correct, total) citations of one answer; pooled over questions by the caller."""
    gold, answers = set(gold), list(answers)
    judged = [citation_is_correct(c.article_id, c.passage, gold, answers) for c in citations]
    return sum(judged), len(judged)


def all_verified(citations: Iterable[Any]) -> bool:
    """True unless a citation was checked and failed (``verified is False``); unchecked counts as verified."""
    return all(c.verified is not False for c in citations)


def refusal_rate(signals: Sequence[tuple[float, float]], min_evidence: float, min_coverage: float = math.inf) -> float:
    """Share of questions refused, given each one's (best similarity, coverage) and the two thresholds.

    The default ``min_coverage=inf`` leaves the decision to the similarity alone.
    """
    if not signals:
        return math.nan
    return sum(refuses(s, c, min_evidence, min_coverage) for s, c in signals) / len(signals)


def balanced_accuracy(
    answerable: Sequence[tuple[float, float]],
    unanswerable: Sequence[tuple[float, float]],
    min_evidence: float,
    min_coverage: float = math.inf,
) -> float:
    """Mean of the share of answerable questions answered and the share of must-refuse ones refused."""
    return (refusal_rate(unanswerable, min_evidence, min_coverage) + 1 - refusal_rate(answerable, min_evidence, min_coverage)) / 2


def _cut_points(values: Iterable[float]) -> list[float]:
    # Every distinct way of splitting the observed values: below all, between neighbours, above all.
    ordered = sorted(set(values))
    return [ordered[0] - 1e-9] + [(a + b) / 2 for a, b in pairwise(ordered)] + [ordered[-1] + 1e-9]


def best_thresholds(
    answerable: Sequence[tuple[float, float]], unanswerable: Sequence[tuple[float, float]], *, min_coverage: float | None = None
) -> tuple[float, float, float]:
    """The (``min_evidence``, ``min_coverage``, balanced accuracy) that best separates the two sets.

    Inputs are each question's (best similarity, coverage). With ``min_coverage`` given, only
    ``min_evidence`` is searched (``math.inf`` for similarity alone). Candidates are midpoints between
    observed values; among equally good ones the lowest thresholds (fewest refusals) win.
    """
    if not answerable or not unanswerable:
        return math.nan, math.nan, math.nan
    both = [*answerable, *unanswerable]
    coverages = [min_coverage] if min_coverage is not None else _cut_points(c for _, c in both)
    best = (math.nan, math.nan, -1.0)
    for coverage in coverages:
        for evidence in _cut_points(s for s, _ in both):
            score = balanced_accuracy(answerable, unanswerable, evidence, coverage)
            if score > best[2] + 1e-12:
                best = (evidence, coverage, score)
    return best


# --- token F1 and the answer's lead -----------------------------------------------------------------

_ARTICLES = frozenset(("a", "an", "the"))


def answer_tokens(text: str) -> list[str]:
    """The words of ``text`` for token F1: :func:`normalise`, then without the articles a/an/the (as SQuAD)."""
    return [w for w in normalise(text).split() if w not in _ARTICLES]


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD-style token F1 of ``prediction`` against the best of the accepted ``answers`` (0 for none).

    Partial credit for paraphrases: "assault weapons ban" against "Ban on military-style assault
    weapons" scores 0.67, where containment scores 0. Precision counts every word of the prediction,
    so score a short span (see :func:`lead`), not a paragraph.
    """
    predicted = Counter(answer_tokens(prediction))
    best = 0.0
    for answer in answers:
        gold = Counter(answer_tokens(answer))
        common = sum((predicted & gold).values())
        if common:
            precision, recall = common / sum(predicted.values()), common / sum(gold.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def lead(text: str) -> str:
    """The first sentence of an answer without its ``[n]`` markers: the short answer a reader sees first.

    Split with the sentence splitter answers and passages are split with (Punkt taught news
    abbreviations, so "U.S. troops" is not cut after "U.S.").
    """
    from rag.answer.sentences import sentence_tokenizer

    plain = MARKER.sub("", text).strip()
    spans = sentence_tokenizer().span_tokenize(plain.split("\n", 1)[0])
    start, end = next(iter(spans), (0, len(plain)))
    return plain[start:end]


def failure_class(*, correct: bool, refused: bool, gold_in_context: bool, gold_in_top10: bool) -> str:
    """Where an answerable question was won or lost, one of ``FAILURE_CLASSES``.

    ``wrongly_refused`` (the answer said the articles don't say), ``correct``, ``gold_in_context_wrong``
    (a gold passage was among those the answer was composed from, yet the answer is wrong: a reading
    failure), ``gold_rank_6_10`` (gold in the top 10 but not in the context: a ranking failure) and
    ``retrieval_miss`` (no gold passage in the top 10).
    """
    if refused:
        return "wrongly_refused"
    if correct:
        return "correct"
    if gold_in_context:
        return "gold_in_context_wrong"
    return "gold_rank_6_10" if gold_in_top10 else "retrieval_miss"
