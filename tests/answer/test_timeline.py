"""Story timelines (``rag/answer/timeline.py``): matching articles in date order, each with its best sentence, cited."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO
from newsroom import STORY, write_story

QUERY = "Peru Chile border migrants"
BORDER = [s[1] for s in STORY[:4]]


@pytest.fixture
def desk(make_settings, embedding, tmp_path):
    """An Assistant over the story corpus (four border articles over two weeks, two unrelated)."""
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_story(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    return assistant


def test_timeline_lists_the_story_in_date_order_with_a_cited_sentence_each(desk):
    from rag import Timeline

    timeline = desk.timeline(QUERY)
    assert isinstance(timeline, Timeline) and not timeline.notice
    assert [e.title for e in timeline.entries] == BORDER  # the lighthouse and the night train are left out
    assert [str(e.date) for e in timeline.entries] == ["2025-11-18", "2025-11-24", "2025-11-28", "2025-12-03"]
    assert [e.source for e in timeline.entries] == [s[3] for s in STORY[:4]]
    for number, entry in enumerate(timeline.entries, 1):
        c = entry.citation
        article = desk.article(entry.article_id)
        assert c.number == number and c.article_id == entry.article_id and c.url == entry.url == article.url
        assert article.text[c.start : c.end] == c.quote and c.quote.strip() != entry.title
        assert entry.relevance >= desk.settings.news.timeline_min_relevance
    assert "state of emergency" in timeline.entries[2].citation.quote
    as_json = json.loads(json.dumps(timeline.to_dict()))
    assert as_json["entries"][0]["date"] == "2025-11-18" and as_json["entries"][0]["citation"]["quote"] == timeline.entries[0].citation.quote
    again = desk.timeline(QUERY)
    assert [(e.article_id, e.citation.start, e.citation.end) for e in again.entries] == [
        (e.article_id, e.citation.start, e.citation.end) for e in timeline.entries
    ]  # deterministic


def test_filters_apply_and_are_validated(desk):
    late = desk.timeline(QUERY, date_from="2025-11-25")
    assert [str(e.date) for e in late.entries] == ["2025-11-28", "2025-12-03"]
    wire = desk.timeline(QUERY, sources=["latin-wire.example"])
    assert [e.title for e in wire.entries] == [BORDER[0], BORDER[3]]
    assert len(desk.timeline(QUERY, limit=2).entries) == 2
    nothing = desk.timeline(QUERY, sources=["nowhere.example"])
    assert nothing.entries == [] and "No article from source nowhere.example" in nothing.notice
    with pytest.raises(ValueError, match="date_from"):
        desk.timeline(QUERY, date_from="2025-02-30")
    with pytest.raises(ValueError, match="inverted"):
        desk.timeline(QUERY, date_from="2025-12-01", date_to="2025-11-01")
    with pytest.raises(ValueError, match="limit"):
        desk.timeline(QUERY, limit=0)
    with pytest.raises(TypeError, match="question"):
        desk.timeline(None)


def test_no_matching_story_is_a_notice_not_a_list_of_noise(desk, make_settings, embedding):
    from rag.assistant import Assistant

    off = desk.timeline("Who won the 2022 football World Cup final?")
    assert off.entries == [] and "No article matches" in off.notice
    assert desk.timeline("   ").entries == []
    empty = Assistant(make_settings(data_dir=desk.settings.storage.data_dir.parent / "empty"), embedding=embedding).timeline(QUERY)
    assert empty.entries == [] and "index is empty" in empty.notice


def test_timeline_needs_no_llm(desk):
    # Its speed is benchmarked, not asserted; here: building it never resolves (so never loads) an LLM.
    timeline = desk.timeline(QUERY)
    assert timeline.entries and desk._llm is None


def test_cli_timeline_and_json(tmp_path, corpus_dir):
    write_story(corpus_dir)
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}  # fmt: skip

    def run(*args):
        return subprocess.run([sys.executable, "-m", "rag", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    assert run("ingest", "--quiet").returncode == 0
    out = run("timeline", QUERY).stdout
    lines = [line for line in out.splitlines() if line[:4].isdigit()]
    assert [line[:10] for line in lines] == ["2025-11-18", "2025-11-24", "2025-11-28", "2025-11-28", "2025-12-03"], out
    assert "[1]" in out and "https://apnews.example/border-3" in out
    data = json.loads(run("timeline", "--json", "--from", "2025-11-25", "--source", "apnews.com", "--source", "apnews.example", QUERY).stdout)
    assert [e["date"] for e in data["entries"]] == ["2025-11-28", "2025-11-28"]
    assert data["entries"][0]["citation"]["quote"]
    bad = run("timeline", "--from", "yesterday-ish", QUERY)
    assert bad.returncode == 2 and "date_from" in bad.stderr
