"""Evaluation: ``python -m rag eval`` over a labelled question set (retrieval, refusal, answers).

Modules: ``run`` (running the questions), ``metrics`` (scores), ``report`` (tables, plots, files).
"""
