"""Question spelling: misspelt words corrected against the words the indexed articles use.

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
capitals inside ("iPhone") are never changed. Retrieval is
``retrieve.py``'s; this module only rewrites the question text.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # letters, with one inner apostrophe ("Peru's")
MIN_LENGTH = 4  # shorter words have too many neighbours at distance 1 to correct safely
MIN_COUNT = 2  # a correction must be a word the articles use more than once


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
        from symspellpy import SymSpell

        self.counts = word_counts
        self.known = frozenset(w.lower() for w in known_words)
        self._dictionary = dictionary
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in word_counts.items():
            if count >= MIN_COUNT and len(word) >= MIN_LENGTH - 1:
                self._symspell.create_dictionary_entry(word, count)

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
            suggestions = self._symspell.lookup(word.lower(), Verbosity.CLOSEST, max_edit_distance=distance)
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
    from .embed import load_tokenizer

    vocab = load_tokenizer(model_dir).get_vocab()
    return {token for token in vocab if token.isalpha() and not token.startswith("##")}


@functools.cache
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (160k words), loaded once per process."""
    import gzip
    import importlib.resources
    import json

    with (importlib.resources.files("spellchecker") / "resources" / "en.json.gz").open("rb") as handle:
        return frozenset(json.loads(gzip.decompress(handle.read())))
