"""Markdown export: an answer, a conversation, a story timeline or its changes as Markdown with numbered footnotes.

Each ``[n]`` marker of an answer becomes a footnote reference ``[^k]``, numbered on through the whole
document, and each footnote gives the cited article's title, date, source, URL and the quoted span
(and who else reports it, with any conflicting number). An answer ends with its evidence's dates.
Sentences the citation check could not support are flagged; "the articles don't say" stays as it is.
Text that came from articles (titles, quotes) is escaped so it cannot add Markdown of its own (links,
emphasis, HTML). Formatting only: used by ``rag ask --markdown`` and the web app's download buttons;
the ``Answer``/``Citation``/``Timeline`` objects are ``types.py``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from rag.answer.cite import MARKER, marker_numbers
from rag.present.text import DONT_SAY, date_label, evidence_dates
from rag.types import Answer, Changes, Citation, Timeline

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def escape(text: str) -> str:
    """``text`` on one line with Markdown's special characters escaped (so it is shown, never interpreted)."""
    return _SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _url(url: str) -> str:
    """An http(s) URL as an autolink, else "" (no ``javascript:`` links in an exported file)."""
    if not re.match(r"^https?://[^\s<>]+$", url or "", re.IGNORECASE):
        return ""
    return f"<{url}>"


def footnote(key: int, citation: Citation) -> str:
    """One footnote: title, date, source, URL, then the quoted span (on an indented continuation line)."""
    parts = [f"*{escape(citation.title or 'Untitled article')}*", date_label(citation.date)]
    if citation.source:
        parts.append(escape(citation.source))
    link = _url(citation.url)
    if link:
        parts.append(link)
    if citation.verified is False:
        parts.append("(not verified)")
    quote = escape(citation.quote.strip())
    lines = [f"[^{key}]: {', '.join(parts)}.", f"    > “{quote}”"]
    if citation.corroboration:  # who else states it (answer/corroborate.py), on continuation lines
        lines.append(f"\n    {escape(citation.corroboration.summary)}")
        lines += [f"    ⚠ {escape(x.text)}." for x in citation.corroboration.conflicts]
    return "\n".join(lines)


class _Numbering:
    """Footnote keys numbered on through a document: answer 2's [1] becomes [^3] after answer 1's two."""

    def __init__(self) -> None:
        self.next = 1

    def assign(self, citations: list[Citation]) -> dict[int, int]:
        keys = {}
        for c in sorted(citations, key=lambda c: c.number):
            keys[c.number] = self.next
            self.next += 1
        return keys


def _body(answer: Answer, keys: dict[int, int]) -> str:
    """The answer text with its markers as footnote references and unsupported sentences flagged."""
    text = answer.text or ""
    for claim in answer.unsupported:
        claim = claim.strip()
        if claim and claim in text:
            text = text.replace(claim, f"{claim} ⚠ *(unverified)*", 1)

    def reference(match: re.Match) -> str:
        numbers = marker_numbers(match.group(1))
        if not all(n in keys for n in numbers):
            return match.group(0)
        return "".join(f"[^{keys[n]}]" for n in numbers)

    # Escape the answer text outside its markers (an LLM may write * or _), then link the markers.
    pieces, position = [], 0
    for match in MARKER.finditer(text):
        pieces.append(_escape_keep(text[position : match.start()]))
        pieces.append(reference(match))
        position = match.end()
    pieces.append(_escape_keep(text[position:]))
    return re.sub(r"\s+(\[\^\d+\])", r"\1", "".join(pieces)).strip()


def _escape_keep(text: str) -> str:
    """Escape ``text`` but keep the flag this module added."""
    flag = " ⚠ *(unverified)*"
    return flag.join(_SPECIAL.sub(r"\\\1", part) for part in text.split(flag))


def _answer_block(answer: Answer, numbering: _Numbering, heading: str) -> str:
    lines = [heading, ""] if heading else []
    if answer.refused:
        lines.append(_escape_keep(answer.text or DONT_SAY))
        return "\n".join(lines)
    cited = {n for group in MARKER.findall(answer.text or "") for n in marker_numbers(group)}
    cited |= {c.number for c in answer.evidence}
    citations = [c for c in answer.citations if c.number in cited] or list(answer.citations)
    keys = numbering.assign(citations)
    if answer.mode == "llm":
        lines.append(f"**Answer:** {_body(answer, keys)}")
    elif not answer.evidence:
        lines.append(_body(answer, keys))
    if answer.evidence:  # quoted, never paraphrased: the detail under the short answer
        lines += ["", "Evidence, quoted from the articles:", ""]
        lines += [
            f"- “{escape(c.quote.strip())}”{' — ' + escape(c.speaker) if c.speaker else ''}[^{keys[c.number]}]"  # who said it
            for c in answer.evidence if c.number in keys
        ]
    if answer.notice:
        lines += ["", f"*{escape(answer.notice)}*"]
    if answer.evidence_to:
        lines += ["", f"*{evidence_dates(answer)}.*" + (f" **{escape(answer.freshness)}**" if answer.freshness else "")]
    if citations:
        lines.append("")
        lines += [footnote(keys[c.number], c) for c in sorted(citations, key=lambda c: c.number)]
    return "\n".join(lines)


def answer_markdown(answer: Answer, *, heading: bool = True) -> str:
    """One answer as Markdown: the question as a heading, the answer with footnotes, the footnotes."""
    title = f"## {escape(answer.question)}" if heading and answer.question else ""
    return _answer_block(answer, _Numbering(), title) + "\n"


def conversation_markdown(answers: Iterable[Answer], *, title: str = "newsdesk conversation", when: dt.datetime | None = None) -> str:
    """A conversation (its answers in order) as one Markdown document, footnotes numbered throughout."""
    when = when or dt.datetime.now().astimezone()
    numbering = _Numbering()
    blocks = [f"# {escape(title)}", "", f"*Exported {when.strftime('%Y-%m-%d %H:%M')} from newsdesk.*"]
    for answer in answers:
        blocks += ["", _answer_block(answer, numbering, f"## {escape(answer.question or 'Question')}")]
    return "\n".join(blocks) + "\n"


def timeline_markdown(timeline: Timeline) -> str:
    """A story timeline as a dated list, each entry's sentence quoted and footnoted."""
    lines = [f"## Timeline: {escape(timeline.query)}", ""]
    if not timeline.entries:
        return "\n".join(lines + [escape(timeline.notice or "No article matches.")]) + "\n"
    for entry in timeline.entries:
        lines.append(f"- **{date_label(entry.date)}** — *{escape(entry.title)}* ({escape(entry.source or '-')}): “{escape(entry.citation.quote)}”[^{entry.citation.number}]")
    lines.append("")
    lines += [footnote(e.citation.number, e.citation) for e in timeline.entries]
    return "\n".join(lines) + "\n"


def changes_markdown(changes: Changes) -> str:
    """What is new in a story since a date, as a dated list of quoted facts, footnoted."""
    lines = [f"## New since {date_label(changes.since)}: {escape(changes.topic)}", ""]
    for c in changes.entries:
        lines.append(f"- **{date_label(c.date)}** “{escape(c.quote)}”[^{c.number}]")
    if changes.entries:
        lines += ["", f"*{changes.restated} restated fact{'s' if changes.restated != 1 else ''} left out.*"]
    if changes.notice:
        lines += ["", escape(changes.notice)]
    if changes.entries:
        lines += ["", *(footnote(c.number, c) for c in changes.entries)]
    return "\n".join(lines) + "\n"
