"""Process-wide components: each model built once per process, keyed by the settings that shape it.

Models are heavy (the local LLM alone is 1.1 GB), so the embedding model and the LLM are kept in a
process-wide cache: a second ``Assistant`` (or ``rag.query``'s default one) with the same settings
reuses them instead of loading its own copy. ``shared_llm`` is the LLM the settings choose, or the
reason answers are extractive. Building the models is ``embed.py``'s and ``rag.llm.factory``'s; which
assistant holds which component is ``assistant.py``'s.
"""

from __future__ import annotations

import threading

from rag.llm import factory as llms  # as a module: tests stand in for llms.make_llm and llms.probe

_shared: dict[tuple, object] = {}
_shared_locks: dict[tuple, threading.Lock] = {}
_shared_guard = threading.Lock()


def shared_component(key: tuple, build):
    """The process-wide instance for ``key``, built by ``build()`` the first time it is asked for.

    Keyed by the settings that shape a component, so two assistants with the same settings share one
    model. Each key has its own lock: a second caller waits for a model being loaded instead of
    loading another copy, while loading one kind of model does not hold up another.
    """
    with _shared_guard:
        if key in _shared:
            return _shared[key]
        lock = _shared_locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _shared:
            _shared[key] = build()
        return _shared[key]


def shared_llm(settings) -> tuple[object | None, str]:
    """(the LlamaIndex LLM ``settings.llm`` chooses, ``""``), or (``None``, why answers are extractive)."""
    s = settings
    if s.answer.llm == "extractive":
        return None, "extractive mode (RAG_LLM=extractive)"
    backend = "local" if s.answer.llm == "auto" else s.answer.llm
    generation = s.generation

    def build():
        llm = llms.make_llm(backend, generation, cache_dir=s.storage.data_dir)
        llms.probe(llm)
        return llm

    try:
        # Not keyed by data_dir (only where the bundled GGUF is assembled): the same weights are
        # loaded once per process. A failure is not cached, so a server started later is found.
        return shared_component(("llm", backend, generation), build), ""
    except llms.LLMUnavailable as error:
        return None, f"extractive mode: {error}"
