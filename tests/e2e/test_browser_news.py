"""The news workflow in a real headless Chromium (as ``test_browser.py``): the Feeds section, the article
reader opened from a citation, the Timeline tab and the Markdown downloads.

One app is served in-process on a free loopback port over a temp index holding the bundled sample
article and part of the story corpus (``newsroom.py``); a feed is served from a local site.
"""

from __future__ import annotations

import os
import shutil

import pytest
from newsroom import NewsSite, rss, write_story
from helpers import PERU_QUESTION, SAMPLE_ARTICLE as SAMPLE, ask, launch_app

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]


APP: dict = {}  # the served app's Assistant, to compare the page with the index


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from rag import Assistant, load_settings
    from rag.web import app as webui

    root = tmp_path_factory.mktemp("news-app")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE, corpus)
    write_story(corpus, ["border-1", "border-3", "lighthouse"])
    settings = load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive", rewrite_followups=False)
    assistant = Assistant(settings)
    webui.prepare(assistant, out=open(os.devnull, "w"))
    assistant.query("warm up")
    demo, url = launch_app(assistant)
    APP["assistant"] = assistant
    yield url
    demo.close()


def test_a_citation_opens_the_whole_article_with_the_cited_span_highlighted_and_in_view(page):
    ask(page, PERU_QUESTION)
    page.wait_for_selector("#nd-chat .nd-source mark")
    card = page.locator("#nd-chat .nd-source").first
    cited = card.locator("mark").first.inner_text().strip()
    title = card.locator(".nd-title").inner_text().strip()
    card.locator("a.nd-read-link").click()
    page.wait_for_selector("#nd-reader .nd-reader #nd-read-first")
    assert page.locator("#nd-reader h2").inner_text().strip() == title
    meta = page.inner_text("#nd-reader .nd-meta")
    assert "2025-11-28" in meta and "read the original" in meta
    assert page.locator("#nd-reader a.nd-original").get_attribute("href").startswith("https://")
    marks = page.locator("#nd-reader mark").all_inner_texts()
    assert any(cited[:60] in m for m in marks)
    article = APP["assistant"].article(page.locator("#nd-reader .nd-reader").get_attribute("data-article"))
    shown = page.inner_text("#nd-reader .nd-reader-text")
    assert " ".join(shown.split()) == " ".join(article.text.split())  # the whole article, not the passage
    page.wait_for_function(  # scrolled to the first highlighted span
        "() => { const r = document.querySelector('#nd-read-first').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    page.click("#nd-reader-back")
    page.wait_for_selector("#nd-chat .nd-source", state="visible")


def test_chat_and_answer_download_as_markdown_with_footnotes(page):
    assert page.locator("#nd-export-chat").is_disabled()
    ask(page, PERU_QUESTION)
    page.wait_for_selector("#nd-chat .nd-source mark")
    page.wait_for_function("() => !document.querySelector('#nd-export-chat').disabled")
    with page.expect_download() as download:
        page.click("#nd-export-chat")
    assert download.value.suggested_filename == "newsdesk-chat.md"
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("# newsdesk conversation") and f"## {PERU_QUESTION}" in text
    assert "[^1]" in text and "[^1]: *" in text and "2025-11-28" in text and "    > “" in text
    with page.expect_download() as download:
        page.click("#nd-export-answer")
    assert open(download.value.path(), encoding="utf-8").read().startswith(f"## {PERU_QUESTION}")
    page.click("#nd-new-chat")
    page.wait_for_function("() => document.querySelector('#nd-export-chat').disabled")


def test_timeline_tab_lists_the_story_in_date_order_and_opens_the_reader(page):
    page.get_by_role("tab", name="Timeline").click()
    page.fill("#nd-tl-query textarea, #nd-tl-query input", "Peru Chile border migrants")
    page.click("#nd-tl-go")
    page.wait_for_selector("#nd-timeline .nd-tl-entry")
    dates = page.locator("#nd-timeline .nd-tl-date").all_inner_texts()
    assert dates == sorted(dates) and dates[0] == "2025-11-18" and len(dates) >= 3
    assert "Harbour town" not in page.inner_text("#nd-timeline")
    first_quote = page.locator("#nd-timeline .nd-tl-quote").first.inner_text()
    assert "Kast" in first_quote and "[1]" in first_quote
    with page.expect_download() as download:
        page.click("#nd-tl-export")
    assert "## Timeline: Peru Chile border migrants" in open(download.value.path(), encoding="utf-8").read()
    page.locator("#nd-timeline a.nd-read-link").first.click()
    page.wait_for_selector("#nd-reader #nd-read-first")
    assert "Kast" in page.inner_text("#nd-reader #nd-read-first")

    page.get_by_role("tab", name="Timeline").click()
    page.fill("#nd-tl-query textarea, #nd-tl-query input", "Who won the 2022 football World Cup final?")
    page.click("#nd-tl-go")
    page.wait_for_selector("#nd-timeline .nd-tl-notice")
    assert "No article matches" in page.inner_text("#nd-timeline")


def test_feeds_section_subscribes_refreshes_and_unsubscribes(page):
    site = NewsSite()
    try:
        url = site.feed("/rss.xml", rss("Andes wire", site.story_pages(["border-2"])))
        page.get_by_role("tab", name="Articles").click()
        page.get_by_role("tab", name="Feeds").click()
        page.fill("#nd-feed-url textarea, #nd-feed-url input", url)
        page.click("#nd-feed-add")
        page.wait_for_selector("#nd-result .nd-added")
        assert "Migrants crowd the Chile-Peru border crossing" in page.inner_text("#nd-result")
        page.wait_for_selector("#nd-feeds .nd-feed-ok")
        assert "Andes wire" in page.inner_text("#nd-feeds") and "1 added" in page.inner_text("#nd-feeds")
        page.wait_for_selector("#nd-articles :text('Migrants crowd the Chile-Peru')")

        site.feed("/rss.xml", rss("Andes wire", site.story_pages(["border-2", "border-4"])))
        page.click("#nd-feed-refresh")
        page.wait_for_function("() => document.querySelector('#nd-feeds').innerText.includes('2 items: 1 added, 1 already indexed')")
        assert "humanitarian corridor" in page.inner_text("#nd-result")

        site.routes["/rss.xml"] = (500, "text/plain", b"down")
        page.click("#nd-feed-refresh")
        page.wait_for_selector("#nd-feeds .nd-feed-failed")
        assert "HTTP 500" in page.inner_text("#nd-feeds") and "Traceback" not in page.inner_text("body")

        page.locator("#nd-feed-pick input").click()
        page.get_by_role("option").filter(has_text="Andes wire").first.click()
        page.click("#nd-feed-remove")
        page.wait_for_selector("#nd-result .nd-removed")
        page.wait_for_function("() => document.querySelector('#nd-feeds').innerText.includes('No feeds yet')")
    finally:
        site.close()
