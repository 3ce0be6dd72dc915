"""Cheap checks that a cited sentence can state a claim: numbers, dates, names, negation and roles.

A claim is compared with one evidence sentence (the span its citation would quote). Anything the claim
asserts that the sentence does not contain is a contradiction the checks can see without a model:

* every number in the claim (digits or number words, "3.5", "1,000", "nine", a lone "1"; "one" only
  where it counts something, not "one of" or the pronoun) is in the sentence;
* every month, weekday and year of the claim is in the sentence;
* every name (capitalised word: a person, place, organisation, demonym) of the claim is in the
  sentence, allowing "Peru"/"Peruvian", "Kast"/"Kast's", accents and dotted acronyms;
* a negation in one of them that bears on what the claim says is in the other;
* the claim's names play the same role: the words that follow a name in the claim (its predicate)
  must not precede it in the sentence and vice versa (this catches "Chile declared ..." against
  "Peru declared ... migrants from Chile", and subject/object swaps);
* the claim's speaker is the sentence's (who said it), and its subject and object share a clause of the
  sentence (who acted on what): ``roles.py``.

:func:`check_claim` returns a :class:`Verdict`: ``fail`` (with the reason), ``pass`` (no conflict and
the sentence holds at least ``min_support`` of the claim's content words: it says nearly word for word
what the claim says) or ``undecided`` (no conflict found, but the wording differs, or the roles look
exchanged, which a paraphrase in the passive voice also does): those are for the entailment judge
(``entail.py``), or, without one, accepted when only the wording differs. Choosing the evidence
sentence and rendering citations is ``cite.py``'s job.

Hand-written rules rather than an NER model: the bundled LLM is the real judge, and no offline NER
model is installed; these rules only have to be right about *absence* (a name or number the sentence
does not contain), which capitalisation and digits show reliably in edited news copy.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.answer.quantities import MONTHS, NUMBER_WORDS, WEEKDAYS, dates_of, numbers_of, split_tokens
from rag.answer.roles import relation_conflict, speaker_conflict, without_attribution
from rag.answer.sentences import content_words
from rag.ingest.speakers import fold  # one folding for names and words

# Capitalised words that are not names: titles precede names and may be dropped or added by a paraphrase.
_NOT_NAMES = frozenset(
    "i a an the this that these those it its he she they we you his her their our my mr mrs ms dr prof "
    "president vice minister prime secretary gov governor sen senator rep representative gen general "
    "lt col capt sgt judge justice king queen prince princess pope chief officer mayor chancellor "
    "but and or so yet if when while after before as also however meanwhile according in on at by for "
    "to of from with there here what which who why how then than yes no not".split()
)
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot n't nowhere".split())


@dataclass(frozen=True)
class Verdict:
    """The cheap checks' outcome for one claim against one sentence."""

    outcome: str  # "pass" | "fail" | "undecided"
    reason: str = ""  # what failed ("name 'Chile' not in the sentence") or why undecided
    support: float = 0.0  # share of the claim's content words (stemmed) found in the sentence


def check_claim(
    claim: str, sentence: str, *, min_support: float, names_elsewhere: frozenset[str] = frozenset(), speaker: str = "", asked: str = ""
) -> Verdict:
    """Compare ``claim`` with the evidence ``sentence``; see the module docstring.

    ``names_elsewhere`` holds lower-cased words seen capitalised mid-sentence in the evidence, so a
    claim's first word counts as a name when it is one ("Chilean officials ..."). ``speaker``: who the
    sentence is attributed to when it reports speech (found at indexing, ``rag.ingest.speakers``);
    ``asked``: the speaker a "What did X say?" question asks about (``roles.py`` compares them).
    """
    conflict, claimed = speaker_conflict(claim, speaker, sentence, asked)
    if conflict:
        return Verdict("fail", conflict)
    # The claim's speaker, when the sentence's attribution names them ("he said" after "Kast ..."), need
    # not be worded in the sentence itself.
    given = {fold(w) for w in split_tokens(claimed)}
    claim_tokens = [t for t in split_tokens(claim) if fold(t) not in given]
    sentence_tokens = split_tokens(sentence)
    for number in numbers_of(claim_tokens) - numbers_of(sentence_tokens, soft=True):
        return Verdict("fail", f"number {number!r} not in the sentence")
    for date in dates_of(claim_tokens) - dates_of(sentence_tokens):
        return Verdict("fail", f"date {date!r} not in the sentence")
    sentence_words = [fold(t) for t in sentence_tokens]
    names = _names(claim_tokens, names_elsewhere)
    for name in names:
        if not any(_same_name(name, w) for w in sentence_words):
            return Verdict("fail", f"name {name!r} not in the sentence")
    negation = _negation_conflict(claim_tokens, sentence_tokens)
    if negation:
        return Verdict("fail", negation)
    # With its speaker matched, the claim's attribution ("Roberts said that") is checked: its words are the rest.
    body = without_attribution(claim, claimed) if claimed else claim
    stems_claim, stems_sentence = _stems(body), _stems(sentence)
    support = len(stems_claim & stems_sentence) / len(stems_claim) if stems_claim else 1.0
    role = ""
    if names:  # both name checks align the two with each run of name words as one placeholder: built once
        claim_skeleton, sentence_skeleton = _skeleton(claim_tokens, names), _skeleton(sentence_tokens, names)
        role = _exchanged_names(claim_skeleton, sentence_skeleton, names) or _name_exchanged_with_words(claim_skeleton, sentence_skeleton)
    role = role or _role_conflict(claim_tokens, sentence_tokens, names) or relation_conflict(body, sentence, _stem_token)
    if role:
        return Verdict("undecided", f"role: {role}", support)
    if support >= min_support:
        return Verdict("pass", "", support)
    return Verdict("undecided", f"only {support:.0%} of the claim's words are in the sentence", support)


def capitalised_words(texts) -> frozenset[str]:
    """Lower-cased words written with a capital somewhere other than a sentence start in ``texts``."""
    found = set()
    for text in texts:
        tokens = split_tokens(text)
        for previous, token in zip(tokens, tokens[1:]):
            if token[0].isupper() and not previous.endswith((".", "?", "!")):
                found.add(fold(token))
    return frozenset(found)


def phrase_in(phrase: str, sentence: str) -> bool:
    """Whether every name, number and content word of a short answer ``phrase`` is in ``sentence``."""
    words = split_tokens(phrase)
    sentence_tokens = split_tokens(sentence)
    folded = [fold(t) for t in sentence_tokens]
    if numbers_of(words) - numbers_of(sentence_tokens, soft=True) or dates_of(words) - dates_of(sentence_tokens):
        return False
    return all(any(_same_name(fold(w), s) for s in folded) for w in words if fold(w) in content_words(phrase) or w[0].isupper())


# --- helpers -----------------------------------------------------------------------------------------


def _names(tokens: list[str], names_elsewhere: frozenset[str]) -> list[str]:
    names = []
    for i, token in enumerate(tokens):
        if not token[0].isupper() or token[0].isdigit():
            continue
        folded = fold(token)
        acronym = len(token) > 1 and token.isupper()  # "WHO", "CDC": never the pronoun
        if not folded or (folded in _NOT_NAMES and not acronym) or token.lower().rstrip(".") in MONTHS or folded in WEEKDAYS:
            continue
        if folded in NUMBER_WORDS:
            continue
        sentence_start = i == 0 or tokens[i - 1].endswith((".", "?", "!", ":"))
        if sentence_start and folded not in names_elsewhere and not folded.endswith(("ian", "ean", "ese", "ish")):
            continue  # "Repairs to the pier ...": capitalised only because it starts the sentence
        names.append(folded)
    return names


def _same_name(name: str, word: str) -> bool:
    """"chile" ~ "chilean", "peru" ~ "peruvian", "us" ~ "us": a shared prefix of all but one letter."""
    if name == word:
        return True
    shorter = min(len(name), len(word))
    common = 0
    while common < shorter and name[common] == word[common]:
        common += 1
    return common >= 4 and common >= shorter - 1


@functools.cache
def _stemmer():
    import Stemmer  # PyStemmer, already used by the BM25 index

    return Stemmer.Stemmer("english")


def _stems(text: str) -> set[str]:
    words = {NUMBER_WORDS.get(w, w) for w in content_words(text)}  # "nine" and "9" are the same word
    words |= set(re.findall(r"\b\d\b", text))  # content_words drops one-character words
    return set(_stemmer().stemWords(sorted(words)))


def _negated_words(tokens: list[str]) -> list[set[str]]:
    """For each negation cue, the content words it bears on (the next five tokens)."""
    scopes = []
    for i, token in enumerate(tokens):
        low = token.lower()
        if low in _NEGATIONS or low.endswith("n't"):
            scopes.append(_stems(" ".join(tokens[i + 1 : i + 6])))
    return scopes


def _negation_conflict(claim_tokens: list[str], sentence_tokens: list[str]) -> str:
    claim_scopes = _negated_words(claim_tokens)
    sentence_scopes = _negated_words(sentence_tokens)
    if claim_scopes and not sentence_scopes:
        return "the claim is negated, the sentence is not"
    # A negation elsewhere in the other text ("which is nothing new") does not cover this one: a
    # negation must bear on the same words on both sides.
    for scope in claim_scopes:
        if scope and not any(scope & other for other in sentence_scopes):
            return "the claim is negated where the sentence is not"
    claim_stems = _stems(" ".join(claim_tokens))
    for scope in sentence_scopes:
        if scope & claim_stems and not any(scope & other for other in claim_scopes):
            return "the sentence is negated where the claim is not"  # it negates something the claim asserts
    return ""


def _role_conflict(claim_tokens: list[str], sentence_tokens: list[str], names: list[str]) -> str:
    """Whether a name of the claim sits on the other side of its predicate in the sentence.

    For each name: the claim's content words before it and after it; in the sentence, for each place
    the name occurs, how many of those words are on the wrong side. The best-matching occurrence
    counts; a name whose shared context words are mostly on the wrong side has changed role.
    """
    claim_folded = [fold(t) for t in claim_tokens]
    sentence_folded = [fold(t) for t in sentence_tokens]
    claim_stem = [_stem_token(t) for t in claim_tokens]
    sentence_stem = [_stem_token(t) for t in sentence_tokens]
    for name in dict.fromkeys(names):
        places_claim = [i for i, w in enumerate(claim_folded) if _same_name(name, w)]
        places_sentence = [i for i, w in enumerate(sentence_folded) if _same_name(name, w)]
        if not places_claim or not places_sentence:
            continue
        at = places_claim[0]
        before = {s for s in claim_stem[:at] if s} - {claim_stem[at]}
        after = {s for s in claim_stem[at + 1 :] if s} - {claim_stem[at]} - before
        best = None
        for place in places_sentence:
            left = {s for s in sentence_stem[:place] if s}
            right = {s for s in sentence_stem[place + 1 :] if s}
            shared = (before | after) & (left | right)
            if len(shared) < 2:
                best = 0.0
                break
            wrong = len((before & right) - left) + len((after & left) - right)
            best = wrong / len(shared) if best is None else min(best, wrong / len(shared))
        if best is not None and best > 0.5:
            return f"{name!r} plays another role in the sentence"
    return ""


def _exchanged_names(claim: tuple[list[frozenset], list[str]], sentence: tuple[list[frozenset], list[str]], names: list[str]) -> str:
    """Whether two names of the claim stand in each other's places in the sentence ("B met A" for "A met B").

    ``claim``, ``sentence``: their ``_skeleton`` over the claim's ``names``.

    The claim and the sentence are aligned word by word with every name as one placeholder (difflib), so
    the words around a name tell its place; a name aligned with another name *and* that other name
    aligned with it is an exchange. A name moved with its own words ("In Paris, X met Y" -> "X met Y in
    Paris") or an added one ("Peru's President Jarí" for "President José Jarí of Peru") is none.
    """
    import difflib

    if len(set(names)) < 2:
        return ""

    def same(a, b):
        return any(_same_name(x, y) for x in a for y in b)

    (claim_units, claim_skeleton), (sentence_units, sentence_skeleton) = claim, sentence
    pairs = []
    for i, j, size in difflib.SequenceMatcher(None, claim_skeleton, sentence_skeleton, autojunk=False).get_matching_blocks():
        if size < 2:
            continue  # a name aligned on its own, without a word beside it, says nothing of its place
        for k in range(size):
            a, b = claim_units[i + k], sentence_units[j + k]
            if claim_skeleton[i + k] == "\0" and a != b and not (a <= b or b <= a):
                pairs.append((a, b))
    for a, b in pairs:
        if any(same(b, c) and same(a, d) and not same(a, c) for c, d in pairs):
            return f"{' '.join(sorted(a))!r} stands where the sentence has {' '.join(sorted(b))!r}, and the other way round: a role swap"
    return ""


def _stem_token(token: str) -> str:
    """The stem of a content word, or "" for a stop word (names count: they anchor roles too)."""
    words = content_words(token)
    return _stemmer().stemWord(next(iter(words))) if words else ""


def _name_exchanged_with_words(claim: tuple[list[frozenset], list[str]], sentence: tuple[list[frozenset], list[str]]) -> str:
    """Whether a name of the claim and a few other words stand in each other's places in the sentence.

    ``claim``, ``sentence``: their ``_skeleton`` over the claim's names (there are some).

    The exchange of two names has its own check (``_exchanged_names``); an actor can also change places
    with a common noun phrase: "Lopez rejected the plan, and then the council resigned" for "The council
    rejected the plan, and then Lopez resigned", where only one side is a name. Aligned word by word (each
    run of name words one placeholder), the claim puts the name where the sentence has up to three other
    words, between the same neighbours, *and* those words where the sentence has the name: the words are
    all there, their roles are not. A name merely added or dropped, or moved with its own words, makes
    no such pair.
    """
    import difflib

    (claim_units, claim_words), (sentence_units, sentence_words) = claim, sentence
    swaps = []  # (claim side, sentence side): a name's unit against a tuple of plain words
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, claim_words, sentence_words, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        left, right = claim_words[i1:i2], sentence_words[j1:j2]
        if left == ["\0"] and "\0" not in right and len(right) <= 3:
            swaps.append((claim_units[i1], tuple(right)))
        elif right == ["\0"] and "\0" not in left and len(left) <= 3:
            swaps.append((tuple(left), sentence_units[j1]))
    for name, words in swaps:
        if isinstance(name, frozenset) and any(back == words and other == name for back, other in swaps):
            return f"{' '.join(sorted(name))!r} stands where the sentence has {' '.join(words)!r}, and the other way round: a role swap"
    return ""


def _skeleton(tokens: list[str], names: list[str]) -> tuple[list[frozenset], list[str]]:
    """Folded words with each run of name words as one placeholder ("\\0"), and the names of the runs."""
    words, units = [], []
    for token in tokens:
        word = fold(token)
        if any(_same_name(n, word) for n in names):
            if words and words[-1] == "\0":
                units[-1] = units[-1] | {word}
                continue
            words.append("\0")
            units.append(frozenset({word}))
        else:
            words.append(word)
            units.append(frozenset())
    return units, words
