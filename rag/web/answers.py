"""The chat's HTML: answers with their sources, the question, streaming and pending states, errors,
and the Articles tab's result lines (pure functions over typed results, no Gradio).

An answer's ``[n]`` markers become superscript links to the source cards printed under the answer
(one card per cited passage: title, date, source, link, the passage with the supporting span in
``<mark>``); sentences the citation verifier could not support are underlined and flagged; "the
articles don't say" is rendered as a calm notice, not an error; each cited claim shows who else reports it
(and any conflicting number), and the answer the dates of its evidence and, when stale, a notice. The markup is the templates'
(``templates/answer.html``, ``templates/chat.html``, autoescaped); this module decides what goes in.
Which citations are kept and verified is ``answer.cite``'s; the page around these blocks is ``app.py``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup

from rag.answer.cite import MARKER, marker_numbers
from rag.ingest.library import Outcome
from rag.present.text import DONT_SAY, SEARCHING, date_label, evidence_dates
from rag.types import Answer, Citation
from rag.web.links import read_link, safe_url
from rag.web.templating import render, text_html

EXCERPT_CONTEXT = 160  # characters of passage shown either side of the supporting span


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


def highlighted_passage(citation: Citation, context: int | None = None) -> Markup:
    """The citation's passage, escaped, with its supporting span wrapped in ``<mark>``.

    With ``context``, only about that many characters either side of the span are kept (cut at
    word boundaries, elided with "…")."""
    passage = citation.passage or ""
    span = _span(citation)
    if span is None:
        return text_html(passage)
    start, end = span
    before, after = passage[:start], passage[end:]
    if context is not None:
        if len(before) > context:
            cut = before[-context:]
            before = "…" + (cut.split(" ", 1)[1] if " " in cut else cut)
        if len(after) > context:
            cut = after[:context]
            after = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return render("answer.html", "passage", before=before, marked=passage[start:end], after=after)


def _cite_links(text: str, known: set[int], prefix: str) -> Markup:
    """``text`` escaped, its ``[n]`` / ``[1, 2]`` markers as superscript links to the source cards."""

    def link(match: re.Match) -> str:
        numbers = marker_numbers(match.group(1))
        if not all(n in known for n in numbers):
            return match.group(0)
        return render("answer.html", "cite", numbers=numbers, prefix=prefix)

    return Markup(MARKER.sub(link, text_html(text)))


def _answer_body(text: str, unsupported: list[str], known: set[int], prefix: str) -> Markup:
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
    out = Markup()
    for piece, flagged in pieces:
        rendered = _cite_links(piece, known, prefix)
        out += render("answer.html", "unsupported", body=rendered) if flagged else rendered
    return out


def cited_numbers(text: str) -> list[int]:
    """The citation numbers an answer text refers to, in order of first use."""
    seen: list[int] = []
    for group in MARKER.findall(text or ""):
        for n in marker_numbers(group):
            if n not in seen:
                seen.append(n)
    return seen


def source_card(citation: Citation, prefix: str, read_spans=None) -> Markup:
    """One cited source: number, title (linked when there is a URL), date, source, passage, and a link
    to the whole article in the reader with ``read_spans`` (default: this citation's span) highlighted.

    A long passage shows an excerpt around the span, the whole passage one click away."""
    long = len(citation.passage or "") > 3 * EXCERPT_CONTEXT and _span(citation) is not None
    return render(
        "answer.html",
        "source_card",
        c=citation,
        prefix=prefix,
        url=safe_url(citation.url),
        date=date_label(citation.date),
        read_href=read_link(citation.article_id, read_spans or [(citation.start, citation.end)]),
        whole=highlighted_passage(citation),
        excerpt=highlighted_passage(citation, EXCERPT_CONTEXT) if long else "",
    )


def render_answer(answer: Answer, prefix: str = "nd-1", *, known_notice: str = "", writing: bool = False, stage: str = "") -> str:
    """An ``Answer`` as one HTML block for the chatbot: the short answer (or, with ``writing``, the
    ``stage`` line, "writing the short answer…" by default), the evidence quoted with linked markers,
    marked unsupported sentences, a calm "don't say" state, notices and the cards of the cited sources only.

    ``prefix`` makes the source anchors unique in the page; a notice equal to ``known_notice`` (the
    backend status the page already shows) is not repeated under every answer."""
    head, _, rest = (answer.text or DONT_SAY).partition(". ")
    body, cards, short, evidence = Markup(), [], Markup(), []
    if not answer.refused:
        by_number = {c.number: c for c in answer.citations}
        quoted = [c.number for c in answer.evidence]
        used = [n for n in [*cited_numbers(answer.text), *quoted] if n in by_number] or sorted(by_number)
        used = list(dict.fromkeys(used))
        if answer.mode == "llm":
            short = _answer_body(answer.text, list(answer.unsupported), set(by_number), prefix)
        elif not answer.evidence:
            body = _answer_body(answer.text, list(answer.unsupported), set(by_number), prefix)
        evidence = [
            dict(quote=c.quote.strip(), cite=render("answer.html", "cite", numbers=[c.number], prefix=prefix), title=c.title or "Untitled article", date=date_label(c.date), source=c.source, corroboration=c.corroboration)
            for c in answer.evidence
        ]
        spans: dict[str, list] = {}  # every span this answer cites in each article, highlighted together
        for n in used:
            spans.setdefault(by_number[n].article_id, []).append((by_number[n].start, by_number[n].end))
        cards = [source_card(by_number[n], prefix, spans[by_number[n].article_id]) for n in used]
    return str(
        render(
            "answer.html",
            "answer",
            refused=answer.refused,
            head=head.rstrip("."),
            rest=rest,
            body=body,
            unsupported_count=0 if answer.refused else len(answer.unsupported),
            cards=cards,
            searched=answer.standalone_question or "",
            notice=answer.notice if answer.notice and answer.notice != known_notice else "",
            short=short,
            evidence=evidence,
            writing=writing and not short,
            stage=stage or "writing the short answer…",
            freshness="" if answer.refused else answer.freshness,
            dates="" if answer.refused else evidence_dates(answer),
        )
    )


def render_pending(stage: str = SEARCHING) -> str:
    """The answer's place before the evidence, saying the ``stage`` the answer is in."""
    return str(render("chat.html", "pending", stage=stage))


def render_stopped() -> str:
    """The answer's place when Stop was pressed before any evidence was shown."""
    return str(render("chat.html", "stopped"))


def render_question(question: str) -> str:
    """The user's question, escaped, in an HTML block (so "#", "*" etc. are not Markdown)."""
    return str(render("chat.html", "question", text=question))


def render_error(message: str) -> str:
    """A one-line error in the chat (the traceback, if any, goes to the server log)."""
    return str(render("chat.html", "error", message=message))


def render_outcomes(outcomes: Iterable[Outcome]) -> str:
    """Result lines of an Articles action as an HTML list."""
    return str(render("chat.html", "outcomes", items=list(outcomes)))
