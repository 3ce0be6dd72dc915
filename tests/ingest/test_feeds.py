"""Feeds (``rag/ingest/feeds.py``): RSS 2.0 and Atom read from a local web site, subscribed, refreshed.

Every feed and page is served by ``newsroom.NewsSite`` on 127.0.0.1 (stopped by the test); items go
through the real fetch, cleaning, embedding and store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import REPO
from newsroom import STORY, NewsSite, atom, page_html, rss


@pytest.fixture
def site():
    site = NewsSite()
    yield site
    site.close()


@pytest.fixture
def news(make_settings, embedding):
    """An Assistant over an empty index in this test's temp folder."""
    from rag.assistant import Assistant

    return Assistant(make_settings(), embedding=embedding)


def kinds(lines) -> list[str]:
    return [line.kind for line in lines]


def by_title(assistant) -> dict:
    return {a.title: a for a in assistant.articles()}


# --- parsing -------------------------------------------------------------------------------------------


def test_rss_and_atom_parse_into_items_with_dates_and_plain_text():
    from rag.ingest.feeds import FeedError, looks_like_feed, parse_feed

    items = [{"title": "A <b>bold</b> move", "link": "http://127.0.0.1:1/a", "date": "2025-11-28", "summary": "<p>One.</p><p>Two &amp; three.</p>"}]
    for xml, kind in ((rss("Wire", items), "rss20"), (atom("Wire", items), "atom10")):
        feed = parse_feed(xml.encode(), "http://127.0.0.1:1/feed")
        assert feed.kind == kind and feed.title == "Wire"
        (item,) = feed.items
        assert item.link == "http://127.0.0.1:1/a" and str(item.date) == "2025-11-28"
        assert item.summary == "One.\n\nTwo & three." and "<" not in item.title
        assert looks_like_feed("text/xml", xml.encode()) and looks_like_feed("application/octet-stream", xml.encode())
    assert not looks_like_feed("text/html", b"<html><body>page</body></html>")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body><p>a web page</p></body></html>", "http://127.0.0.1:1/page")


# --- ingesting -----------------------------------------------------------------------------------------


def test_rss_feed_items_are_fetched_cleaned_and_indexed_with_the_feeds_metadata(news, site):
    items = site.story_pages(["border-1", "border-2", "border-3"])
    # One page has neither a title nor a date of its own: the feed's fill in.
    bare = STORY[3]
    link = site.page("/news/bare.html", page_html(bare[1], bare[4], with_title=False))
    items.append({"title": bare[1], "link": link, "date": bare[2]})
    url = site.feed("/rss.xml", rss("Latin wire", items))

    result = news.feeds.ingest_feed(url)
    assert result.ok and (result.items, result.added, result.skipped, result.failed) == (4, 4, 0, 0), result.lines
    assert kinds(result.lines) == ["info"] + ["added"] * 4
    articles = by_title(news)
    assert set(articles) == {s[1] for s in STORY[:4]}
    corridor = articles[bare[1]]
    assert str(corridor.date) == "2025-12-03" and corridor.url == link and corridor.origin == link
    assert str(articles[STORY[0][1]].date) == "2025-11-18"  # the page had no date: the item's pubDate
    answer = news.query("Why did Peru declare a state of emergency?")
    assert not answer.refused and answer.citations[0].url.startswith(site.base)

    # Once more: every item is already indexed, skipped by URL without fetching its page again.
    hits = dict(site.hits)
    again = news.feeds.ingest_feed(url)
    assert (again.added, again.skipped, again.failed) == (0, 4, 0)
    assert {p: n for p, n in site.hits.items() if p != "/rss.xml"} == {p: n for p, n in hits.items() if p != "/rss.xml"}


def test_an_items_source_is_the_feeds_publisher_never_a_host_and_port(news, site):
    items = site.story_pages(["border-2", "border-3"])  # pages with no site name of their own
    long_text = " ".join(STORY[3][4] + STORY[5][4])  # an item whose page is gone: indexed from the feed's own text
    items.append({"title": STORY[3][1], "link": site.url("/news/gone.html"), "date": "2025-12-03", "summary": long_text})
    url = site.feed("/rss.xml", rss("Valley Courier", items))
    result = news.feeds.ingest_feed(url)
    assert result.added == 3, [line.text for line in result.lines]
    assert {a.source for a in news.articles()} == {"Valley Courier"}
    answer = news.query("Why did Peru declare a state of emergency?")
    assert answer.citations and {c.source for c in answer.citations} == {"Valley Courier"}


def test_a_feed_without_a_title_gives_the_page_site_name_or_the_host_without_port(news, site):
    from rag.ingest.feeds import feed_source, parse_feed

    pages = site.story_pages(["border-1"])
    named = STORY[2]
    link = site.page("/news/named.html", page_html(named[1], named[4]).replace("<head>", '<head><meta property="og:site_name" content="Andes Post">'))
    url = site.feed("/untitled.xml", rss("", [*pages, {"title": named[1], "link": link, "date": named[2]}]))
    feed = parse_feed(site.routes["/untitled.xml"][2], url)
    assert feed.publisher == "" and feed_source(feed, "127.0.0.1:8765") == "127.0.0.1" and feed_source(feed, "Andes Post") == "Andes Post"
    result = news.feeds.ingest_feed(url)
    assert result.added == 2, [line.text for line in result.lines]
    sources = {a.title: a.source for a in news.articles()}
    assert sources[named[1]] == "Andes Post" and sources[STORY[0][1]] == "127.0.0.1"
    assert not any(":" in source for source in sources.values())


def test_atom_feed(news, site):
    url = site.feed("/atom.xml", atom("Andes daily", site.story_pages(["border-2", "lighthouse"])), kind="application/atom+xml")
    result = news.feeds.ingest_feed(url)
    assert result.ok and result.added == 2, result.lines
    assert str(by_title(news)[STORY[1][1]].date) == "2025-11-24"


def test_a_broken_item_gets_one_line_and_the_feed_goes_on(news, site):
    items = site.story_pages(["border-1", "border-3"])
    long_text = " ".join(STORY[1][4]) + " " + " ".join(STORY[3][4])
    items.insert(1, {"title": "Gone page with a full summary", "link": site.url("/news/gone.html"), "date": "2025-11-25", "summary": long_text})
    items.insert(2, {"title": "Gone page with a teaser", "link": site.url("/news/teaser.html"), "date": "2025-11-26", "summary": "Read more."})
    site.routes["/news/teaser.html"] = (500, "text/plain", b"boom")
    items.append({"title": "Nowhere", "link": "http://127.0.0.1:9/nothing-listens-here", "date": "2025-11-27"})
    url = site.feed("/rss.xml", rss("Wire", items))

    result = news.feeds.ingest_feed(url)
    assert result.ok and (result.items, result.added, result.failed) == (5, 3, 2), result.lines
    failed = [line.text for line in result.lines if line.kind == "failed"]
    assert len(failed) == 2 and "HTTP 500" in failed[0] and "Gone page with a teaser" in failed[0] and "Nowhere" in failed[1]
    fallback = [line.text for line in result.lines if line.kind == "info" and "could not be read" in line.text]
    assert len(fallback) == 1 and "HTTP 404" in fallback[0] and "feed's own text" in fallback[0]
    summary_article = by_title(news)["Gone page with a full summary"]
    assert str(summary_article.date) == "2025-11-25" and summary_article.url == site.url("/news/gone.html")
    assert "Chacalluta" in news.article(summary_article.id).text
    assert len(news.articles()) == 3


def test_a_feed_that_changes_between_refreshes_adds_only_the_new_items(news, site):
    url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1", "border-2"])))
    lines = news.feeds.add(url)
    assert kinds(lines)[:2] == ["info", "info"] and kinds(lines).count("added") == 2, lines
    (subscription,) = news.feeds.subscriptions()
    assert subscription.title == "Wire" and subscription.last_ok is True and "2 added" in subscription.last_outcome

    # New items arrive (newest first, as feeds list them); one carries a story already indexed under another URL.
    items = site.story_pages(["border-3", "border-4"]) + site.story_pages(["border-1", "border-2"])
    items.append({"title": "Copy", "link": site.page("/mirror/border-1.html", page_html(STORY[0][1], STORY[0][4])), "date": "2025-11-18"})
    site.feed("/rss.xml", rss("Wire", items))
    (result,) = news.feeds.refresh()
    assert (result.items, result.added, result.skipped, result.failed) == (5, 2, 3, 0), result.lines
    assert "duplicate" in kinds(result.lines)
    assert site.hits["/news/border-1.html"] == 1  # already indexed: not fetched again
    assert len(news.articles()) == 4
    (subscription,) = news.feeds.subscriptions()
    assert subscription.last_outcome == "5 items: 2 added, 3 already indexed, 0 failed"


def test_a_feed_that_fails_changes_nothing_and_says_why(news, site):
    url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1"])))
    news.feeds.add(url)
    before = news.articles()
    site.routes["/rss.xml"] = (503, "text/plain", b"down")
    (result,) = news.feeds.refresh()
    assert not result.ok and "HTTP 503" in result.error
    assert news.articles() == before
    (subscription,) = news.feeds.subscriptions()
    assert subscription.last_ok is False and "HTTP 503" in subscription.last_outcome

    page = site.page("/page.html", page_html("Just a page", ["Not a feed at all, only one paragraph of a web page."]))
    assert kinds(news.feeds.add(page)) == ["failed"] and "not an RSS or Atom feed" in news.feeds.add(page)[0].text
    assert kinds(news.feeds.add("ftp://example.org/feed")) == ["failed"]
    assert [s.url for s in news.feeds.subscriptions()] == [url]
    assert kinds(news.feeds.add(url)) == ["info"]  # already subscribed
    assert kinds(news.feeds.remove(url)) == ["removed"] and news.feeds.subscriptions() == []
    assert news.articles() == before  # unsubscribing keeps the articles
    assert kinds(news.feeds.remove(url)) == ["info"]


def test_subscriptions_file_is_written_atomically_and_a_damaged_one_is_never_overwritten(news, site, tmp_path):
    from rag.ingest.feeds import FeedError

    url = site.feed("/rss.xml", rss("Wire", []))
    news.feeds.add(url)
    path = news.settings.storage.data_dir / "feeds.json"
    assert json.loads(path.read_text())["feeds"][0]["url"] == url
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".feeds-")]
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(FeedError, match="fix or delete"):
        news.feeds.subscriptions()
    assert kinds(news.feeds.add(site.feed("/other.xml", rss("Other", [])))) == ["failed"]
    assert not news.feeds.refresh()[0].ok
    assert path.read_text() == "{ not json"


def test_a_private_feed_is_refused_when_the_app_is_served_beyond_localhost(make_settings, embedding, site):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(host="0.0.0.0", auth_user="u", auth_password="a long enough password"), embedding=embedding)
    assistant.library.served_beyond_localhost = True
    url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1"])))
    (line,) = assistant.feeds.add(url)
    assert line.kind == "failed" and "fetch_allow_private" in line.text


# --- background refresh ----------------------------------------------------------------------------------


def test_background_refresh_indexes_new_items_while_questions_are_answered(make_settings, embedding, site):
    from rag.assistant import Assistant
    from rag.ingest.feeds import start_refresher

    assert start_refresher(Assistant(make_settings(), embedding=embedding)) is None  # off by default
    assistant = Assistant(make_settings(feed_refresh_minutes=0.01), embedding=embedding)  # every 0.6 s
    url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1"])))
    assistant.feeds.add(url, refresh=False)
    refresher = start_refresher(assistant)
    try:
        deadline = time.monotonic() + 120
        while len(assistant.articles()) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1", "border-3"])))
        while len(assistant.articles()) < 2 and time.monotonic() < deadline:
            answer = assistant.query("What did Kast tell migrants?")  # answered while the refresher runs
            assert not answer.refused
        assert len(assistant.articles()) == 2 and refresher.runs >= 1
    finally:
        refresher.stop(timeout=60)
    (subscription,) = assistant.feeds.subscriptions()
    assert subscription.last_ok and subscription.last_refresh


# --- command line ----------------------------------------------------------------------------------------


def test_cli_feeds_and_ingest_of_a_feed_url(tmp_path, corpus_dir, site):
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}  # fmt: skip

    def run(*args):
        return subprocess.run([sys.executable, "-m", "rag", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    once = site.feed("/once.xml", atom("Once", site.story_pages(["lighthouse"])))
    page = site.page("/page.html", page_html("Night train returns", STORY[5][4]))
    result = run("ingest", once, page)
    assert result.returncode == 0, result.stderr
    assert "“Once”: 1 items: 1 added" in result.stdout and "added 1" in result.stdout, result.stdout

    url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1"])))
    result = run("feeds", "add", url)
    assert result.returncode == 0 and "subscribed to “Wire”" in result.stdout and "added: “Chile's candidate" in result.stdout
    listing = run("feeds", "list")
    assert url in listing.stdout and "1 items: 1 added" in listing.stdout and "1 feed" in listing.stdout
    site.feed("/rss.xml", rss("Wire", site.story_pages(["border-1", "border-2"])))
    refreshed = run("feeds", "refresh")
    assert refreshed.returncode == 0 and "2 items: 1 added, 1 already indexed" in refreshed.stdout
    assert json.loads(run("feeds", "list", "--json").stdout)[0]["last_ok"] is True
    assert "unsubscribed" in run("feeds", "remove", url).stdout
    assert "0 feeds" in run("feeds", "list").stdout
    assert len(json.loads(run("list", "--json").stdout)) == 4
    assert run("feeds", "add", site.url("/missing.xml")).returncode == 1


def test_a_feed_has_one_total_deadline_not_one_per_item(make_settings, embedding, site):
    # Issue 25, finding 5: 40 slow items held the writer for 40 fetch deadlines.
    from rag.assistant import Assistant

    items = site.story_pages()
    for item in items:
        site.delays[item["link"].removeprefix(site.base)] = 4.0
        item["summary"] = "Read more."  # no whole article in the feed itself: only the page counts
    url = site.feed("/slow.xml", rss("Slow wire", items))
    news = Assistant(make_settings(feed_deadline_s=1.5), embedding=embedding)
    result = news.feeds.ingest_feed(url)
    failed = [line.text for line in result.lines if line.kind == "failed"]
    assert result.added == 0 and len(failed) == len(items), result.lines
    assert any("feed_deadline_s" in line for line in failed), failed  # 6 items, 4 fetched at once: 2 never started
