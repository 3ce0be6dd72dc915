"""Checking what a caller asks for, once, at the Assistant's boundary, and saying why nothing matched.

Every face (``rag.query``, the CLI, the web UI) hands its raw options to :func:`query_options`, which
returns a typed ``QueryOptions`` or raises ``TypeError``/``ValueError`` with a message naming the option
and the fix (the CLI turns it into exit code 2, the web UI into a red line). :func:`filter_mismatch`
explains a filter that matches no indexed article ("No article from source x; sources in the index:
..."), so the user is not told that the articles lack an answer when the filter excluded them all.
Retrieval itself (what the filters do to ranking) is ``retrieve.py``'s.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OPTION_NAMES = ("top_k", "date_from", "date_to", "sources", "article_ids", "as_of")
_LISTED = 8  # at most this many sources named in a message


@dataclass(frozen=True)
class QueryOptions:
    """Validated options of one question; ``None``/empty means "not restricted"."""

    top_k: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    as_of: dt.date | None = None

    @property
    def restricted(self) -> bool:
        """Whether any filter (dates, sources, ids, as-of day) narrows the articles searched."""
        return bool(self.sources or self.article_ids or self.date_from or self.date_to or self.as_of)


def check_question(question: object) -> str:
    """``question`` stripped; ``TypeError`` unless it is a string."""
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, not {type(question).__name__} ({question!r})")
    return question.strip()


def check_date(value: object, name: str) -> dt.date | None:
    """A date from a ``date``, ``datetime`` or date string; ``None`` for None/""; else ``ValueError``."""
    from rag.ingest.clean import parse_date

    if value is None or value == "":
        return None
    if not isinstance(value, (str, dt.date)):
        raise TypeError(f"{name} must be a date or a 'YYYY-MM-DD' string, not {type(value).__name__} ({value!r})")
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"{name}: could not read the date {value!r}; use YYYY-MM-DD (for example 2025-11-01)")
    return parsed


def check_top_k(value: object) -> int | None:
    """A positive whole number of passages, or ``None`` for the configured default."""
    if value is None:
        return None
    # bool is an int subclass, and 2.5 or "5" would be silently truncated or fail deep inside retrieval.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"top_k must be a whole number of passages, not {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"top_k must be at least 1, not {value}")
    return int(value)


def _names(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    values = list(value) if isinstance(value, Iterable) else None
    if values is None or not all(isinstance(v, str) for v in values):
        raise TypeError(f"{name} must be a list of strings, not {value!r}")
    return tuple(v.strip() for v in values if v.strip())


def query_options(
    *,
    top_k: object = None,
    date_from: object = None,
    date_to: object = None,
    sources: object = None,
    article_ids: object = None,
    as_of: object = None,
) -> QueryOptions:
    """Validate raw options (from Python, the CLI or the web UI) into ``QueryOptions``.

    Raises ``TypeError`` for a wrong kind of value and ``ValueError`` for an unreadable date, a
    ``top_k`` under 1 or a date range whose start is after its end; each message names the option.
    """
    options = QueryOptions(
        top_k=check_top_k(top_k),
        date_from=check_date(date_from, "date_from"),
        date_to=check_date(date_to, "date_to"),
        sources=_names(sources, "sources"),
        article_ids=_names(article_ids, "article_ids"),
        as_of=check_date(as_of, "as_of"),
    )
    if options.date_from and options.date_to and options.date_from > options.date_to:
        raise ValueError(
            f"the date range is inverted: date_from {options.date_from} is after date_to {options.date_to}"
        )
    return options


def filter_mismatch(options: QueryOptions, articles: Sequence) -> str:
    """Why no indexed article passes the filters of ``options``, or "" when some article does.

    ``articles`` are ``ArticleInfo``s (id, date, source). The first filter that excludes everything
    on its own is named, with what the index holds instead; when only the combination excludes
    everything, the message says so.
    """
    if not articles:
        return "The index is empty: ingest some articles first (python -m rag ingest)."
    sources = sorted({a.source for a in articles if a.source})
    if options.sources and not any(a.source in options.sources for a in articles):
        listed = ", ".join(sources[:_LISTED]) + (f" and {len(sources) - _LISTED} more" if len(sources) > _LISTED else "")
        return (
            f"No article from source {', '.join(options.sources)}; "
            + (f"sources in the index: {listed}." if sources else "no indexed article has a source.")
        )
    if options.article_ids and not any(a.id in options.article_ids for a in articles):
        return f"No indexed article has the id {', '.join(options.article_ids)} (python -m rag list shows the ids)."
    date_to = min((d for d in (options.date_to, options.as_of) if d), default=None)
    if options.date_from or date_to:
        dated = sorted(a.date for a in articles if a.date)
        span = f"indexed articles are dated {dated[0]} to {dated[-1]}" if dated else "no indexed article has a date"
        wanted = _range(options.date_from, date_to, options.as_of)
        in_range = [
            a for a in articles
            if (options.date_from is None or (a.date and a.date >= options.date_from))
            and (date_to is None or a.date is None or a.date <= date_to)
        ]
        if not in_range:
            return f"No article {wanted}; {span}."
    if not any(
        (not options.sources or a.source in options.sources)
        and (not options.article_ids or a.id in options.article_ids)
        and (options.date_from is None or (a.date and a.date >= options.date_from))
        and (date_to is None or a.date is None or a.date <= date_to)
        for a in articles
    ):
        return "No indexed article matches all of these filters together (each matches some articles on its own)."
    return ""


def _range(date_from: dt.date | None, date_to: dt.date | None, as_of: dt.date | None) -> str:
    if date_from and date_to:
        text = f"dated {date_from} to {date_to}"
    elif date_from:
        text = f"dated on or after {date_from}"
    else:
        text = f"dated on or before {date_to}"
    if as_of and date_to == as_of:
        text += f" (as of {as_of}, later articles are not visible)"
    return text
