import datetime as dt

from helpers import SAMPLE_ARTICLE

from rag.ingest.clean import clean_article_text, content_hash, date_from_text, derive_title, parse_date


def test_sample_article_loses_banner_header_and_byline_but_keeps_body_verbatim():
    raw = SAMPLE_ARTICLE.read_text(encoding="utf-8")
    cleaned = clean_article_text(raw)
    assert cleaned.date == dt.date(2025, 11, 28)
    assert cleaned.text.startswith("President José Jarí of Peru said his government on Friday")
    assert "Your support helps us" not in cleaned.text and "donation" not in cleaned.text
    assert cleaned.text.endswith("Our main purpose is to prevent a humanitarian crisis.”")
    assert cleaned.authors == ("Pereda Zavaleta",)
    # The body is otherwise verbatim: every paragraph of it is in the raw file.
    for paragraph in cleaned.text.split("\n\n"):
        assert paragraph in raw


def test_story_about_donations_is_not_mistaken_for_a_banner():
    raw = "Charities reported record donations this winter, the sector's regulator said on Monday.\n\nMore text here."
    assert clean_article_text(raw).text.startswith("Charities reported record donations")


def test_chrome_lines_dropped():
    raw = "Advertisement\n\nThe first real paragraph of the story.\n\nRead more\n\nThe last paragraph."
    assert clean_article_text(raw).text == "The first real paragraph of the story.\n\nThe last paragraph."


def test_parse_date_forms():
    assert parse_date("2022/06/12") == dt.date(2022, 6, 12)
    assert parse_date("2022-06-12T10:00:00Z") == dt.date(2022, 6, 12)
    assert parse_date("June 12, 2022") == dt.date(2022, 6, 12)
    assert parse_date(dt.datetime(2022, 6, 12, 8)) == dt.date(2022, 6, 12)
    assert parse_date("") is None and parse_date(None) is None
    assert parse_date("2022-13-45") is None


def test_date_from_text_reads_the_dateline():
    assert date_from_text("LIMA, Peru (AP) — Nov. 28, 2025. Officials said") == dt.date(2025, 11, 28)
    assert date_from_text("No date in this text at all.") is None


def test_derive_title_and_hash():
    assert derive_title("Short headline\n\nBody.") == "Short headline"
    long = "This is a very long first sentence that keeps going well past the usual length of a headline. Then more."
    assert derive_title(long).endswith("…") and len(derive_title(long).split()) == 14
    assert content_hash("A  b\nC") == content_hash("a b c")


def test_front_matter_is_read_as_metadata_and_the_date_header_below_it_still_works():
    cleaned = clean_article_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    assert cleaned.metadata["source"] == "apnews.com" and cleaned.metadata["title"].startswith("Peru to declare")
    assert cleaned.date == dt.date(2025, 11, 28) and not cleaned.text.startswith(("---", "title"))
    # A "---" rule that is not YAML front matter is left alone.
    plain = clean_article_text("---\nThe council met: it voted [yes: no\n---\nThe bridge will be rebuilt next year.")
    assert plain.metadata == {} and "The bridge will be rebuilt" in plain.text


AD_FEEDBACK_WIDGET = (
    "1. How relevant is this ad to you?\n\nVideo player was slow to load content Video content never loaded "
    "Ad froze or did not finish loading Video content did not start after ad Audio on ad was too loud Other issues"
)


def test_a_scraped_ad_feedback_widget_is_chrome_not_story():
    # As 18 RealTimeQA articles are saved: the widget alone, which the extractive answer once quoted.
    assert clean_article_text(AD_FEEDBACK_WIDGET).text == ""
    story = "Ford is recalling 2.9 million vehicles, the automaker said on Tuesday."
    assert clean_article_text(f"{story}\n\n{AD_FEEDBACK_WIDGET}").text == story


def test_dates_come_only_from_real_date_strings():
    # Issue 25, finding 4: "n/a" was stored as two days before the ingest.
    from rag.ingest.clean import parse_date

    for nothing in ("n/a", "nan", "x", "a", "12", "99", "2 days ago", "unknown"):
        assert parse_date(nothing) is None, nothing
    assert str(parse_date("June 12, 2022")) == "2022-06-12"
    assert str(parse_date("Mon, 02 Dec 2025 10:00:00 GMT")) == "2025-12-02"
    assert str(parse_date("2022/06/12")) == "2022-06-12"


def test_control_characters_never_reach_a_title_or_source():
    from rag.ingest.articles import make_article

    article = make_article("Body text about the harbour works.", origin="x", title="Harbour\x1b[31m works\x07", source="wire\x1b]0;x\x07")
    assert "\x1b" not in article.title + article.source and "\x07" not in article.title + article.source
