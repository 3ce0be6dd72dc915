"""Who gets the cores during an ingest: full priority, except while questions are being answered.

An ingest's embedding at a low CPU priority (``ingest_nice``) keeps questions fast during an app's
upload or feed refresh, but it is needless everywhere else: a bulk ``rag ingest``, ``rag eval`` and an
app with nobody asking got only the leftovers of a machine where anything else ran (issue 22). Here each
batch of passages is sent to one of two embeddings of the same model:

* the question-side model, at normal priority, on the caller's thread, when no question is in flight;
* ``embed.BackgroundEmbedding``, a worker thread at ``ingest_nice``, while a question is being answered
  or one ended less than ``GRACE_S`` ago (chat questions come in bursts; a batch takes about a second).

The choice is made per batch, so a question arriving mid-ingest waits at most for the batch in flight.
The nice value cannot simply be lowered again when the questions stop: that needs a privilege ordinary
users lack, hence two embeddings rather than one renice'd thread. Counting the questions is the
assistant's job (it enters :class:`QuestionsInFlight` around each answer); building models is ``embed``'s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

GRACE_S = 5.0


class QuestionsInFlight:
    """Counts the questions being answered; ``with questions:`` around each one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._last_end = float("-inf")

    def __enter__(self) -> QuestionsInFlight:
        with self._lock:
            self._count += 1
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._count -= 1
            self._last_end = time.monotonic()

    def busy(self) -> bool:
        """A question is being answered, or one ended less than ``GRACE_S`` ago."""
        with self._lock:
            return self._count > 0 or time.monotonic() - self._last_end < GRACE_S


class PriorityEmbedding:
    """An ingest's embedding: ``normal`` while no question is in flight, else ``background()`` (built on
    first need). Only ``get_text_embedding_batch`` is offered: it is all ``ingest.embed_by_length`` calls."""

    def __init__(self, normal: Any, background, questions: QuestionsInFlight) -> None:
        self.normal = normal
        self._background_factory = background
        self._background = None
        self.questions = questions
        self.batches = {"normal": 0, "low": 0}  # how many batches each priority embedded (tests, benchmarks)

    @property
    def background(self):
        """The low-priority worker (``embed.BackgroundEmbedding``)."""
        if self._background is None:
            self._background = self._background_factory()
        return self._background

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        if self.questions.busy():
            self.batches["low"] += 1
            return self.background.get_text_embedding_batch(texts, **kwargs)
        self.batches["normal"] += 1
        return self.normal.get_text_embedding_batch(texts, **kwargs)


def ingest_embedding(question_model: Callable[[], Any], settings, questions: QuestionsInFlight, *, given: bool):
    """What an ingest embeds with (``question_model()`` gives the question-side model, loaded only when
    used: the worker pool of ``ingest_workers`` never needs it): that model when ``ingest_nice`` is 0 or the
    work happens on a server (``embed_backend = "openai"``), else a :class:`PriorityEmbedding` whose
    low-priority side is a second copy of the model (25 MB int8, shared by assistants with the same
    settings) built on its worker thread, or, for a model handed in (``given``), the same instance."""
    from rag.components import shared_component
    from rag.embed import BackgroundEmbedding, embedding_from

    s, nice = settings.embedding, settings.ingest.ingest_nice
    if settings.ingest.ingest_workers > 1:  # a bulk ingest: its own processes at full priority
        from rag.ingest.workers import WorkerPoolEmbedding

        return WorkerPoolEmbedding(s, settings.ingest.ingest_workers)
    embedding = question_model()
    if nice <= 0 or s.embed_backend == "openai":
        return embedding
    if given:
        background = lambda: BackgroundEmbedding(lambda: embedding, nice)  # noqa: E731
    else:
        key = ("ingest-embedding", s, nice)
        background = lambda: shared_component(key, lambda: BackgroundEmbedding(lambda: embedding_from(s), nice))  # noqa: E731
    return PriorityEmbedding(embedding, background, questions)
