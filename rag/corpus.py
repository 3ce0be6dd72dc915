"""Loading articles from files, folders and URLs into ``Article`` objects.

Each source is read with a well-kept library for its format (trafilatura for HTML pages and URLs,
pypdf for PDF, python-frontmatter for Markdown), cleaned by ``clean.py`` and given metadata: a stable
id, title, publication date, source, url, authors and a content hash. A bad source never raises out of
:func:`load_sources`: it yields a ``LoadFailure`` with a one-line reason and the batch goes on.
Chunking, embedding and storage are left to the later stages.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .clean import clean_article_text, content_hash, date_from_text, derive_title, parse_date
from .types import Article

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl", ".gz")


@dataclass(frozen=True)
class LoadFailure:
    """A source (or one record of it) that could not be read, and why, in words a user can act on."""

    origin: str
    reason: str


class BadSource(ValueError):
    """Raised inside a loader; turned into a ``LoadFailure`` by :func:`load_sources`."""


def is_url(source: str | Path) -> bool:
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("http", "https")


def expand_sources(sources: Iterable[str | Path | Article]) -> list[str | Path | Article]:
    """Folders become their files (recursive, sorted, hidden ones skipped; an unsupported type then
    gets its own failure line); files, URLs and Articles pass through."""
    expanded: list[str | Path | Article] = []
    for source in sources:
        if isinstance(source, Article) or is_url(source):
            expanded.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            expanded.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        else:
            expanded.append(path)
    return expanded


def load_sources(
    sources: Iterable[str | Path | Article], *, max_bytes: int, fetch_timeout_s: float = 20.0
) -> Iterator[Article | LoadFailure]:
    """Yield an ``Article`` or a ``LoadFailure`` for every article in ``sources``."""
    for source in expand_sources(sources):
        if isinstance(source, Article):  # already loaded (pasted text, an API caller's object)
            yield source
            continue
        origin = str(source)
        try:
            if is_url(source):
                yield from _load_url(origin, max_bytes=max_bytes, timeout=fetch_timeout_s)
            else:
                yield from _load_file(Path(source), max_bytes=max_bytes)
        except BadSource as error:
            yield LoadFailure(origin, str(error))
        except Exception as error:  # a loader library choking on a malformed file must not stop the batch
            yield LoadFailure(origin, f"could not read: {type(error).__name__}: {error}")


# --- files -----------------------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix in SUPPORTED_SUFFIXES else ""


def _load_file(path: Path, *, max_bytes: int) -> Iterator[Article | LoadFailure]:
    if not path.exists():
        raise BadSource("no such file")
    suffix = _suffix(path)
    if not suffix:
        raise BadSource(f"unsupported file type {path.suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    origin = str(path.resolve())
    if suffix == ".gz":
        inner = Path(path.stem).suffix.lower()
        if inner not in (".json", ".jsonl"):
            raise BadSource("only .json.gz and .jsonl.gz archives are supported")
        with gzip.open(path, "rb") as handle:
            yield from _load_json_records(handle, origin, max_bytes=max_bytes)
        return
    if suffix in (".json", ".jsonl"):
        with path.open("rb") as handle:
            yield from _load_json_records(handle, origin, max_bytes=max_bytes)
        return
    if size > max_bytes:
        raise BadSource(f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit, setting max_file_mb)")
    if size == 0:
        raise BadSource("empty file")
    data = path.read_bytes()
    file_id = _make_id("f", origin)
    if suffix == ".pdf":
        yield _from_pdf(data, origin, file_id)
    elif suffix in (".html", ".htm"):
        yield _from_html(_decode(data), origin, file_id, url="")
    elif suffix in (".md", ".markdown"):
        yield _from_markdown(_decode(data), origin, file_id)
    else:
        yield make_article(_decode(data), origin=origin, article_id=file_id)


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise BadSource("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadSource(f"not UTF-8 text (byte {error.start}); re-save the file as UTF-8") from None


def _from_markdown(text: str, origin: str, article_id: str) -> Article:
    import frontmatter

    post = frontmatter.loads(text)
    meta = dict(post.metadata)
    return make_article(
        post.content,
        origin=origin,
        article_id=str(meta.get("id") or article_id),
        title=meta.get("title"),
        date=meta.get("date") or meta.get("publish_date"),
        url=meta.get("url") or "",
        source=meta.get("source") or "",
        authors=meta.get("authors") or meta.get("author") or (),
    )


def _from_html(html: str, origin: str, article_id: str, url: str) -> Article:
    import trafilatura

    document = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False)
    if document is None or not (document.text or "").strip():
        raise BadSource("no article text found in the HTML page")
    url = url or document.url or ""
    return make_article(
        document.text,
        origin=origin,
        article_id=article_id,
        title=document.title,
        date=document.date,
        url=url,
        source=document.sitename or _domain(url),
        authors=document.author or (),
    )


def _from_pdf(data: bytes, origin: str, article_id: str) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        meta = reader.metadata
    except PdfReadError as error:
        raise BadSource(f"damaged or encrypted PDF ({error})") from None
    title = (meta.title if meta else None) or None
    date = meta.creation_date if meta and meta.get("/CreationDate") else None
    authors = (meta.author,) if meta and meta.author else ()
    return make_article(text, origin=origin, article_id=article_id, title=title, date=date, authors=authors)


def _load_json_records(handle: io.BufferedIOBase, origin: str, *, max_bytes: int) -> Iterator[Article | LoadFailure]:
    """One article per JSON object: a .jsonl line, or a .json object or list of objects."""
    head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
    stripped = head.lstrip()
    if stripped.startswith(b"[") or (stripped.startswith(b"{") and origin.lower().endswith((".json", ".json.gz"))):
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise BadSource(f"JSON file larger than {max_bytes / 1e6:.0f} MB; use JSON Lines for big collections")
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadSource(f"malformed JSON ({error})") from None
        records = parsed if isinstance(parsed, list) else [parsed]
        for number, record in enumerate(records, 1):
            yield _record_to_article(record, f"{origin}#{number}")
        return
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        if len(line) > max_bytes:
            yield LoadFailure(where, "record too large")
            continue
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            yield LoadFailure(where, f"malformed JSON line ({error.__class__.__name__}: {error})")
            continue
        yield _record_to_article(record, where)


def _record_to_article(record: object, where: str) -> Article | LoadFailure:
    if not isinstance(record, dict):
        return LoadFailure(where, "expected a JSON object with a 'text' field")
    text = record.get("text") or record.get("body") or record.get("content")
    if not isinstance(text, str) or not text.strip():
        return LoadFailure(where, "record has no 'text'")
    url = str(record.get("url") or "")
    given_id = record.get("id") or record.get("doc_id")
    if given_id:
        article_id = str(given_id)
    else:  # stable across re-ingests: the URL, else title + date, else the text itself
        key = url or f"{record.get('title')}|{record.get('date') or record.get('publish_date')}"
        article_id = _make_id("j", key if key.strip("|None") else text)
    try:
        return make_article(
            text,
            origin=where,
            article_id=article_id,
            title=record.get("title"),
            date=record.get("date") or record.get("publish_date") or record.get("published"),
            url=url,
            source=str(record.get("source") or record.get("source_domain") or ""),
            authors=record.get("authors") or record.get("author") or (),
        )
    except BadSource as error:
        return LoadFailure(where, str(error))


# --- URLs ------------------------------------------------------------------------------------------


def _load_url(url: str, *, max_bytes: int, timeout: float) -> Iterator[Article]:
    import httpx

    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True, headers={"User-Agent": "newsdesk"}) as r:
            if r.status_code >= 400:
                raise BadSource(f"HTTP {r.status_code} from server")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BadSource(f"page larger than {max_bytes / 1e6:.0f} MB")
                chunks.append(chunk)
            content_type = r.headers.get("content-type", "")
            final_url = str(r.url)
    except httpx.HTTPError as error:
        raise BadSource(f"unreachable: {type(error).__name__}: {error}") from None
    data = b"".join(chunks)
    if not data:
        raise BadSource("empty response")
    article_id = _make_id("u", url)
    if "pdf" in content_type or url.lower().endswith(".pdf"):
        article = _from_pdf(data, url, article_id)
        yield _with(article, url=final_url, source=article.source or _domain(final_url))
    elif "html" in content_type or data.lstrip()[:1] == b"<":
        yield _from_html(_decode(data), url, article_id, url=final_url)
    else:
        yield make_article(_decode(data), origin=url, article_id=article_id, url=final_url, source=_domain(final_url))


# --- shared ----------------------------------------------------------------------------------------


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
    cleaned = clean_article_text(raw_text)
    if not cleaned.text:
        raise BadSource("no text left after cleaning (empty or boilerplate only)")
    meta = cleaned.metadata  # front matter in a .txt file (a .md file's was read by _from_markdown)
    published = parse_date(date) or parse_date(meta.get("date")) or cleaned.date or date_from_text(cleaned.text)
    title = title or meta.get("title")
    url = url or str(meta.get("url") or "")
    source = source or str(meta.get("source") or "")
    authors = authors or meta.get("authors") or meta.get("author") or ()
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.replace(";", ",").split(",")]
    author_names = tuple(str(a).strip() for a in (authors or ()) if str(a).strip()) or cleaned.authors
    title_text = str(title).strip() if title else ""
    return Article(
        id=article_id or _make_id("t", cleaned.text),
        title=title_text or derive_title(cleaned.text),
        text=cleaned.text,
        date=published,
        source=source or _domain(url),
        url=url,
        authors=author_names,
        content_hash=content_hash(cleaned.text),
        origin=origin,
    )


def _with(article: Article, **changes: object) -> Article:
    from dataclasses import replace

    return replace(article, **changes)


def _make_id(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


def _domain(url: str) -> str:
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")
