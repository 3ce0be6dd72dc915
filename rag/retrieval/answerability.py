"""Whether the retrieved passages can answer the question: retrieval signals and a trained model over them.

``signals`` measures, for one search, what tells a question the articles answer from one they do not:
the best passage's cosine similarity, the share of the question's rare terms one passage holds and
the same share over all its terms (each the strongest of the whole question and its parts,
``refusal.judge_parts``; the model was fitted with the whole question's share of all terms), the gap between the best and the second article's similarity, how many articles come
close to the best, how much of the question the best titles hold, which of its names and numbers the
passages lack, its terms that no article uses at all, and the best article's BM25 per term. No date
goes in: the model must not tell questions apart by the year they were asked.

``AnswerabilityModel`` is a logistic regression over those signals (standardised, then a weighted sum
and a sigmoid), its coefficients read from a small JSON file: ``answerability.json`` beside this module
by default, written by ``python benchmarks/fit_refusal.py`` (scikit-learn there; here only the
arithmetic, so answering needs no scikit-learn). The retriever refuses when the probability is under
``min_answerable`` (``hybrid.py``) and the question is not :func:`fully_covered`. Measuring the signals' raw parts (BM25, coverage, dense search) is
``lexical.py``'s and the retriever's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.types import ScoredPassage

BUNDLED = Path(__file__).with_name("answerability.json")
FEATURES = (
    "similarity", "coverage", "coverage_all", "margin", "agreement", "title_overlap", "missing_names",
    "unknown_terms", "article_bm25",
)  # fmt: skip
_NAME = re.compile(r"\b(?:[A-Z][\w'’-]*[a-z0-9][\w'’-]*|[A-Z]{2,}|\d[\d,.]*)\b")


def names(question: str) -> set[str]:
    """The question's names and numbers, lowercased: capitalised words not first in a sentence, acronyms, numbers."""
    found = set()
    for sentence in re.split(r"(?<=[.?!:;])\s+", question.strip()):
        for i, match in enumerate(_NAME.finditer(sentence)):
            word = match.group(0)
            if i == 0 and match.start() == 0 and not word.isupper() and not word[0].isdigit():
                continue  # a sentence's first word is capitalised whatever it is
            found.add(word.lower().strip(".,"))
    return found


def signals(
    lex, question: str, passages: Sequence[ScoredPassage], dense_hits: Sequence[ScoredPassage], similarity: float, coverage: float, coverage_all: float
) -> dict[str, float]:
    """The answerability signals of one search (module docstring); ``similarity``/``coverage``/``coverage_all`` as judged by parts."""
    by_article: dict[str, float] = {}
    for h in dense_hits:
        by_article[h.passage.article_id] = max(by_article.get(h.passage.article_id, -1.0), h.dense_score or 0.0)
    best = sorted(by_article.values(), reverse=True)
    margin = best[0] - best[1] if len(best) > 1 else (best[0] if best else 0.0)
    agreement = sum(s >= best[0] - 0.05 for s in best) if best else 0
    weights = lex.term_weights(question)  # (term, idf, known to the articles)
    total = sum(w for _, w, _ in weights) or 1.0
    unknown = sum(w for _, w, known in weights if not known) / total
    titles = {h.passage.title or "" for h in passages}
    title_overlap = 0.0
    for title in titles:
        words = set(lex.query_terms(title))
        title_overlap = max(title_overlap, sum(w for t, w, _ in weights if t in words) / total)
    wanted = names(question)
    text = " ".join(f"{h.passage.title or ''} {h.passage.text}" for h in passages).lower()
    missing = sum(1 for n in wanted if n not in text) / len(wanted) if wanted else 0.0
    article_bm25 = lex.best_article_bm25(question, {h.passage.article_id for h in passages}) / max(1, len(weights))
    return {
        "similarity": float(similarity),
        "coverage": float(coverage),
        "coverage_all": float(coverage_all),
        "margin": float(margin),
        "agreement": math.log1p(agreement),
        "title_overlap": float(title_overlap),
        "missing_names": float(missing),
        "unknown_terms": float(unknown),
        "article_bm25": float(article_bm25),
    }


def fully_covered(values: dict[str, float]) -> bool:
    """Every term and name of the question in one returned passage: answered whatever the model says.

    A short question about a name ("What did Kast say?") has a low cosine similarity to any passage,
    which the linear model weighs most; on the 2022 corpus this held for 13 of 102 answerable questions
    and 5 of 450 out-of-corpus ones (``benchmarks/fit_refusal.py`` applies the same rule).
    """
    return bool(values) and values.get("coverage_all", 0.0) >= 0.999 and values.get("missing_names", 1.0) == 0.0


@dataclass(frozen=True)
class AnswerabilityModel:
    """A logistic regression over ``signals``: P(answerable) = sigmoid(intercept + coef · (x - mean) / scale)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # the probability under which the fitting script's choice refuses (min_answerable)

    @classmethod
    def load(cls, path: str | Path | None = None) -> AnswerabilityModel:
        """The model in ``path`` (the bundled ``answerability.json`` when empty)."""
        data = json.loads(Path(path or BUNDLED).read_text(encoding="utf-8"))
        return cls(
            features=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
            coef=tuple(data["coef"]), intercept=float(data["intercept"]), threshold=float(data["threshold"]),
        )  # fmt: skip

    def probability(self, values: dict[str, float]) -> float:
        """P(answerable) for one search's ``signals``."""
        z = self.intercept + sum(c * (values[f] - m) / s for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
