"""Answering: from retrieved passages to a checked ``Answer`` (or a ``Timeline``).

Modules: ``sentences`` (sentence splitting and scoring helpers), ``extractive`` (the cited best sentences),
``prompts`` and ``generate`` (the LLM answer, streamed), ``cite``, ``claims`` and ``entail`` (the citation
check), ``timeline`` (a story in date order). LLM backends are ``rag.llm``.
"""
