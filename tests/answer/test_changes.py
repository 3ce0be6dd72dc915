"""What is new since (``rag/answer/changes.py``): on a story built from dated articles, exactly the new facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO
from newsroom import STORY, write_story

TOPIC = "Peru Chile border migrants"
EMERGENCY = STORY[2][4][0]  # border-3, 2025-11-28
# A later article restating the emergency in other words order and adding one fact; and one restating the corridor.
FOLLOW_UPS = [
    ("border-5", "Buses leave the border for Bolivia", "2025-12-05", "andes-daily.example", [
        "On Friday, Peru declared a state of emergency at its southern border with Chile as migrants leaving Chile triggered a backlash in Tacna.",
        "The first twelve buses carrying migrant families left the Chacalluta crossing for La Paz on Thursday night.",
    ]),
    ("border-6", "Corridor opens", "2025-12-06", "latin-wire.example", [
        "Chile and Peru agreed on Wednesday to open a humanitarian corridor so that migrants stranded at the border can travel on to Bolivia and Venezuela.",
    ]),
]
NEW_FACTS = [
    STORY[2][4][0], STORY[2][4][1],  # 2025-11-28: the emergency, the soldiers
    STORY[3][4][0], STORY[3][4][1],  # 2025-12-03: the corridor, the buses for families
    FOLLOW_UPS[0][4][1],  # 2025-12-05: the first twelve buses left (its first sentence restates the emergency)
]


def write_follow_ups(folder):
    for slug, title, date, source, paragraphs in FOLLOW_UPS:
        front = f'---\ntitle: "{title}"\ndate: {date}\nsource: {source}\nurl: https://{source}/{slug}\n---\n'
        (folder / f"{slug}.md").write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


@pytest.fixture
def desk(make_settings, embedding, tmp_path):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_story(tmp_path / "story")
    write_follow_ups(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    return assistant


def test_changes_lists_exactly_the_new_facts_oldest_first_each_cited(desk):
    from rag.types import Changes

    changes = desk.changes(TOPIC, since="2025-11-24")
    assert isinstance(changes, Changes) and not changes.notice
    assert [c.quote for c in changes.entries] == NEW_FACTS
    assert changes.restated == 2  # border-5's emergency sentence, border-6's corridor sentence
    assert (changes.articles_before, changes.articles_after) == (2, 4)
    assert [str(c.date) for c in changes.entries] == ["2025-11-28", "2025-11-28", "2025-12-03", "2025-12-03", "2025-12-05"]
    for number, c in enumerate(changes.entries, 1):
        assert c.number == number and desk.article(c.article_id).text[c.start : c.end] == c.quote
    data = json.loads(json.dumps(changes.to_dict()))
    assert data["since"] == "2025-11-24" and data["entries"][0]["quote"] == EMERGENCY


def test_changes_since_the_last_article_and_before_the_first(desk):
    none_new = desk.changes(TOPIC, since="2025-12-06")
    assert none_new.entries == [] and "No article on this story was published after 2025-12-06" in none_new.notice
    everything = desk.changes(TOPIC, since="2025-11-01")
    assert "all its facts are new" in everything.notice
    # The first article's facts are new; a restatement in a later one is not listed twice.
    quotes = [c.quote for c in everything.entries]
    assert STORY[0][4][0] in quotes and EMERGENCY in quotes and FOLLOW_UPS[0][4][0] not in quotes
    assert len(quotes) == len(set(quotes))


def test_changes_options_are_validated(desk):
    with pytest.raises(ValueError, match="since"):
        desk.changes(TOPIC, since=None)
    with pytest.raises(ValueError, match="since"):
        desk.changes(TOPIC, since="2025-02-30")
    with pytest.raises(TypeError, match="question"):
        desk.changes(None, since="2025-11-24")
    only_wire = desk.changes(TOPIC, since="2025-11-24", sources=["latin-wire.example"])
    assert [c.quote for c in only_wire.entries] == [STORY[3][4][0], STORY[3][4][1]]


def test_rag_changes_command(desk, tmp_path):
    env = {**os.environ, "RAG_DATA_DIR": str(desk.settings.storage.data_dir), "RAG_LLM": "extractive"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "rag", "changes", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # noqa: E731
    shown = run(TOPIC, "--since", "2025-11-24")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("[") >= len(NEW_FACTS) and EMERGENCY in shown.stdout and FOLLOW_UPS[0][4][0] not in shown.stdout
    assert "2 restated facts left out" in shown.stdout
    as_json = json.loads(run(TOPIC, "--since", "2025-11-24", "--json").stdout)
    assert [e["quote"] for e in as_json["entries"]] == NEW_FACTS
    bad = run(TOPIC, "--since", "soon")
    assert bad.returncode == 2 and "since" in bad.stderr and "Traceback" not in bad.stderr
