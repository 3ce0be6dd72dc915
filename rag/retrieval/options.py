"""The options of one question (``QueryOptions``): checked once, and every filter rule they carry.

Every face (``rag.query``/``Assistant``, the CLI, the web UI) hands its raw options to
:func:`query_options`, which returns a typed ``QueryOptions`` (a pydantic dataclass: the checks are
its field validators) or raises ``InvalidOption``, a ``ValueError`` (``TypeError`` too for a wrong
kind of value) with a message naming the option and the fix; the CLI turns it into exit code 2, the
web UI words it with its own labels from ``option``/``problem``/``value``. The retriever takes the
same ``QueryOptions``. The filter rules are here, once each:

* ``QueryOptions.latest``: the as-of cut-off (the last day an article may be dated);
* ``QueryOptions.admits``: which article (id, source, day) passes; ``LexicalIndex.mask`` is the same
  rule vectorised over the passage table (``lexical.py``), ``chroma_where`` the same rule as Chroma's
  ``where=`` clause;
* :func:`filter_mismatch`: why no indexed article passes ("No article from source x; sources in the
  index: ..."), so the user is not told that the articles lack an answer when the filter excluded them.

Ranking under the filters is ``hybrid.py``'s.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable, Sequence

from pydantic import ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

OPTION_NAMES = ("top_k", "date_from", "date_to", "sources", "article_ids", "as_of")
_LISTED = 8  # at most this many sources named in a message


class InvalidOption(ValueError):
    """An option that cannot be used: ``option`` (its name), ``problem`` (what is wrong), ``value``.

    ``problem`` is one of "type", "unreadable" (a date), "below_one" and "too_large" (``top_k``,
    ``limit``), "too_long" (the question) and "inverted" (the date range); the message is the one the API and the CLI show.
    """

    def __init__(self, message: str, option: str, problem: str, value: object) -> None:
        super().__init__(message)
        self.option, self.problem, self.value = option, problem, value


class InvalidOptionType(InvalidOption, TypeError):
    """An option given the wrong kind of value (a ``TypeError`` as well as an ``InvalidOption``)."""


def check_question(question: object, max_chars: int | None = None) -> str:
    """``question`` stripped, lone surrogates mended; ``TypeError`` unless it is a string,
    ``InvalidOption`` when it is longer than ``max_chars`` (the ``max_question_chars`` setting).

    A lone surrogate is what Python makes of bytes that are not UTF-8 in a command-line argument
    (``\\xff`` → ``\\udcff``) or of a JSON ``"\\ud800"``; the tokenizer cannot take it. Bytes are
    decoded again as UTF-8, and what still is not text becomes U+FFFD."""
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, not {type(question).__name__} ({question!r})")
    from rag.ingest.clean import LONE_SURROGATE

    if LONE_SURROGATE.search(question):
        try:
            question = question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            question = LONE_SURROGATE.sub("\ufffd", question)
    question = question.strip()
    if max_chars is not None and len(question) > max_chars:
        raise InvalidOption(
            f"the question is too long ({len(question):,} characters; at most {max_chars:,}, setting max_question_chars): "
            "ask about one thing at a time", "question", "too_long", len(question),
        )  # fmt: skip
    return question


def check_at_most(value: int | None, limit: int, name: str, setting: str, unit: str) -> int | None:
    """``value`` (a checked whole number or None) when it is at most ``limit``, else ``InvalidOption``
    naming the ``setting`` that sets the limit (problem "too_large")."""
    if value is not None and value > limit:
        raise InvalidOption(
            f"{name} must be at most {limit} {unit}, not {value:,} (setting {setting})", name, "too_large", value
        )
    return value


def check_date(value: object, name: str) -> dt.date | None:
    """A date from a ``date``, ``datetime`` or date string; ``None`` for None/""; else ``InvalidOption``."""
    from rag.ingest.clean import parse_date

    if value is None or value == "":
        return None
    if not isinstance(value, (str, dt.date)):
        raise InvalidOptionType(
            f"{name} must be a date or a 'YYYY-MM-DD' string, not {type(value).__name__} ({value!r})", name, "type", value
        )
    parsed = parse_date(value)
    if parsed is None:
        raise InvalidOption(
            f"{name}: could not read the date {value!r}; use YYYY-MM-DD (for example 2025-11-01)", name, "unreadable", value
        )
    return parsed


def check_top_k(value: object, name: str = "top_k", unit: str = "passages") -> int | None:
    """A positive whole number (of ``unit``), or ``None`` for the configured default."""
    if value is None:
        return None
    # bool is an int subclass, and 2.5 or "5" would be silently truncated or fail deep inside retrieval.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidOptionType(f"{name} must be a whole number of {unit}, not {type(value).__name__} ({value!r})", name, "type", value)
    if value < 1:
        raise InvalidOption(f"{name} must be at least 1, not {value}", name, "below_one", value)
    return int(value)


def _names(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    values = list(value) if isinstance(value, Iterable) else None
    if values is None or not all(isinstance(v, str) for v in values):
        raise InvalidOptionType(f"{name} must be a list of strings, not {value!r}", name, "type", value)
    return tuple(v.strip() for v in values if v.strip())


@dataclass(frozen=True)
class QueryOptions:
    """Validated options of one question; ``None``/empty means "not restricted".

    Constructing one checks it (the field validators below); :func:`query_options` is the builder
    the faces call, as it raises the check's own error rather than pydantic's wrapper.
    """

    top_k: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    as_of: dt.date | None = None

    @field_validator("top_k", mode="before")
    @classmethod
    def _top_k(cls, value: object) -> int | None:
        return check_top_k(value)

    @field_validator("date_from", "date_to", "as_of", mode="before")
    @classmethod
    def _date(cls, value: object, info) -> dt.date | None:
        return check_date(value, info.field_name)

    @field_validator("sources", "article_ids", mode="before")
    @classmethod
    def _names(cls, value: object, info) -> tuple[str, ...]:
        return _names(value, info.field_name)

    @model_validator(mode="after")
    def _ordered(self) -> QueryOptions:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidOption(
                f"the date range is inverted: date_from {self.date_from} is after date_to {self.date_to}",
                "date_from", "inverted", (self.date_from, self.date_to),
            )  # fmt: skip
        return self

    @property
    def restricted(self) -> bool:
        """Whether any filter (dates, sources, ids, as-of day) narrows the articles searched."""
        return bool(self.sources or self.article_ids or self.date_from or self.date_to or self.as_of)

    @property
    def latest(self) -> dt.date | None:
        """The as-of cut-off: the last day an article may be dated (the earlier of ``date_to`` and ``as_of``)."""
        return min((d for d in (self.date_to, self.as_of) if d), default=None)

    def given(self) -> dict:
        """The options that are set, by name (what a face passes on to ``Assistant.query``)."""
        return {name: getattr(self, name) for name in OPTION_NAMES if getattr(self, name)}

    def admits(self, article_id: str, source: str, day: dt.date | None) -> bool:
        """Whether an article passes the filters. An undated article passes ``latest`` but not ``date_from``."""
        latest = self.latest
        return (
            (not self.sources or source in self.sources)
            and (not self.article_ids or article_id in self.article_ids)
            and (self.date_from is None or (day is not None and day >= self.date_from))
            and (latest is None or day is None or day <= latest)
        )

    def chroma_where(self) -> dict | None:
        """The filters as Chroma's ``where=`` clause over passage metadata (``admits``' rule), or None."""
        clauses: list[dict] = []
        if self.date_from:
            clauses.append({"day": {"$gte": self.date_from.toordinal()}})
        if self.latest:
            clauses.append({"day": {"$lte": self.latest.toordinal()}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def query_options(**raw: object) -> QueryOptions:
    """Validate raw options (from Python, the CLI or the web UI; names as in ``OPTION_NAMES``) into ``QueryOptions``.

    Raises ``InvalidOptionType`` (a ``TypeError``) for a wrong kind of value and ``InvalidOption`` (a
    ``ValueError``) for an unreadable date, a ``top_k`` under 1 or a date range whose start is after
    its end; each message names the option.
    """
    try:
        return QueryOptions(**raw)
    except ValidationError as error:  # pydantic wraps a validator's ValueError: raise the check's own
        raise error.errors()[0]["ctx"]["error"] from None


def bounded_options(max_top_k: int, **raw: object) -> QueryOptions:
    """``query_options(**raw)`` with ``top_k`` at most ``max_top_k`` (the setting; ``InvalidOption`` above it)."""
    checked = query_options(**raw)
    check_at_most(checked.top_k, max_top_k, "top_k", "max_top_k", "passages")
    return checked


def filter_mismatch(options: QueryOptions, articles: Sequence) -> str:
    """Why no indexed article passes the filters of ``options``, or "" when some article does.

    ``articles`` are ``ArticleInfo``s (id, date, source). The first filter that excludes everything
    on its own is named, with what the index holds instead; when only the combination excludes
    everything, the message says so.
    """
    if not articles:
        return "The index is empty: ingest some articles first (python -m rag ingest)."

    def none_pass(only: QueryOptions) -> bool:
        return not any(only.admits(a.id, a.source, a.date) for a in articles)

    sources = sorted({a.source for a in articles if a.source})
    if options.sources and none_pass(QueryOptions(sources=options.sources)):
        listed = ", ".join(sources[:_LISTED]) + (f" and {len(sources) - _LISTED} more" if len(sources) > _LISTED else "")
        return (
            f"No article from source {', '.join(options.sources)}; "
            + (f"sources in the index: {listed}." if sources else "no indexed article has a source.")
        )
    if options.article_ids and none_pass(QueryOptions(article_ids=options.article_ids)):
        return f"No indexed article has the id {', '.join(options.article_ids)} (python -m rag list shows the ids)."
    dates = QueryOptions(date_from=options.date_from, date_to=options.date_to, as_of=options.as_of)
    if (options.date_from or options.latest) and none_pass(dates):
        dated = sorted(a.date for a in articles if a.date)
        span = f"indexed articles are dated {dated[0]} to {dated[-1]}" if dated else "no indexed article has a date"
        return f"No article {_range(options.date_from, options.latest, options.as_of)}; {span}."
    if none_pass(options):
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
