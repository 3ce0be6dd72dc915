"""The lexical side of retrieval: BM25 over passages and over whole articles, built once, cached on disk.

* ``LexicalIndex`` holds every stored passage (the in-memory passage table retrieval filters with), a
  ``bm25s`` index over the passages (title + text), a second one over whole articles (title + the
  article text put back together from its passages' offsets) and one over titles alone, plus the
  count of every word the articles use (the question speller's dictionary, ``spelling.py``).
  Whole-article BM25 is what the reference baseline ranks with: an article that mentions every term of
  a question across several passages beats one passage that mentions most of them.
* ``LexicalCache`` saves all of it on disk, keyed by the store's contents, so a new process loads it
  instead of reading every passage out of Chroma and re-indexing.

Filtering rules are ``options.py``'s (``mask`` applies them); scoring and fusion with the dense side are
``ranking.py``'s and ``hybrid.py``'s.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rag.retrieval.options import QueryOptions
from rag.retrieval.table import PassageTable
from rag.types import Passage

# Words of a question's phrasing, not of its topic. The stemmer does not map irregular forms
# ("say" / "said", "give" / "gave"), and an absent term counts as evidence that the answer is missing,
# so without this list "What did Kast say ...?" looked unanswerable against an article full of "said".
QUESTION_WORDS = (
    "say", "said", "says", "tell", "told", "give", "gave", "given", "make", "made", "get", "got",
    "take", "took", "many", "much", "according", "happened", "happen", "new", "latest", "recently",
)  # fmt: skip


def article_texts(passages: Sequence[Passage]) -> dict[str, str]:
    """Each article's text put back together from its passages (which overlap), by article id."""
    spans: dict[str, list[Passage]] = {}
    for p in passages:
        spans.setdefault(p.article_id, []).append(p)
    texts = {}
    for article_id, parts in spans.items():
        parts.sort(key=lambda p: p.start)
        text, end = "", None
        for p in parts:
            if end is None or p.start >= end:
                text += ("\n" if text else "") + p.text
            else:  # overlapping chunk: append only what lies past the previous one's end
                text += p.text[end - p.start :]
            end = max(end or 0, p.end)
        texts[article_id] = text
    return texts


class LexicalIndex:
    """BM25 over passages, articles and titles, with the passage table; see the module docstring."""

    def __init__(self, passages: Sequence[Passage], saved: dict | None = None) -> None:
        """Index ``passages``, or adopt ``saved`` (the indexes and word counts ``LexicalCache`` loaded)."""
        import bm25s
        import numpy as np
        import Stemmer

        from rag.retrieval.spelling import count_words

        self.passages = passages if isinstance(passages, PassageTable) else PassageTable.from_passages(passages)
        table = self.passages
        # Column arrays for the filter mask (passage_day: ordinal day, -1 undated): one numpy expression
        # per query instead of a Python call per passage (measured: 48k passages, 60 ms -> 1 ms per query).
        self.passage_day = table.day
        # Article ids as integer codes: np.isin on integers sorts (fast at any size), while on object
        # arrays it compares every passage with every id (80 s at 300k passages and 27k articles).
        self.article_ids = table.article_ids
        self._article_code = {a: i for i, a in enumerate(self.article_ids)}
        self.passage_article = np.asarray(table.passage_article)
        # Each article's passage positions: one sort, then a slice per article (its first passage first).
        self._by_article = np.argsort(self.passage_article, kind="stable")
        self._bounds = np.searchsorted(self.passage_article[self._by_article], np.arange(len(self.article_ids) + 1))
        first = self._by_article[self._bounds[:-1]] if len(table) else np.zeros(0, dtype=np.int64)
        self._in_order = bool(np.array_equal(self._by_article, np.arange(len(self._by_article))))  # no gather needed
        self.article_day = self.passage_day[first]
        self._indexed = np.ones(len(self.passages), dtype=bool)
        self._stemmer = Stemmer.Stemmer("english")
        if saved is not None:
            self._passage_bm25, self._article_bm25, self._title_bm25 = saved["passages"], saved["articles"], saved["titles"]
            self.word_counts = saved["words"]
            return
        self._passage_bm25, self._article_bm25, self._title_bm25 = bm25s.BM25(), bm25s.BM25(), bm25s.BM25()
        self.word_counts = {}
        if not self.passages:
            return
        if isinstance(passages, PassageTable):  # built from a table: its passages, each built once here
            passages = list(table)
        texts = article_texts(passages)
        titles = [table.title(int(i)) for i in first]
        self._passage_bm25.index(self._tokens([f"{p.title}\n{p.text}" for p in passages]), show_progress=False)
        self._article_bm25.index(self._tokens([f"{t}\n{texts[a]}" for t, a in zip(titles, self.article_ids)]), show_progress=False)
        self._title_bm25.index(self._tokens(titles), show_progress=False)
        self.word_counts = dict(count_words([*texts.values(), *titles]))

    def _tokens(self, texts: list[str]):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en_plus", stemmer=self._stemmer, show_progress=False)

    def query_terms(self, question: str) -> list[str]:
        """The question's stemmed terms, as the indexes spell them (stop words removed)."""
        import bm25s

        return bm25s.tokenize([question], stopwords="en_plus", stemmer=self._stemmer, return_ids=False, show_progress=False)[0]

    def article_passages(self, code: int):
        """Positions of the passages of the article with integer code ``code`` (see ``article_ids``)."""
        return self._by_article[self._bounds[code] : self._bounds[code + 1]]

    def article_max(self, values: "np.ndarray") -> "np.ndarray":  # noqa: F821
        """Each article's largest of ``values`` (one per passage; booleans: whether any is true), in ``article_ids`` order.

        One ``reduceat`` over the passages in article order (about as fast as ``np.maximum.at`` at a million
        passages, 2.8 against 3.2 ms, and it also reduces the filter mask, which ``maximum.at`` cannot into
        a boolean array). Every article has a passage (the codes come from the passages), so no slice is empty."""
        import numpy as np

        if not len(values):  # no passages: no articles either
            return np.zeros(len(self.article_ids), dtype=values.dtype)
        return np.maximum.reduceat(values if self._in_order else values[self._by_article], self._bounds[:-1])

    def positions(self, passage_ids: Sequence[str]) -> "np.ndarray":  # noqa: F821
        """Each id's position in the passage table, -1 for an id it does not hold."""
        return self.passages.positions(passage_ids)

    def restrict_to(self, complete_article_ids: set[str]) -> None:
        """Only passages of these (completely indexed) articles may be returned."""
        self._indexed = self._of_articles(complete_article_ids)

    def _of_articles(self, article_ids):
        """Boolean array: which passages belong to one of ``article_ids``."""
        import numpy as np

        codes = [self._article_code[a] for a in article_ids if a in self._article_code]
        return np.isin(self.passage_article, np.asarray(codes, dtype=np.int64))

    def mask(self, options: QueryOptions) -> "np.ndarray":  # noqa: F821
        """True for each passage that ``options`` admit and whose article is completely indexed.

        ``QueryOptions.admits``' rule over the whole passage table at once (an undated passage passes
        the cut-off ``latest`` but not ``date_from``).
        """
        import numpy as np

        keep = self._indexed.copy()
        if options.date_from:
            keep &= self.passage_day >= options.date_from.toordinal()
        if options.latest:
            keep &= self.passage_day <= options.latest.toordinal()  # undated (-1) passes
        if options.sources:
            wanted = set(options.sources)
            codes = [i for i, name in enumerate(self.passages.source_names) if name in wanted]
            keep &= np.isin(self.passages.passage_source, codes)
        if options.article_ids:
            keep &= self._of_articles(options.article_ids)
        return keep

    def bm25_indexes(self) -> dict:
        """The three ``bm25s`` indexes by name ("passages", "articles", "titles"), as ``LexicalCache`` saves them."""
        return {"passages": self._passage_bm25, "articles": self._article_bm25, "titles": self._title_bm25}

    def scores(self, terms: list[str]) -> tuple["np.ndarray", "np.ndarray", "np.ndarray"]:  # noqa: F821
        """BM25 of ``terms`` for every passage, every article and every title (in ``article_ids`` order)."""
        return (
            _bm25_scores(self._passage_bm25, terms, len(self.passages)),
            _bm25_scores(self._article_bm25, terms, len(self.article_ids)),
            _bm25_scores(self._title_bm25, terms, len(self.article_ids)),
        )

    def term_weights(self, question: str) -> list[tuple[str, float, bool]]:
        """The question's topic terms (phrasing words left out) with their passage IDF and whether any passage uses them."""
        return [(term, idf, len(docs) > 0) for term, idf, docs in self._term_idfs(question)]

    def _term_idfs(self, question: str) -> list[tuple[str, float, "np.ndarray"]]:  # noqa: F821
        """The question's topic terms (phrasing words left out), sorted, each with its passage IDF and the
        passages that hold it. A term no passage uses weighs like the rarest one ("say" vs "said" misses)."""
        terms = set(self.query_terms(question)) - set(self._stemmer.stemWords(QUESTION_WORDS))
        # bm25s keeps its document-term matrix in CSC form ("indptr"/"indices" per vocabulary
        # column); reading it directly is the only way to ask which documents hold a term.
        matrix = self._passage_bm25.scores
        indptr, indices, n = matrix["indptr"], matrix["indices"], len(self.passages)
        out = []
        for term in sorted(terms):
            column = self._passage_bm25.vocab_dict.get(term) if n else None
            docs = indices[indptr[column] : indptr[column + 1]] if column is not None else indices[:0]
            df = max(1, len(docs))
            out.append((term, math.log(1 + (n - df + 0.5) / (df + 0.5)), docs))
        return out

    def best_article_bm25(self, question: str, article_ids: set[str]) -> float:
        """The highest whole-article BM25 of ``question`` among ``article_ids`` (unscaled)."""
        codes = [self._article_code[a] for a in article_ids if a in self._article_code]
        if not codes:
            return 0.0
        scores = _bm25_scores(self._article_bm25, self.query_terms(question), len(self.article_ids))
        return float(scores[codes].max())

    def coverage(self, question: str, passage_ids: Sequence[str], max_terms: int) -> float:
        """The largest IDF-weighted share of the question's terms that one of ``passage_ids`` contains.

        The refusal signal next to dense similarity: "Who won the 2022 World Cup?" against articles
        that never mention a cup scores near 0 even when the embedding finds a vaguely similar passage,
        while a name-heavy question ("Who is Kast?") scores high where dense similarity is low. Terms
        absent from every passage weigh like the rarest ones: they are evidence the answer is not here.
        ``max_terms`` > 0 judges only that many of the question's terms, the rarest: a long, compound
        question is judged on what it is about (its names and rare words), not on its phrasing.
        """
        import numpy as np

        positions = [int(i) for i in self.positions(list(passage_ids)) if i >= 0]
        if not positions or not self.passages:
            return 0.0
        weighted = [(idf, docs) for _, idf, docs in self._term_idfs(question)]
        if not weighted:
            return 0.0
        weighted.sort(key=lambda pair: pair[0], reverse=True)
        if max_terms > 0:
            weighted = weighted[:max_terms]
        positions = np.asarray(positions)
        covered = np.zeros(len(positions))
        total = 0.0
        for idf, docs in weighted:
            total += idf
            covered += idf * _holds(docs, positions)
        return float(covered.max() / total) if total else 0.0


def _holds(docs, positions):
    """For each of ``positions``, whether the passage list ``docs`` (one term's CSC column) holds it.

    bm25s writes each column's rows in ascending order, so a binary search answers it: a broadcast
    comparison against a common term's hundreds of thousands of rows took 4-5 ms a question at a
    million passages (np.isin sorts ``docs`` on every call). The order is checked (one vectorised pass),
    and a column not in order is compared whole."""
    import numpy as np

    if not len(docs):
        return np.zeros(len(positions), dtype=bool)
    if not (docs[1:] > docs[:-1]).all():
        return (docs[:, None] == positions).any(axis=0)
    found = np.minimum(np.searchsorted(docs, positions), len(docs) - 1)
    return docs[found] == positions


def _bm25_scores(bm25, terms: list[str], size: int):
    """``bm25``'s score of every document for ``terms`` (zeros when it knows none of them)."""
    import numpy as np

    known = [t for t in terms if t in bm25.vocab_dict] if size else []
    # get_scores fails on an empty token list, hence the zeros.
    return bm25.get_scores(known).astype(np.float32) if known else np.zeros(size, np.float32)


class LexicalCache:
    """The lexical indexes and the passage table on disk, keyed by what the store holds.

    Building them means reading every passage out of Chroma and tokenising it, in every process that
    opens the store: 22 s at 100k passages and 76 s at 300k, against 2.1 s and 9.5 s from the cache
    (benchmarks/query_latency.py, 2 cores). The key is a hash of the store's write token
    (``Store.generation``, replaced before and after every write by any process), its passage count and
    the ids of its complete and other articles, so a key match means the same passages. One entry per collection is kept; entries are written to a
    temporary folder and renamed, so a crash never leaves a half-written entry under a valid key.
    bm25s saves its indexes as numpy arrays and JSON; the passages and word counts go to JSON files
    beside them, the passage table in columns (``table.py``; no pickle: nothing in the cache is executable).
    """

    VERSION = 4  # bump when the tokenisation or the file layout changes

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def key(cls, collection: str, passage_count: int, generation: str, complete: list[str], others: list[str]) -> str:
        """The entry's key: the store's write token (``Store.generation``), passage count, and which
        articles are complete and which are not (ids only: every entry's metadata cost seconds)."""
        digest = hashlib.sha256(f"{cls.VERSION}\0{collection}\0{passage_count}\0{generation}".encode())
        digest.update("\0".join(sorted(complete)).encode())
        digest.update(b"\1" + "\0".join(sorted(others)).encode())
        return digest.hexdigest()[:24]

    def _entry(self, collection: str, key: str) -> Path:
        return self.directory / f"{collection}-{key}"

    def load(self, collection: str, key: str) -> LexicalIndex | None:
        """The cached index for ``key``, or None when there is none (or it cannot be read)."""
        import bm25s

        entry = self._entry(collection, key)
        if not (entry / "table.json").is_file():
            return None
        try:
            table = PassageTable.load(entry)
            saved = {name: bm25s.BM25.load(str(entry / name), mmap=False, show_progress=False) for name in ("passages", "articles", "titles")}
            saved["words"] = json.loads((entry / "words.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None  # unreadable: rebuilt from the store and saved again
        return LexicalIndex(table, saved)

    def save(self, collection: str, key: str, index: LexicalIndex) -> None:
        """Store ``index`` under ``key`` and drop this collection's older entries (best effort)."""
        if not index.passages:
            return
        staging = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{collection}-", dir=self.directory))
            for name, bm25 in index.bm25_indexes().items():
                bm25.save(str(staging / name), show_progress=False)
            index.passages.save(staging)
            (staging / "words.json").write_text(json.dumps(index.word_counts, ensure_ascii=False), encoding="utf-8")
            target = self._entry(collection, key)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
            prefix = f"{collection}-"
            for old in self.directory.glob(f"{prefix}*"):
                rest = old.name[len(prefix) :]  # another collection's entries have more than a key here
                if old != target and len(rest) == len(key) and all(c in "0123456789abcdef" for c in rest):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:  # a read-only or full disk only costs the next start-up its rebuild
            if staging:
                shutil.rmtree(staging, ignore_errors=True)
