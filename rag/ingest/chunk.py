"""Splitting an article into passages that the embedding model reads whole.

Uses LlamaIndex's ``SentenceSplitter`` (sentence-aware, with overlap), but counts size in the embedding
model's own word pieces: all-MiniLM-L6-v2 silently truncates input past 256 word pieces, and the
title is embedded with every passage, so ``chunk_size`` (default 200) leaves room for it. LlamaIndex's
default 1,024-token chunks would leave three quarters of each chunk unembedded.

Every passage records its character offsets into the cleaned article text, so a citation can quote
and a UI can highlight the exact span, and the speaker of each of its reported-speech sentences
(``speakers.py``, computed over the whole article so a "he said" finds its name). Embedding and storage are left to ``embed.py``/``store.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from rag.answer.sentences import sentence_tokenizer
from rag.ingest.speakers import attribute
from rag.types import Article, Passage

Tokenize = Callable[[str], list]


class Chunker:
    """Turns an ``Article`` into ``Passage``s of at most ``chunk_size`` word pieces."""

    def __init__(self, tokenize: Tokenize, chunk_size: int, chunk_overlap: int) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self._tokenize = tokenize
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, tokenizer=tokenize, paragraph_separator="\n\n"
        )

    def count_pieces(self, text: str) -> int:
        """How many word pieces ``text`` is, by the tokenizer chunks are sized with."""
        return len(self._tokenize(text))

    def split(self, article: Article) -> list[Passage]:
        passages = []
        cursor = 0
        # Speakers over the whole article: a "he said" resolves to a name in an earlier passage.
        spans = [(s.start, s.end, s.speaker) for s in attribute(article.text, sentence_tokenizer())]
        for index, chunk in enumerate(self._splitter.split_text(article.text)):
            start, end = _locate(article.text, chunk, cursor)
            # Later chunks overlap earlier ones, so the next search starts inside this one.
            cursor = start + 1
            passages.append(
                Passage(
                    id=f"{article.id}#{index}",
                    article_id=article.id,
                    text=article.text[start:end],
                    start=start,
                    end=end,
                    title=article.title,
                    date=article.date,
                    source=article.source,
                    url=article.url,
                    speakers=tuple(span for span in spans if start <= span[0] and span[1] <= end),
                )
            )
        return passages


def _locate(text: str, chunk: str, cursor: int) -> tuple[int, int]:
    """Offsets of ``chunk`` in ``text``, searching from ``cursor``.

    The splitter returns exact substrings except for stripped edges; if it ever normalises inner
    whitespace, anchor on the chunk's first and last words instead so offsets stay inside the text.
    """
    start = text.find(chunk, cursor)
    if start < 0:
        start = text.find(chunk)
    if start >= 0:
        return start, start + len(chunk)
    head, tail = chunk[:40], chunk[-40:]
    start = text.find(head, cursor)
    start = start if start >= 0 else max(0, cursor)
    end = text.find(tail, start)
    end = end + len(tail) if end >= 0 else min(len(text), start + len(chunk))
    return start, end
