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
