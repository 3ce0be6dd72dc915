"""When retrieval's evidence is too weak to answer from: the refusal rule and judging a long question by its parts.

``Retrieval.weak`` (``hybrid.py``) is set when both the best dense similarity is under ``min_evidence``
and the best lexical coverage of the question's terms is under ``min_coverage`` (:func:`refuses`); the
assistant then says the articles don't contain the answer, and the evaluator (``eval/metrics.py``)
replays the same rule over recorded signals to calibrate the two thresholds. How the two signals are
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
    from rag.answer.sentences import content_words, sentence_tokenizer

    sentences = [question[a:b] for a, b in sentence_tokenizer().span_tokenize(question)]
    # A colon or semicolon also ends a part: "One thing I can't remember: why did Peru ...?"
    parts = [part for sentence in sentences for part in re.split(r"[:;]\s+", sentence)]
    parts = [p for p in parts if len(content_words(p)) >= 2]
    if len(parts) < 2:
        return best, coverage
    for part in parts:
        best = max(best, similarity_of(part))
        coverage = max(coverage, coverage_of(part))
    return best, coverage
