"""LLM backends behind LlamaIndex's LLM abstraction: the bundled llama.cpp model or an OpenAI-compatible / Ollama server.

Modules: ``factory`` (``make_llm``, ``probe``: one factory for every backend), ``llama_cpp`` (the local chat
model, serialised), ``gguf`` (assembling the bundled GGUF from its packages), ``amx`` (loading llama.cpp
without the AMX buffer that crashes it on recent Intel CPUs). Here: ``cancel_options``, the keywords that
hand a stop Event to an LLM call.
"""

from __future__ import annotations


def cancel_options(llm, stop) -> dict:
    """The keywords for ``llm.chat``/``stream_chat`` that let ``stop`` (a ``threading.Event``, or None) end the
    call at once: ``{"cancel": stop}`` for an LLM that takes it (``accepts_cancel``, the local llama.cpp model),
    else ``{}`` (a server's LLM would pass an unknown keyword on to its API)."""
    return {"cancel": stop} if stop is not None and getattr(llm, "accepts_cancel", False) else {}
