"""The article reader and its links without a browser (``rag/web/reader.py``, ``rag/web/links.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.types import Article, Timeline
from rag.web.links import parse_read_link, read_link
from rag.web.reader import Reader, render_article
from rag.web.timeline import render_timeline

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)"> & "quotes"'


def test_reader_links_round_trip_and_bad_ones_are_refused():
    link = read_link("u_0a1~b2/c", [(10, 20), (40, 55)])
    assert link.startswith("#nd-read/") and "/" not in link.removeprefix("#nd-read/").split("/", 1)[0]
    assert parse_read_link(link) == ("u_0a1~b2/c", [(10, 20), (40, 55)])
    assert parse_read_link(link.removeprefix("#nd-read/") + "|1700000000") == ("u_0a1~b2/c", [(10, 20), (40, 55)])
    for bad in ("", "/1-2", "id/1-x", "id/javascript:alert(1)"):
        with pytest.raises(ValueError):
            parse_read_link(bad)


def test_the_reader_escapes_the_article_and_highlights_clipped_merged_spans():
    text = f"Intro. {XSS} middle part. The end."
    article = Article(id="a1", title=f"Title {XSS}", text=text, date=dt.date(2025, 11, 28), source=XSS, url="javascript:alert(3)")
    shown = render_article(article, [(7, 15), (12, 30), (-5, 3), (500, 900), (40, 20)])
    assert "<script>" not in shown and "<img" not in shown and "javascript:" not in shown
    assert "&lt;script&gt;" in shown and shown.count("<mark") == 2 and shown.count('id="nd-read-first"') == 1
    assert '<mark class="nd-read-span" id="nd-read-first">Int</mark>' in shown  # clipped at 0; the first span
    timeline = Timeline(query=XSS, notice=XSS)
    assert "<script>" not in render_timeline(timeline) and "&lt;script&gt;" in render_timeline(timeline)


def test_reader_opens_an_article_by_link_and_says_why_it_cannot(story_ui):
    reader = Reader(story_ui.assistant)
    info = next(a for a in reader.assistant.articles() if a.title.startswith("Peru declares"))
    article = reader.assistant.article(info.id)
    start = article.text.index("The decree")
    html = reader.read(read_link(info.id, [(start, start + 10)]))
    assert "<mark class=\"nd-read-span\" id=\"nd-read-first\">The decree</mark>" in html and "apnews.example" in html
    assert "no longer in the index" in reader.read(read_link("gone", [(0, 1)]))
    assert "cannot be opened" in reader.read("x/1-y")
