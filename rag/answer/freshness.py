"""Fresh or stale: the date range of an answer's evidence, and a notice when a question about the
present is answered from old articles.

A question asks about the present when it says so ("now", "latest", "currently", "still", "so far",
...) or asks in the present progressive ("Is Peru deploying troops?"), and names no past time (a year,
a month, "yesterday", "last week", "ago"): those ask about then, and old evidence is what they want.
When such a question's newest dated evidence is more than ``stale_after_days`` before the as-of day
(default today), the answer says so: "The newest article on this is from 12 days ago (2025-11-16)."
Every answer carries the oldest and newest date of its evidence (``Answer.evidence_from``/``_to``),
which the faces show. Hand-written word lists rather than a tagger: the cue words are few and the
rule has to be explainable to a reader; a past-time mention always wins, so the notice errs silent.
"""

from __future__ import annotations

import datetime as dt
import re

from rag.types import Answer

_PRESENT = re.compile(
    r"\b(now|nowadays|latest|currently|current|still|today|tonight|so far|as of yet|yet|ongoing|"
    r"at the moment|at present|these days|anymore|any more|status)\b",
    re.IGNORECASE,
)
_PROGRESSIVE = re.compile(r"^\s*(?:\w+\s+)?(?:is|are|am)\b.*\b\w{3,}ing\b", re.IGNORECASE)
_PAST = re.compile(
    r"\b((?:19|20)\d\d|yesterday|ago|last (?:week|month|year|night|weekend|spring|summer|fall|autumn|winter)|"
    r"earlier this (?:week|month|year)|in the past|back in|did|was|were|had)\b",
    re.IGNORECASE,
)
# Month names with a capital: "may" the verb is not May.
_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December|"
                    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?")


def asks_about_present(question: str) -> bool:
    """Whether ``question`` asks how things stand now (see the module docstring)."""
    if _PAST.search(question) or _MONTH.search(question):
        return False
    return bool(_PRESENT.search(question) or _PROGRESSIVE.search(question))


def evidence_range(citations) -> tuple[dt.date | None, dt.date | None]:
    """The oldest and newest publication date of ``citations`` (None, None when none is dated)."""
    dates = sorted(c.date for c in citations if c.date)
    return (dates[0], dates[-1]) if dates else (None, None)


def stale_notice(question: str, newest: dt.date | None, as_of: dt.date, stale_after_days: int) -> str:
    """The notice for a present-tense ``question`` whose newest evidence is older than ``stale_after_days``, else ""."""
    if newest is None or not asks_about_present(question):
        return ""
    age = (as_of - newest).days
    if age <= stale_after_days:
        return ""
    return f"The newest article on this is from {age} day{'s' if age != 1 else ''} ago ({newest.isoformat()})."


def annotate(answer: Answer, question: str, stale_after_days: int, today: dt.date | None = None) -> Answer:
    """Set ``answer``'s evidence date range and, for a stale present-tense answer, its ``freshness`` notice."""
    if answer.refused:
        return answer
    answer.evidence_from, answer.evidence_to = evidence_range([*answer.evidence, *answer.citations])
    as_of = answer.as_of or today or dt.date.today()
    answer.freshness = stale_notice(answer.standalone_question or question, answer.evidence_to, as_of, stale_after_days)
    return answer
