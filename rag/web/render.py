"""Rendering for the web chat: answers, sources and result lines as HTML (pure functions, no Gradio).

An answer's ``[n]`` markers become superscript links to the source cards printed under the answer
(one card per cited passage: title, date, source, link, the passage with the supporting span in
``<mark>``); sentences the citation verifier could not support are underlined and flagged; "the
articles don't say" is rendered as a calm notice, not an error. All answer and article text is
HTML-escaped before markup is added, and the chatbot sanitises what remains. Which citations are
kept and verified is ``cite.py``'s; the page around these blocks is ``webui.py``'s.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from typing import Any

from rag.ingest.library import Outcome
from rag.ingest.sources import is_url
from rag.answer.cite import MARKER, marker_numbers
from rag.types import Answer, Citation

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




def _esc(text: str) -> str:
    """HTML-escape ``text`` and keep its line breaks without ever producing a blank line (which
    would end the HTML block in the chatbot's Markdown renderer)."""
    escaped = html.escape(text or "", quote=True)
    escaped = re.sub(r"\n[ \t]*\n\s*", "<br><br>", escaped)
    return escaped.replace("\n", "<br>")


def safe_url(url: str) -> str:
    """``url`` if it is an http(s) link, else "" (no ``javascript:`` or ``data:`` links in the page)."""
    return url if is_url(url or "") else ""


def date_text(value: Any) -> str:
    """A date as YYYY-MM-DD ("" for none)."""
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
        numbers = marker_numbers(match.group(1))
        if not all(n in known for n in numbers):
            return match.group(0)
        links = "".join(f'<a href="#{prefix}-{n}" title="Source {n}">[{n}]</a>' for n in numbers)
        return f'<sup class="nd-cite">{links}</sup>'

    return MARKER.sub(link, escaped)


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
    for group in MARKER.findall(text or ""):
        for n in marker_numbers(group):
            if n not in seen:
                seen.append(n)
    return seen


READ_PREFIX = "#nd-read/"  # a link to the article reader (render_news.py, webui_news.py)
MAX_SPANS = 32  # spans carried by one reader link


def read_link(article_id: str, spans) -> str:
    """The fragment that opens ``article_id`` in the reader with ``spans`` ((start, end) offsets) highlighted."""
    from urllib.parse import quote

    return f"{READ_PREFIX}{quote(article_id, safe='')}/" + ",".join(f"{int(a)}-{int(b)}" for a, b in list(spans)[:MAX_SPANS])


def source_card(citation: Citation, prefix: str, read_spans=None) -> str:
    """One cited source: number, title (linked when there is a URL), date, source, passage, and a link
    to the whole article in the reader with ``read_spans`` (default: this citation's span) highlighted."""
    url = safe_url(citation.url)
    title = _esc(citation.title or "Untitled article")
    title_html = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
    meta = [date_text(citation.date) or "undated"]
    if citation.source:
        meta.append(_esc(citation.source))
    if url:
        meta.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener">open article ↗</a>')
    spans = read_spans or [(citation.start, citation.end)]
    meta.append(f'<a class="nd-read-link" href="{html.escape(read_link(citation.article_id, spans))}">read the article</a>')
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
            spans: dict[str, list] = {}  # every span this answer cites in each article, highlighted together
            for n in used:
                spans.setdefault(by_number[n].article_id, []).append((by_number[n].start, by_number[n].end))
            parts.extend(source_card(by_number[n], prefix, spans[by_number[n].article_id]) for n in used)
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
    """A one-line error in the chat (the traceback, if any, goes to the server log)."""
    return f'<div class="nd-msg nd-error">{_esc(message)}</div>'


def render_outcomes(outcomes: Iterable[Outcome]) -> str:
    """Result lines of an Articles action as an HTML list."""
    items = [
        f'<li class="nd-{o.kind}"><span class="nd-k">{html.escape(o.kind.upper())}</span>{_esc(o.text)}</li>' for o in outcomes
    ]
    return f'<ul class="nd-log">{"".join(items)}</ul>' if items else ""
