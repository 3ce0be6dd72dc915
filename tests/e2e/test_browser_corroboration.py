"""Corroboration, evidence dates and *new since* in a real headless Chromium (as ``test_browser_news.py``):
who else reports a claim beside each citation, a conflicting number, and the Timeline tab's new-since view.

One app is served in-process on a free loopback port over a temp index holding the corroboration
articles of ``tests/answer/test_corroborate.py`` and the dated story of ``tests/answer/test_changes.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from newsroom import write_story
from helpers import ask, launch_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "answer"))
from test_changes import FOLLOW_UPS, NEW_FACTS, write_follow_ups  # noqa: E402
from test_corroborate import QUESTION, write_articles  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from rag import Assistant, load_settings
    from rag.web import app as webui

    root = tmp_path_factory.mktemp("corroboration-app")
    corpus = root / "corpus"
    write_articles(corpus)
    write_story(corpus)
    write_follow_ups(corpus)
    settings = load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive", rewrite_followups=False)
    assistant = Assistant(settings)
    webui.prepare(assistant, out=open(os.devnull, "w"))
    assistant.query("warm up")
    demo, url = launch_app(assistant)
    yield url
    demo.close()


def test_corroboration_and_a_conflict_are_shown_beside_each_citation(page):
    ask(page, QUESTION)
    page.wait_for_selector(".nd-source .nd-corrob")
    # The card quoting "34 counts" (other cards name it in their conflict lines; which outlet's report comes
    # first is the ranking's choice among equally good ones).
    card = page.locator(".nd-source").filter(has=page.locator("mark", has_text="34 counts")).first
    corroboration = card.locator(".nd-corrob").inner_text()
    assert "Reported by 2 independent outlets" in corroboration and "AP, carried by 2 sites" in corroboration
    assert "metro-wire.example says 30 counts" in card.locator(".nd-conflict").inner_text()
    # The evidence list carries the same line under each quote, and the answer its evidence dates.
    quoting = page.locator(".nd-evidence li").filter(has=page.locator("q", has_text="34 counts")).first
    assert "independent outlets" in quoting.inner_text()
    assert page.locator(".nd-dates").last.inner_text().startswith("Evidence from 2025-11-1")


def test_timeline_tab_shows_what_is_new_since_a_date(page):
    page.get_by_role("tab", name="Timeline").click()
    page.fill("#nd-tl-query textarea, #nd-tl-query input", "Peru Chile border migrants")
    page.fill("#nd-tl-since input", "2025-11-24")
    page.click("#nd-tl-new")
    page.wait_for_selector("#nd-tl-changes .nd-change")
    quotes = [q.strip() for q in page.locator("#nd-tl-changes .nd-change q").all_inner_texts()]
    assert quotes == NEW_FACTS and FOLLOW_UPS[0][4][0] not in quotes
    assert "5 new facts, 2 restated left out" in page.locator("#nd-tl-changes").inner_text()
    assert page.locator("#nd-tl-changes .nd-read-link").first.get_attribute("href")
