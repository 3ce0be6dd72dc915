"""The web app in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Two apps are served in-process on free loopback ports for the whole module, each over its own temp
index holding the bundled sample article: one answers extractively (as with RAG_LLM=extractive), the
other streams its answers from the real bundled local LLM (skipped when the ``local`` extra is not
installed), so that token streaming, the citation verifier and the final re-render are watched in the
page. (An unverifiable sentence's marking is checked on the rendering in ``test_app.py``: a real model
cannot be made to produce one on demand.) Each test opens its own browser context(s), so
sessions never share state; a test that adds an article deletes it again. (``docs/screenshot.png`` is
made by ``docs/make_screenshot.py``.)
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from helpers import BROWSER_WAIT_MS as WAIT_MS
from helpers import LIGHTHOUSE, PERU_QUESTION, SAMPLE_ARTICLE as SAMPLE, ask, launch_app, open_app

from rag.present.text import CHECKING, SEARCHING, STOPPED

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue calls a pandas API that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing"),
]

LLM_WAIT_MS = 600_000  # a CPU-only LLM answer: seconds when the machine is idle, minutes when it is shared


# --- fixtures ------------------------------------------------------------------------------------------


def serve(root: Path, embedding, llm=None):
    from rag import Assistant, load_settings
    from rag.web import app as webui

    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(SAMPLE, corpus)
    settings = load_settings(data_dir=root / "data", corpus_dir=corpus, llm="extractive", rewrite_followups=False)
    assistant = Assistant(settings, embedding=embedding, llm=llm)
    webui.prepare(assistant, out=open(os.devnull, "w"))
    assistant.query("warm up")  # loads the sentence splitter before the first timed question
    return launch_app(assistant)


@pytest.fixture(scope="module")
def app(tmp_path_factory, embedding):
    """The extractive app: (url)."""
    demo, url = serve(tmp_path_factory.mktemp("app"), embedding)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def streaming_app(tmp_path_factory, embedding, local_llm):
    """The app answering through the bundled local LLM, streaming: (url)."""
    demo, url = serve(tmp_path_factory.mktemp("streaming-app"), embedding, llm=local_llm)
    yield url
    demo.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(url: str, height: int = 940):
        context = browser.new_context(viewport={"width": 1360, "height": height})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return open_app(context, url)

    yield make
    for context in contexts:
        context.close()


def choose_files(page, *paths: Path) -> None:
    """Put files in the upload box and wait until the page lists them (uploaded to the server)."""
    page.locator("#nd-files input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_function(
        "names => { const t = document.querySelector('#nd-files').innerText.replace(/\\s/g, '');"
        " return names.every(n => t.includes(n)); }",
        arg=[p.name for p in paths],
    )


def last_answer(page):
    return page.locator("#nd-chat .nd-msg").last


def wait_for_turns(page, count: int) -> None:
    """Wait until ``count`` answers are complete (not streaming) in the page's chat."""
    page.wait_for_function(
        """count => {
            const done = document.querySelectorAll('#nd-chat .nd-msg:not(.nd-pending)');
            return done.length >= count && !document.querySelector('#nd-chat .nd-writing, #nd-chat .nd-pending');
        }""",
        arg=count,
    )


# --- tests ---------------------------------------------------------------------------------------------


RECORD_STATES = """() => {
    window.ndStates = [];
    const chat = document.querySelector('#nd-chat');
    new MutationObserver(() => {
        const all = chat.querySelectorAll('.nd-msg');
        const last = all[all.length - 1];
        if (!last) return;
        const state = {
            writing: !!last.querySelector('.nd-writing'),
            short: last.querySelector('.nd-short:not(.nd-writing)')?.innerText || '',
            quotes: [...last.querySelectorAll('.nd-quotes q')].map(q => q.innerText),
            text: last.innerText,
        };
        const previous = window.ndStates[window.ndStates.length - 1];
        if (!previous || previous.text !== state.text) window.ndStates.push(state);
    }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def test_evidence_shows_first_then_the_short_answer_in_place(streaming_app, new_page) -> None:
    page = new_page(streaming_app)
    assert "Qwen2.5-Coder 1.5B Instruct (Q4_K_M, local)" in page.inner_text("#nd-status")
    page.evaluate(RECORD_STATES)
    ask(page, "How many days did Kast give immigrants to leave Chile voluntarily?")
    page.wait_for_selector("#nd-chat .nd-writing", timeout=LLM_WAIT_MS)  # the evidence, while the model writes
    page.wait_for_selector("#nd-chat .nd-short:not(.nd-writing)", timeout=LLM_WAIT_MS)
    page.wait_for_selector("#nd-chat .nd-source mark", timeout=LLM_WAIT_MS)
    states = page.evaluate("window.ndStates")
    writing = next(i for i, s in enumerate(states) if s["writing"])
    answered = next(i for i, s in enumerate(states) if s["short"])
    final = states[-1]
    assert writing < answered and states[writing]["quotes"]  # evidence rendered before the short answer
    assert states[writing]["quotes"] == final["quotes"]  # and the short answer came in place above it
    # No state shows text the final answer lacks: no unchecked token, no sentence later withdrawn.
    shown = {line.strip() for s in states for line in s["text"].splitlines() if line.strip()}
    final_lines = {line.strip() for line in final["text"].splitlines()}
    stage_lines = ("writing the short answer", SEARCHING, CHECKING)  # what the answer is doing, not what it says
    transient = {line for line in shown - final_lines if not any(stage in line for stage in stage_lines)}
    assert not transient, transient
    # The LLM's own answer, not the extractive fallback: that one always comes with a notice (no
    # direct answer, unverifiable answer, or the LLM failed), and so would pass the checks below too.
    assert last_answer(page).locator(".nd-notice").count() == 0, last_answer(page).inner_text()
    assert last_answer(page).locator(".nd-short sup.nd-cite a").count() == 1

    link = last_answer(page).locator(".nd-short sup.nd-cite a").first  # the short answer's own sentence
    target = link.get_attribute("href")
    assert re.fullmatch(r"#nd-1-\d+", target)
    card = page.locator(f"#nd-chat {target}")
    assert "Peru to declare a state of emergency" in card.inner_text()  # the article's title
    marked = " ".join(card.locator("mark").first.inner_text().split())
    assert marked and marked in " ".join(SAMPLE.read_text(encoding="utf-8").split())  # its sentence, highlighted
    link.click()
    page.wait_for_function("h => location.hash === h", arg=target)


def test_the_chat_names_each_stage_and_stop_ends_the_answer_at_once(streaming_app, new_page, local_llm) -> None:
    page = new_page(streaming_app)
    page.evaluate(RECORD_STATES)
    # A question no other test of this module asks: llama.cpp's prompt cache would otherwise let the short
    # answer finish before the click reaches the server.
    ask(page, "Why are migrants leaving Chile for Peru before the election?")
    page.wait_for_function(
        "() => /Reading \\d+ sentences, writing the short answer/.test(document.querySelector('#nd-chat').innerText)", timeout=LLM_WAIT_MS
    )
    page.click("#nd-stop")
    page.wait_for_selector(f"#nd-chat .nd-notice:has-text('{STOPPED[:30]}')")
    answer = last_answer(page)
    assert answer.locator(".nd-quotes q").count() >= 1  # the evidence already shown stays
    assert answer.locator(".nd-short").count() == 0 and answer.locator(".nd-stage").count() == 0  # no short answer, no stage
    texts = [s["text"] for s in page.evaluate("window.ndStates")]
    assert any(SEARCHING in t for t in texts) and any("writing the short answer" in t for t in texts)
    # The generation ended: the model is free (within seconds: llama.cpp is aborted even mid-prompt).
    for _ in range(600):
        if not local_llm._lock.locked():
            break
        time.sleep(0.1)
    assert not local_llm._lock.locked(), "the stopped generation still holds the model"
    time.sleep(1)
    assert STOPPED in last_answer(page).inner_text()  # no late update overwrote the stopped answer

    ask(page, "Who is Chile's Minister of Security?")  # the next question is answered normally
    wait_for_turns(page, 2)
    page.wait_for_selector("#nd-chat .nd-msg >> nth=-1 >> .nd-source", timeout=LLM_WAIT_MS)
    final = last_answer(page).inner_text()
    assert "Cordero" in final and STOPPED not in final


def test_answer_with_sources_and_screenshot(app, new_page, tmp_path) -> None:
    page = new_page(app, height=1200)
    ask(page, PERU_QUESTION)
    page.wait_for_selector("#nd-chat .nd-source mark")
    answer = last_answer(page)
    assert answer.locator("sup.nd-cite a").count() >= 1
    assert answer.locator(".nd-source").count() == len(set(answer.locator("sup.nd-cite a").evaluate_all("l => l.map(a => a.hash)")))
    assert "2025-11-28" in answer.locator(".nd-source .nd-meta").first.inner_text()
    # Show the whole turn, question first: scroll the chat's scrolling box back to its top.
    page.locator("#nd-chat .nd-msg").first.evaluate(
        """el => { for (let n = el; n; n = n.parentElement) if (n.scrollHeight > n.clientHeight + 4 &&
                   getComputedStyle(n).overflowY !== 'visible') { n.scrollTop = 0; break; } }"""
    )
    time.sleep(0.5)
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_out_of_corpus_question_shows_the_dont_say_state(app, new_page) -> None:
    page = new_page(app)
    ask(page, "Who won the 2022 World Cup?")
    page.wait_for_selector("#nd-chat .nd-refused")
    text = page.locator("#nd-chat .nd-refused").inner_text()
    assert "The articles don't say" in text
    assert page.locator("#nd-chat .nd-error").count() == 0
    assert page.locator("#nd-chat .nd-source").count() == 0


def test_example_question_is_one_click(app, new_page) -> None:
    page = new_page(app)
    page.get_by_text("Why are Venezuelan migrants leaving Chile?").click()
    page.wait_for_selector("#nd-chat .nd-source mark")
    assert "Why are Venezuelan migrants leaving Chile?" in page.inner_text("#nd-chat")


def test_upload_list_ask_and_delete(app, new_page, tmp_path) -> None:
    article = tmp_path / "lighthouse.md"
    article.write_text(LIGHTHOUSE, encoding="utf-8")
    title = "Harbour town restores its 1880 lighthouse"
    page = new_page(app)

    page.get_by_role("tab", name="Articles").click()
    choose_files(page, article)
    page.click("#nd-upload")
    page.wait_for_selector("#nd-result .nd-added")
    assert title in page.inner_text("#nd-result")
    page.wait_for_selector(f"#nd-articles :text('{title}')")

    page.get_by_role("tab", name="Chat").click()
    ask(page, "How much did the lighthouse restoration in Port Elsby cost?")
    page.wait_for_selector("#nd-chat .nd-source mark")
    card = last_answer(page).locator(".nd-source").first
    assert title in card.inner_text() and "4.2 million euros" in card.locator("mark").first.inner_text()

    page.get_by_role("tab", name="Articles").click()
    page.fill("#nd-search input, #nd-search textarea", "lighthouse")
    page.wait_for_function("() => !document.querySelector('#nd-articles').innerText.includes('Peru to declare a state of emergency')")
    page.locator("#nd-delete-pick input").click()
    page.get_by_role("option").filter(has_text=title).first.click()
    page.click("#nd-delete")  # asks first: "Cancel" keeps the article
    page.wait_for_selector("#nd-delete-yes", state="visible")
    assert f"Delete 1 article? “{title}”" in page.inner_text("#nd-delete-question")
    page.click("#nd-delete-no")
    page.wait_for_selector("#nd-delete-yes", state="hidden")
    assert title in page.inner_text("#nd-articles") and page.locator("#nd-result .nd-removed").count() == 0
    page.click("#nd-delete")  # "Yes, delete" deletes it
    page.click("#nd-delete-yes")
    page.wait_for_selector("#nd-result .nd-removed")
    page.wait_for_selector("#nd-delete-yes", state="hidden")
    page.fill("#nd-search input, #nd-search textarea", "")
    page.wait_for_function("() => document.querySelector('#nd-articles').innerText.includes('Peru to declare a state of emergency')")
    assert title not in page.inner_text("#nd-articles")


def test_bad_upload_shows_one_clear_line(app, new_page, tmp_path) -> None:
    bad = tmp_path / "scan.txt"
    bad.write_bytes(b"\x00\x01binary\x00" * 20)
    other = tmp_path / "setup.exe"
    other.write_bytes(b"MZ" + b"\x00" * 30)
    page = new_page(app)
    page.get_by_role("tab", name="Articles").click()
    before = page.inner_text("#nd-articles-status")
    choose_files(page, bad, other)
    page.click("#nd-upload")
    page.wait_for_selector("#nd-result .nd-failed")
    page.wait_for_function("() => document.querySelectorAll('#nd-result .nd-failed').length === 2")
    lines = page.locator("#nd-result .nd-failed").all_inner_texts()
    assert "scan.txt" in lines[0] and "binary file" in lines[0]
    assert "setup.exe" in lines[1] and "unsupported file type" in lines[1]
    assert "Traceback" not in page.inner_text("body")
    assert page.inner_text("#nd-articles-status") == before  # nothing was added


def test_two_sessions_chatting_at_once_keep_separate_histories(app, browser, new_page) -> None:
    first, second = new_page(app), new_page(app)
    q1, q2 = PERU_QUESTION, "Why are Venezuelan migrants leaving Chile?"
    ask(first, q1)
    ask(second, q2)
    wait_for_turns(first, 1)
    wait_for_turns(second, 1)
    follow_up = "What did Kast say in his campaign video?"
    ask(first, follow_up)
    wait_for_turns(first, 2)

    one, two = first.inner_text("#nd-chat"), second.inner_text("#nd-chat")
    assert q1 in one and follow_up in one and q2 not in one
    assert q2 in two and q1 not in two and follow_up not in two

    first.click("#nd-new-chat")
    first.wait_for_function("() => !document.querySelector('#nd-chat .nd-msg')")
    assert q2 in second.inner_text("#nd-chat")  # clearing one chat leaves the other alone
