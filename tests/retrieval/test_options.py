"""Option validation and the "filter matched nothing" messages (pure logic: ArticleInfo values, no store)."""

import datetime as dt

import pytest

from rag.retrieval.options import InvalidOption, QueryOptions, check_question, filter_mismatch, query_options
from rag.types import ArticleInfo


def info(article_id: str, date: str | None, source: str) -> ArticleInfo:
    return ArticleInfo(article_id, f"title {article_id}", dt.date.fromisoformat(date) if date else None, source, "", 3, "h")


ARTICLES = [info("a", "2025-11-28", "apnews.com"), info("b", "2025-10-02", "cnn.com"), info("c", None, "")]


@pytest.mark.parametrize("question", [None, 123, b"bytes", ["a question"]])
def test_question_must_be_a_string(question) -> None:
    with pytest.raises(TypeError, match="question must be a string"):
        check_question(question)


@pytest.mark.parametrize("top_k", ["5", 2.5, True, [5]])
def test_top_k_of_the_wrong_type_is_a_type_error(top_k) -> None:
    with pytest.raises(TypeError, match="top_k must be a whole number"):
        query_options(top_k=top_k)


@pytest.mark.parametrize("top_k", [0, -1])
def test_top_k_under_one_is_a_value_error(top_k) -> None:
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        query_options(top_k=top_k)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date_from": "not-a-date"}, "date_from: could not read the date 'not-a-date'"),
        ({"date_to": "2025-13-45"}, "date_to: could not read the date '2025-13-45'"),
        ({"as_of": "garbage"}, "as_of: could not read the date 'garbage'"),
        ({"date_from": "2025-12-01", "date_to": "2025-11-01"}, "inverted: date_from 2025-12-01 is after date_to 2025-11-01"),
    ],
)
def test_bad_dates_are_value_errors_naming_the_option(options, message) -> None:
    with pytest.raises(ValueError, match=message):
        query_options(**options)


def test_valid_options_are_typed() -> None:
    options = query_options(top_k=3, date_from="2025-11-01", date_to=dt.date(2025, 11, 30), sources="apnews.com", as_of="2025-12-01")
    assert options == QueryOptions(3, dt.date(2025, 11, 1), dt.date(2025, 11, 30), ("apnews.com",), (), dt.date(2025, 12, 1))
    assert query_options() == QueryOptions()
    with pytest.raises(TypeError, match="sources must be a list of strings"):
        query_options(sources=[1, 2])


def test_unknown_source_names_the_sources_in_the_index() -> None:
    message = filter_mismatch(query_options(sources=["reuters.com"]), ARTICLES)
    assert message == "No article from source reuters.com; sources in the index: apnews.com, cnn.com."


def test_date_range_without_articles_names_the_range_and_the_indexed_span() -> None:
    message = filter_mismatch(query_options(date_from="2026-01-01"), ARTICLES)
    assert message == "No article dated on or after 2026-01-01; indexed articles are dated 2025-10-02 to 2025-11-28."
    message = filter_mismatch(query_options(as_of="2025-01-01", date_from="2024-12-01"), ARTICLES)
    assert "dated 2024-12-01 to 2025-01-01 (as of 2025-01-01" in message


def test_filters_that_match_only_apart_say_so_and_matching_filters_say_nothing() -> None:
    assert "together" in filter_mismatch(query_options(sources=["cnn.com"], date_from="2025-11-01"), ARTICLES)
    assert filter_mismatch(query_options(sources=["apnews.com"], date_from="2025-11-01"), ARTICLES) == ""
    assert filter_mismatch(query_options(), ARTICLES) == ""
    assert "ingest some articles" in filter_mismatch(query_options(sources=["x"]), [])
    assert "python -m rag list" in filter_mismatch(query_options(article_ids=["zzz"]), ARTICLES)


def test_an_invalid_option_says_which_option_and_what_is_wrong() -> None:
    """The web UI words these with its own labels; the API and the CLI show the message."""
    with pytest.raises(InvalidOption) as caught:
        query_options(date_to="2025-13-45")
    assert (caught.value.option, caught.value.problem, caught.value.value) == ("date_to", "unreadable", "2025-13-45")
    with pytest.raises(InvalidOption) as caught:
        query_options(date_from="2025-12-01", date_to="2025-11-01")
    assert caught.value.problem == "inverted"
    with pytest.raises(TypeError) as caught:
        query_options(top_k="five")
    assert isinstance(caught.value, InvalidOption) and caught.value.option == "top_k" and caught.value.problem == "type"


def test_the_as_of_day_is_a_cut_off_like_date_to() -> None:
    assert query_options(date_to="2025-11-30", as_of="2025-11-01").latest == dt.date(2025, 11, 1)
    assert query_options(date_to="2025-10-01", as_of="2025-11-01").latest == dt.date(2025, 10, 1)
    options = query_options(as_of="2025-11-01")
    assert [a.id for a in ARTICLES if options.admits(a.id, a.source, a.date)] == ["b", "c"]  # undated passes
    assert not query_options(date_from="2025-01-01").admits("c", "", None)  # but not a date_from
    assert options.given() == {"as_of": dt.date(2025, 11, 1)} and query_options().given() == {}


def test_a_question_with_lone_surrogates_is_mended_and_a_huge_one_refused():
    # Issue 25, finding 8: bytes that are not UTF-8 in a CLI argument became lone surrogates the tokenizer chokes on.
    import pytest

    from rag.retrieval.options import InvalidOption, check_question

    mended = check_question("Why did Peru \udcff\udcfe declare? \ud800")
    assert mended.encode("utf-8") and "\ufffd" in mended
    with pytest.raises(InvalidOption, match="too long .* max_question_chars"):
        check_question("why " * 1000, max_chars=2000)
