"""The Gradio web app: chat with cited, highlighted sources, and an Articles tab to manage the index.

``build_ui(assistant)`` returns the ``gr.Blocks``; ``launch(demo, settings)`` serves it with the
settings' host, port and password; ``app.py`` is the thin shell that wires them up. Everything the
page does goes through a ``WebUI`` method that takes and returns plain values (strings, lists, dicts),
so it is tested without a browser. The only Gradio imports of the project are in this module:
importing ``rag`` stays cheap.

Rendering: an answer's ``[n]`` markers become superscript links to the source cards printed under the
answer (one card per cited passage: title, date, source, link, the passage with the supporting span in
``<mark>``); sentences the citation verifier could not support are underlined and flagged; "the
articles don't say" is rendered as a calm notice, not an error. All answer and article text is
HTML-escaped before markup is added, and the chatbot sanitises what remains.
"""

import datetime as dt
import hashlib
import html
import ipaddress
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .chat import Conversation  # noqa: E402
from .clean import parse_date  # noqa: E402
from .corpus import expand_sources, is_url  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import Answer, ArticleInfo, Citation  # noqa: E402

log = logging.getLogger("newsdesk.webui")

EXAMPLES = [
    "Why did Peru declare a state of emergency at its border with Chile?",
    "Why are Venezuelan migrants leaving Chile?",
    "What did José Antonio Kast tell migrants without legal status?",
]
UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl", ".jsonl.gz", ".json.gz")
MAX_TOP_K = 20
MAX_PICKER = 500  # articles offered in the delete picker at once; the search narrows the list
_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

CSS = """
.nd-msg { line-height: 1.55; }
.nd-msg p { margin: 0 0 .5em 0; }
.nd-cite a { text-decoration: none; font-weight: 600; padding: 0 1px; }
.nd-unsupported { text-decoration: underline wavy #d97706; text-underline-offset: 3px;
  background: rgba(217, 119, 6, .10); border-radius: 3px; }
.nd-flag { font-size: .72em; color: #b45309; font-weight: 600; margin-left: 2px; }
.nd-warn { font-size: .9em; color: #b45309; margin-top: .4em; }
.nd-refused { border-left: 4px solid #60a5fa; background: rgba(96, 165, 250, .10); padding: .6em .9em; border-radius: 6px; }
.nd-refused .nd-hint, .nd-notice, .nd-meta, .nd-searched, .nd-mode { color: var(--body-text-color-subdued); font-size: .88em; }
.nd-notice, .nd-searched, .nd-mode { margin-top: .4em; }
.nd-error { border-left: 4px solid #f87171; background: rgba(248, 113, 113, .10); padding: .6em .9em; border-radius: 6px; }
.nd-sources { margin-top: .8em; border-top: 1px solid var(--border-color-primary); padding-top: .5em; }
.nd-sources-title { font-weight: 600; font-size: .9em; margin-bottom: .3em; }
.nd-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5em .7em; margin: .45em 0;
  background: var(--background-fill-secondary); scroll-margin-top: 1em; }
.nd-source:target { outline: 2px solid #60a5fa; }
.nd-num { font-weight: 700; margin-right: .3em; }
.nd-title { font-weight: 600; font-size: .92em; }
.nd-passage { font-size: .88em; margin-top: .35em; max-height: 16em; overflow-y: auto; }
.nd-whole summary { font-size: .8em; color: var(--body-text-color-subdued); cursor: pointer; margin-top: .2em; }
.nd-passage mark { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.nd-streaming { white-space: pre-wrap; }
.nd-cursor { opacity: .6; }
.nd-pending { color: var(--body-text-color-subdued); font-style: italic; }
.nd-log { margin: .3em 0; padding-left: 1.1em; }
.nd-log li { margin: .15em 0; }
.nd-log .nd-k { font-weight: 600; font-size: .72em; letter-spacing: .04em; margin-right: .5em; }
.nd-log .nd-added .nd-k, .nd-log .nd-updated .nd-k { color: #15803d; }
.nd-log .nd-duplicate .nd-k, .nd-log .nd-unchanged .nd-k, .nd-log .nd-info .nd-k { color: #6b7280; }
.nd-log .nd-failed .nd-k { color: #b91c1c; }
.nd-log .nd-removed .nd-k { color: #b45309; }
"""


class OptionError(ValueError):
    """A chat option (date, number of passages) the user has to correct; shown as one line."""


class LaunchError(RuntimeError):
    """The settings do not allow starting the server (e.g. exposed without a password)."""


@dataclass
class ChatSession:
    """One browser session's chat: its ``Conversation`` and a turn counter for unique anchors."""

    conversation: Conversation
    turn: int = 0


@dataclass
class Outcome:
    """One result line of an Articles action: ``kind`` is added, updated, unchanged, duplicate,
    failed, removed or info."""

    kind: str
    text: str


# --- rendering ---------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """HTML-escape ``text`` and keep its line breaks without ever producing a blank line (which
    would end the HTML block in the chatbot's Markdown renderer)."""
    escaped = html.escape(text or "", quote=True)
    escaped = re.sub(r"\n[ \t]*\n\s*", "<br><br>", escaped)
    return escaped.replace("\n", "<br>")


def _safe_url(url: str) -> str:
    return url if re.match(r"^https?://", url or "", re.IGNORECASE) else ""


def _date_text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value) if value else ""


def _span(citation: Citation) -> tuple[int, int] | None:
    """Where the supporting span lies inside ``citation.passage`` (offsets, else the quote found)."""
    passage = citation.passage or ""
    start = citation.start - citation.passage_start
    end = citation.end - citation.passage_start
    quote = (citation.quote or "").strip()
    if 0 <= start < end <= len(passage) and (not quote or passage[start:end].strip() == quote):
        return start, end
    found = passage.find(quote) if quote else -1
    return (found, found + len(quote)) if found >= 0 else None


def highlighted_passage(citation: Citation, context: int | None = None) -> str:
    """The citation's passage, escaped, with its supporting span wrapped in ``<mark>``.

    With ``context``, only about that many characters either side of the span are kept (cut at
    word boundaries, elided with "…")."""
    passage = citation.passage or ""
    span = _span(citation)
    if span is None:
        return _esc(passage)
    start, end = span
    before, after = passage[:start], passage[end:]
    if context is not None:
        if len(before) > context:
            cut = before[-context:]
            before = "…" + (cut.split(" ", 1)[1] if " " in cut else cut)
        if len(after) > context:
            cut = after[:context]
            after = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return f"{_esc(before)}<mark>{_esc(passage[start:end])}</mark>{_esc(after)}"


def _cite_links(escaped: str, known: set[int], prefix: str) -> str:
    """Replace ``[n]`` / ``[1, 2]`` markers in escaped text by superscript links to source cards."""

    def link(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
        if not all(n in known for n in numbers):
            return match.group(0)
        links = "".join(f'<a href="#{prefix}-{n}" title="Source {n}">[{n}]</a>' for n in numbers)
        return f'<sup class="nd-cite">{links}</sup>'

    return _MARKER.sub(link, escaped)


def _answer_body(text: str, unsupported: list[str], known: set[int], prefix: str) -> str:
    """The answer text with citation links, and each unsupported sentence marked."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for claim in unsupported:
        claim = claim.strip()
        found = text.find(claim, position) if claim else -1
        if found < 0:
            found = text.find(claim) if claim else -1
            if found < position:  # not found, or overlapping a piece already cut: leave it unmarked
                continue
        pieces.append((text[position:found], False))
        pieces.append((claim, True))
        position = found + len(claim)
    pieces.append((text[position:], False))
    out = []
    for piece, flagged in pieces:
        rendered = _cite_links(_esc(piece), known, prefix)
        if flagged:
            rendered = (
                '<span class="nd-unsupported" title="No cited article supports this sentence">'
                f'{rendered}<sup class="nd-flag">unverified</sup></span>'
            )
        out.append(rendered)
    return "".join(out)


def cited_numbers(text: str) -> list[int]:
    """The citation numbers an answer text refers to, in order of first use."""
    seen: list[int] = []
    for group in _MARKER.findall(text or ""):
        for n in re.split(r"\s*[,;]\s*", group):
            if int(n) not in seen:
                seen.append(int(n))
    return seen


def source_card(citation: Citation, prefix: str) -> str:
    """One cited source: number, title (linked when there is a URL), date, source, passage."""
    url = _safe_url(citation.url)
    title = _esc(citation.title or "Untitled article")
    title_html = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
    meta = [_date_text(citation.date) or "undated"]
    if citation.source:
        meta.append(_esc(citation.source))
    if url:
        meta.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener">open article ↗</a>')
    if citation.verified is False:
        meta.append('<span class="nd-flag">not verified</span>')
    return (
        f'<div class="nd-source" id="{prefix}-{citation.number}">'
        f'<div><span class="nd-num">[{citation.number}]</span><span class="nd-title">{title_html}</span></div>'
        f'<div class="nd-meta">{" · ".join(meta)}</div>'
        f"{_passage_html(citation)}"
        "</div>"
    )


EXCERPT_CONTEXT = 160  # characters of passage shown either side of the supporting span


def _passage_html(citation: Citation) -> str:
    """The passage with its span highlighted: an excerpt around the span when the passage is long,
    with the whole passage one click away."""
    whole = f'<div class="nd-passage">{highlighted_passage(citation)}</div>'
    if len(citation.passage or "") <= 3 * EXCERPT_CONTEXT or _span(citation) is None:
        return whole
    excerpt = highlighted_passage(citation, EXCERPT_CONTEXT)
    return (
        f'<div class="nd-passage nd-excerpt">{excerpt}</div>'
        f'<details class="nd-whole"><summary>Whole passage</summary>{whole}</details>'
    )


def render_answer(answer: Answer, prefix: str = "nd-1", *, known_notice: str = "") -> str:
    """An ``Answer`` as one HTML block for the chatbot: linked markers, marked unsupported
    sentences, a calm "don't say" state, notices and the cards of the cited sources only.

    ``prefix`` makes the source anchors unique in the page; a notice equal to ``known_notice`` (the
    backend status the page already shows) is not repeated under every answer."""
    parts = ['<div class="nd-msg">']
    if answer.refused:
        head, _, rest = (answer.text or "The articles don't say.").partition(". ")
        parts.append(
            '<div class="nd-refused">'
            f"<strong>{_esc(head.rstrip('.'))}.</strong> {_esc(rest)}"
            '<div class="nd-hint">Try rephrasing, widening the date range or sources, '
            "or add articles in the Articles tab.</div></div>"
        )
    else:
        by_number = {c.number: c for c in answer.citations}
        used = [n for n in cited_numbers(answer.text) if n in by_number] or sorted(by_number)
        parts.append(f"<p>{_answer_body(answer.text, list(answer.unsupported), set(by_number), prefix)}</p>")
        if answer.unsupported:
            count = len(answer.unsupported)
            parts.append(
                f'<div class="nd-warn">⚠ {count} sentence{"s" if count > 1 else ""} marked <em>unverified</em> '
                "could not be matched to any retrieved passage: treat with care.</div>"
            )
        if used:
            parts.append('<div class="nd-sources"><div class="nd-sources-title">Sources</div>')
            parts.extend(source_card(by_number[n], prefix) for n in used)
            parts.append("</div>")
    if answer.standalone_question:
        parts.append(f'<div class="nd-searched">Searched for: “{_esc(answer.standalone_question)}”</div>')
    if answer.notice and answer.notice != known_notice:
        parts.append(f'<div class="nd-notice">{_esc(answer.notice)}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_streaming(text: str) -> str:
    """The partial answer while an LLM writes (markers are linked once the answer is checked)."""
    return f'<div class="nd-msg nd-streaming">{_esc(text)}<span class="nd-cursor"> ▍</span></div>'


def render_pending() -> str:
    """The answer's place while the articles are searched (before any token or answer)."""
    return '<div class="nd-msg nd-pending">Searching the articles…</div>'


def render_question(question: str) -> str:
    """The user's question, escaped, in an HTML block (so "#", "*" etc. are not Markdown)."""
    return f'<div class="nd-q">{_esc(question)}</div>'


def render_error(message: str) -> str:
    return f'<div class="nd-msg nd-error">{_esc(message)}</div>'


def render_outcomes(outcomes: Iterable[Outcome]) -> str:
    """Result lines of an Articles action as an HTML list."""
    items = [
        f'<li class="nd-{o.kind}"><span class="nd-k">{html.escape(o.kind.upper())}</span>{_esc(o.text)}</li>' for o in outcomes
    ]
    return f'<ul class="nd-log">{"".join(items)}</ul>' if items else ""


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- uploads -----------------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """A client-supplied file name reduced to a plain, harmless base name (no folders, no dots
    in front, only ``[A-Za-z0-9._-]``), keeping its (double) extension."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-") or "upload"
    base = re.sub(r"\.{2,}", ".", base)
    if len(base) > 100:
        suffix = "".join(Path(base).suffixes[-2:])[-20:]
        base = base[: 100 - len(suffix)] + suffix
    return base


def _upload_suffix_ok(name: str) -> bool:
    return name.lower().endswith(UPLOAD_SUFFIXES)


# --- the app -----------------------------------------------------------------------------------------


class WebUI:
    """The web app's behaviour, one method per action, over one shared ``Assistant``."""

    def __init__(self, assistant, *, examples: list[str] | None = None) -> None:
        self.assistant = assistant
        self.settings: Settings = assistant.settings
        self.examples = list(EXAMPLES if examples is None else examples)
        self.uploads_dir = Path(self.settings.data_dir) / "uploads"

    # --- chat ----------------------------------------------------------------------------------------

    def options(self, top_k=None, date_from=None, date_to=None, sources=None) -> dict:
        """Chat controls → ``Conversation.stream`` options; ``OptionError`` names what to fix."""
        options: dict[str, Any] = {}
        if top_k not in (None, "", 0):
            try:
                options["top_k"] = max(1, min(MAX_TOP_K, int(top_k)))
            except (TypeError, ValueError):
                raise OptionError(f"The number of passages must be a whole number, not “{top_k}”.") from None
        for key, value, label in (("date_from", date_from, "From"), ("date_to", date_to, "To")):
            if value in (None, ""):
                continue
            parsed = parse_date(value)
            if parsed is None:
                raise OptionError(f"Could not read the “{label}” date “{value}”: use YYYY-MM-DD.")
            options[key] = parsed
        if options.get("date_from") and options.get("date_to") and options["date_from"] > options["date_to"]:
            raise OptionError("The “From” date is after the “To” date.")
        if sources:
            options["sources"] = [sources] if isinstance(sources, str) else list(sources)
        return options

    def chat(self, question, history, session, top_k=None, date_from=None, date_to=None, sources=None):
        """Stream one turn: yields (question box value, chat history, session) as the answer grows."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            yield "", list(history), session
            return
        if not isinstance(session, ChatSession):
            session = ChatSession(Conversation(self.assistant))
        session.turn += 1
        prefix = f"nd-{session.turn}"
        history.append({"role": "user", "content": render_question(question)})
        history.append({"role": "assistant", "content": render_pending()})
        yield "", list(history), session
        try:
            options = self.options(top_k, date_from, date_to, sources)
            text = ""
            for event in session.conversation.stream(question, **options):
                if event.answer is not None:
                    content = render_answer(event.answer, prefix, known_notice=self._backend_notice())
                    history[-1] = {"role": "assistant", "content": content}
                elif event.text:
                    text += event.text
                    history[-1] = {"role": "assistant", "content": render_streaming(text)}
                yield "", list(history), session
        except OptionError as error:
            history[-1] = {"role": "assistant", "content": render_error(str(error))}
            yield "", list(history), session
        except Exception as error:  # one clear line in the chat; the traceback goes to the server log
            log.exception("answering %r failed", question)
            history[-1] = {"role": "assistant", "content": render_error(f"Could not answer: {_one_line(error)}")}
            yield "", list(history), session

    def _backend_notice(self) -> str:
        try:
            return self.assistant.llm_status()
        except Exception:
            return ""

    def new_chat(self, session=None):
        """Forget the conversation: (empty history, no session, empty question box)."""
        if isinstance(session, ChatSession):
            session.conversation.reset()
        return [], None, ""

    def ask(
        self,
        question: str,
        top_k: int = 0,
        date_from: str = "",
        date_to: str = "",
        sources: list[str] | None = None,
        as_of: str = "",
    ) -> dict:
        """Answer a question from the indexed articles (stateless; no conversation).

        Returns the answer as JSON: `text` with [n] markers, `citations` (number, title, date, source,
        url, passage, quote, offsets), `refused` (the articles don't say), `unsupported` sentences,
        `notice` and `mode`.
        """
        try:
            options = self.options(top_k, date_from, date_to, sources)
            if as_of:
                parsed = parse_date(as_of)
                if parsed is None:
                    raise OptionError(f"Could not read the as-of date “{as_of}”: use YYYY-MM-DD.")
                options["as_of"] = parsed
        except OptionError as error:
            raise gr.Error(str(error)) from None
        try:
            return self.assistant.query(question or "", **options).to_dict()
        except Exception as error:
            log.exception("API question %r failed", question)
            raise gr.Error(f"Could not answer: {_one_line(error)}") from None

    def list_articles(self) -> list[dict]:
        """The indexed articles: id, title, date, source, url, chunks (newest first)."""
        return [
            {"id": a.id, "title": a.title, "date": _date_text(a.date) or None, "source": a.source, "url": a.url, "chunks": a.chunks}
            for a in self.assistant.articles()
        ]

    # --- status and listings -------------------------------------------------------------------------

    def status(self, articles: list[ArticleInfo] | None = None) -> str:
        """Markdown: which backend answers, and the size of the index."""
        try:
            backend = self.assistant.llm_status()
        except Exception as error:
            backend = f"unknown ({_one_line(error)})"
        try:
            articles = self.assistant.articles() if articles is None else articles
            index = f"{len(articles)} article{'s' if len(articles) != 1 else ''}, {sum(a.chunks for a in articles)} passages"
        except Exception as error:
            index = f"unavailable ({_one_line(error)})"
        return f"**Answers:** {backend}  \n**Index:** {index}"

    def source_choices(self, articles: list[ArticleInfo] | None = None) -> list[str]:
        """The distinct sources of the indexed articles (for the chat's source filter)."""
        articles = self.assistant.articles() if articles is None else articles
        return sorted({a.source for a in articles if a.source}, key=str.lower)

    def article_rows(self, search: str = "", articles: list[ArticleInfo] | None = None) -> list[list]:
        """Rows (title, date, source, chunks, id) of the indexed articles matching ``search``."""
        needle = (search or "").strip().lower()
        rows = []
        for a in self.assistant.articles() if articles is None else articles:
            row = [a.title, _date_text(a.date), a.source, a.chunks, a.id]
            if not needle or any(needle in str(value).lower() for value in row):
                rows.append(row)
        return rows

    @staticmethod
    def article_choices(rows: list[list]) -> list[tuple[str, str]]:
        """(label, id) pairs for the delete picker from table rows (the first ``MAX_PICKER`` of them)."""
        return [(f"{title} ({date or 'undated'}) · {aid}", aid) for title, date, _, _, aid in rows[:MAX_PICKER]]

    # --- adding articles -----------------------------------------------------------------------------

    def _titles(self) -> dict[str, str]:
        return {a.id: a.title for a in self.assistant.articles()}

    def _report_outcomes(self, report, label: str, origin_names: dict[str, str] | None = None) -> list[Outcome]:
        titles = self._titles()
        outcomes = []

        def named(text: str) -> str:
            for stored, shown in (origin_names or {}).items():
                text = text.replace(stored, shown)
            return text

        prefix = f"{label}: " if label else ""
        outcomes += [Outcome("added", f"{prefix}“{titles.get(i, i)}”") for i in report.added]
        outcomes += [Outcome("updated", f"{prefix}“{titles.get(i, i)}”") for i in report.updated]
        outcomes += [Outcome("unchanged", f"{prefix}“{titles.get(i, i)}” is already indexed") for i in report.unchanged]
        outcomes += [
            Outcome("duplicate", f"{prefix}same text as “{titles.get(owner, owner)}”, not stored again")
            for _, owner in report.duplicates
        ]
        outcomes += [Outcome("failed", f"{named(origin)}: {reason}") for origin, reason in report.failed]
        outcomes += [Outcome("removed", f"{titles.get(i, i)}") for i in report.removed]
        return outcomes

    def add_file(self, path: str | Path, name: str | None = None, on_progress: Callable | None = None) -> list[Outcome]:
        """Index one uploaded file, saved under ``data_dir/uploads/`` with a sanitised name.

        ``name`` is the name the client gave (default: the file's own); it is never used as a path.
        A file that is too large, of an unknown type or that yields no article changes nothing.
        """
        path = Path(path)
        shown = safe_filename(name or path.name)
        if not _upload_suffix_ok(shown):
            kinds = " ".join(UPLOAD_SUFFIXES)
            return [Outcome("failed", f"{shown}: unsupported file type; use one of {kinds}")]
        try:
            size = path.stat().st_size
        except OSError:
            return [Outcome("failed", f"{shown}: the upload did not arrive; try again")]
        limit = self.settings.max_upload_mb * 1e6
        if size > limit:
            return [Outcome("failed", f"{shown}: too large ({size / 1e6:.1f} MB > {self.settings.max_upload_mb:g} MB limit)")]
        if size == 0:
            return [Outcome("failed", f"{shown}: empty file")]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
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
            return [Outcome("failed", f"{shown}: could not index ({_one_line(error)}); nothing was changed")]
        if not (report.added or report.updated or report.unchanged) and not existed:
            target.unlink(missing_ok=True)  # nothing from it is indexed: keep no orphan copy
        return self._report_outcomes(report, shown, {str(target): shown})

    def _forget_file(self, target: Path, existed: bool) -> None:
        """After a failed ingest of ``target``: drop anything it left in the index, and the copy."""
        if existed:
            return
        try:
            stale = [
                e.id
                for e in self.assistant.store.registry().values()
                if e.origin == str(target) or e.origin.startswith((f"{target}:", f"{target}#"))
            ]
            if stale:
                self.assistant.remove(stale)
        except Exception:
            log.exception("cleaning up after %s failed", target)
        target.unlink(missing_ok=True)

    def add_files(self, files: Iterable, on_progress: Callable | None = None) -> Iterator[list[Outcome]]:
        """Index uploaded files one by one; yields the result lines of each file as it is done."""
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
        if (url or "").strip() and not _safe_url(url.strip()):
            return [Outcome("failed", "Pasted text: the link must start with http:// or https://")]
        try:
            report = self.assistant.ingest_text(
                text, title=(title or "").strip(), date=parsed, url=(url or "").strip(), source=(source or "").strip()
            )
        except Exception as error:
            log.exception("ingesting pasted text failed")
            return [Outcome("failed", f"Pasted text: could not index ({_one_line(error)})")]
        return self._report_outcomes(report, "Pasted text")

    def add_url(self, url: str) -> list[Outcome]:
        """Fetch a web page (or PDF) and index it."""
        url = (url or "").strip()
        if not is_url(url):
            return [Outcome("failed", f"“{url}” is not a web address: it must start with http:// or https://")]
        try:
            report = self.assistant.ingest([url], served_beyond_localhost=not is_local(self.settings.host))
        except Exception as error:
            log.exception("ingesting %s failed", url)
            return [Outcome("failed", f"{url}: could not index ({_one_line(error)})")]
        return self._report_outcomes(report, url)

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
            return [Outcome("failed", f"Could not delete: {_one_line(error)}")]
        corpus = Path(self.settings.corpus_dir).resolve()
        outcomes = []
        for i in ids:
            info = before.get(i)
            if info is None:
                outcomes.append(Outcome("info", f"{i} was not in the index"))
                continue
            note = ""
            origin = Path(re.sub(r"[:#]\d+$", "", info.origin)) if info.origin and not is_url(info.origin) else None
            if origin is not None and corpus in origin.parents and origin.exists():
                note = " (its file is still in the corpus folder: a re-sync adds it back)"
            outcomes.append(Outcome("removed", f"“{info.title}”{note}"))
        if removed < len([i for i in ids if i in before]):
            outcomes.append(Outcome("info", f"removed {removed} of {len(ids)}"))
        return outcomes

    def _drop_orphan_uploads(self, removed: list[ArticleInfo]) -> None:
        uploads = self.uploads_dir.resolve()
        files = {Path(re.sub(r"[:#]\d+$", "", a.origin)) for a in removed if a.origin and not is_url(a.origin)}
        files = {f for f in files if f.parent == uploads}
        if not files:
            return
        still_used = {Path(re.sub(r"[:#]\d+$", "", e.origin)) for e in self.assistant.store.registry().values() if e.origin}
        for f in files - still_used:
            f.unlink(missing_ok=True)

    def resync(self, on_progress: Callable | None = None) -> list[Outcome]:
        """Re-read the corpus folder: add new and changed files, drop articles whose files are gone."""
        corpus = Path(self.settings.corpus_dir)
        if not corpus.is_dir():
            return [Outcome("failed", f"The corpus folder {corpus} does not exist; nothing was changed")]
        try:
            titles_before = self._titles()
            report = self.assistant.ingest([corpus], sync=True, on_progress=on_progress)
        except Exception as error:
            log.exception("re-sync failed")
            return [Outcome("failed", f"Re-sync failed: {_one_line(error)}")]
        outcomes = [Outcome("info", f"Re-synced {corpus}: {report.summary()}")]
        titles = {**titles_before, **self._titles()}
        outcomes += [Outcome("added", f"“{titles.get(i, i)}”") for i in report.added]
        outcomes += [Outcome("updated", f"“{titles.get(i, i)}”") for i in report.updated]
        outcomes += [Outcome("removed", f"“{titles.get(i, i)}” (its file is gone)") for i in report.removed]
        outcomes += [Outcome("failed", f"{origin}: {reason}") for origin, reason in report.failed]
        return outcomes

    # --- Gradio glue: plain methods above → component updates ----------------------------------------

    def _refresh(self, search: str = ""):
        """(table rows, delete-picker update, sources-filter update, status) after the index changed."""
        try:
            articles = self.assistant.articles()
            rows = self.article_rows(search, articles)
            return (
                rows,
                gr.update(choices=self.article_choices(rows), value=[]),
                gr.update(choices=self.source_choices(articles)),
                self.status(articles),
            )
        except Exception as error:
            log.exception("listing articles failed")
            return [], gr.update(choices=[], value=[]), gr.update(), f"**Index:** unavailable ({_one_line(error)})"

    @staticmethod
    def _progress(progress) -> Callable[[int, str], None]:
        def update(seen: int, outcome: str) -> None:
            if progress is not None:
                progress((seen, None), desc=outcome[:80], unit="articles")

        return update

    def on_upload(self, files, search, progress=gr.Progress()):
        outcomes: list[Outcome] = []
        files = list(files or [])
        if not files:
            yield (render_outcomes([Outcome("info", "Choose one or more files first")]), *self._refresh(search), None)
            return
        for number, lines in enumerate(self.add_files(files, on_progress=self._progress(progress)), 1):
            outcomes += lines
            progress((number, len(files)), desc=f"{number} of {len(files)} files", unit="files")
            yield render_outcomes(outcomes), *self._refresh(search), gr.update()
        yield render_outcomes(outcomes), *self._refresh(search), None

    def on_paste(self, text, title, date, source, url, search):
        outcomes = self.add_text(text, title, date, source, url)
        clear = not any(o.kind == "failed" for o in outcomes)
        cleared = ("", "", "", "", "") if clear else (gr.update(),) * 5
        return (render_outcomes(outcomes), *self._refresh(search), *cleared)

    def on_url(self, url, search, progress=gr.Progress()):
        progress(None, desc="fetching")
        outcomes = self.add_url(url)
        return (render_outcomes(outcomes), *self._refresh(search), "" if not any(o.kind == "failed" for o in outcomes) else gr.update())

    def on_delete(self, ids, search):
        return (render_outcomes(self.delete(ids)), *self._refresh(search))

    def on_resync(self, search, progress=gr.Progress()):
        outcomes = self.resync(on_progress=self._progress(progress))
        return (render_outcomes(outcomes), *self._refresh(search))

    def on_search(self, search):
        rows, picker, _, _ = self._refresh(search)
        return rows, picker

    def on_example(self, evt: gr.SelectData):
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def on_row_select(self, evt: gr.SelectData):
        row = evt.row_value or []
        return [row[-1]] if row else []

    def on_load(self):
        rows, picker, sources, status = self._refresh("")
        return rows, picker, sources, status, status

    # --- the page ------------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        s = self.settings
        # delete_cache: Gradio's own copies of uploaded files go after an hour (ours live in data_dir/uploads).
        with gr.Blocks(title="newsdesk", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
            session = gr.State(None)
            gr.Markdown("# newsdesk\nAsk questions about the indexed news articles; every answer cites the passages it used.")
            with gr.Tabs():
                with gr.Tab("Chat", id="chat"):
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=3):
                            chatbot = gr.Chatbot(
                                elem_id="nd-chat",
                                label="Answers",
                                height="70vh",
                                layout="panel",
                                buttons=["copy"],
                                feedback_options=None,
                                placeholder="Ask about the articles in the index. Answers cite their sources [n].",
                                examples=[{"text": q} for q in self.examples] or None,
                            )
                            with gr.Row():
                                question = gr.Textbox(
                                    elem_id="nd-question",
                                    show_label=False,
                                    placeholder="Ask a question… (Enter to send)",
                                    scale=5,
                                    max_lines=4,
                                    autofocus=True,
                                )
                                send = gr.Button("Send", variant="primary", scale=1, elem_id="nd-send", min_width=80)
                            new_chat = gr.Button("New chat", size="sm", elem_id="nd-new-chat")
                        with gr.Column(scale=1, min_width=240):
                            status = gr.Markdown("**Answers:** …", elem_id="nd-status")
                            with gr.Group():
                                date_from = gr.DateTime(label="From", include_time=False, type="string", elem_id="nd-from")
                                date_to = gr.DateTime(label="To", include_time=False, type="string", elem_id="nd-to")
                                sources = gr.Dropdown(
                                    label="Sources",
                                    choices=[],
                                    multiselect=True,
                                    info="Empty: all sources",
                                    elem_id="nd-sources-filter",
                                )
                                top_k = gr.Slider(
                                    1, MAX_TOP_K, value=min(s.top_k, MAX_TOP_K), step=1, label="Passages", elem_id="nd-top-k"
                                )
                with gr.Tab("Articles", id="articles"):
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=2):
                            with gr.Tabs():
                                with gr.Tab("Upload files"):
                                    files = gr.File(
                                        label=f"Articles ({', '.join(UPLOAD_SUFFIXES)}; up to {s.max_upload_mb:g} MB each)",
                                        file_count="multiple",
                                        type="filepath",
                                        elem_id="nd-files",
                                    )
                                    upload = gr.Button("Add files", variant="primary", elem_id="nd-upload")
                                with gr.Tab("Paste text"):
                                    paste_title = gr.Textbox(label="Title", elem_id="nd-paste-title")
                                    with gr.Row():
                                        paste_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", elem_id="nd-paste-date")
                                        paste_source = gr.Textbox(label="Source", placeholder="e.g. apnews.com", elem_id="nd-paste-source")
                                    paste_url = gr.Textbox(label="Link (optional)", placeholder="https://…", elem_id="nd-paste-url")
                                    paste_text = gr.Textbox(label="Article text", lines=8, elem_id="nd-paste-text")
                                    paste = gr.Button("Add text", variant="primary", elem_id="nd-paste")
                                with gr.Tab("Add URL"):
                                    url = gr.Textbox(label="Web page or PDF", placeholder="https://…", elem_id="nd-url")
                                    fetch = gr.Button("Fetch and add", variant="primary", elem_id="nd-fetch")
                            result = gr.HTML(elem_id="nd-result")
                        with gr.Column(scale=3):
                            articles_status = gr.Markdown(elem_id="nd-articles-status")
                            with gr.Row():
                                search = gr.Textbox(
                                    label="Search articles", placeholder="title, source, date or id", scale=4, elem_id="nd-search"
                                )
                                resync = gr.Button(f"Re-sync {Path(s.corpus_dir).name}/", scale=1, elem_id="nd-resync")
                            table = gr.Dataframe(
                                headers=["Title", "Date", "Source", "Chunks", "ID"],
                                datatype=["str", "str", "str", "number", "str"],
                                interactive=False,
                                column_widths=["44%", "15%", "17%", "10%", "14%"],
                                max_height=420,
                                elem_id="nd-articles",
                            )
                            with gr.Row():
                                to_delete = gr.Dropdown(
                                    label="Delete articles",
                                    info="Pick from the list (the search narrows it) or click a row of the table",
                                    choices=[],
                                    multiselect=True,
                                    scale=4,
                                    elem_id="nd-delete-pick",
                                )
                                delete = gr.Button("Delete", variant="stop", scale=1, elem_id="nd-delete")

            # chat
            chat_inputs = [question, chatbot, session, top_k, date_from, date_to, sources]
            chat_outputs = [question, chatbot, session]
            chat_args = dict(concurrency_limit=4, concurrency_id="chat", api_visibility="private", show_progress="hidden")
            question.submit(self.chat, chat_inputs, chat_outputs, **chat_args)
            send.click(self.chat, chat_inputs, chat_outputs, **chat_args)
            chatbot.example_select(
                self.on_example,
                None,
                question,
                api_visibility="private",
                queue=False,
            ).then(self.chat, chat_inputs, chat_outputs, **chat_args)
            new_chat.click(self.new_chat, [session], [chatbot, session, question], api_visibility="private", queue=False)
            chatbot.clear(self.new_chat, [session], [chatbot, session, question], api_visibility="private", queue=False)

            # articles
            refreshed = [table, to_delete, sources, articles_status]
            writes = dict(concurrency_limit=1, concurrency_id="articles", api_visibility="private")
            upload.click(self.on_upload, [files, search], [result, *refreshed, files], **writes).then(
                lambda text: text, articles_status, status, api_visibility="private", queue=False
            )
            paste.click(
                self.on_paste,
                [paste_text, paste_title, paste_date, paste_source, paste_url, search],
                [result, *refreshed, paste_text, paste_title, paste_date, paste_source, paste_url],
                **writes,
            ).then(lambda text: text, articles_status, status, api_visibility="private", queue=False)
            fetch.click(self.on_url, [url, search], [result, *refreshed, url], **writes).then(
                lambda text: text, articles_status, status, api_visibility="private", queue=False
            )
            delete.click(self.on_delete, [to_delete, search], [result, *refreshed], **writes).then(
                lambda text: text, articles_status, status, api_visibility="private", queue=False
            )
            resync.click(self.on_resync, [search], [result, *refreshed], **writes).then(
                lambda text: text, articles_status, status, api_visibility="private", queue=False
            )
            search.change(self.on_search, [search], [table, to_delete], api_visibility="private", show_progress="hidden")
            table.select(self.on_row_select, None, to_delete, api_visibility="private", queue=False)

            demo.load(self.on_load, None, [table, to_delete, sources, status, articles_status], api_visibility="private")

            # programmatic use (gradio_client): the only public endpoints
            gr.api(self.ask, api_name="ask", concurrency_limit=4, concurrency_id="chat")
            gr.api(self.list_articles, api_name="articles")
        demo.queue(default_concurrency_limit=2, max_size=256)
        return demo


def build_ui(assistant, *, examples: list[str] | None = None) -> gr.Blocks:
    """The web app for ``assistant`` (a ``gr.Blocks``, not yet launched)."""
    return WebUI(assistant, examples=examples).build()


# --- serving -------------------------------------------------------------------------------------------


def is_local(host: str) -> bool:
    """True when ``host`` is reachable only from this machine (loopback)."""
    host = (host or "").strip().strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(settings: Settings) -> dict:
    """``demo.launch`` arguments from the settings; ``LaunchError`` when they are unsafe.

    A password (``auth_user`` + ``auth_password``) is required whenever ``host`` is not a loopback
    address, and used whenever set."""
    auth = None
    if settings.auth_password or settings.auth_user:
        if not (settings.auth_user and settings.auth_password):
            missing = "RAG_AUTH_PASSWORD (auth_password)" if settings.auth_user else "RAG_AUTH_USER (auth_user)"
            raise LaunchError(f"Web app login is half configured: set {missing} too, or neither.")
        auth = (settings.auth_user, settings.auth_password)
    if not is_local(settings.host) and auth is None:
        raise LaunchError(
            f"Refusing to serve on {settings.host}: that address is reachable from other machines, and no password "
            "is set. Set RAG_AUTH_USER and RAG_AUTH_PASSWORD (auth_user/auth_password in rag.toml), "
            "or bind to 127.0.0.1 (RAG_HOST)."
        )
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "auth_message": "newsdesk: sign in with the user and password from the server's settings." if auth else None,
        "max_file_size": int(settings.max_upload_mb * 1e6),
        "footer_links": ["api", "settings"],
        "run_history": False,
        "enable_monitoring": False,
        "show_error": False,
        "css": CSS,
    }


def startup_message(settings: Settings) -> str:
    """What the server prints at start: where it listens, and whether a password protects it."""
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    where = f"http://{shown}:{settings.port}"
    if is_local(settings.host):
        access = "local only" + (f"; password required (user {settings.auth_user!r})" if settings.auth_password else "")
        return f"newsdesk: serving on {where} ({access})"
    return (
        f"newsdesk: serving on {where}, reachable from other machines; "
        f"password required (user {settings.auth_user!r}). Uploads limited to {settings.max_upload_mb:g} MB."
    )


def launch(demo: gr.Blocks, settings: Settings, **overrides):
    """Serve ``demo`` with ``launch_options(settings)``; ``overrides`` win (e.g. ``server_port``,
    ``prevent_thread_lock`` in tests). Returns what ``demo.launch`` returns."""
    options = launch_options(settings)
    options.update(overrides)
    return demo.launch(**options)


def prepare(assistant, out=sys.stdout) -> Any:
    """First start: when the index is empty, index the corpus folder with a progress bar.

    Returns the ``IngestReport``, or None when there was nothing to do."""
    corpus = Path(assistant.settings.corpus_dir)
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


__all__ = [
    "CSS",
    "ChatSession",
    "LaunchError",
    "OptionError",
    "Outcome",
    "WebUI",
    "build_ui",
    "is_local",
    "launch",
    "launch_options",
    "prepare",
    "render_answer",
    "safe_filename",
    "startup_message",
]
