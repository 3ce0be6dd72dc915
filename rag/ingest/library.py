"""Article management for the faces: uploads, pasted text, URLs, deletes and re-sync, as result lines.

``ArticleService`` (reached as ``Assistant.library``) is what the web app's Articles tab and the CLI's
``ingest``/``remove`` call: it keeps uploaded files under ``data_dir/uploads/`` with harmless names,
turns an ``IngestReport`` into one ``Outcome`` line per article ("added “Title”", "failed: …"), and
cleans up after a failed or deleted upload. Writing the index, and queueing writers one at a time
beside the questions being answered, is ``Assistant.ingest``/``remove``'s; parsing is ``corpus.py``'s.
Nothing here imports Gradio: any face can use it, and it is tested without a browser.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.clean import parse_date
from rag.ingest.fetch import allow_private
from rag.ingest.sources import SUPPORTED_SUFFIXES, expand_sources, is_url, origin_file, supported_suffix

log = logging.getLogger("newsdesk.articles")

UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES  # an upload is read like any file (corpus.py)
MAX_NAME_BYTES = 160  # an upload's stored name, in UTF-8 bytes: file systems allow 255, and a 13-byte prefix is added
Progress = Callable[[int, str], None]  # (articles read so far, what happened last), as ``Ingestor`` reports it


@dataclass
class Outcome:
    """One result line of an article action: ``kind`` is added, updated, unchanged, duplicate,
    failed, removed or info."""

    kind: str
    text: str


def one_line(error: BaseException) -> str:
    """An exception as one line for a user (its type and the first line of its message)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def safe_filename(name: str) -> str:
    """A client-supplied file name reduced to a plain, harmless base name: no folders, no dots in
    front, only letters and digits of any script, ``_``, ``.`` and ``-`` (so ``статья.txt`` and
    ``新闻.md`` keep their names), at most ``MAX_NAME_BYTES`` bytes, keeping its (double) extension."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[^\w.-]+", "_", base)  # \w is Unicode-aware: letters and digits of every script
    base = re.sub(r"\.{2,}", ".", base)
    suffix = supported_suffix(base) or "".join(Path(base).suffixes[-2:])[-20:]
    stem = base[: len(base) - len(suffix)] if suffix else base
    stem = stem.lstrip("._-")
    if not stem.strip("._-"):
        return f"upload{suffix}" if suffix else "upload"
    room = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode(errors="ignore") or "upload"
    return f"{stem}{suffix}"


class ArticleService:
    """Add, remove and re-sync the articles of one ``Assistant``, reporting each result as ``Outcome`` lines."""

    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.uploads_dir = Path(self.settings.storage.data_dir) / "uploads"
        # Set once, by a web app reachable from other machines (``WebUI``): then "Add URL" and the feeds
        # may not fetch private or loopback addresses unless the fetch_allow_private setting says so
        # (the CLI and a local app may). ``allow_private`` is the decision every fetch here uses.
        self.served_beyond_localhost = False

    @property
    def allow_private(self) -> bool:
        """Whether URLs added through this service (and its ``Assistant``'s feeds) may reach private addresses."""
        return allow_private(self.settings.ingest.fetch_allow_private, served_beyond_localhost=self.served_beyond_localhost)

    # --- for any face --------------------------------------------------------------------------------

    def ingest(self, sources=None, *, sync: bool = False, show_progress: bool = False, on_progress: Progress | None = None):
        """Index files, folders or URLs (default: the corpus folder); the ``IngestReport``."""
        return self.assistant.ingest(sources, sync=sync, show_progress=show_progress, on_progress=on_progress)

    def queued(self) -> int:
        """Writes running or waiting their turn (a new one runs after them)."""
        return self.assistant.writes_pending()

    def _titles(self) -> dict[str, str]:
        return {a.id: a.title for a in self.assistant.articles()}

    def report_outcomes(self, report, label: str, origin_names: dict[str, str] | None = None) -> list[Outcome]:
        """One line per article of an ``IngestReport``, titles looked up in the index."""
        titles = self._titles()

        def named(text: str) -> str:
            for stored, shown in (origin_names or {}).items():
                text = text.replace(stored, shown)
            return text

        prefix = f"{label}: " if label else ""
        outcomes = [Outcome("added", f"{prefix}“{titles.get(i, i)}”") for i in report.added]
        outcomes += [Outcome("updated", f"{prefix}“{titles.get(i, i)}”") for i in report.updated]
        outcomes += [Outcome("unchanged", f"{prefix}“{titles.get(i, i)}” is already indexed") for i in report.unchanged]
        outcomes += [
            Outcome("duplicate", f"{prefix}same text as “{titles.get(owner, owner)}”, not stored again")
            for _, owner in report.duplicates
        ]
        outcomes += [Outcome("failed", f"{named(origin)}: {reason}") for origin, reason in report.failed]
        outcomes += [Outcome("removed", f"{titles.get(i, i)}") for i in report.removed]
        outcomes += [Outcome("info", f"{prefix}“{titles.get(i, i)}”: {note}") for i, note in report.undated]
        return self.capped(outcomes, report)

    def capped(self, outcomes: list[Outcome], report) -> list[Outcome]:
        """At most ``max_failures_listed`` lines, then one line summing up the rest: a file of 200,000
        records must not become 200,000 lines of HTML (22 MB froze a browser tab)."""
        limit = self.settings.ingest.max_failures_listed
        hidden = len(outcomes) - limit + report.failed_unlisted
        if hidden <= 0:
            return outcomes
        return outcomes[:limit] + [Outcome("info", f"… and {hidden:,} more lines not shown; in all: {report.summary()}")]

    # --- adding --------------------------------------------------------------------------------------

    def add_file(self, path: str | Path, name: str | None = None, on_progress: Progress | None = None) -> list[Outcome]:
        """Index one uploaded file, saved under ``data_dir/uploads/`` with a sanitised name.

        ``name`` is the name the client gave (default: the file's own); it is never used as a path.
        A file that is too large, of an unknown type or that yields no article changes nothing.
        """
        path = Path(path)
        shown = safe_filename(name or path.name)
        if not supported_suffix(shown):
            return [Outcome("failed", f"{shown}: unsupported file type; use one of {' '.join(UPLOAD_SUFFIXES)}")]
        try:
            size = path.stat().st_size
        except OSError:
            return [Outcome("failed", f"{shown}: the upload did not arrive; try again")]
        limit = self.settings.web.max_upload_mb * 1e6
        if size > limit:
            return [Outcome("failed", f"{shown}: too large ({size / 1e6:.1f} MB > {self.settings.web.max_upload_mb:g} MB limit)")]
        if size == 0:
            return [Outcome("failed", f"{shown}: empty file")]
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        uploads = self.uploads_dir.resolve()
        target = (uploads / f"{digest.hexdigest()[:12]}_{shown}").resolve()
        if target.parent != uploads:  # cannot happen after safe_filename; never write outside uploads/
            return [Outcome("failed", f"{shown}: invalid file name")]
        existed = target.exists()
        try:
            if not existed:
                shutil.copyfile(path, target)
            report = self.assistant.ingest([target], on_progress=on_progress)
        except Exception as error:
            log.exception("ingesting upload %s failed", shown)
            self._forget_file(target, existed)
            return [Outcome("failed", f"{shown}: could not index ({one_line(error)}); nothing was changed")]
        if not (report.added or report.updated or report.unchanged) and not existed:
            target.unlink(missing_ok=True)  # nothing from it is indexed: keep no orphan copy
        return self.report_outcomes(report, shown, {str(target): shown})

    def _forget_file(self, target: Path, existed: bool) -> None:
        """After a failed ingest of ``target``: drop anything it left in the index, and the copy."""
        if existed:
            return
        try:
            stale = [e.id for e in self.assistant.store.registry().values() if origin_file(e.origin) == target]
            if stale:
                self.assistant.remove(stale)
        except Exception:
            log.exception("cleaning up after %s failed", target)
        target.unlink(missing_ok=True)

    def add_files(self, files: Iterable, on_progress: Progress | None = None) -> Iterator[list[Outcome]]:
        """Index uploaded files one by one; yields the result lines of each file as it is done.

        Each item is a path or an object with ``name``/``path`` and ``orig_name`` (Gradio's upload)."""
        for item in files or []:
            path = getattr(item, "name", None) or getattr(item, "path", None) or item
            name = getattr(item, "orig_name", None) or Path(str(path)).name
            yield self.add_file(str(path), name, on_progress=on_progress)

    def add_text(self, text: str, title: str = "", date: str = "", source: str = "", url: str = "") -> list[Outcome]:
        """Index pasted text as an article with an optional title, date, source and link."""
        if not (text or "").strip():
            return [Outcome("failed", "Pasted text: paste the article text first")]
        parsed = None
        if (date or "").strip():
            parsed = parse_date(date.strip())
            if parsed is None:
                return [Outcome("failed", f"Pasted text: could not read the date “{date}”: use YYYY-MM-DD")]
        if (url or "").strip() and not is_url(url.strip()):
            return [Outcome("failed", "Pasted text: the link must start with http:// or https://")]
        try:
            report = self.assistant.ingest_text(
                text, title=(title or "").strip(), date=parsed, url=(url or "").strip(), source=(source or "").strip()
            )
        except Exception as error:
            log.exception("ingesting pasted text failed")
            return [Outcome("failed", f"Pasted text: could not index ({one_line(error)})")]
        return self.report_outcomes(report, "Pasted text")

    def add_url(self, url: str, on_progress: Progress | None = None) -> list[Outcome]:
        """Fetch a web page (or PDF) and index it."""
        url = (url or "").strip()
        if not is_url(url):
            return [Outcome("failed", f"“{url}” is not a web address: it must start with http:// or https://")]
        try:
            report = self.assistant.ingest([url], on_progress=on_progress, served_beyond_localhost=self.served_beyond_localhost)
        except Exception as error:
            log.exception("ingesting %s failed", url)
            return [Outcome("failed", f"{url}: could not index ({one_line(error)})")]
        return self.report_outcomes(report, url)

    # --- removing and re-syncing ---------------------------------------------------------------------

    def delete(self, article_ids: Iterable[str] | str | None) -> list[Outcome]:
        """Delete articles (and their passages); an uploaded file no article comes from any more is removed too."""
        ids = [article_ids] if isinstance(article_ids, str) else [i for i in (article_ids or []) if i]
        if not ids:
            return [Outcome("info", "Select an article to delete first")]
        try:
            before = {a.id: a for a in self.assistant.articles()}
            removed = self.assistant.remove(ids)
            self._drop_orphan_uploads([before[i] for i in ids if i in before])
        except Exception as error:
            log.exception("deleting %s failed", ids)
            return [Outcome("failed", f"Could not delete: {one_line(error)}")]
        corpus = Path(self.settings.storage.corpus_dir).resolve()
        outcomes = []
        for i in ids:
            info = before.get(i)
            if info is None:
                outcomes.append(Outcome("info", f"{i} was not in the index"))
                continue
            origin = origin_file(info.origin)
            note = ""
            if origin is not None and corpus in origin.parents and origin.exists():
                note = " (its file is still in the corpus folder: a re-sync adds it back)"
            outcomes.append(Outcome("removed", f"“{info.title}”{note}"))
        if removed < len([i for i in ids if i in before]):
            outcomes.append(Outcome("info", f"removed {removed} of {len(ids)}"))
        return outcomes

    def _drop_orphan_uploads(self, removed) -> None:
        uploads = self.uploads_dir.resolve()
        files = {origin_file(a.origin) for a in removed} - {None}
        files = {f for f in files if f.parent == uploads}
        if not files:
            return
        still_used = {origin_file(e.origin) for e in self.assistant.store.registry().values()}
        for f in files - still_used:
            f.unlink(missing_ok=True)

    def resync(self, on_progress: Progress | None = None) -> list[Outcome]:
        """Re-read the corpus folder: add new and changed files, drop articles whose files are gone."""
        corpus = Path(self.settings.storage.corpus_dir)
        if not corpus.is_dir():
            return [Outcome("failed", f"The corpus folder {corpus} does not exist; nothing was changed")]
        try:
            titles_before = self._titles()
            report = self.assistant.ingest([corpus], sync=True, on_progress=on_progress)
        except Exception as error:
            log.exception("re-sync failed")
            return [Outcome("failed", f"Re-sync failed: {one_line(error)}")]
        outcomes = [Outcome("info", f"Re-synced {corpus}: {report.summary()}")]
        titles = {**titles_before, **self._titles()}
        outcomes += [Outcome("added", f"“{titles.get(i, i)}”") for i in report.added]
        outcomes += [Outcome("updated", f"“{titles.get(i, i)}”") for i in report.updated]
        outcomes += [Outcome("removed", f"“{titles.get(i, i)}” (its file is gone)") for i in report.removed]
        outcomes += [Outcome("failed", f"{origin}: {reason}") for origin, reason in report.failed]
        return self.capped(outcomes, report)


def prepare(assistant, out=None):
    """First start: when the index is empty, index the corpus folder with a progress bar.

    Returns the ``IngestReport``, or None when there was nothing to do."""
    out = out or sys.stdout
    corpus = Path(assistant.settings.storage.corpus_dir)
    assistant.remove([])  # finishes a removal killed last time (Store.repair) before anything is served
    if assistant.articles():
        return None
    if not corpus.is_dir() or not expand_sources([corpus]):
        print(f"newsdesk: the index is empty and {corpus} has no articles; add some in the Articles tab.", file=out)
        return None
    print(f"newsdesk: first start, indexing {corpus} …", file=out, flush=True)
    report = assistant.ingest([corpus], show_progress=True)
    for origin, reason in report.failed:
        print(f"  failed: {origin}: {reason}", file=out)
    print(f"newsdesk: {report.summary()}", file=out, flush=True)
    return report


__all__ = ["ArticleService", "Outcome", "UPLOAD_SUFFIXES", "one_line", "origin_file", "prepare", "safe_filename"]
