"""The web app's behaviour without a browser: rendering, chat and Articles handlers, launch safety,
the ``ask`` API through ``gradio_client``, and ``python app.py`` itself.

Each test that touches the index gets its own data and corpus folders (with the bundled sample
article) and an extractive assistant; the embedding model is loaded once for the module.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import gzip
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from helpers import LIGHTHOUSE, free_port, launch_app, stop_process  # noqa: E402

from rag.present.text import CHECKING, SEARCHING, writing_stage  # noqa: E402
from rag.priority import QuestionsInFlight  # noqa: E402
from rag.web import app as webui  # noqa: E402
from rag.types import Answer, Citation, StreamEvent  # noqa: E402
from rag.web.app import ChatSession, LaunchError, OptionError, WebUI, render_answer  # noqa: E402

# Gradio's queue calls a pandas API that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "corpus" / "000_acb8fec70e58ae20.txt"
PERU_QUESTION = "Why did Peru declare a state of emergency?"
OFF_TOPIC = "Who won the 2022 World Cup?"


# --- fixtures ----------------------------------------------------------------------------------------


def make_assistant(root: Path, embedding, **overrides):
    from rag import Assistant, load_settings

    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, corpus / SAMPLE.name)
    options = {"data_dir": root / "data", "corpus_dir": corpus, "llm": "extractive", **overrides}
    assistant = Assistant(load_settings(**options), embedding=embedding)
    assistant.ingest([corpus])
    return assistant


@pytest.fixture
def assistant(tmp_path, embedding):
    return make_assistant(tmp_path, embedding)


@pytest.fixture
def ui(assistant) -> WebUI:
    return WebUI(assistant)


def run_chat(ui: WebUI, question: str, history=None, session=None, **options):
    """Drain the chat generator; returns (every yielded history, final history, session)."""
    steps = list(ui.chat(question, history or [], session, **options))
    box, history, session = steps[-1]
    assert box == ""
    return [s[1] for s in steps], history, session


def kinds(outcomes) -> list[str]:
    return [o.kind for o in outcomes]


def uploads(ui: WebUI) -> list[str]:
    return sorted(p.name for p in ui.library.uploads_dir.glob("*")) if ui.library.uploads_dir.exists() else []


# --- rendering -----------------------------------------------------------------------------------------

PASSAGE = 'Prices rose sharply. The central bank raised rates by 0.5 points on Tuesday. Markets fell & "recovered".'


def citation(number: int, **changes) -> Citation:
    start = PASSAGE.index("The central")
    end = PASSAGE.index("Markets") - 1
    fields = dict(
        number=number,
        article_id=f"a{number}",
        title=f"Bank story {number}",
        date=dt.date(2024, 5, 2),
        source="example.org",
        url=f"https://example.org/{number}",
        passage=PASSAGE,
        start=100 + start,
        end=100 + end,
        quote=PASSAGE[start:end],
        score=1.0,
        passage_start=100,
        passage_end=100 + len(PASSAGE),
    )
    fields.update(changes)
    return Citation(**fields)


def test_render_links_markers_to_source_cards_and_highlights_the_span() -> None:
    answer = Answer("q", "The bank raised rates by half a point [1].", citations=[citation(1)])
    html = render_answer(answer, "t7")
    assert '<sup class="nd-cite"><a href="#t7-1"' in html
    assert 'id="t7-1"' in html
    assert "<mark>The central bank raised rates by 0.5 points on Tuesday.</mark>" in html
    assert "Bank story 1" in html and "2024-05-02" in html and "example.org" in html
    assert 'href="https://example.org/1"' in html
    assert "\n\n" not in html  # a blank line would end the HTML block in the chat's Markdown


def unverified_answer() -> Answer:
    """An LLM answer whose second sentence no cited passage supports."""
    return Answer(
        "q",
        "The bank raised rates [1]. It will cut them next year.",
        citations=[citation(1, verified=True)],
        unsupported=["It will cut them next year."],
        mode="llm",
    )


def test_render_marks_unsupported_sentences() -> None:
    answer = unverified_answer()
    html = render_answer(answer)
    assert '<span class="nd-unsupported"' in html
    assert "It will cut them next year." in html.split('<span class="nd-unsupported"', 1)[1]
    assert "unverified" in html and "1 sentence" in html
    # the supported sentence is not marked
    assert "The bank raised rates" in html.split('<span class="nd-unsupported"', 1)[0]


def test_render_shows_only_the_cited_sources() -> None:
    answer = Answer("q", "Rates rose [2].", citations=[citation(1), citation(2), citation(3)])
    html = render_answer(answer, "p")
    assert 'id="p-2"' in html
    assert 'id="p-1"' not in html and 'id="p-3"' not in html


def test_render_escapes_article_text_and_drops_unsafe_links() -> None:
    evil = citation(1, title="<script>alert(1)</script>", url="javascript:alert(1)", source="<b>x</b>")
    html = render_answer(Answer("q", "Rates <rose> [1].", citations=[evil]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert "&lt;rose&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "Markets fell &amp; &quot;recovered&quot;." in html


def test_long_passages_show_an_excerpt_around_the_span_and_the_whole_passage_on_demand() -> None:
    long_passage = "Earlier context sentence number one. " * 12 + PASSAGE + " Later context sentence follows here." * 12
    offset = long_passage.index("The central")
    quote = "The central bank raised rates by 0.5 points on Tuesday."
    cited = citation(1, passage=long_passage, start=offset, end=offset + len(quote), passage_start=0, passage_end=len(long_passage))
    html = render_answer(Answer("q", "Rates [1].", citations=[cited]))
    excerpt = html.split('<div class="nd-passage nd-excerpt">', 1)[1].split("</div>", 1)[0]
    assert excerpt.startswith("…") and excerpt.endswith("…") and f"<mark>{quote}</mark>" in excerpt
    assert len(excerpt) < 500
    assert '<details class="nd-whole"><summary>Whole passage</summary>' in html
    assert html.count(f"<mark>{quote}</mark>") == 2  # the excerpt and the whole passage


def test_highlight_falls_back_to_the_quote_when_offsets_are_off() -> None:
    shifted = citation(1, start=5, end=9)  # offsets that do not match the quote
    html = render_answer(Answer("q", "Rates [1].", citations=[shifted]))
    assert "<mark>The central bank raised rates by 0.5 points on Tuesday.</mark>" in html


def test_refusal_is_a_calm_state_not_an_error() -> None:
    from rag.answer.extractive import refusal

    html = render_answer(refusal(OFF_TOPIC))
    assert 'class="nd-refused"' in html
    assert "The articles don't say" in html.replace("&#x27;", "'")
    assert "nd-error" not in html and "nd-sources" not in html


def test_known_notice_is_not_repeated_but_others_are_shown() -> None:
    answer = Answer("q", "Rates [1].", citations=[citation(1)], notice="extractive mode (RAG_LLM=extractive)")
    assert "nd-notice" not in render_answer(answer, known_notice="extractive mode (RAG_LLM=extractive)")
    answer.notice = "extractive mode: the LLM failed (TimeoutError: slow)"
    assert "the LLM failed" in render_answer(answer, known_notice="extractive mode (RAG_LLM=extractive)")


def settings_for(tmp_path: Path, **overrides):
    from rag import load_settings

    return load_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", **overrides)


def test_local_host_needs_no_password(tmp_path: Path) -> None:
    options = webui.launch_options(settings_for(tmp_path))
    assert options["server_name"] == "127.0.0.1" and options["server_port"] == 7860
    assert options["auth"] is None
    assert options["max_file_size"] == 20_000_000
    assert "local only" in webui.startup_message(settings_for(tmp_path))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "newsdesk.example"])
def test_exposed_host_without_password_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(LaunchError, match="RAG_AUTH_PASSWORD"):
        webui.launch_options(settings_for(tmp_path, host=host))


def test_exposed_host_with_password_uses_it_and_says_so(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, host="0.0.0.0", auth_user="desk", auth_password="s3cret-harbour-7")
    assert webui.launch_options(settings)["auth"] == ("desk", "s3cret-harbour-7")
    message = webui.startup_message(settings)
    assert "reachable from other machines" in message and "password required" in message and "s3cret" not in message


def test_half_configured_login_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="RAG_AUTH_USER"):
        webui.launch_options(settings_for(tmp_path, auth_password="only-a-password"))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_are_local(host: str) -> None:
    assert webui.is_local(host)


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_DATA_DIR=str(tmp_path / "data"),
        RAG_CORPUS_DIR=str(tmp_path / "corpus"),
        RAG_LLM="extractive",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def test_app_refuses_to_expose_itself_without_a_password(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=app_env(tmp_path, RAG_HOST="0.0.0.0"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Refusing to serve on 0.0.0.0" in result.stderr and "RAG_AUTH_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was loaded or created


@pytest.mark.slow
def test_app_indexes_the_corpus_on_first_start_then_serves(tmp_path: Path) -> None:
    import httpx

    (tmp_path / "corpus").mkdir()
    shutil.copy(SAMPLE, tmp_path / "corpus")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=app_env(tmp_path, RAG_PORT=str(port)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "serving on" in line:
                break
        output = "".join(lines)
        assert f"serving on http://127.0.0.1:{port} (local only)" in output, output
        assert "first start, indexing" in output and "added 1" in output
        assert "answers by extractive mode" in output
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert response.status_code == 200 and "newsdesk" in response.text
    finally:
        stop_process(process)


def test_prepare_indexes_only_an_empty_index(tmp_path: Path, embedding) -> None:
    import io

    from rag import Assistant, load_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE, corpus)
    assistant = Assistant(load_settings(data_dir=tmp_path / "data", corpus_dir=corpus, llm="extractive"), embedding=embedding)
    out = io.StringIO()
    report = webui.prepare(assistant, out=out)
    assert report is not None and len(report.added) == 1
    assert "first start" in out.getvalue()
    assert webui.prepare(assistant, out=out) is None  # already indexed: no work


def test_importing_rag_does_not_import_gradio() -> None:
    code = "import sys, rag; rag.Assistant; rag.Conversation; print('gradio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


# --- chat ----------------------------------------------------------------------------------------------


def test_chat_answers_with_citations_and_follow_ups_share_the_conversation(ui: WebUI) -> None:
    _, history, session = run_chat(ui, PERU_QUESTION)
    assert isinstance(session, ChatSession) and session.turn == 1
    assert [m["role"] for m in history] == ["user", "assistant"]
    answer_html = history[-1]["content"]
    assert 'class="nd-cite"' in answer_html and 'href="#nd-1-1"' in answer_html and 'id="nd-1-1"' in answer_html
    assert "<mark>" in answer_html and "state of emergency" in answer_html
    assert "RAG_LLM=extractive" not in answer_html  # the status panel says that once

    _, history, session = run_chat(ui, "Why are Venezuelan migrants leaving Chile?", history, session)
    assert len(history) == 4 and session.turn == 2
    assert 'id="nd-2-1"' in history[-1]["content"]  # anchors stay unique across turns
    assert [a.question for a in session.conversation.turns] == [PERU_QUESTION, "Why are Venezuelan migrants leaving Chile?"]


def test_out_of_corpus_question_gets_the_calm_dont_say_state(ui: WebUI) -> None:
    _, history, _ = run_chat(ui, OFF_TOPIC)
    content = history[-1]["content"]
    assert "nd-refused" in content and "nd-error" not in content and "<mark>" not in content


def test_sessions_keep_separate_histories(ui: WebUI) -> None:
    _, _, first = run_chat(ui, PERU_QUESTION)
    _, _, second = run_chat(ui, OFF_TOPIC)
    assert first is not second
    assert [a.question for a in first.conversation.turns] == [PERU_QUESTION]
    assert [a.question for a in second.conversation.turns] == [OFF_TOPIC]


def test_source_cards_show_the_articles_authors(ui: WebUI) -> None:
    _, history, _ = run_chat(ui, PERU_QUESTION)
    assert '<span class="nd-authors">by Nayara Batschke, David Pereda Zavaleta</span>' in history[-1]["content"]


def test_delete_asks_first_naming_the_articles(ui: WebUI) -> None:
    article = ui.assistant.articles()[0]
    row, question, result = ui.on_delete_ask([article.id])
    assert row["visible"] is True and question.startswith("**Delete 1 article?** “Peru to declare") and result == ""
    assert "cannot be undone" in question and len(ui.assistant.articles()) == 1  # nothing deleted yet
    row, question, result = ui.on_delete_ask([])
    assert row["visible"] is False and question == "" and "Choose the articles to delete first" in result


def test_new_chat_clears_the_conversation(ui: WebUI) -> None:
    _, history, session = run_chat(ui, PERU_QUESTION)
    conversation = session.conversation
    assert ui.new_chat(session) == ([], None, "")
    assert conversation.turns == []


def test_empty_question_does_nothing(ui: WebUI) -> None:
    assert list(ui.chat("   ", [], None)) == [("", [], None)]


def test_filters_reach_retrieval(ui: WebUI) -> None:
    # The sample article is dated 2025-11-28: a range that excludes it leaves nothing to cite.
    _, history, _ = run_chat(ui, PERU_QUESTION, date_to="2020-01-01")
    assert "nd-refused" in history[-1]["content"]
    _, history, _ = run_chat(ui, PERU_QUESTION, date_from="2025-11-01", date_to="2025-11-30", top_k=2)
    assert "<mark>" in history[-1]["content"]
    _, history, _ = run_chat(ui, PERU_QUESTION, sources=["nowhere.example"])
    assert "nd-refused" in history[-1]["content"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"date_from": "2025-13-45"}, "Could not read the “From” date"),
        ({"date_from": "2025-12-01", "date_to": "2025-01-01"}, "“From” date is after the “To” date"),
    ],
)
def test_bad_options_are_one_clear_line(ui: WebUI, options: dict, message: str) -> None:
    _, history, _ = run_chat(ui, PERU_QUESTION, **options)
    content = history[-1]["content"]
    assert "nd-error" in content and message in content and "Traceback" not in content


class FakeAssistant:
    """Just enough of an ``Assistant`` for ``Conversation``: streams a scripted answer."""

    def __init__(self, settings, events=None, error: Exception | None = None) -> None:
        self.settings = settings
        self.events = events or []
        self.error = error
        self.questions = QuestionsInFlight()  # the real one: Conversation holds it while rewriting

    def rewrite_followup(self, question, history, stop=None):
        return question

    def llm_status(self) -> str:
        return "LLM: fake"

    def stream(self, question, **options):
        yield from self.events
        if self.error:
            raise self.error


def test_each_stage_is_shown_then_the_evidence_then_the_checked_short_answer_and_no_token(tmp_path: Path) -> None:
    # The events of a real LLM answer, in the order Generator.stream yields them (tests/answer/test_generate.py
    # checks that order against the real model): searching, the evidence, writing, tokens, checking, the answer.
    evidence = dataclasses.replace(unverified_answer(), text="", unsupported=[], mode="extractive")
    final = dataclasses.replace(evidence, text="The bank raised rates [1].", mode="llm")
    tokens = [StreamEvent("token", t) for t in ["The bank ", "raised rates [1]. ", "It will cut them next year."]]
    events = [
        StreamEvent("stage", SEARCHING, stage="search"),
        StreamEvent("evidence", answer=evidence),
        StreamEvent("stage", writing_stage(3), stage="write"),
        *tokens,
        StreamEvent("stage", CHECKING, stage="check"),
        StreamEvent("answer", answer=final),
    ]
    ui = WebUI(FakeAssistant(settings_for(tmp_path), events))
    steps, history, _ = run_chat(ui, "What did the bank do?")
    shown = [h[-1]["content"] for h in steps]
    assert "nd-pending" in shown[0] and SEARCHING in shown[0]  # while the articles are searched
    assert "<mark>" not in shown[0] and "<mark>" in shown[1]  # the evidence comes next, before any token
    assert "writing the short answer" in shown[1] and "Reading 3 sentences" in shown[2] and "<mark>" in shown[2]
    assert CHECKING in shown[3] and "<mark>" in shown[3]
    assert len(shown) == 5 and not any("It will cut them next year" in s for s in shown)  # no token is shown
    assert "The bank raised rates" in shown[-1] and "writing the short answer" not in shown[-1] and CHECKING not in shown[-1]


def test_a_failing_backend_shows_one_line_and_no_traceback(tmp_path: Path) -> None:
    ui = WebUI(FakeAssistant(settings_for(tmp_path), error=RuntimeError("model server went away\nTraceback (most recent call last)")))
    _, history, session = run_chat(ui, "anything")
    content = history[-1]["content"]
    assert "Could not answer: RuntimeError: model server went away" in content
    assert "Traceback" not in content
    assert isinstance(session, ChatSession)  # the session survives; the next question works


# --- articles ----------------------------------------------------------------------------------------


def test_status_names_the_backend_and_the_index(ui: WebUI) -> None:
    status = ui.status()
    assert "extractive mode (RAG_LLM=extractive)" in status and "1 article, 4 passages" in status


def test_upload_adds_an_article_that_is_listed_and_answerable(ui: WebUI, tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.md"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    outcomes = ui.library.add_file(source, "lighthouse.md")
    assert kinds(outcomes) == ["added"]
    assert "Harbour town restores its 1880 lighthouse" in outcomes[0].text
    rows = ui.article_rows()
    assert ["Harbour town restores its 1880 lighthouse", "2024-03-05", "coastal-herald.example"] == rows[1][:3] or any(
        r[:3] == ["Harbour town restores its 1880 lighthouse", "2024-03-05", "coastal-herald.example"] for r in rows
    )
    assert ui.source_choices() == ["apnews.com", "coastal-herald.example"]  # the bundled sample is from apnews.com
    stored = uploads(ui)
    assert len(stored) == 1 and stored[0].endswith("_lighthouse.md")

    _, history, _ = run_chat(ui, "How much did the lighthouse restoration cost?")
    assert "Harbour town restores its 1880 lighthouse" in history[-1]["content"] and "<mark>" in history[-1]["content"]


def test_bad_uploads_change_nothing(ui: WebUI, tmp_path: Path) -> None:
    before = ui.article_rows()
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)))
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ" + b"\x00" * 64)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    broken_json = tmp_path / "feed.json"
    broken_json.write_text('{"title": "x", "text": ', encoding="utf-8")

    results = {path.name: ui.library.add_file(path, path.name) for path in (binary, program, empty, broken, broken_json)}
    for name, outcomes in results.items():
        assert kinds(outcomes) == ["failed"], (name, outcomes)
        assert outcomes[0].text.startswith(name), outcomes
        assert "Traceback" not in outcomes[0].text and "/" not in outcomes[0].text.split(":", 1)[0]
    assert "binary file" in results["photo.txt"][0].text
    assert "unsupported file type" in results["setup.exe"][0].text
    assert "empty file" in results["empty.md"][0].text
    assert "malformed JSON" in results["feed.json"][0].text
    assert ui.article_rows() == before
    assert uploads(ui) == []  # no copy of a failed upload is kept


def test_upload_size_limit(tmp_path: Path, embedding) -> None:
    ui = WebUI(make_assistant(tmp_path / "small", embedding, max_upload_mb=0.001))
    big = tmp_path / "big.txt"
    big.write_text("The harbour lighthouse reopened. " * 100, encoding="utf-8")
    outcomes = ui.library.add_file(big, big.name)
    assert kinds(outcomes) == ["failed"] and "too large" in outcomes[0].text and "0.001 MB limit" in outcomes[0].text
    assert len(ui.article_rows()) == 1 and uploads(ui) == []


def test_path_escaping_upload_names_stay_in_the_uploads_folder(ui: WebUI, tmp_path: Path) -> None:
    source = tmp_path / "incoming.md"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    outside = tmp_path / "data" / "escaped.md"
    outcomes = ui.library.add_file(source, "../../escaped.md")
    assert kinds(outcomes) == ["added"] and outcomes[0].text.startswith("escaped.md: ")
    assert not outside.exists() and not (tmp_path / "escaped.md").exists()
    stored = list(ui.library.uploads_dir.iterdir())
    assert len(stored) == 1 and stored[0].name.endswith("_escaped.md")
    assert stored[0].resolve().parent == ui.library.uploads_dir.resolve()
    # Windows-style and absolute names are reduced the same way; the same content is a duplicate.
    for name in ("..\\..\\escaped-too.md", "/etc/escaped-abs.md"):
        outcomes = ui.library.add_file(source, name)
        assert kinds(outcomes) == ["duplicate"], outcomes
    assert len(list(ui.library.uploads_dir.iterdir())) == 1  # duplicates keep no copy


def test_uploading_the_same_file_again_is_unchanged(ui: WebUI, tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.md"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    assert kinds(ui.library.add_file(source, "lighthouse.md")) == ["added"]
    again = ui.library.add_file(source, "lighthouse.md")
    assert kinds(again) == ["unchanged"] and "already indexed" in again[0].text
    assert len(ui.article_rows()) == 2


def test_jsonl_gz_upload_reports_each_record(ui: WebUI, tmp_path: Path) -> None:
    records = [
        json.dumps({"id": "harbour-1", "title": "Ferry strike ends", "date": "2024-02-01", "source": "port.example",
                    "text": "The ferry workers' strike in Port Elsby ended on Monday after the union accepted a 6 percent raise."}),
        "{not json",
        json.dumps({"title": "No body"}),
    ]
    feed = tmp_path / "feed.jsonl.gz"
    with gzip.open(feed, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(records) + "\n")
    outcomes = ui.library.add_file(feed, "feed.jsonl.gz")
    assert sorted(kinds(outcomes)) == ["added", "failed", "failed"]
    failed = [o.text for o in outcomes if o.kind == "failed"]
    assert failed[0].startswith("feed.jsonl.gz:2: malformed JSON line")
    assert failed[1].startswith("feed.jsonl.gz:3: record has no 'text'")
    assert any(r[0] == "Ferry strike ends" for r in ui.article_rows())


def test_on_upload_streams_result_lines_and_refreshes_the_lists(ui: WebUI, tmp_path: Path) -> None:
    good = tmp_path / "lighthouse.md"
    good.write_text(LIGHTHOUSE, encoding="utf-8")
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"PK\x03\x04")
    steps = list(ui.on_upload([str(good), str(bad)], ""))
    log_html, rows, picker, sources, status, files = steps[-1]
    assert 'class="nd-added"' in log_html and 'class="nd-failed"' in log_html and "notes.docx" in log_html
    assert any(r[0] == "Harbour town restores its 1880 lighthouse" for r in rows)
    assert any(value == rows[0][-1] for _, value in picker["choices"])
    assert sources["choices"] == ["apnews.com", "coastal-herald.example"]
    assert "2 articles" in status and files is None


def test_paste_text(ui: WebUI) -> None:
    outcomes = ui.library.add_text(LIGHTHOUSE.split("---\n", 2)[2], "Lighthouse reopens", "2024-03-05", "herald.example", "https://herald.example/l")
    assert kinds(outcomes) == ["added"] and "Lighthouse reopens" in outcomes[0].text
    row = next(r for r in ui.article_rows() if r[0] == "Lighthouse reopens")
    assert row[1:3] == ["2024-03-05", "herald.example"]
    assert kinds(ui.library.add_text(LIGHTHOUSE.split("---\n", 2)[2], "Lighthouse reopens", "2024-03-05")) == ["unchanged"]
    assert "could not read the date" in ui.library.add_text("Some text here about things.", "T", "someday soonish")[0].text
    assert kinds(ui.library.add_text("   ", "T")) == ["failed"]
    assert "http:// or https://" in ui.library.add_text("Text about a harbour.", url="javascript:alert(1)")[0].text


def test_on_paste_clears_the_form_only_on_success(ui: WebUI) -> None:
    result = ui.on_paste(LIGHTHOUSE.split("---\n", 2)[2], "Lighthouse reopens", "2024-03-05", "", "", "")
    assert result[-5:] == ("", "", "", "", "")
    result = ui.on_paste("", "kept title", "", "", "", "")
    assert "nd-failed" in result[0] and result[-5]["__type__"] == "update"


def test_add_url_from_a_local_server(ui: WebUI, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "story.html").write_text(
        "<html><head><title>Bridge reopens in Port Elsby</title></head><body><article><h1>Bridge reopens in Port Elsby</h1>"
        "<p>The swing bridge over the Elsby river reopened on Thursday after repairs to its hydraulic motor took eight weeks.</p>"
        "<p>Engineers said the motor had been damaged by saltwater during the January storm, the harbour master said.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(site))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        outcomes = ui.library.add_url(f"http://127.0.0.1:{port}/story.html")
        assert kinds(outcomes) == ["added"], outcomes
        missing = ui.library.add_url(f"http://127.0.0.1:{port}/missing.html")
        assert kinds(missing) == ["failed"] and "HTTP 404" in missing[0].text
    finally:
        server.shutdown()
        server.server_close()
    assert "not a web address" in ui.library.add_url("file:///etc/passwd")[0].text
    assert any("Bridge reopens" in r[0] for r in ui.article_rows())


def test_delete_removes_the_article_and_its_uploaded_file(ui: WebUI, tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.md"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    ui.library.add_file(source, "lighthouse.md")
    article_id = next(r[-1] for r in ui.article_rows() if r[0].startswith("Harbour town"))
    outcomes = ui.library.delete([article_id])
    assert kinds(outcomes) == ["removed"] and "Harbour town restores" in outcomes[0].text
    assert all(r[-1] != article_id for r in ui.article_rows())
    assert uploads(ui) == []
    assert kinds(ui.library.delete([])) == ["info"]
    assert "was not in the index" in ui.library.delete(["no-such-id"])[0].text


def test_deleting_a_corpus_article_says_a_resync_brings_it_back(ui: WebUI) -> None:
    article_id = ui.article_rows()[0][-1]
    outcomes = ui.library.delete(article_id)
    assert "a re-sync adds it back" in outcomes[0].text
    assert ui.article_rows() == []
    assert "refused" in json.dumps(ui.ask(PERU_QUESTION))
    outcomes = ui.library.resync()
    assert "added" in kinds(outcomes) and len(ui.article_rows()) == 1


def test_resync_adds_new_files_and_drops_removed_ones(ui: WebUI) -> None:
    corpus = Path(ui.settings.storage.corpus_dir)
    (corpus / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    outcomes = ui.library.resync()
    assert outcomes[0].kind == "info" and "added 1" in outcomes[0].text
    assert [o.text for o in outcomes if o.kind == "added"] == ["“Harbour town restores its 1880 lighthouse”"]
    (corpus / "lighthouse.md").unlink()
    outcomes = ui.library.resync()
    assert [o.kind for o in outcomes if o.kind == "removed"] == ["removed"]
    assert len(ui.article_rows()) == 1


def test_resync_of_a_missing_corpus_folder_changes_nothing(tmp_path: Path, embedding) -> None:
    ui = WebUI(make_assistant(tmp_path, embedding))
    shutil.rmtree(tmp_path / "corpus")
    outcomes = ui.library.resync()
    assert kinds(outcomes) == ["failed"] and "does not exist" in outcomes[0].text
    assert len(ui.article_rows()) == 1


def test_search_filters_the_list(ui: WebUI, tmp_path: Path) -> None:
    source = tmp_path / "lighthouse.md"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    ui.library.add_file(source, "lighthouse.md")
    assert [r[0] for r in ui.article_rows("LIGHTHOUSE")] == ["Harbour town restores its 1880 lighthouse"]
    assert len(ui.article_rows("2025-11")) == 1
    assert ui.article_rows("nothing matches this") == []
    rows, picker = ui.on_search("coastal")
    assert len(rows) == 1 and len(picker["choices"]) == 1


# --- API -----------------------------------------------------------------------------------------------


def test_ask_api_through_gradio_client(ui: WebUI) -> None:
    from gradio_client import Client

    demo = ui.build()
    port = free_port()
    webui.launch(demo, ui.settings, server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False, download_files=False)
        api = client.view_api(print_info=False, return_format="dict")
        assert set(api["named_endpoints"]) == {"/ask", "/articles", "/timeline", "/changes"}  # the UI's own events stay private

        answer = client.predict(PERU_QUESTION, api_name="/ask")
        assert answer["refused"] is False and "[1]" in answer["text"]
        first = answer["citations"][0]
        assert first["title"] == "Peru to declare a state of emergency as migrants leaving Chile trigger backlash" and first["date"] == "2025-11-28"
        assert first["passage"][first["start"] - first["passage_start"] : first["end"] - first["passage_start"]] == first["quote"]

        filtered = client.predict(PERU_QUESTION, top_k=3, date_from="2025-11-01", date_to="2025-11-30", api_name="/ask")
        assert filtered["refused"] is False
        assert client.predict(OFF_TOPIC, api_name="/ask")["refused"] is True
        assert client.predict(PERU_QUESTION, sources=["nowhere.example"], api_name="/ask")["refused"] is True

        with pytest.raises(Exception, match="Could not read the “From” date"):
            client.predict(PERU_QUESTION, date_from="2025-02-30", api_name="/ask")

        articles = client.predict(api_name="/articles")
        assert [a["date"] for a in articles] == ["2025-11-28"] and articles[0]["chunks"] == 4
    finally:
        demo.close()


def test_a_password_protects_the_page_and_the_api(tmp_path: Path, embedding) -> None:
    import httpx
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    assistant = make_assistant(tmp_path, embedding, auth_user="desk", auth_password="s3cret-harbour-7")
    demo, url = launch_app(assistant)
    try:
        assert httpx.get(f"{url}config", timeout=10).status_code == 401
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client = Client(url, auth=("desk", "s3cret-harbour-7"), verbose=False, analytics_enabled=False, download_files=False)
        assert client.predict(OFF_TOPIC, api_name="/ask")["refused"] is True
    finally:
        demo.close()


def test_clicking_a_table_row_picks_that_article_for_deletion(ui: WebUI) -> None:
    from types import SimpleNamespace

    row = ui.article_rows()[0]
    assert ui.on_row_select(SimpleNamespace(row_value=row)) == [row[-1]]
    assert ui.on_row_select(SimpleNamespace(row_value=None)) == []


def test_an_app_served_beyond_localhost_refuses_loopback_urls(make_settings, embedding, corpus_dir, tmp_path: Path) -> None:
    """Issue 11 finding 6 through the web UI: "Add URL" on an exposed app never reaches inside."""
    from rag.assistant import Assistant

    settings = make_settings(host="0.0.0.0", auth_user="editor", auth_password="a long enough password")
    ui = WebUI(Assistant(settings, embedding=embedding))
    (outcome,) = ui.library.add_url("http://127.0.0.1:9/secret")
    assert outcome.kind == "failed" and "fetch_allow_private" in outcome.text
    assert ui.assistant.articles() == []


def test_the_controls_build_the_query_options_and_word_their_errors(ui: WebUI) -> None:
    """``WebUI.options`` builds the same ``QueryOptions`` as the API and the CLI, in the controls' words."""
    import datetime as dt

    assert ui.options(0, "", "", []) == {}
    assert ui.options(50.0, "2025-11-01", "", "apnews.com", "2025-12-01") == {
        "top_k": 50, "date_from": dt.date(2025, 11, 1), "sources": ("apnews.com",), "as_of": dt.date(2025, 12, 1),
    }  # fmt: skip
    for args, message in (
        (("many",), "The number of passages must be a whole number from 1 to 50, not “many”."),
        ((51,), "The number of passages must be a whole number from 1 to 50, not “51”."),  # said, not clamped (issue 25)
        ((None, "", "2025-02-30"), "Could not read the “To” date “2025-02-30”: use YYYY-MM-DD."),
        ((None, "", "", None, "soon"), "Could not read the as-of date “soon”: use YYYY-MM-DD."),
        ((None, "2025-12-01", "2025-01-01"), "The “From” date is after the “To” date."),
    ):
        with pytest.raises(OptionError) as caught:
            ui.options(*args)
        assert str(caught.value) == message


def test_api_options_out_of_range_or_of_the_wrong_kind_get_one_clear_message(make_settings, embedding):
    # Issue 25, findings 5 and 8: top_k was silently clamped; sources=123 gave a raw TypeError.
    import pytest

    from rag.assistant import Assistant
    from rag.web.app import OptionError, WebUI

    ui = WebUI(Assistant(make_settings(), embedding=embedding))
    with pytest.raises(OptionError, match="whole number from 1 to 50"):
        ui.options(top_k=10**9)
    with pytest.raises(OptionError, match="Sources must be a list"):
        ui.options(sources=123)
    assert ui.options(top_k=7.0) == {"top_k": 7}
    history = list(ui.chat("Peru " * 1000, [], None))[-1][1]
    assert "too long" in history[-1]["content"] and "Traceback" not in history[-1]["content"]
