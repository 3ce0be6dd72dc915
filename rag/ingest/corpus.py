"""Loading articles from files, folders and URLs into ``Article`` objects.

Each source is read with a well-kept library for its format (trafilatura for HTML pages and URLs,
pypdf for PDF, python-frontmatter for Markdown, charset-normalizer for text that is not UTF-8),
cleaned by ``clean.py`` and given metadata: a stable id, title, publication date, source, url, authors
and a content hash. A bad source, or one bad record of a JSON Lines file, never raises out of
:func:`load_sources`: it yields a ``LoadFailure`` with a one-line reason and the batch goes on. No
more than ``max_bytes`` of one file or record is ever held in memory (a compressed file is read as a
stream). Fetching URLs safely is ``fetch.py``'s; chunking, embedding and storage are the later stages'.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from rag.ingest.clean import clean_article_text, content_hash, date_from_text, derive_title, parse_date
from rag.types import Article

# The file types articles are read from, here and by the web app's upload; the .gz ones are gzipped
# JSON and JSON Lines.
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl", ".jsonl.gz", ".json.gz")
# A record of a JSON file has the origin "<file>#<n>" (the n-th object of a list) or "<file>:<line>"
# (a JSON Lines line); origin_file reads the file back out of it.
_RECORD_SUFFIX = re.compile(r"[:#]\d+$")


@dataclass(frozen=True)
class LoadFailure:
    """A source (or one record of it) that could not be read, and why, in words a user can act on."""

    origin: str
    reason: str


class BadSource(ValueError):
    """Raised inside a loader; turned into a ``LoadFailure`` by :func:`load_sources`."""


def is_url(source: str | Path) -> bool:
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("http", "https")


def supported_suffix(name: str | Path) -> str:
    """The supported (double) extension the file name ``name`` ends with, lower-cased, or ""."""
    lower = str(name).lower()
    return max((s for s in SUPPORTED_SUFFIXES if lower.endswith(s)), key=len, default="")


def origin_file(origin: str) -> Path | None:
    """The file an article's ``origin`` points into ("file.jsonl:12" → file.jsonl); None for a URL or nothing."""
    if not origin or is_url(origin):
        return None
    return Path(_RECORD_SUFFIX.sub("", origin))


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
    sources: Iterable[str | Path | Article],
    *,
    max_bytes: int,
    fetch_timeout_s: float,
    allow_private: bool = False,
) -> Iterator[Article | LoadFailure]:
    """Yield an ``Article`` or a ``LoadFailure`` for every article in ``sources``.

    URLs are fetched with a total deadline of ``fetch_timeout_s`` each; ``allow_private`` lets them
    reach loopback and private addresses (see ``fetch.allow_private``).
    """
    for source in expand_sources(sources):
        if isinstance(source, Article):  # already loaded (pasted text, an API caller's object)
            yield source
            continue
        origin = str(source)
        try:
            if is_url(source):
                yield from _load_url(origin, max_bytes=max_bytes, timeout=fetch_timeout_s, allow_private=allow_private)
            else:
                yield from _load_file(Path(source), max_bytes=max_bytes)
        except BadSource as error:
            yield LoadFailure(origin, str(error))
        except Exception as error:  # a loader library choking on a malformed file must not stop the batch
            yield LoadFailure(origin, f"could not read: {type(error).__name__}: {_one_line(error)}")


# --- files -----------------------------------------------------------------------------------------


def _load_file(path: Path, *, max_bytes: int) -> Iterator[Article | LoadFailure]:
    if not path.exists():
        raise BadSource("no such file")
    suffix = supported_suffix(path.name)
    if not suffix and path.suffix.lower() == ".gz":
        raise BadSource("only .json.gz and .jsonl.gz archives are supported")
    if not suffix:
        raise BadSource(f"unsupported file type {path.suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    origin = str(path.resolve())
    if suffix.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            yield from _load_json_records(handle, origin, max_bytes=max_bytes)
        return
    if suffix in (".json", ".jsonl"):
        with path.open("rb") as handle:
            yield from _load_json_records(handle, origin, max_bytes=max_bytes)
        return
    if size > max_bytes:
        raise BadSource(f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:g} MB limit, setting max_file_mb)")
    if size == 0:
        raise BadSource("empty file")
    data = path.read_bytes()
    file_id = make_id("f", origin)
    if suffix == ".pdf":
        yield _from_pdf(data, origin, file_id)
    elif suffix in (".html", ".htm"):
        yield _from_html(decode_text(data), origin, file_id, url="")
    elif suffix in (".md", ".markdown"):
        yield _from_markdown(decode_text(data), origin, file_id)
    else:
        yield make_article(decode_text(data), origin=origin, article_id=file_id)


# Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A well-formed multi-byte UTF-8 sequence: its presence in a file that is not valid UTF-8 means
# mixed encodings (UTF-8 text with some Latin-1/Windows-1252 bytes pasted in), not a legacy charset.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    # Hand-written because no library decodes *mixed* encodings: charset-normalizer picks one
    # charset for the whole file, which would turn every correct UTF-8 "é" into "Ã©".
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("newsdesk-cp1252", _cp1252_fallback)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Text from bytes in any common encoding; ``BadSource`` for a binary file.

    In order: a byte-order mark (UTF-8/16/32), the ``declared`` charset (an HTTP Content-Type), UTF-8,
    UTF-8 with stray Windows-1252 bytes (mixed files), then charset-normalizer's detection (Latin-1,
    Windows-1251, Shift-JIS...). NUL bytes are dropped wherever they are.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).replace("\x00", "")
            except UnicodeDecodeError:
                raise BadSource(f"damaged {encoding.upper()} text (byte order mark, then invalid bytes)") from None
    head = data[:8192]
    # A few NULs happen in text (a bad export); many mean a binary file (image, archive, office file).
    if head.count(0) > max(2, len(head) // 100):
        raise BadSource("binary file, not text")
    if declared:
        try:
            return data.decode(declared).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declared charset: detect instead
    try:
        return data.decode("utf-8").replace("\x00", "")
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        return data.decode("utf-8", errors="newsdesk-cp1252").replace("\x00", "")
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise BadSource("not text in any known encoding (binary file?); save it as UTF-8 text")
    # Western text fits several single-byte code pages equally well (cp1250 reads "à" as "ŕ"); on a
    # tie prefer Windows-1252, the superset of Latin-1 that browsers use for every "latin-1" label.
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    best = next((m for m in tied if m.encoding == "cp1252"), best)
    return str(best).replace("\x00", "")


def _from_markdown(text: str, origin: str, article_id: str) -> Article:
    import frontmatter

    post = frontmatter.loads(text)
    meta = dict(post.metadata)
    given_id = _scalar(meta, "id")
    return make_article(
        post.content,
        origin=origin,
        article_id=given_id or article_id,
        title=_scalar(meta, "title"),
        date=meta.get("date") or meta.get("publish_date") or None,
        url=_scalar(meta, "url") or "",
        source=_scalar(meta, "source") or "",
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
        source=document.sitename or domain(url),
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
    """One article per JSON object: a .jsonl line, or a .json object or list of objects.

    Each record stands alone: a malformed, oversized or wrongly typed one becomes one ``LoadFailure``
    and the records after it still load.
    """
    head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
    stripped = head.lstrip()
    if stripped.startswith(b"[") or (stripped.startswith(b"{") and origin.lower().endswith((".json", ".json.gz"))):
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise BadSource(f"JSON file larger than {max_bytes / 1e6:g} MB (setting max_file_mb); use JSON Lines for big collections")
        try:
            parsed = json.loads(decode_text(data))
        except (ValueError, RecursionError) as error:
            raise BadSource(f"malformed JSON ({_one_line(error)})") from None
        records = parsed if isinstance(parsed, list) else [parsed]
        for number, record in enumerate(records, 1):
            yield _record_to_article(record, f"{origin}#{number}", origin)
        return
    records = 0
    for number, line in _capped_lines(handle, max_bytes):
        where = f"{origin}:{number}"
        if line is None:
            records += 1
            yield LoadFailure(where, f"record too large (over {max_bytes / 1e6:g} MB, setting max_file_mb)")
            continue
        if not line.strip():
            continue
        records += 1
        try:
            record = json.loads(decode_text(line))
        except (BadSource, ValueError, RecursionError) as error:  # ValueError: also a 5,000-digit number
            yield LoadFailure(where, f"malformed JSON line ({error.__class__.__name__}: {_one_line(error)})")
            continue
        yield _record_to_article(record, where, origin)
    if not records:
        raise BadSource("no JSON records in the file (empty)")


def _capped_lines(handle: io.BufferedIOBase, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line of ``handle``; ``None`` for a line longer than ``max_bytes``.

    Never holds more than ``max_bytes`` of a line: the rest of a long one is skipped in 1 MB pieces
    (``for line in handle`` would read a 1 GB line of a gzip bomb whole).
    """
    number = 0
    while True:
        line = handle.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            del line
            while True:
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line


def _scalar(record: dict, name: str, *, numbers: bool = True) -> str | None:
    """``record[name]`` as a string, ``None`` when absent or empty; ``BadSource`` for a list, object
    or boolean (``"title": true`` is a broken export, not a title)."""
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadSource(f"field '{name}' must be text, not {_json_type(value)}")


def _json_type(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _record_to_article(record: object, where: str, file_origin: str) -> Article | LoadFailure:
    """An article from one JSON record, or a ``LoadFailure`` saying which field is wrong."""
    try:
        return _record_article(record, where, file_origin)
    except BadSource as error:
        return LoadFailure(where, str(error))
    except Exception as error:  # whatever a record holds, it fails alone
        return LoadFailure(where, f"could not read record: {type(error).__name__}: {_one_line(error)}")


def _record_article(record: object, where: str, file_origin: str) -> Article:
    if not isinstance(record, dict):
        raise BadSource("expected a JSON object with a 'text' field")
    text = None
    for name in ("text", "body", "content"):
        value = record.get(name)
        if value is not None and value != "" and not isinstance(value, str):
            raise BadSource(f"field '{name}' must be text, not {_json_type(value)}")
        text = text or value
    if not text or not text.strip():
        raise BadSource("record has no 'text'")
    url = _scalar(record, "url", numbers=False) or ""
    title = _scalar(record, "title")
    date = _scalar(record, "date") or _scalar(record, "publish_date") or _scalar(record, "published")
    given_id = _scalar(record, "id") or _scalar(record, "doc_id")
    if given_id:
        article_id = given_id
    elif url:
        article_id = make_id("j", url)
    elif title or date:
        # The file is part of the key: a different story with the same title and date in another
        # file is another article, while re-ingesting this file updates this one (finding 5).
        article_id = make_id("j", f"{file_origin}|{title}|{date}")
    else:
        article_id = None  # identified by its content (make_article)
    return make_article(
        text,
        origin=where,
        article_id=article_id,
        title=title,
        date=date,
        url=url,
        source=_scalar(record, "source") or _scalar(record, "source_domain") or "",
        authors=record.get("authors") or record.get("author") or (),
    )


# --- URLs ------------------------------------------------------------------------------------------


def _load_url(url: str, *, max_bytes: int, timeout: float, allow_private: bool) -> Iterator[Article]:
    from rag.ingest.fetch import FetchError, fetch

    try:
        fetched = fetch(url, max_bytes=max_bytes, deadline_s=timeout, allow_private=allow_private)
    except FetchError as error:
        raise BadSource(str(error)) from None
    yield article_from_fetched(fetched, url)


def article_from_fetched(fetched, url: str) -> Article:
    """The article in a fetched response (``fetch.Fetched``) of ``url``; ``BadSource`` when there is none."""
    data, final_url, content_type = fetched.data, fetched.url, fetched.content_type.lower()
    if not data:
        raise BadSource("empty response")
    article_id = make_id("u", url)
    if "pdf" in content_type or data.startswith(b"%PDF") or url.lower().endswith(".pdf"):
        article = _from_pdf(data, url, article_id)
        return _with(article, url=final_url, source=article.source or domain(final_url))
    if "html" in content_type or data.lstrip()[:1] == b"<":
        return _from_html(decode_text(data, fetched.charset), url, article_id, url=final_url)
    text = decode_text(data, fetched.charset)
    return make_article(text, origin=url, article_id=article_id, url=final_url, source=domain(final_url))


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
    if not isinstance(raw_text, str):
        raise BadSource(f"article text must be text, not {_json_type(raw_text)}")
    cleaned = clean_article_text(raw_text)
    if not cleaned.text:
        raise BadSource("no text left after cleaning (empty or boilerplate only)")
    meta = cleaned.metadata  # front matter in a .txt file (a .md file's was read by _from_markdown)
    published = parse_date(date) or parse_date(meta.get("date")) or cleaned.date or date_from_text(cleaned.text)
    title = title or meta.get("title")
    url = url or _plain(meta.get("url") or "")
    source = source or _plain(meta.get("source") or "")
    authors = authors or meta.get("authors") or meta.get("author") or ()
    title_text = _plain(title).strip() if title else ""
    return Article(
        id=article_id or make_id("t", cleaned.text),
        title=title_text or derive_title(cleaned.text),
        text=cleaned.text,
        date=published,
        source=_plain(source) or domain(url),
        url=_plain(url),
        authors=_author_names(authors) or cleaned.authors,
        content_hash=content_hash(cleaned.text),
        origin=origin,
    )


def _plain(value: object) -> str:
    """A metadata value as one line of text without NUL bytes."""
    return str(value).replace("\x00", "")


def _author_names(authors: object) -> tuple[str, ...]:
    """Author names from "A, B; C", a list of names, or nothing; ``BadSource`` for anything else."""
    if not authors:
        return ()
    if isinstance(authors, str):
        authors = authors.replace(";", ",").split(",")
    if not isinstance(authors, (list, tuple)) or not all(isinstance(a, str) for a in authors):
        raise BadSource(f"field 'authors' must be a name or a list of names, not {_json_type(authors)}")
    return tuple(name for name in (_plain(a).strip() for a in authors) if name)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def _with(article: Article, **changes: object) -> Article:
    from dataclasses import replace

    return replace(article, **changes)


def make_id(prefix: str, key: str) -> str:
    """An article id: ``prefix`` ("u" for a URL, "f" a file, ...) and 16 hex digits of the key's SHA-256."""
    return f"{prefix}_{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


def domain(url: str) -> str:
    """The site a URL is on, without "www." ("apnews.com"): an article's source when nothing names it."""
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")
