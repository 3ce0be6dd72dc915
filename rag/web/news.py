"""The web app's news workflow: the Feeds section, the article reader, the Timeline tab and Markdown downloads.

``NewsUI`` wraps a ``webui.WebUI`` and adds its parts to the page ``WebUI.build`` lays out (a few calls
there); like ``WebUI``, every action is a method taking and returning plain values, so it is tested
without a browser. The reader opens from a source card's or timeline entry's "read the article" link:
a small page script hands the link (article id and cited offsets) to a hidden textbox, the server
renders the whole article from the store and the page scrolls to the first highlighted span. The
work is the ``Assistant``'s (``feeds.py``, ``timeline.py``, ``Assistant.article``); HTML is
``render_news.py``'s and Markdown ``export.py``'s.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import gradio as gr

from rag.ingest.library import Outcome, one_line
from rag.web.render import render_outcomes
from rag.web.render_news import NEWS_CSS, parse_read_link, render_article, render_feeds, render_reader_message, render_timeline

log = logging.getLogger("newsdesk.webui")

__all__ = ["NEWS_CSS", "NewsUI"]

# Installed once per page: a click on a reader link goes to the server instead of changing the URL.
READER_SCRIPT = """() => {
  if (window.__ndReader) return;
  window.__ndReader = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href*="#nd-read/"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const box = document.querySelector('#nd-read-request textarea, #nd-read-request input');
    if (!box) return;
    box.value = link.getAttribute('href').split('#nd-read/')[1] + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
}"""
SCROLL_SCRIPT = """() => { setTimeout(() => {
  const first = document.querySelector('#nd-reader #nd-read-first');
  if (first) first.scrollIntoView({block: 'center'}); else document.querySelector('#nd-reader')?.scrollIntoView();
}, 150); }"""
READER_EMPTY = "Open an article from a source card's or a timeline entry's “read the article” link."


class NewsUI:
    """Feeds, reader, timeline and export for one ``WebUI`` (and its ``Assistant``)."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.assistant = ui.assistant
        self.settings = ui.settings

    # --- feeds ---------------------------------------------------------------------------------------

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
        return render_feeds(subscriptions, self.settings.feed_refresh_minutes), gr.update(choices=choices, value=None)

    def _after(self, lines: list[Outcome], search: str):
        return (render_outcomes(lines), *self.feeds_view(), *self.ui._refresh(search))

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

    # --- reader --------------------------------------------------------------------------------------

    def read(self, payload: str) -> str:
        """The reader's HTML for a reader link (article id and spans); one line when it cannot be shown."""
        try:
            article_id, spans = parse_read_link(payload)
        except ValueError as error:
            return render_reader_message(f"This link cannot be opened ({error}).")
        try:
            article = self.assistant.article(article_id)
        except Exception as error:
            log.exception("reading article %s failed", article_id)
            return render_reader_message(f"Could not open the article: {one_line(error)}")
        if article is None:
            return render_reader_message(f"The article {article_id} is no longer in the index.")
        return render_article(article, spans)

    def on_read(self, payload):
        return self.read(payload), gr.Tabs(selected="reader")

    # --- timeline ------------------------------------------------------------------------------------

    def timeline(self, query: str, date_from: str = "", date_to: str = "", sources: list[str] | None = None, limit: int = 0) -> dict:
        """The matching articles of a story in date order (no LLM), each with its best sentence, cited.

        Returns the Timeline as JSON: `query`, `entries` (article_id, title, date, source, url,
        citation with quote and offsets, relevance) oldest first, and `notice` when none matches.
        """
        try:
            options = self.ui.options(None, date_from, date_to, sources)
            return self.assistant.timeline(query or "", limit=int(limit) if limit else None, **options).to_dict()
        except (TypeError, ValueError) as error:
            raise gr.Error(str(error)) from None
        except Exception as error:
            log.exception("timeline %r failed", query)
            raise gr.Error(f"Could not build the timeline: {one_line(error)}") from None

    def on_timeline(self, query, date_from, date_to, sources):
        """(timeline HTML, download-button update with its Markdown)."""
        from rag.present.markdown import timeline_markdown

        try:
            options = self.ui.options(None, date_from, date_to, sources)
            timeline = self.assistant.timeline(query or "", **options)
        except (TypeError, ValueError) as error:
            return render_outcomes([Outcome("failed", str(error))]), gr.update(value=None, interactive=False)
        except Exception as error:
            log.exception("timeline %r failed", query)
            return render_outcomes([Outcome("failed", f"Could not build the timeline: {one_line(error)}")]), gr.update()
        if not timeline.entries:
            return render_timeline(timeline), gr.update(value=None, interactive=False)
        return render_timeline(timeline), gr.update(value=_write("newsdesk-timeline.md", timeline_markdown(timeline)), interactive=True)

    # --- export --------------------------------------------------------------------------------------

    def export(self, session) -> tuple[str | None, str | None]:
        """Markdown files of the session's conversation and of its last answer (None before any answer)."""
        from rag.present.markdown import answer_markdown, conversation_markdown

        turns = list(getattr(getattr(session, "conversation", None), "turns", []) or [])
        if not turns:
            return None, None
        return _write("newsdesk-chat.md", conversation_markdown(turns)), _write("newsdesk-answer.md", answer_markdown(turns[-1]))

    def on_export(self, session):
        chat, last = self.export(session)
        return gr.update(value=chat, interactive=chat is not None), gr.update(value=last, interactive=last is not None)

    # --- the page ------------------------------------------------------------------------------------

    def export_buttons(self):
        with gr.Row():
            chat = gr.DownloadButton("Download chat (.md)", size="sm", interactive=False, elem_id="nd-export-chat")
            last = gr.DownloadButton("Download last answer (.md)", size="sm", interactive=False, elem_id="nd-export-answer")
        return chat, last

    def feeds_tab(self) -> dict:
        with gr.Tab("Feeds", id="feeds") as tab:
            url = gr.Textbox(label="RSS or Atom feed", placeholder="https://…/feed.xml", elem_id="nd-feed-url")
            with gr.Row():
                add = gr.Button("Subscribe", variant="primary", elem_id="nd-feed-add")
                refresh = gr.Button("Refresh now", elem_id="nd-feed-refresh")
            listing = gr.HTML(elem_id="nd-feeds")
            with gr.Row():
                pick = gr.Dropdown(label="Unsubscribe from", choices=[], scale=4, elem_id="nd-feed-pick")
                remove = gr.Button("Unsubscribe", variant="stop", scale=1, elem_id="nd-feed-remove")
        return dict(tab=tab, url=url, add=add, refresh=refresh, listing=listing, pick=pick, remove=remove)

    def tabs(self, outer) -> None:
        """The Timeline and Reader tabs, inside the page's outer ``gr.Tabs`` (``outer``); ``wire`` connects the reader."""
        with gr.Tab("Timeline", id="timeline") as tab:
            with gr.Row():
                query = gr.Textbox(label="Story", placeholder="e.g. Peru Chile border migrants", scale=4, elem_id="nd-tl-query")
                go = gr.Button("Show timeline", variant="primary", scale=1, elem_id="nd-tl-go")
            with gr.Row():
                date_from = gr.DateTime(label="From", include_time=False, type="string", elem_id="nd-tl-from")
                date_to = gr.DateTime(label="To", include_time=False, type="string", elem_id="nd-tl-to")
                sources = gr.Dropdown(label="Sources", choices=[], multiselect=True, info="Empty: all sources", elem_id="nd-tl-sources")
            result = gr.HTML(elem_id="nd-timeline")
            download = gr.DownloadButton("Download timeline (.md)", size="sm", interactive=False, elem_id="nd-tl-export")
        with gr.Tab("Reader", id="reader"):
            back = gr.Button("← Back to the chat", size="sm", elem_id="nd-reader-back")
            self._reader = gr.HTML(render_reader_message(READER_EMPTY), elem_id="nd-reader")
        self._outer = outer

        private = dict(api_visibility="private")
        for trigger in (query.submit, go.click):
            trigger(self.on_timeline, [query, date_from, date_to, sources], [result, download], concurrency_limit=4, concurrency_id="chat", **private)
        tab.select(lambda: gr.update(choices=self.ui.source_choices()), None, sources, queue=False, **private)
        back.click(lambda: gr.Tabs(selected="chat"), None, outer, queue=False, **private)

    def wire(self, demo, feeds: dict, *, result, refreshed, search, status, articles_status, chat_events, session, downloads, clears) -> None:
        """Events of the parts above, and the public ``/timeline`` endpoint."""
        private = dict(api_visibility="private")
        writes = dict(concurrency_limit=1, concurrency_id="articles", **private)
        request = gr.Textbox(visible="hidden", elem_id="nd-read-request")  # outside the tabs: always in the page
        request.change(self.on_read, [request], [self._reader, self._outer], queue=False, **private).then(None, js=SCROLL_SCRIPT, **private)
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
        demo.load(None, js=READER_SCRIPT, **private)
        for event in chat_events:
            event.then(self.on_export, [session], list(downloads), queue=False, **private)
        for clear in clears:
            clear(lambda: (gr.update(value=None, interactive=False),) * 2, None, list(downloads), queue=False, **private)
        gr.api(self.timeline, api_name="timeline", concurrency_limit=4, concurrency_id="chat")


def _write(name: str, text: str) -> str:
    """``text`` in a new temporary file called ``name`` (Gradio serves it for download, then cleans it up)."""
    path = Path(tempfile.mkdtemp(prefix="newsdesk-export-")) / name
    path.write_text(text, encoding="utf-8")
    return str(path)
