"""Ranking articles on all their evidence, then picking their best passages; and the time prior.

An article's score is a weighted sum of its best passage's cosine similarity, its best passage's BM25,
its whole-text BM25 and its title's BM25 (each BM25 divided by the best score of the question, so the
weights compare like with like), plus a time prior: ``recency_weight * log(floor + (1 - floor) *
0.5 ** (age / half_life))`` for the article's age on the as-of day, which is 0 on that day and falls
towards ``log(floor)`` for old articles. The weights, the floor and the half-life are fitted on both
RealTimeQA corpora (``benchmarks/fit_retrieval.py``) and checked by cross-validation by week and from one
corpus to the other (README "Two corpora"). The prior applies only where recency means something for the question (:func:`prior_strength`):
not to a question asked with no as-of day unless its wording asks for recent news ("this week",
"latest", ...), and not to one about a past year ("what did X say in 2019?") unless it also asks for
the latest. Each of the best articles then contributes its best passage (by the same cosine + BM25
weights, and a bonus for a passage quoting the person a "What did X say?" question asks about) in
article order, then second passages, up to ``max_passages_per_article``.

Pure scoring over a ``LexicalIndex`` (``lexical.py``) and the dense hits the retriever found: the
dense search, the question's spelling and the refusal decision are ``hybrid.py``'s and ``refusal.py``'s.
"""

from __future__ import annotations

import datetime as dt
import re

from rag.answer.roles import asked_speaker
from rag.answer.sentences import sentence_tokenizer
from rag.ingest.speakers import same_speaker, speakers_of
from rag.retrieval.lexical import LexicalIndex
from rag.retrieval.options import QueryOptions
from rag.types import ScoredPassage


def weights(settings) -> tuple[float, float, float, float]:
    """(dense, passage BM25, article BM25, title BM25) weights for the retrieval mode."""
    s = settings
    dense, lexical = s.retrieval_mode != "bm25", s.retrieval_mode != "dense"
    return (
        s.dense_weight if dense else 0.0,
        s.passage_bm25_weight if lexical else 0.0,
        s.article_bm25_weight if lexical else 0.0,
        s.title_bm25_weight if lexical else 0.0,
    )


# Wording that asks for recent news. Quiz questions say "this week" or "recently"; a user's question
# says "latest" or "now". Set by hand from the RealTimeQA questions' wording (README "Quality").
_RECENT = re.compile(
    r"\b(?:(?:this|last|past) (?:week|weekend|month|morning|year)|recent|recently|latest|newly|new|today|"
    r"yesterday|tonight|now|currently|current|just|ongoing|upcoming|soon|so far)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def prior_strength(question: str, as_of: dt.date | None) -> float:
    """1 when the time prior applies to ``question`` asked on ``as_of``, 0 when it does not (module docstring)."""
    recent = bool(_RECENT.search(question))
    if as_of is None and not recent:
        return 0.0  # no day to be recent to: the best evidence wins, however old
    reference = as_of or dt.date.today()
    years = [int(y) for y in _YEAR.findall(question)]
    if years and max(years) < reference.year and not recent:
        return 0.0  # about a past year: its articles are old by design
    return 1.0


def time_prior(settings, article_days, as_of: dt.date | None):
    """The log time prior of each article (``article_days``: ordinal days, -1 undated).

    0 on the as-of day, falling towards ``recency_weight * log(recency_floor)`` with age. An undated
    article, or one dated after the reference day (a wrong date, or a future one when no as-of day
    is given), is given the prior of an article one half-life old: no permanent boost, no penalty.
    """
    import numpy as np

    s = settings
    if not s.recency_weight:
        return np.zeros(len(article_days))
    reference = (as_of or dt.date.today()).toordinal()
    age = (reference - article_days).astype(float)
    age = np.where((article_days < 0) | (age < 0), s.recency_half_life_days, age)
    decay = 0.5 ** (age / s.recency_half_life_days)
    return s.recency_weight * np.log(s.recency_floor + (1 - s.recency_floor) * decay)


def rank(
    lex: LexicalIndex, settings, question: str, dense_hits: list[ScoredPassage], options: QueryOptions, top_k: int, prior: bool = True
) -> list[ScoredPassage]:
    """Score articles on all their evidence, then take their best passages (module docstring).

    ``prior=False`` ranks articles on their evidence alone (a story timeline wants old articles too).
    """
    import numpy as np

    w_dense, w_passage, w_article, w_title = weights(settings)
    # Work over every passage is what grows with the store (at a million passages a question's ranking
    # was 29 ms, two thirds of it passage-sized arrays): only the mask, BM25 and the per-article maxima
    # of BM25 and of the mask run over all passages; the dense side and the passage choice touch the
    # returned hits and the chosen articles' passages only.
    allowed = lex.mask(options)
    passage_bm25, article_bm25, title_bm25 = lex.scores(lex.query_terms(question))
    passage_bm25 = np.where(allowed, passage_bm25, 0.0)
    article_ok = lex.article_max(allowed)
    article_bm25, title_bm25 = np.where(article_ok, article_bm25, 0.0), np.where(article_ok, title_bm25, 0.0)
    scaled_bm25 = _scaled(passage_bm25)

    # Dense similarity of the passages the HNSW search returned; every other passage is taken to be
    # as far as the farthest one returned (an upper bound, and the same for all of them): so an admitted
    # article's best is that floor unless it holds a returned passage.
    farthest = min((h.dense_score or 0.0 for h in dense_hits), default=0.0)
    floor = np.float32(farthest)
    seen = {}
    for h, i in zip(dense_hits, lex.positions([h.passage.id for h in dense_hits]).tolist()):
        if i >= 0:
            seen[i] = h.dense_score or farthest
    article_dense = np.where(article_ok, float(floor), -np.inf)
    for i, similarity in seen.items():
        if allowed[i]:
            code = lex.passage_article[i]
            article_dense[code] = max(article_dense[code], float(np.float32(similarity)))
    score = (
        w_dense * article_dense
        + w_passage * lex.article_max(scaled_bm25)
        + w_article * _scaled(article_bm25)
        + w_title * _scaled(title_bm25)
        + (prior_strength(question, options.as_of) * time_prior(settings, lex.article_day, options.as_of) if prior else 0.0)
    )
    score = np.where(article_ok, score, -np.inf)

    cap = settings.max_passages_per_article
    wanted = min(int(article_ok.sum()), top_k)
    ranked_articles = np.argsort(-score)[:wanted]
    rounds: list[list[ScoredPassage]] = [[] for _ in range(cap)]
    asked = asked_speaker(question)
    for code in ranked_articles:
        members = lex.article_passages(code)
        # Which passages of a chosen article to show: cosine plus scaled BM25, equally weighted whatever
        # the article weights (with passage_bm25_weight 0, cosine alone would pick among the passages
        # the dense search never returned by chance).
        dense = np.array([seen.get(int(i), floor) for i in members], dtype=np.float32)
        relevance = (w_dense > 0) * dense + (w_passage > 0 or w_article > 0) * scaled_bm25[members]
        relevance = np.where(allowed[members], relevance, -np.inf)
        chosen_by = relevance + (_speaker_bonus(lex, members, asked) if asked else 0.0)
        for round_, j in enumerate(np.argsort(-chosen_by)[:cap]):
            if np.isfinite(relevance[j]):
                i = int(members[j])
                rounds[round_].append(ScoredPassage(lex.passages[i], float(score[code]), seen.get(i), float(passage_bm25[i])))
    return [hit for round_ in rounds for hit in round_][:top_k]


# "What did X say?": a passage quoting X (speakers attributed at indexing) is shown before one that
# only mentions X; X's quote is often in a passage that shares no word with the question but the name.
SPEAKER_BONUS = 0.5


def _speaker_bonus(lex: LexicalIndex, members, asked: str):
    """SPEAKER_BONUS for each of ``members`` (passage positions) that attributes speech to ``asked``."""
    import numpy as np

    tokenizer = sentence_tokenizer()
    return np.array(
        [SPEAKER_BONUS if any(same_speaker(asked, who) for _, _, who in speakers_of(lex.passages[i], tokenizer)) else 0.0 for i in members]
    )


def _scaled(scores):
    """``scores`` divided by their maximum (all zeros stay zeros): BM25 on the same 0..1 scale as cosine."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores
