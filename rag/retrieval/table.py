"""The passage table: every stored passage in columns, saved and loaded without parsing.

Retrieval keeps every passage in memory (filters run over the whole table at once, and a dense or BM25
hit becomes a ``Passage`` without a Chroma round trip). As a list of ``Passage`` objects saved as JSON,
loading it cost most of a new process's start-up (300k passages: 9.5 s on 2 cores) and about a
kilobyte of Python objects per passage. Here the texts, ids and speaker spans are UTF-8 blobs with
offsets, and the numbers are numpy arrays: a saved table is memory-mapped (``np.load(mmap_mode="r")``),
so opening it reads nothing until a passage is used, the operating system shares the pages between
processes, and a ``Passage`` is built only for the passages a query returns. Per-article values (title,
date, source, url) are stored once per distinct combination.

What it leaves to others: indexing the text (``lexical.py``), filter rules (``options.py``), and what a
passage's metadata in Chroma looks like (``rag.store``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.ingest.speakers import decode as decode_speakers
from rag.ingest.speakers import encode as encode_speakers
from rag.types import Passage

_ARRAYS = ("ids", "id_order", "text_blob", "text_offsets", "speaker_blob", "speaker_offsets", "start", "end", "passage_article", "passage_meta")


def _blob(values: list[str]):
    """``values`` as one UTF-8 byte array and the offsets of each value in it (``len(values) + 1``)."""
    import numpy as np

    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


class PassageTable(Sequence[Passage]):
    """Every passage, in columns; ``table[i]`` builds the ``Passage`` at position ``i``.

    Public columns: ``article_ids`` (list, in order of first appearance), ``passage_article`` (each
    passage's index into it), ``day`` (ordinal day, -1 undated), ``source_names`` and ``passage_source``.
    """

    def __init__(self, arrays: dict, article_ids: list[str], metas: list[list[str]]) -> None:
        import numpy as np

        self._a = arrays
        self.article_ids = article_ids
        self._metas = metas  # [title, date iso or "", source, url] per distinct combination
        self._dates = [dt.date.fromisoformat(m[1]) if m[1] else None for m in metas]
        self.passage_article = arrays["passage_article"]
        self.source_names = sorted({m[2] for m in metas})
        source_code = {name: i for i, name in enumerate(self.source_names)}
        meta_source = np.array([source_code[m[2]] for m in metas], dtype=np.int64)
        meta_day = np.array([d.toordinal() if d else -1 for d in self._dates], dtype=np.int64)
        codes = np.asarray(arrays["passage_meta"])
        self.passage_source = meta_source[codes] if len(metas) else np.zeros(0, np.int64)
        self.day = meta_day[codes] if len(metas) else np.zeros(0, np.int64)

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> PassageTable:
        import numpy as np

        article_code: dict[str, int] = {}
        meta_code: dict[tuple, int] = {}
        passage_article, passage_meta = [], []  # each passage's code in article_code / meta_code
        for p in passages:
            passage_article.append(article_code.setdefault(p.article_id, len(article_code)))
            meta = (p.title, p.date.isoformat() if p.date else "", p.source, p.url)
            passage_meta.append(meta_code.setdefault(meta, len(meta_code)))
        ids = np.array([p.id.encode("utf-8") for p in passages], dtype=bytes) if passages else np.zeros(0, dtype="S1")
        text_blob, text_offsets = _blob([p.text for p in passages])
        speaker_blob, speaker_offsets = _blob(["" if p.speakers is None else encode_speakers(p.speakers) for p in passages])
        arrays = {
            "ids": ids,
            "id_order": np.argsort(ids, kind="stable"),
            "text_blob": text_blob, "text_offsets": text_offsets,
            "speaker_blob": speaker_blob, "speaker_offsets": speaker_offsets,
            "start": np.array([p.start for p in passages], dtype=np.int64),
            "end": np.array([p.end for p in passages], dtype=np.int64),
            "passage_article": np.array(passage_article, dtype=np.int64),
            "passage_meta": np.array(passage_meta, dtype=np.int64),
        }  # fmt: skip
        return cls(arrays, list(article_code), [list(m) for m in meta_code])

    def save(self, folder: Path) -> None:
        import numpy as np

        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", np.asarray(self._a[name]), allow_pickle=False)
        (folder / "table.json").write_text(json.dumps({"articles": self.article_ids, "metas": self._metas}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PassageTable:
        """The table saved in ``folder``, memory-mapped.

        Raises ``OSError``/``ValueError`` when unreadable or its columns disagree in length, and
        ``IndexError``/``KeyError``/``TypeError`` when ``table.json`` does not describe the columns.
        """
        import numpy as np

        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
        n = len(arrays["ids"])
        # Checked before the table is built: the constructor indexes with these columns.
        if {len(arrays[c]) for c in ("id_order", "start", "end", "passage_article", "passage_meta")} != {n} or {
            len(arrays["text_offsets"]), len(arrays["speaker_offsets"])} != {n + 1}:  # fmt: skip
            raise ValueError("passage table columns disagree")
        described = json.loads((folder / "table.json").read_text(encoding="utf-8"))
        return cls(arrays, described["articles"], described["metas"])

    def __len__(self) -> int:
        return len(self._a["ids"])

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def _string(self, blob: str, offsets: str, i: int) -> str:
        start, end = int(self._a[offsets][i]), int(self._a[offsets][i + 1])
        return bytes(self._a[blob][start:end]).decode("utf-8")

    def __getitem__(self, i) -> Passage:  # type: ignore[override]
        if isinstance(i, slice):
            raise TypeError("PassageTable takes one position at a time")
        if i < 0:
            i += len(self)
        meta = int(self._a["passage_meta"][i])
        title, _, source, url = self._metas[meta]
        return Passage(
            id=bytes(self._a["ids"][i]).decode("utf-8"),
            article_id=self.article_ids[int(self.passage_article[i])],
            text=self._string("text_blob", "text_offsets", i),
            start=int(self._a["start"][i]),
            end=int(self._a["end"][i]),
            title=title,
            date=self._dates[meta],
            source=source,
            url=url,
            speakers=decode_speakers(self._string("speaker_blob", "speaker_offsets", i) or None),
        )

    def title(self, i: int) -> str:
        return self._metas[int(self._a["passage_meta"][i])][0]

    def ids(self) -> list[str]:
        """Every passage's id, in table order (no other column is read)."""
        import numpy as np

        return [pid.decode("utf-8") for pid in np.asarray(self._a["ids"]).tolist()]

    def positions(self, passage_ids: Sequence[str]):
        """Each id's position in the table, -1 for an id it does not hold (one binary search for all).

        Searches the id column through its sort order (``id_order``) in place: a sorted copy of the
        column would be read whole when the table is opened.
        """
        import numpy as np

        ids, id_order = self._a["ids"], self._a["id_order"]
        if not len(passage_ids) or not len(self):
            return np.full(len(passage_ids), -1, dtype=np.int64)
        encoded = [pid.encode("utf-8") for pid in passage_ids]
        # An id longer than the column's fixed width is not in it; cast to that width it would be
        # cut short and could match the id it starts with, so it is searched for as b"" and refused.
        fits = np.array([len(e) <= ids.dtype.itemsize for e in encoded])
        wanted = np.array([e if ok else b"" for e, ok in zip(encoded, fits)], dtype=ids.dtype)
        found = np.searchsorted(ids, wanted, sorter=id_order).clip(0, len(self) - 1)
        at = np.asarray(id_order[found])
        return np.where(fits & (ids[at] == wanted), at, -1)
