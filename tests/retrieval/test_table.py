"""The columnar passage table: what goes in comes out, saved and memory-mapped, and ids are found."""

from __future__ import annotations

import datetime as dt

import pytest

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
    assert PassageTable.from_passages([]).positions(["a#0"]).tolist() == [-1]


def test_a_truncated_column_is_refused(tmp_path) -> None:
    PassageTable.from_passages(PASSAGES).save(tmp_path)
    (tmp_path / "start.npy").write_bytes((tmp_path / "start.npy").read_bytes()[:-8])
    with pytest.raises(ValueError):
        PassageTable.load(tmp_path)
