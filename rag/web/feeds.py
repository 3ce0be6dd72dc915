"""The Feeds section of the Articles tab: subscribe to RSS/Atom feeds, refresh them, unsubscribe.

``render_feeds`` is the feed list's HTML (``templates/feeds.html``); ``FeedsPanel`` is the section and
its actions, which, like the other Articles actions, report result lines and then refresh the
article lists (``WebUI.refresh``). Reading feeds and indexing their items is ``Assistant.feeds``'s
(``ingest.feeds``).
"""

from __future__ import annotations

import gradio as gr

from rag.ingest.library import Outcome, one_line
from rag.web.answers import render_outcomes
from rag.web.templating import render


def feed_state(subscription) -> str:
    """The CSS class of a feed's last outcome: never refreshed, failed, some items failed, or fine."""
    if subscription.last_ok is None:
        return "nd-feed-never"
    if not subscription.last_ok:
        return "nd-feed-failed"
    return "nd-feed-partial" if subscription.last_failed else "nd-feed-ok"


def render_feeds(subscriptions, interval_minutes: float = 0) -> str:
    """The subscribed feeds with their last refresh and its outcome."""
    every = f"refreshed every {interval_minutes:g} min in the background" if interval_minutes else "background refresh off (setting feed_refresh_minutes)"
    rows = [
        {
            "title": s.title or "—",
            "url": s.url,
            "when": (s.last_refresh or "")[:16].replace("T", " ") or "never",
            "state": feed_state(s),
            "outcome": s.last_outcome or "not refreshed yet",
        }
        for s in subscriptions
    ]
    return str(render("feeds.html", "feeds", rows=rows, every=every))


class FeedsPanel:
    """The feed subscriptions of one ``WebUI`` (and its ``Assistant``)."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.assistant = ui.assistant
        self.settings = ui.settings

    @property
    def feeds(self):
        return self.assistant.feeds

    def feeds_view(self):
        """(feed list HTML, unsubscribe-picker update)."""
        try:
            subscriptions = self.feeds.subscriptions()
        except Exception as error:
            return render_outcomes([Outcome("failed", one_line(error))]), gr.update(choices=[], value=None)
        choices = [(f"{s.title or s.url} · {s.url}", s.url) for s in subscriptions]
        return render_feeds(subscriptions, self.settings.news.feed_refresh_minutes), gr.update(choices=choices, value=None)

    def _after(self, lines: list[Outcome], search: str):
        return (render_outcomes(lines), *self.feeds_view(), *self.ui.refresh(search))

    def on_feed_add(self, url, search, progress=gr.Progress()):
        progress(None, desc="reading the feed and its pages")
        lines = self.feeds.add(url)
        return (*self._after(lines, search), "" if not any(o.kind == "failed" for o in lines[:1]) else gr.update())

    def on_feed_remove(self, url, search):
        lines = self.feeds.remove(url) if url else [Outcome("info", "Pick a feed to unsubscribe from first")]
        return self._after(lines, search)

    def on_feed_refresh(self, search, progress=gr.Progress()):
        def update(number: int, text: str) -> None:
            progress(None, desc=text[:80])

        results = self.feeds.refresh(on_progress=update)
        lines = [line for result in results for line in result.lines] or [Outcome("info", "No feeds yet: subscribe to one first")]
        return self._after(lines, search)

    def tab(self) -> None:
        """The Feeds tab (inside the Articles tab's inner ``gr.Tabs``)."""
        with gr.Tab("Feeds", id="feeds") as tab:
            url = gr.Textbox(label="RSS or Atom feed", placeholder="https://…/feed.xml", elem_id="nd-feed-url")
            with gr.Row():
                add = gr.Button("Subscribe", variant="primary", elem_id="nd-feed-add")
                refresh = gr.Button("Refresh now", elem_id="nd-feed-refresh")
            listing = gr.HTML(elem_id="nd-feeds")
            with gr.Row():
                pick = gr.Dropdown(label="Unsubscribe from", choices=[], scale=4, elem_id="nd-feed-pick")
                remove = gr.Button("Unsubscribe", variant="stop", scale=1, elem_id="nd-feed-remove")
        self._parts = dict(tab=tab, url=url, add=add, refresh=refresh, listing=listing, pick=pick, remove=remove)

    def wire(self, demo, *, result, refreshed, search, status, articles_status) -> None:
        """The section's events: each write reports in ``result``, refreshes the lists and the status."""
        feeds = self._parts
        private = dict(api_visibility="private")
        writes = dict(concurrency_limit=1, concurrency_id="articles", **private)
        view = [feeds["listing"], feeds["pick"]]
        outputs = [result, *view, *refreshed]
        for event in (
            feeds["add"].click(self.on_feed_add, [feeds["url"], search], [*outputs, feeds["url"]], **writes),
            feeds["url"].submit(self.on_feed_add, [feeds["url"], search], [*outputs, feeds["url"]], **writes),
            feeds["remove"].click(self.on_feed_remove, [feeds["pick"], search], outputs, **writes),
            feeds["refresh"].click(self.on_feed_refresh, [search], outputs, **writes),
        ):
            event.then(lambda text: text, articles_status, status, queue=False, **private)
        feeds["tab"].select(self.feeds_view, None, view, queue=False, **private)
        demo.load(self.feeds_view, None, view, **private)
