"""Evaluation: ``python -m rag eval`` over a labelled question set (retrieval, refusal, answers).

Modules: ``questions`` (question sets, configurations), ``run`` (running the questions), ``results`` (the
records a run produces), ``metrics`` (scores), ``report`` (summaries, tables, plots, files).
"""
