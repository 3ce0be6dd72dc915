"""The embedding stage: the ingest's low-priority embedding worker."""

from __future__ import annotations

import os
import threading

import pytest

from rag.assistant import Assistant
from rag.embed import BackgroundEmbedding


def test_background_embedding_gives_the_same_vectors_at_the_lower_priority(embedding):
    caller = threading.get_native_id()
    caller_nice = os.getpriority(os.PRIO_PROCESS, caller)
    texts = ["Peru declared a state of emergency.", "Chile deployed troops along its border.", "x"]
    background = BackgroundEmbedding(lambda: embedding, nice=19)

    vectors = background.get_text_embedding_batch(texts)

    assert vectors == embedding.get_text_embedding_batch(texts)
    assert os.getpriority(os.PRIO_PROCESS, background.thread_id) == 19
    assert os.getpriority(os.PRIO_PROCESS, caller) == caller_nice  # the caller's thread keeps its priority


def test_background_embedding_hands_errors_to_the_caller():
    class Broken:
        def get_text_embedding_batch(self, texts):
            raise ValueError("model file damaged")

    background = BackgroundEmbedding(Broken, nice=10)
    with pytest.raises(ValueError, match="model file damaged"):
        background.get_text_embedding_batch(["a"])
    # and the worker lives on for the next call
    with pytest.raises(ValueError):
        background.get_text_embedding_batch(["b"])
