"""Loading articles from files, folders and URLs into ``Article`` objects: :func:`load_sources`.

Each source is read with a well-kept library for its format (trafilatura for HTML pages and URLs,
pypdf for PDF, python-frontmatter for Markdown, charset-normalizer for text that is not UTF-8),
cleaned by ``clean.py`` and given metadata: a stable id, title, publication date, source, url, authors
and a content hash. A bad source, or one bad record of a JSON Lines file, never raises out of
:func:`load_sources`: it yields a ``LoadFailure`` with a one-line reason and the batch goes on. No
more than ``max_bytes`` of one file or record is ever held in memory (a compressed file is read as a
stream). Here: which reader each source gets and the size limits. Finding sources is ``sources.py``'s,
reading a format ``readers.py``'s (JSON: ``records.py``'s), building the article ``articles.py``'s,
fetching URLs safely ``fetch.py``'s; chunking, embedding and storage are the later stages'.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.ingest.articles import BadSource, LoadFailure, error_text, make_article, make_id
from rag.ingest.decode import decode_text
from rag.ingest.readers import article_from_fetched, from_html, from_markdown, from_pdf
from rag.ingest.records import load_json_records
from rag.ingest.sources import SUPPORTED_SUFFIXES, expand_sources, is_blank, is_url, supported_suffix
from rag.types import Article


def load_sources(
    sources: Iterable[str | Path | Article],
    *,
    max_bytes: int,
    fetch_timeout_s: float,
    allow_private: bool = False,
    max_records: int = 100_000,
    max_failures: int = 1_000,
    max_total_bytes: int = 1_000_000_000,
) -> Iterator[Article | LoadFailure]:
    """Yield an ``Article`` or a ``LoadFailure`` for every article in ``sources``.

    ``max_records``/``max_failures``/``max_total_bytes``: the caps on one JSON file (``records.load_json_records``).
    URLs are fetched with a total deadline of ``fetch_timeout_s`` each; ``allow_private`` lets them
    reach loopback and private addresses (see ``fetch.allow_private``).
    """
    sources = list(sources)
    for source in sources:
        if is_blank(source):
            yield LoadFailure(repr(source), "empty path: name a file, folder or URL (nothing, for the corpus folder)")
    for source in expand_sources(sources):
        if isinstance(source, Article):  # already loaded (pasted text, an API caller's object)
            yield source
            continue
        origin = str(source)
        try:
            if is_url(source):
                yield from _load_url(origin, max_bytes=max_bytes, timeout=fetch_timeout_s, allow_private=allow_private)
            else:
                yield from _load_file(Path(source), max_bytes=max_bytes, caps={"max_records": max_records, "max_failures": max_failures, "max_total_bytes": max_total_bytes})
        except BadSource as error:
            yield LoadFailure(origin, str(error))
        except Exception as error:  # a loader library choking on a malformed file must not stop the batch
            yield LoadFailure(origin, f"could not read: {type(error).__name__}: {error_text(error)}")


# --- files -----------------------------------------------------------------------------------------


def _load_file(path: Path, *, max_bytes: int, caps: dict) -> Iterator[Article | LoadFailure]:
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
            yield from load_json_records(handle, origin, max_bytes=max_bytes, **caps)
        return
    if suffix in (".json", ".jsonl"):
        with path.open("rb") as handle:
            yield from load_json_records(handle, origin, max_bytes=max_bytes, **caps)
        return
    if size > max_bytes:
        raise BadSource(f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:g} MB limit, setting max_file_mb)")
    if size == 0:
        raise BadSource("empty file")
    data = path.read_bytes()
    file_id = make_id("f", origin)
    if suffix == ".pdf":
        yield from_pdf(data, origin, file_id)
    elif suffix in (".html", ".htm"):
        yield from_html(decode_text(data), origin, file_id, url="")
    elif suffix in (".md", ".markdown"):
        yield from_markdown(decode_text(data), origin, file_id)
    else:
        yield make_article(decode_text(data), origin=origin, article_id=file_id)


# --- URLs ------------------------------------------------------------------------------------------


def _load_url(url: str, *, max_bytes: int, timeout: float, allow_private: bool) -> Iterator[Article]:
    from rag.ingest.fetch import FetchError, fetch

    try:
        fetched = fetch(url, max_bytes=max_bytes, deadline_s=timeout, allow_private=allow_private)
    except FetchError as error:
        raise BadSource(str(error)) from None
    yield article_from_fetched(fetched, url)
