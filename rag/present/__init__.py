"""Formatting typed results for people, shared by the faces (CLI, web, export).

Modules: ``markdown`` (answers, conversations and timelines as Markdown with footnotes).
"""
