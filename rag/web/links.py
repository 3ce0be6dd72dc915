"""Links the web page writes: which URLs may be linked at all, and the reader link format.

A source card or timeline entry links to the reader with ``read_link``
(``#nd-read/<article id>/<start>-<end>,...``); the page script (``static/reader.js``) hands that
fragment to the server, which parses it with ``parse_read_link``: offsets are checked against the
article by the reader (``reader.py``), never trusted. How one span is written is ``present.text``'s.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from rag.ingest.sources import is_url
from rag.present.text import parse_span

READ_PREFIX = "#nd-read/"  # a link to the article reader
MAX_SPANS = 32  # spans carried by one reader link


def safe_url(url: str) -> str:
    """``url`` if it is an http(s) link, else "" (no ``javascript:`` or ``data:`` links in the page)."""
    return url if is_url(url or "") else ""


def read_link(article_id: str, spans) -> str:
    """The fragment that opens ``article_id`` in the reader with ``spans`` ((start, end) offsets) highlighted."""
    return f"{READ_PREFIX}{quote(article_id, safe='')}/" + ",".join(f"{int(a)}-{int(b)}" for a, b in list(spans)[:MAX_SPANS])


def parse_read_link(payload: str) -> tuple[str, list[tuple[int, int]]]:
    """(article id, spans) from a reader link or its part after ``#nd-read/``; ``ValueError`` if malformed.

    A trailing ``|nonce`` (the page adds one so the same link can be opened twice) is ignored."""
    payload = (payload or "").split("|", 1)[0].strip()
    payload = payload.split(READ_PREFIX, 1)[-1] if READ_PREFIX in payload else payload
    article_id, _, raw = payload.partition("/")
    article_id = unquote(article_id)
    if not article_id or len(article_id) > 300:
        raise ValueError("no article id in the link")
    return article_id, [parse_span(part) for part in [p for p in raw.split(",") if p][:MAX_SPANS]]
