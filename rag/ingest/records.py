"""Reading JSON and JSON Lines files (gzipped or not) into articles, one per record.

Each record stands alone: a malformed, oversized or wrongly typed one becomes one ``LoadFailure`` and
the records after it still load; no more than ``max_bytes`` of one record is ever held in memory.
Opening the file (and gunzipping it) is ``corpus.py``'s; building the article is ``articles.py``'s.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from rag.ingest.articles import BadSource, LoadFailure, error_text, json_type, make_article, make_id, scalar
from rag.ingest.decode import decode_text
from rag.types import Article


def load_json_records(
    handle: io.BufferedIOBase, origin: str, *, max_bytes: int, max_records: int = 100_000, max_failures: int = 1_000,
    max_total_bytes: int = 1_000_000_000,
) -> Iterator[Article | LoadFailure]:
    """One article per JSON object: a .jsonl line, or a .json object or list of objects.

    Each record stands alone: a malformed, oversized or wrongly typed one becomes one ``LoadFailure``
    and the records after it still load, up to the caps: after ``max_records`` records the rest of the
    file is skipped, and after ``max_failures`` failed records the file is given up, each with one line
    (a 1 MB gzip of 366 million ``{}`` lines would otherwise run for hours and list every one); past
    ``max_total_bytes`` read (decompressed, for a .gz: ``tell()`` counts those bytes) the rest is skipped.
    """
    read = failures = 0
    for item in _load_records(handle, origin, max_bytes=max_bytes):
        if read == max_records:
            yield LoadFailure(origin, f"more than {max_records:,} records: the rest of the file was skipped (setting max_records_per_file)")
            return
        if handle.tell() > max_total_bytes:
            yield LoadFailure(
                origin, f"more than {max_total_bytes / 1e6:,.0f} MB of records (decompressed): the rest was skipped (setting max_decompressed_mb)"
            )
            return
        read += 1
        if isinstance(item, LoadFailure):
            failures += 1
            if failures > max_failures:
                yield LoadFailure(
                    origin, f"gave up after {max_failures:,} failed records (setting max_failures_per_file); is this a news export?"
                )
                return
        yield item


def _load_records(handle: io.BufferedIOBase, origin: str, *, max_bytes: int) -> Iterator[Article | LoadFailure]:
    head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
    stripped = head.lstrip()
    if stripped.startswith(b"[") or (stripped.startswith(b"{") and origin.lower().endswith((".json", ".json.gz"))):
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise BadSource(f"JSON file larger than {max_bytes / 1e6:g} MB (setting max_file_mb); use JSON Lines for big collections")
        try:
            parsed = json.loads(decode_text(data))
        except (ValueError, RecursionError) as error:
            raise BadSource(f"malformed JSON ({error_text(error)})") from None
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
            yield LoadFailure(where, f"malformed JSON line ({error.__class__.__name__}: {error_text(error)})")
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


def _record_to_article(record: object, where: str, file_origin: str) -> Article | LoadFailure:
    """An article from one JSON record, or a ``LoadFailure`` saying which field is wrong."""
    try:
        return _record_article(record, where, file_origin)
    except BadSource as error:
        return LoadFailure(where, str(error))
    except Exception as error:  # whatever a record holds, it fails alone
        return LoadFailure(where, f"could not read record: {type(error).__name__}: {error_text(error)}")


def _record_article(record: object, where: str, file_origin: str) -> Article:
    if not isinstance(record, dict):
        raise BadSource("expected a JSON object with a 'text' field")
    text = None
    for name in ("text", "body", "content"):
        value = record.get(name)
        if value is not None and value != "" and not isinstance(value, str):
            raise BadSource(f"field '{name}' must be text, not {json_type(value)}")
        text = text or value
    if not text or not text.strip():
        raise BadSource("record has no 'text'")
    url = scalar(record, "url", numbers=False) or ""
    title = scalar(record, "title")
    date = scalar(record, "date") or scalar(record, "publish_date") or scalar(record, "published")
    given_id = scalar(record, "id") or scalar(record, "doc_id")
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
        source=scalar(record, "source") or scalar(record, "source_domain") or "",
        authors=record.get("authors") or record.get("author") or (),
    )
