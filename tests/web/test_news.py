"""The web app's news parts without a browser (``rag/web/news.py``, ``rag/web/render_news.py``): reader,
timeline API (with and without a password), downloads, feed actions."""

from __future__ import annotations

import datetime as dt

import pytest
from newsroom import NewsSite, rss, write_story

from rag.web import app as webui
from rag.chat import Conversation
from rag.web.render import read_link
from rag.web.render_news import parse_read_link, render_article, render_timeline
from rag.types import Article, Timeline
from rag.web.app import ChatSession, WebUI
from rag.web.news import NewsUI

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)"> & "quotes"'


@pytest.fixture
def news(make_settings, embedding, tmp_path) -> NewsUI:
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_story(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    return NewsUI(WebUI(assistant))


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


def test_reader_opens_an_article_by_link_and_says_why_it_cannot(news):
    info = next(a for a in news.assistant.articles() if a.title.startswith("Peru declares"))
    article = news.assistant.article(info.id)
    start = article.text.index("The decree")
    html = news.read(read_link(info.id, [(start, start + 10)]))
    assert "<mark class=\"nd-read-span\" id=\"nd-read-first\">The decree</mark>" in html and "apnews.example" in html
    assert "no longer in the index" in news.read(read_link("gone", [(0, 1)]))
    assert "cannot be opened" in news.read("x/1-y")


def test_timeline_and_downloads(news):
    timeline = news.timeline("Peru Chile border migrants", date_from="2025-11-20")
    assert [e["date"] for e in timeline["entries"]] == ["2025-11-24", "2025-11-28", "2025-12-03"]
    with pytest.raises(Exception, match="Could not read the “From” date"):
        news.timeline("Peru", date_from="2025-02-30")
    html, download = news.on_timeline("Peru Chile border migrants", "", "", [])
    assert html.count("nd-tl-entry") == 4 and download["interactive"] is True and download["value"].endswith(".md")

    session = ChatSession(Conversation(news.assistant))
    assert news.export(session) == (None, None)
    session.conversation.ask("Why did Peru declare a state of emergency?")
    session.conversation.ask("What did Kast tell migrants?")
    chat, last = news.export(session)
    chat_text, last_text = open(chat, encoding="utf-8").read(), open(last, encoding="utf-8").read()
    assert chat_text.count("\n## ") == 2 and "[^1]:" in chat_text and "Kast" in last_text and "Peru declare" not in last_text


def test_feed_actions_report_lines_and_refresh_the_lists(news):
    site = NewsSite()
    try:
        url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-2"])))
        result, listing, picker, rows, *_ = news.on_feed_add(url, "", progress=lambda *a, **k: None)
        assert "nd-added" in result and "Wire" in listing and picker["choices"][0][1] == url
        assert any("Migrants crowd" in r[0] for r in rows)
        result, listing, *_ = news.on_feed_refresh("", progress=lambda *a, **k: None)
        assert "1 items: 0 added, 1 already indexed" in listing
        result, listing, picker, *_ = news.on_feed_remove(url, "")
        assert "nd-removed" in result and "No feeds yet" in listing and picker["choices"] == []
        assert "Pick a feed" in news.on_feed_remove(None, "")[0]
    finally:
        site.close()


def test_timeline_api_through_gradio_client_behind_a_password(make_settings, embedding, tmp_path):
    import httpx
    from gradio_client import Client

    from helpers import free_port
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(auth_user="desk", auth_password="s3cret-harbour-7"), embedding=embedding)
    write_story(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    demo = webui.build_ui(assistant)
    port = free_port()
    webui.launch(demo, assistant.settings, server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert httpx.post(f"{url}gradio_api/call/timeline", json={"data": ["Peru"]}, timeout=10).status_code in (401, 403)
        client = Client(url, auth=("desk", "s3cret-harbour-7"), verbose=False, analytics_enabled=False, download_files=False)
        timeline = client.predict("Peru Chile border migrants", sources=["latin-wire.example"], api_name="/timeline")
        assert [e["title"] for e in timeline["entries"]] == [
            "Chile's candidate tells migrants to leave before the vote", "Chile and Peru agree on a humanitarian corridor for migrants"
        ]
        assert timeline["entries"][0]["citation"]["quote"] and timeline["entries"][0]["date"] == "2025-11-18"
        assert client.predict("Who won the 2022 football World Cup final?", api_name="/timeline")["entries"] == []
    finally:
        demo.close()
