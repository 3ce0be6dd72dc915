"""The faithfulness claims checked the way the answer path checks a short answer (``--checker short``).

The answer path no longer calls ``CitationVerifier``: the LLM writes one short answer citing one numbered
context sentence, and ``ShortAnswerer.verify`` (``rag/answer/short.py``) checks it against that sentence
(else another context sentence that states it). Here each claim is one such reply: the context is the
question's best ranked sentences of the shown passages (``ExtractiveAnswerer.rank_sentences``, as the
answer path ranks them; the first eight) plus the claim's own sentence if it is not among them, and the
claim cites its own sentence (the one of its passage sharing most words with it). Claims without a
question (sentences, paraphrases, corruptions) are asked as their own question, so only the checks decide.
"""

from __future__ import annotations

from collections import defaultdict

CONTEXT_SENTENCES = 8


def run_short(embedding, settings, answers, hits_of, judge=None):
    """Outcomes ``{kind: [(supported, accepted, claim, doc)]}`` through ``ShortAnswerer.verify``."""
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.answer.sentences import content_words, same_span, split_sentences
    from rag.answer.short import ShortAnswerer

    ranker = ExtractiveAnswerer(embedding, settings.answer)
    checker = ShortAnswerer(
        None, token_budget=0, max_tokens=0, min_support=settings.citation.cite_min_support,
        best_sentences=settings.answer.answer_sentences, judge=judge, count_tokens=len,
    )
    outcomes = defaultdict(list)
    for answer in answers:
        doc = answer[0][3]
        cited = sorted({c[4] for c in answer})
        others = [i for i in range(len(hits_of[doc])) if i not in cited]
        hits = [hits_of[doc][i] for i in (cited + others)[: max(5, len(cited))]]
        for kind, supported, claim, doc, index, question in answer:
            asked = question or claim
            ranked = ranker.rank_sentences(asked, hits)
            own = max(split_sentences(hits_of[doc][index]), key=lambda s: len(content_words(s.text) & content_words(claim)))
            context = [s for s, _ in ranked[:CONTEXT_SENTENCES]]
            if not any(same_span(own, s) for s in context):
                context.append(own)
            number = next(n for n, s in enumerate(context, 1) if same_span(own, s))
            result = checker.verify(f"{claim.rstrip('.')} [{number}]", context, asked, dict(ranked))
            outcomes[kind].append((supported, result.verified, claim, doc))
    return outcomes
