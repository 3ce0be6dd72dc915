"""Question text before retrieval: misspelt words corrected against the articles' words, and the language told.

One typo ("Peur", "emergancy") used to be enough to refuse a question: BM25 finds no passage with the
word, the lexical coverage counts it as a missing term, and the embedding of a misspelt word drifts.
Before retrieval, each word of the question that neither the articles nor the embedding model's own
vocabulary know is replaced by the closest word the articles do use (SymSpell: Damerau-Levenshtein
distance 1, or 2 for words of 8 letters or more; among equally close words the most frequent wins).

Only unknown words are touched: a real word that the articles lack ("pager", "Vance") stays as it is,
so a question about something the articles do not cover is still refused. Known words are the
embedding model's WordPiece vocabulary (22k whole words) and, looked up only for a word that is in
neither the articles nor that vocabulary, pyspellchecker's English word list (160k words; loading it
takes about a second, so most questions never do). Words of 3 letters or fewer, numbers and words with
capitals inside ("iPhone") are never changed.

The articles are searched in English. ``question_language`` tells a question in another language
(py3langid, confirmed by most of its words being unknown to the articles and to the English word list,
so an English question full of names is not mistaken for another language); the assistant then says
plainly that the articles are searched in English instead of refusing as if they lacked the answer.
Retrieval is ``hybrid.py``'s; this module only reads and rewrites the question text.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # letters, with one inner apostrophe ("Peru's")
MIN_LENGTH = 4  # shorter words have too many neighbours at distance 1 to correct safely
MIN_COUNT = 1  # any word the articles use can be a correction (the closest, then the most frequent, wins)


def count_words(texts: Iterable[str]) -> Counter:
    """How often each lower-cased word occurs in ``texts`` (the correction dictionary)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w.lower() for w in _WORD.findall(text))
    return counts


@dataclass(frozen=True)
class Correction:
    """The question after correction, and which words changed (original -> replacement)."""

    text: str
    changes: tuple[tuple[str, str], ...] = ()


class Speller:
    """Corrects unknown words of a question to the closest frequent word of the articles.

    ``word_counts``: word -> occurrences in the articles (``count_words``). ``known_words``: words that
    are spelled right even when the articles lack them (the embedding model's vocabulary).
    ``dictionary``: a function returning a larger set of correct words, called the first time a word
    is in neither (``english_words``); ``None`` for none.
    """

    def __init__(self, word_counts: dict[str, int], known_words: Iterable[str] = (), dictionary=None) -> None:
        self.counts = word_counts
        self.known = frozenset(w.lower() for w in known_words)
        self._dictionary = dictionary
        self._symspell = None

    def _lookup(self):
        """The SymSpell index of the articles' words, built the first time a word needs correcting."""
        if self._symspell is None:
            from symspellpy import SymSpell

            symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
            for word, count in self.counts.items():
                if count >= MIN_COUNT and len(word) >= MIN_LENGTH - 1:
                    symspell.create_dictionary_entry(word, count)
            self._symspell = symspell
        return self._symspell

    def is_unknown(self, word: str) -> bool:
        lower = word.lower()
        if lower in self.counts or lower in self.known or lower.split("'")[0] in self.counts:
            return False
        return self._dictionary is None or lower not in self._dictionary()

    def correct(self, question: str) -> Correction:
        """``question`` with each unknown word replaced by its best correction, if one is close enough."""
        from symspellpy import Verbosity

        changes: list[tuple[str, str]] = []

        def replace(match: re.Match) -> str:
            word = match.group(0)
            if len(word) < MIN_LENGTH or any(c.isupper() for c in word[1:]) or not self.is_unknown(word):
                return word
            distance = 2 if len(word) >= 8 else 1
            suggestions = self._lookup().lookup(word.lower(), Verbosity.CLOSEST, max_edit_distance=distance)
            if not suggestions:
                return word
            best = max(suggestions, key=lambda s: s.count).term
            fixed = best.capitalize() if word[0].isupper() else best
            changes.append((word, fixed))
            return fixed

        text = _WORD.sub(replace, question)
        return Correction(text, tuple(changes))


def model_vocabulary(model_dir=None) -> set[str]:
    """Whole words of the embedding model's WordPiece vocabulary (continuations ``##..`` left out)."""
    from rag.embed import load_tokenizer

    vocab = load_tokenizer(model_dir).get_vocab()
    return {token for token in vocab if token.isalpha() and not token.startswith("##")}


@functools.cache
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (160k words), loaded once per process."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.keys())


def question_language(question: str, speller: Speller | None) -> str:
    """ISO 639-1 code of the question's language: "en" unless it is clearly in another language.

    A question most of whose words the articles or the embedding model know is English without asking
    the language model (loading it takes a second or two); otherwise py3langid decides, and its verdict
    stands only if most words are unknown to the English word list too (names and numbers make an
    English question look foreign to a character model).
    """
    words = [w.lower() for w in _WORD.findall(question) if len(w) >= 3]
    if speller is None or not words:
        return "en"
    if sum(w not in speller.counts and w not in speller.known for w in words) < len(words) / 2:
        return "en"
    import py3langid

    language, _ = py3langid.classify(question)
    if language == "en":
        return "en"
    return language if sum(speller.is_unknown(w) for w in words) >= len(words) / 2 else "en"


LANGUAGE_NAMES = {
    "es": "Spanish", "de": "German", "fr": "French", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "pl": "Polish",
    "tr": "Turkish", "sv": "Swedish", "uk": "Ukrainian",
}  # fmt: skip


def other_language_message(language: str) -> str:
    """What the assistant says to a question it takes to be in ``language`` (not English)."""
    name = LANGUAGE_NAMES.get(language, f"not English ({language})")
    name = f"in {name}" if language in LANGUAGE_NAMES else name
    return (
        f"The articles are searched in English, and this question looks to be {name}. "
        "Please ask it in English."
    )
