"""Numbers and dates as the claim checks read them: the words and figures of a text, the numbers it states
("1,000" -> "1000", "nine" -> "9", a lone "1"; "one" only where it counts something) and its months,
weekdays and years.

``claims.py`` compares what a claim states with what its sentence states; ``corroborate.py`` and
``short.py`` use :func:`numbers_in` to find a conflicting or a missing figure. Hand-written rules on
neighbouring words (no tagger is installed), as in ``claims.py``.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F][A-Za-z0-9\u00C0-\u024F'’.,%-]*")
NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "dozen": "12", "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th",
    "fifth": "5th", "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
    "half": "half", "thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion",
}
# Number words that are often not numbers: "first" is also an adverb, "second" a unit of time, and "one" a
# pronoun ("one of the most stable nations", "no one"): a claim need not repeat them. A digit ("1", "1st")
# is always a number, and "one" is one where it counts something ("one person", "one million").
_SOFT_NUMBERS = frozenset({"first", "second", "one"})
# "one" before these words, or after these, is not a count: "one of", "one another", "no one", "the one who".
_ONE_NOT_COUNTING_AFTER = frozenset(
    "of another who that which whose whom and or but nor is was are were has had have can could would will "
    "should might must may does did in on at to for by with from as than the a an day time point way thing "
    "hand side said says say".split()
)
_ONE_NOT_COUNTING_BEFORE = frozenset("the no any each every this that which someone anyone everyone no-one".split())
MONTHS = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "may": "may", "jun": "june", "jul": "july",
    "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november", "dec": "december",
}
MONTHS.update({m: m for m in list(MONTHS.values())})
WEEKDAYS = {d: d for d in "monday tuesday wednesday thursday friday saturday sunday".split()}


def numbers_in(text: str, *, soft: bool = False) -> set[str]:
    """The numbers ``text`` states, normalised as the checks compare them ("1,000" -> "1000", "nine" -> "9").

    ``soft``: also the readings of words that may not be numbers ("first", "one of"): what a sentence
    may be taken to state when a claim's number is looked for in it."""
    return numbers_of(split_tokens(text), soft=soft)


def split_tokens(text: str) -> list[str]:
    text = text.replace("’", "'")
    tokens = []
    for raw in _TOKEN.findall(text):
        token = raw.rstrip(".,'-%")
        if raw.endswith("%"):
            tokens.append(token)
            tokens.append("percent")
            continue
        if token.lower().endswith(("'s", "s'")) and not token[0].isdigit():
            token = token[:-2] if token.lower().endswith("'s") else token[:-1]
        if "-" in token and not token[0].isdigit():  # "nine-day", "Chilean-born": judge the parts
            tokens.extend(p for p in token.split("-") if p)
        elif token:
            tokens.append(token)
    return tokens


def numbers_of(tokens: list[str], soft: bool = False) -> set[str]:
    found = set()
    for i, token in enumerate(tokens):
        low = token.lower()
        if low[0].isdigit():
            value = low.replace(",", "")
            if re.fullmatch(r"\d+(\.\d+)?", value):
                value = value.rstrip("0").rstrip(".") if "." in value else value
                if len(value) == 4 and value[:2] in ("19", "20"):
                    continue  # a year: a date
            found.add(value)
        elif low in NUMBER_WORDS and (soft or low not in _SOFT_NUMBERS or (low == "one" and _counts(tokens, i))):
            found.add(NUMBER_WORDS[low])
    return found


def _counts(tokens: list[str], i: int) -> bool:
    """Whether the "one" at ``tokens[i]`` counts something: a word follows that is not "of", "another",
    a verb or a preposition, and no "the"/"no"/"each" precedes it (a rule on neighbours: no tagger here)."""
    after = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    before = tokens[i - 1].lower() if i else ""
    return bool(after) and after not in _ONE_NOT_COUNTING_AFTER and before not in _ONE_NOT_COUNTING_BEFORE


def dates_of(tokens: list[str]) -> set[str]:
    found = set()
    for token in tokens:
        low = token.lower().rstrip(".")
        if low in MONTHS and (token[0].isupper()):  # "may" the verb is lower case
            found.add(MONTHS[low])
        elif low in WEEKDAYS:
            found.add(low)
        elif re.fullmatch(r"(19|20)\d\d", low):
            found.add(low)
    return found
