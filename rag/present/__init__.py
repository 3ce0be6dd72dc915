"""Formatting typed results for people, shared by the faces (CLI, web, export).

Modules: ``text`` (the one home of dates or "undated", "The articles don't say.", spans ``START-END``),
``markdown`` (answers, conversations and timelines as Markdown with footnotes).
"""
