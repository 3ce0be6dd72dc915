"""Retrieval: passages for a question, ranked by dense + BM25 evidence per article with a time prior, filtered.

Modules: ``hybrid`` (``HybridRetriever``: the steps of a search, the indexes kept fresh), ``ranking`` (article
scores, the time prior, best passages), ``refusal`` (the refusal rule), ``lexical`` (BM25 over passages,
articles and titles, and the filter mask), ``options`` (``QueryOptions``: the checked options of a question
and every filter rule), ``spelling`` (question typos, language).
"""
