"""Rendering for the news workflow: the article reader, the story timeline and the feed list as HTML.

Pure functions, no Gradio, like ``render.py``: every piece of article or feed text is HTML-escaped
before markup is added, and only http(s) links are ever written. A source card or timeline entry links
to the reader with ``read_link`` (``#nd-read/<article id>/<start>-<end>,...``); the page's script
(``webui_news.py``) hands that fragment to the server, which parses it with ``parse_read_link``,
offsets checked against the article, never trusted. The page around these blocks is ``webui_news.py``'s.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from rag.web.render import MAX_SPANS, READ_PREFIX, _esc, date_text, read_link, safe_url
from rag.types import Article, Timeline

NEWS_CSS = """
.nd-read-link { white-space: nowrap; }
.nd-reader { max-width: 46em; margin: 0 auto; line-height: 1.65; }
.nd-reader h2 { margin: .2em 0 .3em 0; }
.nd-reader .nd-meta { margin-bottom: 1em; }
.nd-reader-text { white-space: pre-wrap; font-size: 1.02em; }
.nd-reader-text mark { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; scroll-margin-top: 30vh; }
.nd-reader-empty, .nd-tl-notice { color: var(--body-text-color-subdued); padding: 1em 0; }
.nd-timeline ol { list-style: none; padding-left: 0; border-left: 3px solid #60a5fa; margin-left: .6em; }
.nd-tl-entry { position: relative; padding: .2em 0 .9em 1.1em; }
.nd-tl-entry::before { content: ""; position: absolute; left: -.5em; top: .55em; width: .7em; height: .7em;
  border-radius: 50%; background: #60a5fa; }
.nd-tl-date { font-weight: 700; font-size: .95em; }
.nd-tl-quote { margin: .3em 0 0 0; padding: .3em .7em; border-left: 3px solid var(--border-color-primary);
  background: var(--background-fill-secondary); border-radius: 4px; font-size: .93em; }
.nd-feeds { width: 100%; border-collapse: collapse; font-size: .9em; }
.nd-feeds th, .nd-feeds td { text-align: left; padding: .3em .4em; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.nd-feeds .nd-feed-url { font-size: .82em; color: var(--body-text-color-subdued); word-break: break-all; }
.nd-feed-ok { color: #15803d; } .nd-feed-failed { color: #b91c1c; } .nd-feed-never { color: #6b7280; }
"""


def parse_read_link(payload: str) -> tuple[str, list[tuple[int, int]]]:
    """(article id, spans) from a reader link or its part after ``#nd-read/``; ``ValueError`` if malformed.

    A trailing ``|nonce`` (the page adds one so the same link can be opened twice) is ignored."""
    payload = (payload or "").split("|", 1)[0].strip()
    payload = payload.split(READ_PREFIX, 1)[-1] if READ_PREFIX in payload else payload
    article_id, _, raw = payload.partition("/")
    article_id = unquote(article_id)
    if not article_id or len(article_id) > 300:
        raise ValueError("no article id in the link")
    spans = []
    for part in [p for p in raw.split(",") if p][:MAX_SPANS]:
        match = re.fullmatch(r"(\d{1,9})-(\d{1,9})", part)
        if not match:
            raise ValueError(f"not a span: {part[:40]!r}")
        spans.append((int(match.group(1)), int(match.group(2))))
    return article_id, spans


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
    pieces, position = [], 0
    for n, (a, b) in enumerate(_merged(spans or [], len(text))):
        anchor = ' id="nd-read-first"' if n == 0 else ""
        pieces.append(html.escape(text[position:a]))
        pieces.append(f'<mark class="nd-read-span"{anchor}>{html.escape(text[a:b])}</mark>')
        position = b
    pieces.append(html.escape(text[position:]))
    url = safe_url(article.url)
    title = _esc(article.title or "Untitled article")
    meta = [date_text(article.date) or "undated"]
    if article.source:
        meta.append(_esc(article.source))
    if article.authors:
        meta.append(_esc(", ".join(article.authors)))
    if url:
        meta.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener" class="nd-original">read the original ↗</a>')
    return (
        f'<article class="nd-reader" data-article="{html.escape(article.id)}">'
        f'<h2 class="nd-reader-title">{title}</h2><div class="nd-meta">{" · ".join(meta)}</div>'
        f'<div class="nd-reader-text">{"".join(pieces)}</div></article>'
    )


def render_reader_message(message: str) -> str:
    """The reader's place when there is no article to show (none chosen yet, or it was deleted)."""
    return f'<div class="nd-reader-empty">{_esc(message)}</div>'


def render_timeline(timeline: Timeline) -> str:
    """A story timeline: one dated entry per article with its best sentence, cited and linked to the reader."""
    if not timeline.entries:
        return f'<div class="nd-tl-notice">{_esc(timeline.notice or "No article matches.")}</div>'
    items = []
    for entry in timeline.entries:
        c = entry.citation
        url = safe_url(entry.url)
        title = _esc(entry.title or "Untitled article")
        title_html = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
        meta = [_esc(entry.source)] if entry.source else []
        meta.append(f'<a class="nd-read-link" href="{html.escape(read_link(entry.article_id, [(c.start, c.end)]))}">read the article</a>')
        items.append(
            f'<li class="nd-tl-entry" id="nd-tl-{c.number}"><div class="nd-tl-date">{date_text(entry.date) or "undated"}</div>'
            f'<div class="nd-title">{title_html}</div><div class="nd-meta">{" · ".join(meta)}</div>'
            f'<blockquote class="nd-tl-quote">{_esc(c.quote.strip())} <sup>[{c.number}]</sup></blockquote></li>'
        )
    count = len(timeline.entries)
    head = f'<div class="nd-meta">{count} article{"s" if count != 1 else ""}, oldest first</div>'
    return f'<div class="nd-timeline">{head}<ol>{"".join(items)}</ol></div>'


def render_feeds(subscriptions, interval_minutes: float = 0) -> str:
    """The subscribed feeds with their last refresh and its outcome."""
    every = f"refreshed every {interval_minutes:g} min in the background" if interval_minutes else "background refresh off (setting feed_refresh_minutes)"
    if not subscriptions:
        return f'<div class="nd-meta">No feeds yet: subscribe to an RSS or Atom feed above. ({every})</div>'
    rows = []
    for s in subscriptions:
        state = "nd-feed-never" if s.last_ok is None else ("nd-feed-ok" if s.last_ok else "nd-feed-failed")
        when = (s.last_refresh or "")[:16].replace("T", " ") or "never"
        rows.append(
            f"<tr><td>{_esc(s.title or '—')}<div class=\"nd-feed-url\">{_esc(s.url)}</div></td>"
            f'<td>{_esc(when)}</td><td class="{state}">{_esc(s.last_outcome or "not refreshed yet")}</td></tr>'
        )
    return (
        f'<table class="nd-feeds"><thead><tr><th>Feed</th><th>Last refresh</th><th>Outcome</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table><div class="nd-meta">{every}</div>'
    )
