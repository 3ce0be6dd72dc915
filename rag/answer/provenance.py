"""What an answer says about its evidence beyond the citations: who else reports each cited claim
(``corroborate.py``) and how fresh the evidence is (``freshness.py``), added to the final ``Answer``.

Called by ``Assistant.stream`` once the answer is final (the evidence event shown first is not
annotated: corroboration waits for nothing the reader needs first). ``corroborator`` builds the
``Corroborator`` an assistant's answers (and the benchmark) use; the work is the two modules'.
"""

from __future__ import annotations

import time

from rag.answer import freshness
from rag.types import Answer


def annotate(assistant, answer: Answer, question: str, timings: dict[str, float]) -> Answer:
    """``answer`` with corroboration (when the ``corroborate`` setting is on) and its evidence dates."""
    if answer.refused:
        return answer
    s = assistant.settings.news
    if s.corroborate:
        started = time.perf_counter()
        corroborator(assistant).annotate(answer)
        timings["corroboration"] = (time.perf_counter() - started) * 1000
    return freshness.annotate(answer, question, s.stale_after_days)


def corroborator(assistant):
    """The ``Corroborator`` over ``assistant``'s store, embedding and news settings, searching with
    ``nearest_passages``."""
    from rag.answer.corroborate import Corroborator

    return Corroborator(assistant.store, assistant.embedding, assistant.settings.news, search=nearest_passages(assistant))


def nearest_passages(assistant):
    """``search(vector, as_of)`` for the ``Corroborator``: the retriever's nearest passages, those after
    ``as_of`` dropped. Unfiltered, then filtered here: with an as-of day the retriever may fall back to
    Chroma's ``where=`` query (0.8 s measured) when few near passages are old enough; the nearest ones
    are what corroboration needs (copies and restatements are the nearest), so fewer is fine."""
    from rag.retrieval.options import query_options

    retriever, unfiltered = assistant.retriever, query_options()

    def search(vector, as_of):
        retriever.ensure_fresh()  # the store may have changed since the last retrieval (an ingest, another process)
        hits = retriever.dense_candidates(list(vector), unfiltered)
        return [h for h in hits if as_of is None or h.passage.date is None or h.passage.date <= as_of]

    return search
