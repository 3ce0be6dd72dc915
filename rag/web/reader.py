"""The article reader: the whole article with the cited spans highlighted, opened from a reader link.

A source card's or timeline entry's "read the article" link (``links.read_link``) is caught by a small
page script (``static/reader.js``) that hands it to a hidden textbox; the server parses it
(``links.parse_read_link``), renders the article from the store with its spans clipped and merged, and
the page scrolls to the first highlighted span (``static/scroll.js``). ``render_article`` and
``render_reader_message`` are the HTML (``templates/reader.html``); ``Reader`` is the tab and its
events. Loading the article is ``Assistant.article``'s.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.ingest.library import one_line
from rag.present.text import date_label
from rag.types import Article
from rag.web.links import parse_read_link, safe_url
from rag.web.templating import render, static

log = logging.getLogger("newsdesk.webui")

READER_EMPTY = "Open an article from a source card's or a timeline entry's “read the article” link."


def _merged(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to the text, empty ones dropped, overlapping ones merged, in order."""
    clipped = sorted((max(0, a), min(length, b)) for a, b in spans if min(length, b) > max(0, a))
    merged: list[list[int]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def render_article(article: Article, spans: list[tuple[int, int]] | None = None) -> str:
    """The whole article: title, date, source, authors, link to the original, text with ``spans`` in
    ``<mark>`` (the first one ``id="nd-read-first"``, where the page scrolls to)."""
    text = article.text or ""
    pieces: list[tuple[str, str | None]] = []  # (text, None) plain; (text, anchor id or "") marked
    position = 0
    for n, (a, b) in enumerate(_merged(spans or [], len(text))):
        pieces += [(text[position:a], None), (text[a:b], "nd-read-first" if n == 0 else "")]
        position = b
    pieces.append((text[position:], None))
    return str(
        render(
            "reader.html",
            "article",
            a=article,
            authors=", ".join(article.authors or ()),
            pieces=pieces,
            date=date_label(article.date),
            url=safe_url(article.url),
        )
    )


def render_reader_message(message: str) -> str:
    """The reader's place when there is no article to show (none chosen yet, or it was deleted)."""
    return str(render("reader.html", "message", text=message))


class Reader:
    """The Reader tab over one ``Assistant``: opens the article a reader link names."""

    def __init__(self, assistant) -> None:
        self.assistant = assistant

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

    def tab(self, outer) -> None:
        """The Reader tab, inside the page's outer ``gr.Tabs`` (``outer``, which a link switches to it)."""
        with gr.Tab("Reader", id="reader"):
            back = gr.Button("← Back to the chat", size="sm", elem_id="nd-reader-back")
            self._view = gr.HTML(render_reader_message(READER_EMPTY), elem_id="nd-reader")
        self._outer = outer
        back.click(lambda: gr.Tabs(selected="chat"), None, outer, queue=False, api_visibility="private")

    def wire(self, demo) -> None:
        """The hidden textbox the page script writes links to (outside the tabs: always in the page)."""
        private = dict(api_visibility="private")
        request = gr.Textbox(visible="hidden", elem_id="nd-read-request")
        request.change(self.on_read, [request], [self._view, self._outer], queue=False, **private).then(
            None, js=static("scroll.js"), **private
        )
        demo.load(None, js=static("reader.js"), **private)
