"""Building an ``Article`` from text and metadata, and the errors reading a source gives.

:func:`make_article` cleans the text (``clean.py``) and fills in what the metadata lacks (a stable id,
title, date, source, authors, content hash); :func:`make_id` and :func:`domain` are the id and source
rules every reader and the feeds use. ``BadSource`` is what a reader raises, ``LoadFailure`` what
``corpus.load_sources`` yields for it. Reading each format is ``readers.py``'s and ``records.py``'s.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlparse

from rag.ingest.clean import (
    MAX_NOT_TEXT_SHARE, clean_article_text, content_hash, date_from_text, derive_title, not_text_share, parse_date, plain_line,
)  # fmt: skip
from rag.types import Article


@dataclass(frozen=True)
class LoadFailure:
    """A source (or one record of it) that could not be read, and why, in words a user can act on."""

    origin: str
    reason: str


class BadSource(ValueError):
    """Raised inside a reader; turned into a ``LoadFailure`` by ``corpus.load_sources``."""


def make_article(
    raw_text: str,
    *,
    origin: str,
    article_id: str | None = None,
    title: object = None,
    date: object = None,
    url: str = "",
    source: str = "",
    authors: object = (),
) -> Article:
    """Clean ``raw_text`` and build an ``Article``, filling in what the metadata lacks from the text."""
    if not isinstance(raw_text, str):
        raise BadSource(f"article text must be text, not {json_type(raw_text)}")
    check_text_like(raw_text)  # random bytes named .txt decode to mojibake: refused here, whatever the reader
    cleaned = clean_article_text(raw_text)
    if not cleaned.text:
        raise BadSource("no text left after cleaning (empty or boilerplate only)")
    meta = cleaned.metadata  # front matter in a .txt file (a .md file's was read by readers.from_markdown)
    published = parse_date(date) or parse_date(meta.get("date")) or cleaned.date or date_from_text(cleaned.text)
    given = date if date not in (None, "") else meta.get("date")
    note = ""
    if published is None and given not in (None, ""):  # given was read above and gave no date
        note = f"could not read the date {str(given)[:40]!r}, so it is undated (a date needs a year, e.g. 2025-11-01)"
    title = title or meta.get("title")
    url = url or plain_line(meta.get("url") or "")
    source = source or plain_line(meta.get("source") or "")
    authors = authors or meta.get("authors") or meta.get("author") or ()
    title_text = plain_line(title).strip() if title else ""
    return Article(
        id=article_id or make_id("t", cleaned.text),
        title=title_text or plain_line(derive_title(cleaned.text)),
        text=cleaned.text,
        date=published,
        source=plain_line(source) or domain(url),
        url=plain_line(url),
        authors=_author_names(authors) or cleaned.authors,
        content_hash=content_hash(cleaned.text),
        origin=origin,
        date_note=note,
    )


def _author_names(authors: object) -> tuple[str, ...]:
    """Author names from "A, B; C", a list of names, or nothing; ``BadSource`` for anything else."""
    if not authors:
        return ()
    if isinstance(authors, str):
        authors = authors.replace(";", ",").split(",")
    if not isinstance(authors, (list, tuple)) or not all(isinstance(a, str) for a in authors):
        raise BadSource(f"field 'authors' must be a name or a list of names, not {json_type(authors)}")
    return tuple(name for name in (plain_line(a).strip() for a in authors) if name)


def scalar(record: dict, name: str, *, numbers: bool = True) -> str | None:
    """A metadata field ``record[name]`` as a string, ``None`` when absent or empty; ``BadSource`` for a list, object
    or boolean (``"title": true`` is a broken export, not a title)."""
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadSource(f"field '{name}' must be text, not {json_type(value)}")


def json_type(value: object) -> str:
    """What kind of JSON value ``value`` is, in words for a failure reason ("a list", "true/false")."""
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def error_text(error: BaseException) -> str:
    """An exception's message on one line, at most 300 characters (for a ``LoadFailure`` reason)."""
    return " ".join(str(error).split())[:300]


def make_id(prefix: str, key: str) -> str:
    """An article id: ``prefix`` ("u" for a URL, "f" a file, ...) and 16 hex digits of the key's SHA-256."""
    return f"{prefix}_{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


def domain(url: str) -> str:
    """The site a URL is on, without "www." ("apnews.com"): an article's source when nothing names it."""
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")


def check_text_like(text: str) -> None:
    """``BadSource`` when ``text`` is not text (random or binary data decoded anyway), one line naming why."""
    share = not_text_share(text)
    if share > MAX_NOT_TEXT_SHARE:
        raise BadSource(
            f"not text: {share:.0%} of its characters are control or undecodable characters "
            "(random or binary data named as text?); save the article as UTF-8 text"
        )
