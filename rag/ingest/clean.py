"""Cleaning raw article text and reading metadata that hides inside it.

Turns the text a loader extracted into the article body that gets indexed and quoted: it strips a
leading YAML front matter block (read as metadata: title, source, url, authors, date), a
``date YYYY-MM-DD`` header, publisher boilerplate (donation banners, newsletter prompts, "Advertisement"
lines) and a trailing byline, and otherwise keeps the body verbatim, because citations quote it by
character offset. Format-specific extraction (HTML, PDF, JSON) belongs to ``corpus.py``; splitting
into passages to ``chunk.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

# A YAML front matter block ("---" line, "key: value" lines, "---" line) at the very top.
_FRONT_MATTER = re.compile(r"^---[ \t]*\n(?:.*\n)*?---[ \t]*(\n|$)")
# A "date YYYY-MM-DD" header, as the bundled sample article starts with.
_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")

# Phrases that mark a paragraph as publisher chrome rather than reporting. A paragraph is dropped
# only at the start or end of an article and only when it carries two or more of them (or is a
# single short chrome line), so a news story *about* donations is not cut.
_BOILERPLATE_MARKERS = [
    r"your support (helps|makes)",
    r"support now",
    r"\bdonat(e|ion)",
    r"read more\s*$",
    r"sign up (for|to)",
    r"subscribe (now|today|to)",
    r"newsletter",
    r"paywall",
    r"already a subscriber",
    r"quality journalism",
    r"journalism should be available",
    r"cookie",
    r"all rights reserved",
    # CNN's ad-feedback widget, which scrapers save in place of (or around) the story: 18 of the 3,773
    # RealTimeQA articles are nothing else, and the extractive answer quoted it as an answer.
    r"how relevant is this ad to you",
    r"video player was slow to load content",
    r"ad froze or did not finish loading",
    r"audio on ad was too loud",
]
_MARKER_RE = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _BOILERPLATE_MARKERS]
_CHROME_LINE = re.compile(
    r"^\s*(advertisement|skip to (main )?content|read more|share this article|listen to this article)\s*$",
    re.IGNORECASE,
)
# "___" separator followed by a short byline ("X reported from Lima, Peru."), as AP stories end.
_BYLINE_TAIL = re.compile(r"\n\s*_{3,}\s*\n+(?P<byline>[^\n]{1,300})\s*$")
_REPORTED = re.compile(r"^(?P<names>.+?)\s+(reported|contributed)\b", re.IGNORECASE)

_MONTHS = (
    "jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?"
)
_TEXT_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?\s+\d{{4}}|\d{{4}}[-/]\d{{2}}[-/]\d{{2}})\b",
    re.IGNORECASE,
)

# Characters no text has: C0/C1 controls other than tab, newlines, form feed and NUL (dropped anyway), the replacement
# character (an undecodable byte) and lone surrogates.
_NOT_TEXT = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")
# At most 1% of a text may be such characters. Measured (2026-12-05): random bytes, whatever their
# length (300 B to 100 kB), decode to 8-13% of them (the C0 controls alone are 1/8 of all bytes); the
# worst of the 3,773 RealTimeQA articles has 0.013%. 1% keeps a wide margin both ways.
MAX_NOT_TEXT_SHARE = 0.01
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a lone surrogate (from a JSON "\\ud800") cannot be stored as UTF-8
# Metadata shown on one line (titles, sources, names): every control character (ANSI escape codes, BEL,
# newlines) and lone surrogates become a space, so a title cannot move a terminal's cursor or ring it.
_NOT_ON_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]+")


# What a date needs before dateparser is asked: a four-digit year (or a timestamp), or d/m/yy.
_HAS_YEAR = re.compile(r"\d{4}|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b")


@dataclass(frozen=True)
class CleanedText:
    text: str
    date: dt.date | None = None
    byline: str = ""
    authors: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)  # a leading YAML front matter block (title, source, url, ...)


def clean_article_text(raw: str) -> CleanedText:
    """Strip front matter, the date header, boilerplate and byline; return the body and what they told us."""
    # NUL bytes (a damaged export, a stray byte in a JSON string) never reach the stored text.
    text = LONE_SURROGATE.sub("\ufffd", raw).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    metadata: dict = {}
    if _FRONT_MATTER.match(text):  # the same "---" YAML block as .md files, so a .txt can carry title/source/url
        import frontmatter

        try:
            post = frontmatter.loads(text)
            metadata, text = dict(post.metadata), post.content
        except Exception:  # not YAML after all (a "---" rule in plain text): keep the text as it is
            metadata = {}
    date = None
    header = _DATE_HEADER.match(text)
    if header:
        date = parse_date(header.group(1))
        text = text[header.end() :]

    paragraphs = [p for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p.strip() and not _CHROME_LINE.match(p)]
    while paragraphs and _is_boilerplate(paragraphs[0]):
        paragraphs.pop(0)
    while paragraphs and _is_boilerplate(paragraphs[-1]):
        paragraphs.pop()
    text = "\n\n".join(p.strip() for p in paragraphs)

    byline, authors = "", ()
    tail = _BYLINE_TAIL.search(text)
    if tail:
        byline = tail.group("byline").strip()
        text = text[: tail.start()].rstrip()
        reported = _REPORTED.match(byline)
        if reported:
            names = re.split(r",\s*|\s+and\s+", reported.group("names"))
            authors = tuple(n.strip() for n in names if n.strip())
    return CleanedText(text=text.strip(), date=date, byline=byline, authors=authors, metadata=metadata)


def _is_boilerplate(paragraph: str) -> bool:
    hits = sum(1 for pattern in _MARKER_RE if pattern.search(paragraph))
    # One marker is enough only for a short line that is not a sentence ("Sign up for our newsletter").
    return hits >= 2 or (hits == 1 and len(paragraph) < 80 and not paragraph.rstrip().endswith("."))


def parse_date(value: object) -> dt.date | None:
    """Parse a publication date from metadata ("2022/06/12", "June 12, 2022", ISO, datetime...);
    None unless the text holds a four-digit year (or a timestamp) or a numeric day/month/year form."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if iso:  # the common case, without paying for dateparser's import
        try:
            return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    if not text or len(text) > 100:  # a date, not a paragraph (dateparser is slow on long text)
        return None
    if not _HAS_YEAR.search(text):  # "n/a", "nan", "x", "12", "99": no date at all, so undated
        return None
    import dateparser  # slow import (~0.5 s): only for free-form dates

    try:
        # Strict: a year is required and relative forms ("2 days ago", and what dateparser made of
        # "n/a": two days before the ingest) are not read, so metadata never dates an article from nothing.
        parsed = dateparser.parse(text, settings={
            "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False, "REQUIRE_PARTS": ["year"],
            "PARSERS": ["timestamp", "absolute-time"],
        })  # fmt: skip
    except Exception:  # dateparser raises on some odd inputs (overflowing numbers, unusual scripts)
        return None
    return parsed.date() if parsed else None


def not_text_share(text: str) -> float:
    """The share of ``text``'s characters that no text has (controls, undecodable bytes, lone surrogates)."""
    return len(_NOT_TEXT.findall(text)) / len(text) if text else 0.0



def plain_line(value: object) -> str:
    """A metadata value as one line of printable text: control characters (ANSI escapes, BEL, newlines)
    and lone surrogates replaced by a space, NUL bytes dropped."""
    return _NOT_ON_A_LINE.sub(" ", str(value).replace("\x00", "")).strip()


def date_from_text(text: str, head_chars: int = 400) -> dt.date | None:
    """A date written near the top of an article ("Nov. 28, 2025", "2022-06-12"), if any."""
    found = _TEXT_DATE.search(text[:head_chars])
    return parse_date(found.group(0)) if found else None


def derive_title(text: str, max_words: int = 14) -> str:
    """A title for an article that has none: its first line if short, else its first words."""
    first_line = text.strip().split("\n", 1)[0].strip()
    if 0 < len(first_line) <= 120 and not first_line.endswith((".", "?", "!", ":")):
        return first_line
    sentence = re.split(r"(?<=[.!?])\s", first_line, maxsplit=1)[0]
    words = sentence.split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def content_hash(text: str) -> str:
    """Hash of the body with whitespace and case folded: equal for the same story saved twice."""
    normalised = re.sub(r"\s+", " ", text).strip().lower()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
