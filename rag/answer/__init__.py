"""Answering: from retrieved passages to a checked ``Answer`` (or a ``Timeline``).

Modules: ``sentences`` (splitting, content words, citation numbering), ``extractive`` (the cited best
sentences: the evidence), ``short`` (the LLM's short answer from a token budget of sentences), ``prompts``
and ``generate`` (the LLM answer, streamed), ``steps`` (refusing; streaming with its fallback), ``cite``,
``claims`` and ``entail`` (the citation check), ``timeline`` (a story in date order, no LLM). LLM
backends are ``rag.llm``.
"""
