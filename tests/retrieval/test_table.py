"""The columnar passage table: what goes in comes out, saved and memory-mapped, and ids are found."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from rag.retrieval.lexical import LexicalCache
from rag.retrieval.table import PassageTable
from rag.types import Passage

PASSAGES = [
    Passage("a#0", "a", "Lima — the président said “no”.", 0, 31, "Peru", dt.date(2025, 11, 3), "ap.org", "https://ap.org/a", ((0, 4, "Boluarte"),)),
    Passage("a#1", "a", "Second\npassage with a newline.", 25, 56, "Peru", dt.date(2025, 11, 3), "ap.org", "https://ap.org/a", ()),
    Passage("b#0", "b", "An undated note, no speakers stored.", 0, 36, "", None, "", "", None),
    Passage("ü#0", "ü", "", 0, 0, "Ünïcode id", dt.date(2024, 2, 29), "cnn.com", "u", None),
]


@pytest.mark.parametrize("saved", [False, True])
def test_every_passage_comes_back_whole(tmp_path, saved) -> None:
    table = PassageTable.from_passages(PASSAGES)
    if saved:
        table.save(tmp_path)
        table = PassageTable.load(tmp_path)
    assert list(table) == PASSAGES and len(table) == 4 and table[-1] == PASSAGES[-1]
    assert table.article_ids == ["a", "b", "ü"] and table.passage_article.tolist() == [0, 0, 1, 2]
    assert table.day.tolist() == [dt.date(2025, 11, 3).toordinal()] * 2 + [-1, dt.date(2024, 2, 29).toordinal()]
    assert [table.source_names[i] for i in table.passage_source] == ["ap.org", "ap.org", "", "cnn.com"]
    assert table.title(3) == "Ünïcode id"


def test_ids_are_found_and_unknown_ids_are_not(tmp_path) -> None:
    table = PassageTable.from_passages(PASSAGES)
    table.save(tmp_path)
    loaded = PassageTable.load(tmp_path)
    for t in (table, loaded):
        assert t.positions(["b#0", "a#0", "nope", "ü#0", "a#"]).tolist() == [2, 0, -1, 3, -1]
        assert t.positions([]).tolist() == []
        assert t.ids() == ["a#0", "a#1", "b#0", "ü#0"]
        # Longer than the id column's width (4 bytes, "ü#0"): cut to that width, "ü#0zz" would be found as "ü#0".
        assert t.positions(["ü#0zz", "a#0" + "0" * 50, "ü#0"]).tolist() == [-1, -1, 3]
    assert PassageTable.from_passages([]).positions(["a#0"]).tolist() == [-1]
    assert PassageTable.from_passages([]).ids() == []


def test_a_short_column_is_refused(tmp_path) -> None:
    PassageTable.from_passages(PASSAGES).save(tmp_path)
    np.save(tmp_path / "start.npy", np.zeros(3, np.int64))  # a readable column, one passage short
    with pytest.raises(ValueError, match="disagree"):
        PassageTable.load(tmp_path)


def test_a_cache_entry_whose_description_does_not_fit_its_columns_is_not_loaded(tmp_path) -> None:
    entry = tmp_path / "news-0123456789abcdef01234567"
    entry.mkdir()
    PassageTable.from_passages(PASSAGES).save(entry)
    described = json.loads((entry / "table.json").read_text(encoding="utf-8"))
    (entry / "table.json").write_text(json.dumps({**described, "metas": described["metas"][:1]}), encoding="utf-8")
    with pytest.raises(IndexError):  # the passages name article metadata the description lacks
        PassageTable.load(entry)
    assert LexicalCache(tmp_path).load("news", "0123456789abcdef01234567") is None
