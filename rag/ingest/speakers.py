"""Who said it: the speaker of each quoted or reported-speech sentence of an article, found when it is indexed.

:func:`attribute` walks an article's sentences (NLTK's Punkt, split per paragraph, as the answer stage
splits them, so the offsets agree) and gives each sentence that reports speech (a speech verb: said,
told, warned, announced, added, according to, ...) or quotes someone (inside quotation marks) the
person or body it is attributed to:

* the named person nearest the speech verb: the name just before it ("Luis Cordero responded that"),
  or just after it in an inverted attribution (", said Luis Cordero"); "X of Peru said" gives X;
  titles and offices are dropped ("Chilean Minister of Security Luis Cordero" -> "Luis Cordero");
* organisations and groups as well ("the Pentagon said", "police said", "officials told");
* a pronoun ("he said", "it said") resolved to the last named speaker of the article, else the last
  person named before it (a run of two or more capitalised words);
* a sentence of a quote with no attribution of its own continues the nearest attributed quote of its
  paragraph (the previous one, else the next), or the quote of the paragraph before.

The result is a list of ``(start, end, speaker)`` character spans into the text. ``Chunker`` stores
each passage's spans in the passage (``Passage.speakers``), and the store keeps them in the passage's
Chroma metadata as one JSON string (``encode``/``decode``), so they survive a Chroma server. Passages
indexed before attribution existed have none stored (``Passage.speakers is None``): :func:`speakers_of`
then computes them from the passage text alone (lazily, at answer time; re-ingesting stores them).

Why rules and no NER/parser model: spaCy's English pipelines are published on GitHub releases, not on
the package registry this project installs from (``pip install en_core_web_sm`` finds nothing; the
copies on PyPI are re-uploads by third parties), and no other offline model for it is installed. The
rules only have to find the name next to a speech verb in edited news copy, which capitalisation and
punctuation show well; ``benchmarks/faithfulness.py`` measures them (speaker swaps and their supported
counterparts). Using the speakers (ranking, the citation check) is ``rag.answer``'s job.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

_PARAGRAPH = re.compile(r"[^\n]+")
_VERBS = (
    "said say says saying told tell tells telling warned warns warning announced announces announcing added adds adding "
    "stated explained explains noted notes wrote writes tweeted posted argued argues claimed claims insisted insists "
    "responded replied replies asked urged urges urging acknowledged admitted confirmed confirms denied "
    "stressed emphasized emphasised predicted promised vowed threatened suggested cautioned testified "
    "commented complained conceded countered reiterated remarked"
).split()
_VERB = re.compile(r"\b(" + "|".join(_VERBS) + r")\b|\baccording to\b", re.IGNORECASE)
# Verbs whose speaker may follow them (", said Luis Cordero"); "told Reuters" names the listener instead.
_INVERTIBLE = frozenset("said says added asked wrote continued explained noted replied responded".split())
_PRONOUNS = frozenset("he she they it we".split())
_GROUPS = frozenset(
    "police officials authorities government ministry spokesperson spokesman spokeswoman company statement "
    "prosecutors investigators lawyers experts analysts researchers scientists residents witnesses agency department "
    "administration campaign court military army embassy office aide aides source sources official".split()
)
# Capitalised words that are offices, titles or departments, dropped from the front of a name.
_TITLES = frozenset(
    "president vice minister prime secretary gov governor sen senator rep representative gen general lt col capt sgt "
    "judge justice king queen prince princess pope chief officer mayor chancellor mr mrs ms dr prof former acting "
    "deputy state foreign interior security defense defence health finance economy education energy justice "
    "transportation homeland affairs attorney spokesperson spokesman spokeswoman director chairman chairwoman ceo "
    "coach lawyer professor sheriff commissioner ambassador leader senior rev the a an".split()
)
_NOT_NAMES = frozenset(
    "i the a an this that these those it its he she they we you your his her their our my but and or so yet if when while "
    "after before as also however meanwhile according in on at by for to of from with there here what which who why how "
    "then than yes no not monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december".split()
)
_PARTICLES = frozenset("of de da la le el al van von bin del di du".split())
_DETERMINERS = frozenset("his her their its a an the our my your this that".split())
_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’.-]*|[“”\"]|[,;:—–]")
_OPEN, _CLOSE = "“\"", "”\""


@dataclass(frozen=True)
class Span:
    """One sentence of reported speech: ``text[start:end]`` is attributed to ``speaker``."""

    start: int
    end: int
    speaker: str


def attribute(text: str, tokenizer, offset: int = 0) -> list[Span]:
    """The reported-speech sentences of ``text`` with their speakers (offsets + ``offset``).

    ``tokenizer``: the answer stage's sentence splitter (``rag.answer.sentences.sentence_tokenizer()``),
    so a span is exactly a sentence the answer stage quotes."""
    spans: list[Span] = []
    state = {"speaker": "", "person": ""}  # last named speaker, last person named (for pronouns)
    previous_paragraph_quote = ""
    for paragraph in _PARAGRAPH.finditer(text):
        body = paragraph.group(0)
        rows = []  # (start, end, speaker or None, is_quote)
        inside = False
        for start, end in tokenizer.span_tokenize(body):
            sentence = body[start:end]
            quoted = inside or sentence.lstrip()[:1] in _OPEN or '"' in sentence or "“" in sentence
            inside = _ends_inside_quote(sentence, inside)
            speaker = _speaker(sentence, state)
            rows.append([start, end, speaker, quoted])
            _remember_people(sentence, state)
            state["sentence"] = state.get("sentence", 0) + 1
        for i, row in enumerate(rows):
            if row[2] is None and row[3]:  # a quote's sentence without attribution: its neighbours'
                before = [r[2] for r in rows[:i] if r[2] and r[3]]
                after = [r[2] for r in rows[i + 1 :] if r[2] and r[3]]
                row[2] = before[-1] if before else after[0] if after else previous_paragraph_quote or None
        for start, end, speaker, _ in rows:
            if speaker:
                spans.append(Span(offset + paragraph.start() + start, offset + paragraph.start() + end, speaker))
        quoted_rows = [r for r in rows if r[3] and r[2]]
        previous_paragraph_quote = quoted_rows[-1][2] if quoted_rows and rows[-1][3] else ""
    return spans


def speaker_at(spans, start: int, end: int) -> str:
    """The speaker of the sentence at ``start``-``end`` (article offsets), or "" when it reports no speech."""
    middle = (start + end) // 2
    for span in spans:
        span_start, span_end, speaker = span
        if span_start <= middle < span_end:
            return speaker
    return ""


def speakers_of(passage, tokenizer) -> tuple[tuple[int, int, str], ...]:
    """A ``Passage``'s stored speaker spans, or (indexed before attribution) computed from its text now."""
    if passage.speakers is not None:
        return passage.speakers
    key = (passage.id, passage.start, len(passage.text))
    if key not in _LAZY:
        if len(_LAZY) > 4096:
            _LAZY.clear()
        _LAZY[key] = tuple((s.start, s.end, s.speaker) for s in attribute(passage.text, tokenizer, passage.start))
    return _LAZY[key]


_LAZY: dict[tuple, tuple[tuple[int, int, str], ...]] = {}  # passages of an older index, attributed once


def speaker_of_claim(claim: str) -> str | None:
    """The named speaker a claim gives its words to ("Kast said ..." -> "Kast"); "" when it reports
    speech by nobody named ("He said ..."), None when it reports no speech at all."""
    return _speaker(claim, {"speaker": "", "person": ""}, resolve=False)


def same_speaker(a: str, b: str) -> bool:
    """Whether two speakers name the same person or body: the name words of one are all in the other's
    ("Kast" ~ "José Antonio Kast", "Peru" ~ "José Jarí of Peru"; "Eric Scully" is not "Eric Garcetti")."""
    words_a, words_b = name_words(a), name_words(b)
    if not words_a or not words_b:
        return not words_a and not words_b and a.lower().strip() == b.lower().strip()
    return words_a <= words_b or words_b <= words_a


def encode(spans) -> str:
    """Spans as the JSON string kept in a passage's Chroma metadata (flat scalars only)."""
    return json.dumps([[int(s), int(e), str(p)] for s, e, p in spans], ensure_ascii=False)


def decode(value) -> tuple[tuple[int, int, str], ...] | None:
    """The spans back from ``encode``'s string; None when absent or unreadable (then computed lazily)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return tuple((int(s), int(e), str(p)) for s, e, p in json.loads(value))
    except (ValueError, TypeError):
        return None


# --- helpers -----------------------------------------------------------------------------------------


def fold(word: str) -> str:
    """Lower case, accents off, dots and apostrophes off ("U.S." -> "us", "Jarí" -> "jari")."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if c.isalnum())


def name_words(name: str) -> set[str]:
    """The folded words that identify a speaker (no titles, group nouns or particles, none under two letters)."""
    words = {f for w in re.split(r"[\s-]+", name) for f in [fold(w)] if len(f) >= 2}
    return words - _TITLES - _GROUPS - _PARTICLES


def _ends_inside_quote(sentence: str, inside: bool) -> bool:
    for char in sentence:
        if char == "“":
            inside = True
        elif char == "”":
            inside = False
        elif char == '"':
            inside = not inside
    return inside


def _tokens(sentence: str) -> list[str]:
    return [t.rstrip(".").replace("’", "'") for t in _WORD.findall(sentence)]


def _is_name_word(token: str) -> bool:
    word = token[:-2] if token.endswith("'s") else token
    return bool(word) and word[0].isupper() and fold(word) not in _NOT_NAMES


def _runs(tokens: list[str]) -> list[tuple[int, int]]:
    """(first, last+1) token ranges of capitalised-word runs (names), never across "of" or punctuation."""
    runs, i = [], 0
    while i < len(tokens):
        if _is_name_word(tokens[i]):
            j = i
            while j + 1 < len(tokens) and (_is_name_word(tokens[j + 1]) or tokens[j + 1].lower() in ("de", "da", "van", "von", "bin", "del")):
                j += 1
                if tokens[j].endswith("'s"):
                    break
            runs.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return runs


def _clean_name(tokens: list[str]) -> str:
    words = [t[:-2] if t.endswith("'s") else t for t in tokens]
    if len(words) == 1 and words[0].lower() in _GROUPS:
        return words[0].lower()  # "Police said": a group, as "police said" mid-sentence
    while len(words) > 1 and fold(words[0]) in _TITLES:
        words = words[1:]
    while len(words) > 2 and fold(words[0]).endswith(("ian", "ean", "ese", "ish", "an")):
        words = words[1:]  # a demonym before a title-less name ("Chilean ... Luis Cordero")
    return " ".join(words)


def _speaker(sentence: str, state: dict, resolve: bool = True) -> str | None:
    """The speaker of one sentence (updating ``state``), or None when it reports no speech."""
    outside = _outside_quotes(sentence)
    for match in _VERB.finditer(outside):
        tokens_before = _tokens(outside[: match.start()])
        tokens_after = _tokens(outside[match.end() :])
        if tokens_before and tokens_before[-1].lower() in _DETERMINERS | {"to"}:
            continue  # "his warning", "a statement": a noun; "tried to say": nobody said it
        if {"who", "which"} & {t.lower() for t in tokens_before[-3:]}:
            continue  # "other Republicans who have testified": a relative clause, not this sentence's speech
        verb = match.group(0).lower()
        speaker = ""
        if verb == "according to":
            speaker = _first_subject(tokens_after, state, resolve)
        else:
            if verb in _INVERTIBLE and (not tokens_before or tokens_before[-1] in (",", "”", '"')):
                speaker = _first_subject(tokens_after[:8], state, resolve)
            if not speaker and verb.endswith("ing") and tokens_before and tokens_before[-1] == ",":
                speaker = _first_subject(tokens_before, state, resolve)  # "He filmed ..., warning ..." : the subject
            if not speaker:
                speaker = _nearest_before(tokens_before, state, resolve)
        if speaker and resolve:
            state["speaker"], state["speaker_at"] = speaker, state.get("sentence", 0)
        if speaker or not resolve:
            return speaker
    return None


def _outside_quotes(sentence: str) -> str:
    """The sentence with quoted words blanked (a speech verb inside a quote is the speaker's, not ours)."""
    chars, inside = [], False
    for char in sentence:
        if char in "“”\"":
            inside = char == "“" or (char == '"' and not inside)
            chars.append(char)
            continue
        chars.append(" " if inside and char not in ",." else char)
    return "".join(chars)


def _pronoun(state: dict, resolve: bool) -> str:
    """The last named speaker, or the last person named when that came later ("He filmed ..." after "Kast ...")."""
    if not resolve:
        return ""
    if state["person"] and state.get("person_at", -1) > state.get("speaker_at", -1):
        return state["person"]
    return state["speaker"] or state["person"]


def _first_subject(tokens: list[str], state: dict, resolve: bool) -> str:
    """The first name, group or pronoun of ``tokens`` (a subject at the front of a clause)."""
    for i, token in enumerate(tokens):
        low = token.lower()
        if low in _PRONOUNS:
            return _pronoun(state, resolve)
        if low in _GROUPS:
            return low
        if _is_name_word(token):
            runs = [r for r in _runs(tokens[i:]) if r[0] == 0]
            return _clean_name(tokens[i : i + runs[0][1]]) if runs else ""
    return ""


def _nearest_before(tokens: list[str], state: dict, resolve: bool) -> str:
    """The speaker nearest before the verb: a name ("X of Peru" gives X), a group or a pronoun."""
    # Not past a quote's end or a clause boundary: the words right before the verb.
    window = tokens[-12:]
    for cut in ("”", '"', ";", "—", "–", ":"):
        if cut in window:
            window = window[len(window) - window[::-1].index(cut) :]
    runs = _runs(window)
    for i in range(len(window) - 1, -1, -1):
        low = window[i].lower()
        run = next((r for r in runs if r[0] <= i < r[1]), None)
        if run:
            first, last = run
            if first >= 2 and window[first - 1].lower() in ("of", "from") and last - first == 1:
                # "President José Jarí of Peru said": Jarí speaks, for Peru ("What did Peru say?" finds him)
                before = next((r for r in runs if r[1] == first - 1), None)
                if before:
                    return f"{_clean_name(window[before[0]:before[1]])} of {window[first]}"
            if first >= 1 and window[first - 1].lower() in ("of", "from", "in", "at") and last - first == 1:
                continue  # "the situation in Peru, he said": the place is not the speaker
            return _clean_name(window[first:last])
        if low in _PRONOUNS:
            return _pronoun(state, resolve)
        if low in _GROUPS:
            return low
    return ""  # "Minister X, who ..., said": the loop looks back past "who" and commas to X


def _remember_people(sentence: str, state: dict) -> None:
    """The last person named (two or more capitalised words), for a pronoun with no speaker before it."""
    tokens = _tokens(_outside_quotes(sentence))
    for first, last in _runs(tokens):
        name = _clean_name(tokens[first:last])
        if len(name.split()) >= 2:
            state["person"], state["person_at"] = name, state.get("sentence", 0)
