"""Retrieval: passages for a question, ranked by dense + BM25 evidence per article with a time prior, filtered.

Modules: ``hybrid`` (``HybridRetriever`` and the refusal rule), ``lexical`` (BM25 over passages, articles
and titles), ``options`` (query options and their filters), ``spelling`` (question typos, language).
"""
