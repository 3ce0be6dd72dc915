"""When retrieval's evidence is too weak to answer from: the refusal rule and judging a long question by its parts.

:func:`refuses` is the rule of two thresholds (``refusal_rule = "thresholds"``, the default; the
trained answerability model, ``answerability.py``, is the other rule); the evaluator (``eval/metrics.py``)
also replays it over recorded signals to show what other thresholds would do. :func:`judge_parts` and :func:`question_parts` judge
a long question by its strongest part, for the model's signals. How the two signals are
measured (dense search, ``LexicalIndex.coverage``) is left to the retriever, which hands them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def refuses(similarity: float, coverage: float, min_evidence: float, min_coverage: float) -> bool:
    """The refusal rule: both the best dense similarity and the lexical coverage are under their thresholds."""
    return similarity < min_evidence and coverage < min_coverage


def judge_parts(
    question: str, best: float, coverage: float, similarity_of: Callable[[str], float], coverage_of: Callable[[str], float]
) -> tuple[float, float]:
    """The refusal signals of a question of several sentences: the strongest of the whole and its parts.

    A long or compound question ("I was reading about the border. Why did Peru declare a state of
    emergency? Please say which article it comes from.") dilutes the whole question's embedding and
    term coverage with its framing; each sentence is judged on its own (``similarity_of`` and
    ``coverage_of`` measure one part against the same passages), and the question is answerable if
    one of them is. ``best``/``coverage`` are the whole question's signals.
    """
    parts = question_parts(question)
    for part in parts:
        best = max(best, similarity_of(part))
        coverage = max(coverage, coverage_of(part))
    return best, coverage


def question_parts(question: str) -> list[str]:
    """The sentences (and colon- or semicolon-separated parts) of a question of several, each with 2+ content words; [] for one."""
    from rag.answer.sentences import content_words, sentence_tokenizer

    sentences = [question[a:b] for a, b in sentence_tokenizer().span_tokenize(question)]
    # A colon or semicolon also ends a part: "One thing I can't remember: why did Peru ...?"
    parts = [part for sentence in sentences for part in re.split(r"[:;]\s+", sentence)]
    parts = [p for p in parts if len(content_words(p)) >= 2]
    return parts if len(parts) >= 2 else []
