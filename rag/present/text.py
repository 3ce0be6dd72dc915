"""Presentation rules every face shares (CLI, web page, Markdown export, LLM prompts), each written once.

How a date is shown (YYYY-MM-DD, or "undated"; an answer's evidence dates), the words of the "the articles
don't say" answer, the stage lines of a streamed answer ("Searching the articles…"), and how a character
span is written ("START-END"). Plain functions, no imports from the rest of the
package; the formats built on them (HTML, Markdown, terminal lines) are the faces' own.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

UNDATED = "undated"
DONT_SAY = "The articles don't say."  # the refusal's first sentence; the LLM is asked to reply exactly this

# Control characters a terminal acts on (ANSI escape sequences start with ESC, BEL rings, CR rewrites
# the line), C1 controls and lone surrogates (which cannot be printed as UTF-8): never shown as they are.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


# What an answer is doing now (``StreamEvent`` kind "stage"), worded once for every face.
SEARCHING = "Searching the articles…"
CHECKING = "Checking the short answer against its sentence…"
STOPPED = "Stopped: the short answer was not written. The evidence above is quoted from the articles."


def writing_stage(sentences: int) -> str:
    """The stage line while the LLM reads ``sentences`` sentences and writes the short answer."""
    return f"Reading {sentences} sentence{'s' if sentences != 1 else ''}, writing the short answer…"


def as_sentence(text: str) -> str:
    """A message as a sentence for the page: its first letter a capital."""
    return text[:1].upper() + text[1:]


_SPAN = re.compile(r"\s*(\d{1,9})\s*[-:]\s*(\d{1,9})\s*")


def printable(text: str) -> str:
    """``text`` with every control character but newline and tab (ANSI escapes, BEL, CR) and lone
    surrogates removed: what a terminal may be given from an article."""
    return _CONTROL.sub("", text)


def date_text(value: Any) -> str:
    """A date as YYYY-MM-DD ("" for none)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value) if value else ""


def date_label(value: Any) -> str:
    """A date as YYYY-MM-DD, or "undated" when there is none."""
    return date_text(value) or UNDATED


def parse_span(text: str, *, nonempty: bool = False) -> tuple[int, int]:
    """(start, end) character offsets from "START-END" (or "START:END"); ``ValueError`` if it is not one,
    or, with ``nonempty``, if it covers no character."""
    match = _SPAN.fullmatch(text or "")
    span = (int(match.group(1)), int(match.group(2))) if match else None
    if span is None or (nonempty and span[0] >= span[1]):
        raise ValueError(f"not a span: {(text or '')[:40]!r} (use START-END character offsets, e.g. 120-245)")
    return span


def evidence_dates(answer: Any) -> str:
    """The date range of an answer's evidence: "Evidence from 2025-11-18 to 2025-11-28" ("" when undated)."""
    first, last = getattr(answer, "evidence_from", None), getattr(answer, "evidence_to", None)
    if not last:
        return ""
    if first == last:
        return f"Evidence from {date_text(last)}"
    return f"Evidence from {date_text(first)} to {date_text(last)}"
