"""Reading RSS 2.0 and Atom feeds: a fetched response into its items (link, title, date, plain-text summary).

``feedparser`` does the parsing (every RSS and Atom version, broken XML tolerated, HTML sanitised);
this module keeps what ingestion needs of each entry and turns HTML summaries into plain text.
Fetching is ``fetch.py``'s; what happens to the items (subscriptions, ingest) is ``feeds.py``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.ingest.library import one_line
from rag.ingest.articles import domain
from rag.ingest.sources import is_url

_FEED_TYPES = ("rss", "atom", "xml")


class FeedError(ValueError):
    """A feed that cannot be read or a subscription list that cannot be used; one line a user can act on."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: its link, title, date and summary (plain text).

    Not an ``Article``: an entry is a pointer to one (its page at ``link`` is fetched and read into
    the article), and the feed's own fields only fill in what the page lacks (``feeds.py``)."""

    link: str
    title: str = ""
    date: dt.date | None = None
    summary: str = ""
    guid: str = ""


@dataclass(frozen=True)
class ParsedFeed:
    """A whole feed as read: its URL, title, format and entries in feed order. ``publisher`` is who the
    feed says publishes it (its title, else the site it links to) and "" when it names no one; ``title``
    falls back to the feed's host."""

    url: str
    title: str
    kind: str  # feedparser's version, e.g. "rss20", "atom10"
    items: tuple[FeedItem, ...]
    publisher: str = ""


def looks_like_feed(content_type: str, data: bytes) -> bool:
    """Whether a response is worth parsing as a feed: an RSS/Atom/XML type, or XML that opens with <rss or <feed."""
    kind = (content_type or "").lower()
    if any(t in kind for t in _FEED_TYPES):
        return True
    head = data[:2048].lstrip().lower()
    if head.startswith(b"<?xml"):
        head = head.split(b"?>", 1)[-1].lstrip()
    head = re.sub(rb"^(<!--.*?-->\s*)+", b"", head, flags=re.DOTALL)
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf"))


def parse_feed(data: bytes, url: str) -> ParsedFeed:
    """The feed in ``data``; ``FeedError`` when it is not an RSS or Atom feed."""
    import feedparser

    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True, response_headers={"content-location": url})
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed{f' ({one_line(reason)})' if reason else ''}")
    items, seen = [], set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        item = FeedItem(
            link=link if is_url(link) else "",
            title=_text(entry.get("title") or ""),
            date=_entry_date(entry),
            summary=_entry_text(entry),
            guid=str(entry.get("id") or ""),
        )
        key = item.link or item.guid or item.title
        if key and key not in seen:
            seen.add(key)
            items.append(item)
    own = _text(parsed.feed.get("title") or "")
    publisher = own or _text(parsed.feed.get("author") or "") or _text((parsed.feed.get("publisher_detail") or {}).get("name") or "")
    return ParsedFeed(url=url, title=own or domain(url) or url, kind=parsed.version, items=tuple(items), publisher=publisher)


def _entry_date(entry) -> dt.date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
            except ValueError:
                continue
    return None


def _entry_text(entry) -> str:
    """The longest of the entry's content and summary, as plain text."""
    candidates = [c.get("value", "") for c in entry.get("content") or []] + [entry.get("summary") or ""]
    return max((_text(c) for c in candidates), key=len, default="")


def _text(markup: str) -> str:
    """HTML (as feeds carry it) to plain text with paragraphs kept."""
    import html

    text = re.sub(r"(?i)<\s*(br|/p|/div|/li|/h\d)\b[^>]*>", "\n\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)
