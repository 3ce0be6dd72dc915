"""The Feeds section without a browser (``rag/web/feeds.py``): actions report lines and refresh the lists."""

from __future__ import annotations

from newsroom import NewsSite, rss

from rag.web.feeds import FeedsPanel


def test_feed_actions_report_lines_and_refresh_the_lists(story_ui):
    panel = FeedsPanel(story_ui)
    site = NewsSite()
    try:
        url = site.feed("/rss.xml", rss("Wire", site.story_pages(["border-2"])))
        result, listing, picker, rows, *_ = panel.on_feed_add(url, "", progress=lambda *a, **k: None)
        assert "nd-added" in result and "Wire" in listing and picker["choices"][0][1] == url
        assert any("Migrants crowd" in r[0] for r in rows)
        result, listing, *_ = panel.on_feed_refresh("", progress=lambda *a, **k: None)
        assert "1 items: 0 added, 1 already indexed" in listing
        result, listing, picker, *_ = panel.on_feed_remove(url, "")
        assert "nd-removed" in result and "No feeds yet" in listing and picker["choices"] == []
        assert "Pick a feed" in panel.on_feed_remove(None, "")[0]
    finally:
        site.close()


def test_a_refresh_with_failed_items_does_not_look_like_a_success():
    from rag.ingest.subscriptions import Subscription
    from rag.web.feeds import render_feeds

    fine = Subscription("https://a.example/feed", "A", last_outcome="3 items: 3 added, 0 already indexed, 0 failed", last_ok=True)
    partial = Subscription("https://b.example/feed", "B", last_outcome="3 items: 2 added, 0 already indexed, 1 failed", last_ok=True, last_failed=1)
    broken = Subscription("https://c.example/feed", "C", last_outcome="failed: not a feed", last_ok=False)
    html = render_feeds([fine, partial, broken])
    assert 'class="nd-feed-ok">3 items: 3 added' in html
    assert 'class="nd-feed-partial">3 items: 2 added' in html and 'class="nd-feed-failed">failed: not a feed' in html
