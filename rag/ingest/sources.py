"""Finding the sources to read: which files are articles, URLs, folders expanded, the file an origin names.

``SUPPORTED_SUFFIXES`` is the one list of readable file types (the web app's upload offers the same);
:func:`expand_sources` turns folders into their files. Reading them is ``corpus.load_sources``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rag.types import Article

# The file types articles are read from, here and by the web app's upload; the .gz ones are gzipped
# JSON and JSON Lines.
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl", ".jsonl.gz", ".json.gz")
# A record of a JSON file has the origin "<file>#<n>" (the n-th object of a list) or "<file>:<line>"
# (a JSON Lines line); origin_file reads the file back out of it.
_RECORD_SUFFIX = re.compile(r"[:#]\d+$")


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


def is_blank(source: object) -> bool:
    """An empty or all-blank path (``rag ingest ""``): ``Path("")`` is the working directory, so it
    would walk it whole (``.venv`` and ``.git`` too); it is refused instead."""
    return isinstance(source, str) and not source.strip()


def expand_sources(sources: Iterable[str | Path | Article]) -> list[str | Path | Article]:
    """Folders become their files (recursive, sorted, hidden ones skipped; an unsupported type then
    gets its own failure line); files, URLs and Articles pass through; blank paths are left out
    (``load_sources`` reports them)."""
    expanded: list[str | Path | Article] = []
    for source in sources:
        if is_blank(source):
            continue
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
