"""Every command and code example in README.md runs and gives what the README says.

The fenced blocks are read out of README.md itself, so the test follows the README: a new command in
the tour fails here until ``TOUR_CHECKS`` says what it should print. Blocks that are not run are listed
in ``NOT_RUN`` with the reason. What the test substitutes, so that it runs offline in a temp folder:
``.venv/bin/python`` becomes this interpreter, ``ID`` the listed article's id, the README's example
URL a page served on 127.0.0.1, and the web app's address the port of an app started here.
Answers are extractive (``RAG_LLM=extractive``): the README's outputs do not depend on the LLM.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import REPO, SAMPLE_ARTICLE, launch_app

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(lang, body) for lang, body in FENCE.findall(README)]

# Blocks that are not run, recognised by a phrase in them, and why.
NOT_RUN = {
    "pip install -e \".[local]\"": "set-up: creates a venv and installs packages from the network (CI runs it: .ci/run)",
    "apt-get install -y -qq chromium": "set-up: installs Debian packages and the test extras; this is what CI runs (.ci/run)",
    "python -m rag eval": "the long evaluation on the RealTimeQA data (35 minutes), outside the project",
    "ingest:  source ->": "a diagram, not a command",
}

# Tour commands (by their first words after `python -m rag`) and what the README says each gives.
TOUR_CHECKS = {
    "ingest": lambda out: "added 1" in out,
    'ask "Why did Peru': lambda out: "state of emergency" in out and "[1]" in out and "Evidence, quoted from the articles:" in out,
    "ask --json": lambda out: json.loads(out)["refused"] is True and json.loads(out)["mode"] == "refused",
    "ask --from 2025-11-01 --source apnews.com": lambda out: "Evidence, quoted from the articles:" in out and "apnews.com" in out and "don't say" not in out,
    "list": lambda out: "1 articles" in out and "apnews.com" in out,
    "remove ID": lambda out: "removed 1 of 1" in out,
}


TOUR = (".venv/bin/python -m rag ingest", "-m rag list")  # the tour's block (the news block has ingest-like lines too)

# News workflow commands (by their first words after `python -m rag`) and what the README says each gives.
NEWS_CHECKS = {
    "feeds add": lambda out: "subscribed to" in out and "added:" in out,
    "feeds list": lambda out: "1 feed" in out and "added" in out,
    "feeds refresh": lambda out: "already indexed" in out,
    "timeline": lambda out: out.index("2025-11-18") < out.index("2025-11-28") and "[1]" in out,
    "changes": lambda out: "since 2025-11-24" in out and "[1]" in out and "2025-11-18" not in out,
    "show ID": lambda out: "Peru to declare a state of emergency" in out and "apnews.com" in out,
    "ask --markdown": lambda out: out.startswith("## Why did Peru") and "[^1]:" in out,
    "feeds remove": lambda out: "unsubscribed" in out,
}


def block(*phrases: str) -> str:
    """The one README block containing every phrase."""
    found = [body for _, body in BLOCKS if all(p in body for p in phrases)]
    assert len(found) == 1, f"expected one README block with {phrases}, found {len(found)}"
    return found[0]


def test_every_block_is_run_or_listed_as_not_run():
    run_here = [block(*TOUR), block("from rag import query"), block("from gradio_client import Client"), block("-m rag feeds add")]
    for lang, body in BLOCKS:
        skipped = [reason for phrase, reason in NOT_RUN.items() if phrase in body]
        assert body in run_here or skipped, f"README block not covered by a test:\n{body}"


@pytest.fixture
def env(tmp_path: Path, corpus_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAG_")},
        "RAG_DATA_DIR": str(tmp_path / "data"),
        "RAG_CORPUS_DIR": str(corpus_dir),
        "RAG_LLM": "extractive",
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": str(REPO),  # the code under test, whatever checkout the venv's editable install names
    }


def test_tour_commands(tmp_path: Path, env: dict[str, str]):
    commands = []
    for line in block(*TOUR).splitlines():
        command = line.split("#", 1)[0].strip()
        if command:
            assert command.startswith(".venv/bin/python -m rag "), command
            commands.append(command.removeprefix(".venv/bin/python -m rag "))
    assert len(commands) == len(TOUR_CHECKS), "a tour command without a check in TOUR_CHECKS (or one removed)"
    for command in commands:
        check = [c for prefix, c in TOUR_CHECKS.items() if command.startswith(prefix)]
        assert len(check) == 1, f"no check for README command {command!r}"
        args = shlex.split(command)
        if args == ["remove", "ID"]:
            listed = subprocess.run([sys.executable, "-m", "rag", "list", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            args = ["remove", json.loads(listed.stdout)[0]["id"]]
        result = subprocess.run([sys.executable, "-m", "rag", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (command, result.stderr)
        assert check[0](result.stdout), f"README command {command!r} printed:\n{result.stdout}"


@pytest.fixture
def story_server(tmp_path: Path):
    """A local web page standing in for the README's https://example.org/story.html."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "story.html").write_text(
        "<html><head><title>Harbour town restores its lighthouse</title></head><body><article><h1>Harbour town restores its lighthouse</h1>"
        "<p>The town of Port Elsby reopened its 1880 lighthouse on Tuesday after a two-year restoration that cost 4.2 million euros.</p>"
        "<p>Volunteers replaced the copper lantern roof and rebuilt the spiral staircase, said the committee chair, Mira Oduya.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/story.html"
    server.shutdown()
    server.server_close()


def test_python_example(tmp_path: Path, env: dict[str, str], story_server: str):
    code = block("from rag import query").replace("https://example.org/story.html", story_server)
    more = tmp_path / "more-articles"
    more.mkdir()
    (more / "bridge.txt").write_text(
        "date 2025-11-20 The city council of Port Vale approved a new bridge over the river on Monday, at a cost of 12 million euros.",
        encoding="utf-8",
    )
    checks = textwrap.dedent(
        """
        assert not answer.refused and answer.citations and "[1]" in answer.text
        assert all(c.verified in (None, True) for c in answer.citations)
        assert not reply.refused and reply.citations, reply.text
        assert "Kast" in reply.text or "leave" in reply.text
        assert report.failed == [] and len(report.added) == 2  # both sources were read
        titles = {a.title for a in assistant.articles()}
        assert "Harbour town restores its lighthouse" in titles and len(titles) == 3, titles
        print("\\nREADME-OK")
        """
    )
    # The README's first call builds the default assistant, which indexes nothing by itself: index the corpus as the tour did.
    subprocess.run([sys.executable, "-m", "rag", "ingest", "--quiet"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    result = subprocess.run([sys.executable, "-c", code + checks], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "README-OK" in result.stdout, result.stderr[-3000:] + result.stdout[-2000:]
    assert "added 2, updated 0" in result.stdout  # the ingest report is printed
    assert "Searching the articles…" in result.stdout and "Answer:" in result.stdout  # the stream's stage, then the checked text


def test_readme_ingest_example_prints_each_failure(tmp_path: Path, env: dict[str, str]):
    start = README.index("report = assistant.ingest(")
    code = README[start : README.index("chat = Conversation(assistant)", start)]  # the README's ingest lines
    code = "from rag import Assistant\nassistant = Assistant()\n" + code.replace("https://example.org/story.html", "http://127.0.0.1:9/gone.html")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "failed 2" in lines[0]  # both sources fail: the report says so, and names each
    assert sum(line.startswith("failed: ") for line in lines) == 2 and any("more-articles" in line for line in lines)


def test_web_api_example(tmp_path: Path, make_settings, embedding, corpus_dir: Path):
    pytest.importorskip("gradio_client")
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    assistant.ingest()
    demo, url = launch_app(assistant)
    try:
        code = block("from gradio_client import Client").replace("http://127.0.0.1:7860/", url)
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
        answer = namespace["answer"]
        assert answer["refused"] is False and "[1]" in answer["text"]
        first = answer["citations"][0]
        assert first["source"] == "apnews.com" and first["url"].startswith("https://") and first["date"] == "2025-11-28"
    finally:
        demo.close()


def test_sample_article_is_where_the_readme_says():
    assert SAMPLE_ARTICLE.exists()


def test_news_commands(tmp_path: Path, env: dict[str, str]):
    from newsroom import NewsSite, rss

    site = NewsSite()
    try:
        feed = site.feed("/feed.xml", rss("Wire", site.story_pages(["border-1", "border-3"])))
        commands = [line.split("#", 1)[0].strip() for line in block("-m rag feeds add").splitlines()]
        commands = [c.removeprefix(".venv/bin/python -m rag ") for c in commands if c]
        assert len(commands) == len(NEWS_CHECKS), "a news command without a check in NEWS_CHECKS (or one removed)"
        subprocess.run([sys.executable, "-m", "rag", "ingest", "--quiet"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
        for command in commands:
            check = [c for prefix, c in NEWS_CHECKS.items() if command.startswith(prefix)]
            assert len(check) == 1, f"no check for README command {command!r}"
            args = [feed if a == "https://example.org/feed.xml" else a for a in shlex.split(command)]
            if args == ["show", "ID"]:
                listed = subprocess.run([sys.executable, "-m", "rag", "list", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
                args = ["show", next(a["id"] for a in json.loads(listed.stdout) if a["source"] == "apnews.com")]
            result = subprocess.run([sys.executable, "-m", "rag", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, (command, result.stderr)
            assert check[0](result.stdout), f"README command {command!r} printed:\n{result.stdout}"
    finally:
        site.close()
