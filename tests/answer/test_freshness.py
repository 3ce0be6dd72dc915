"""Fresh or stale (``rag/answer/freshness.py``): the evidence's date range on every answer, and the
stale-evidence notice on present-tense questions over old evidence, never on questions about a past date."""

from __future__ import annotations

import pytest
from newsroom import write_story

PRESENT = [
    "Is the border between Peru and Chile still under a state of emergency?",
    "What is the latest on migrants at the Peru Chile border?",
    "Are migrants currently stranded at the Chile Peru border?",
    "Is Peru deploying soldiers at its border with Chile?",
]
PAST = [
    "Did Peru declare a state of emergency at its border with Chile in November 2025?",
    "What did Peru declare at its border with Chile last week?",
    "Why did Peru declare a state of emergency at the border in 2025?",
    "What did Peru declare at its border with Chile on November 28?",
]


@pytest.mark.parametrize("question", PRESENT)
def test_present_tense_questions(question):
    from rag.answer.freshness import asks_about_present

    assert asks_about_present(question)


@pytest.mark.parametrize("question", PAST + ["Why did Peru declare a state of emergency?", "How may prices rise?"])
def test_questions_about_the_past_or_timeless(question):
    from rag.answer.freshness import asks_about_present

    assert not asks_about_present(question)


@pytest.fixture
def desk(make_settings, embedding, tmp_path):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_story(tmp_path / "story", ["border-1", "border-2", "border-3"])
    assistant.ingest([tmp_path / "story"])
    return assistant


def test_the_stale_notice_on_present_questions_over_old_evidence(desk):
    import datetime as dt

    for question in PRESENT:
        answer = desk.query(question, as_of="2025-12-20")
        assert not answer.refused, question
        newest = answer.evidence_to
        assert newest and newest <= dt.date(2025, 11, 28)
        days = (dt.date(2025, 12, 20) - newest).days
        assert answer.freshness == f"The newest article on this is from {days} days ago ({newest.isoformat()}).", question
        assert answer.evidence_from <= newest
        assert answer.to_dict()["freshness"] == answer.freshness and answer.to_dict()["evidence_to"] == newest.isoformat()


def test_no_notice_on_questions_about_a_past_date_or_over_fresh_evidence(desk):
    for question in PAST:
        answer = desk.query(question, as_of="2025-12-20")
        assert not answer.refused and answer.freshness == "" and answer.evidence_to, question
    fresh = desk.query(PRESENT[0], as_of="2025-11-30")  # the newest article is two days old
    assert fresh.evidence_to and fresh.freshness == ""


def test_the_setting_moves_the_threshold(make_settings, embedding, tmp_path):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(stale_after_days=60), embedding=embedding)
    write_story(tmp_path / "story", ["border-3"])
    assistant.ingest([tmp_path / "story"])
    assert assistant.query(PRESENT[0], as_of="2025-12-20").freshness == ""
    assert "days ago (2025-11-28)" in assistant.query(PRESENT[0], as_of="2026-03-01").freshness


def test_every_answer_shows_its_evidence_dates_on_every_face(desk):
    from rag.present.markdown import answer_markdown
    from rag.web.answers import render_answer

    answer = desk.query(PRESENT[0], as_of="2025-12-20")
    label = f"Evidence from {answer.evidence_from.isoformat()}"
    assert label in answer_markdown(answer) and answer.freshness in answer_markdown(answer)
    html = render_answer(answer)
    assert label in html and 'class="nd-stale"' in html
