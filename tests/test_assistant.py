"""The Assistant's boundary: invalid input is one clear error, refusals and empty filters say what happened,
future-dated articles are flagged and get no recency boost. Real store and embedding model."""

import datetime as dt
import json

import pytest

from rag.answer import NOT_IN_ARTICLES
from rag.assistant import Assistant

PERU = "Why did Peru declare a state of emergency?"


@pytest.fixture
def indexed(assistant):
    assert len(assistant.ingest().added) == 1
    return assistant


@pytest.mark.parametrize(
    ("question", "options", "error", "message"),
    [
        (None, {}, TypeError, "question must be a string, not NoneType"),
        (123, {}, TypeError, "question must be a string, not int"),
        (PERU, {"top_k": "5"}, TypeError, "top_k must be a whole number of passages, not str"),
        (PERU, {"top_k": 2.5}, TypeError, "top_k must be a whole number of passages, not float"),
        (PERU, {"top_k": -1}, ValueError, "top_k must be at least 1, not -1"),
        (PERU, {"top_k": 0}, ValueError, "top_k must be at least 1, not 0"),
        (PERU, {"date_from": "not-a-date"}, ValueError, "date_from: could not read the date 'not-a-date'"),
        (PERU, {"as_of": "garbage"}, ValueError, "as_of: could not read the date 'garbage'"),
        (PERU, {"date_to": "2025-13-45"}, ValueError, "date_to: could not read the date '2025-13-45'"),
        (PERU, {"date_from": "2025-12-01", "date_to": "2025-11-01"}, ValueError, "date range is inverted"),
        (PERU, {"topk": 3}, TypeError, "unknown option topk"),
    ],
)
def test_invalid_input_is_one_clear_error(indexed, question, options, error, message):
    with pytest.raises(error, match=message):
        indexed.query(question, **options)
    with pytest.raises(error, match=message):
        list(indexed.stream(question, **options))


def test_retrieve_validates_too(indexed):
    with pytest.raises(TypeError, match="top_k"):
        indexed.retrieve(PERU, top_k="5")


def test_valid_top_k_is_honoured(indexed):
    assert len(indexed.retrieve(PERU, top_k=1).passages) == 1
    answer = indexed.query(PERU, top_k=2)
    assert not answer.refused and answer.mode == "extractive"


def test_refusal_says_refused_not_a_backend(indexed):
    answer = indexed.query("Who won the 2022 World Cup?")
    assert answer.refused and answer.mode == "refused" and answer.text == NOT_IN_ARTICLES
    assert json.loads(json.dumps(answer.to_dict()))["mode"] == "refused"
    assert indexed.query("   ").mode == "refused"


def test_unknown_source_says_which_sources_exist(indexed):
    answer = indexed.query(PERU, sources=["reuters.com"])
    assert answer.refused and answer.mode == "refused"
    assert answer.text == "No article from source reuters.com; sources in the index: apnews.com."


def test_date_range_without_articles_says_the_range_and_the_span(indexed):
    answer = indexed.query(PERU, date_from="2026-01-01")
    assert answer.text == "No article dated on or after 2026-01-01; indexed articles are dated 2025-11-28 to 2025-11-28."
    answer = indexed.query(PERU, as_of="2025-01-01")
    assert answer.text.startswith("No article dated on or before 2025-01-01 (as of 2025-01-01")


def test_ingest_text_rejects_an_unreadable_date(assistant):
    with pytest.raises(ValueError, match="date: could not read the date 'banana'"):
        assistant.ingest_text("The council met on Monday to approve the bridge budget.", date="banana")
    assert assistant.articles() == []


def test_future_dates_are_flagged_and_get_no_recency_boost(make_settings, embedding, tmp_path):
    future = dt.date.today() + dt.timedelta(days=400)
    text = "The harbour of Port Vale reopened after a storm closed it for nine days; repairs cost {} million euros."
    assistant = Assistant(make_settings(recency_weight=4.0), embedding=embedding)
    report = assistant.ingest_text(text.format(3), title="Harbour reopens", date=future)
    assert report.future_dated == [(report.added[0], future)]
    undated = assistant.ingest_text(text.format(5), title="Harbour reopens again", date=None)
    assert not undated.future_dated

    flat = Assistant(make_settings(recency_weight=0.0), embedding=embedding, store=assistant.store)
    question = "When did the Port Vale harbour reopen?"
    boosted = {h.passage.article_id: h.score for h in assistant.retrieve(question).passages}
    unboosted = {h.passage.article_id: h.score for h in flat.retrieve(question).passages}
    future_id, undated_id = report.added[0], undated.added[0]
    # A date after today is "age unknown": the time prior treats it like an undated article, no boost.
    shift = boosted[future_id] - unboosted[future_id]
    assert shift == pytest.approx(boosted[undated_id] - unboosted[undated_id])
    assert shift < 0  # and below an article published today
