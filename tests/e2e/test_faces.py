"""The same question, the same answer: the web chat (a real chromium), the CLI (a subprocess), Python
(``Assistant.query``, ``rag.query``'s engine) and ``gradio_client`` ask one question over the same index
(the bundled sample article) with the real bundled local LLM, and must give the same short answer and
the same evidence, word for word (issue 24, item 3). Markers ``llm`` and ``browser``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from helpers import BROWSER_WAIT_MS, REPO, SAMPLE_ARTICLE, ask, launch_app, open_app

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

pytestmark = [pytest.mark.llm, pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")]

QUESTIONS = ["Why did Peru declare a state of emergency?", "How many days did Kast give immigrants to leave Chile voluntarily?"]
LLM_WAIT_MS = 600_000  # a CPU-only LLM answer: seconds when the machine is idle, minutes when it is shared


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedding, local_llm, gguf_1_5b):
    """(settings overrides as RAG_* variables, the Assistant, the app's URL) over one index of the sample article."""
    from rag import Assistant, load_settings

    root = tmp_path_factory.mktemp("faces")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_ARTICLE, corpus)
    values = {"data_dir": str(root / "data"), "corpus_dir": str(corpus), "llm": "local", "llm_model_path": str(gguf_1_5b)}
    assistant = Assistant(load_settings(**values), embedding=embedding, llm=local_llm)
    assistant.ingest()
    demo, url = launch_app(assistant)
    yield {f"RAG_{k.upper()}": v for k, v in values.items()}, assistant, url
    demo.close()


def shown(text: str, evidence: list[str]) -> tuple[str, list[str]]:
    """What a reader gets, spacing aside: the short answer with its [n], and the quoted evidence."""
    return re.sub(r"\s*(\[\d+\])", r" \1", " ".join(text.split())).strip(), [" ".join(q.split()) for q in evidence]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_face_gives_the_same_answer(served, browser, question):
    env, assistant, url = served

    answer = assistant.query(question)  # Python
    if "How many days" in question:  # the LLM's own short answer here, so the LLM's determinism is tested
        assert answer.mode == "llm" and "111" in answer.text, answer
    python = shown(answer.text, [c.quote for c in answer.evidence])

    result = subprocess.run(  # the CLI, in a process of its own that loads its own copy of the model
        [sys.executable, "-m", "rag", "ask", "--json", question],
        cwd=REPO, env={**os.environ, **env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    cli = shown(data["text"], [c["quote"] for c in data["evidence"]])
    assert (data["mode"], data["notice"]) == (answer.mode, answer.notice)

    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    data = client.predict(question, api_name="/ask")
    api = shown(data["text"], [c["quote"] for c in data["evidence"]])
    assert (data["mode"], data["notice"]) == (answer.mode, answer.notice)

    context = browser.new_context(viewport={"width": 1360, "height": 940})
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        page = open_app(context, url)
        ask(page, question)
        page.wait_for_function("() => document.querySelector('#nd-chat .nd-source') && !document.querySelector('#nd-chat .nd-writing, #nd-chat .nd-pending')", timeout=LLM_WAIT_MS)
        last = page.locator("#nd-chat .nd-msg").last
        short = last.locator(".nd-short").inner_text() if last.locator(".nd-short").count() else ""
        short = re.sub(r"(?i)^\s*answer\s*", "", short)  # the label (upper case by CSS)
        web = shown(short if answer.mode == "llm" else answer.text, last.locator(".nd-quotes q").all_inner_texts())
        if answer.mode != "llm":  # no short answer: the evidence stands alone, under the same notice
            assert short == "" and answer.notice in last.inner_text()
    finally:
        context.close()

    assert python[1], "no evidence"
    assert cli == python, f"CLI {cli} != Python {python}"
    assert api == python, f"gradio_client {api} != Python {python}"
    assert web == python, f"web chat {web} != Python {python}"
