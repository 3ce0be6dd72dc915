"""Markdown export (``rag/present/markdown.py``): answers and conversations with numbered footnotes."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

from helpers import REPO


def citation(number: int, **changes):
    from rag.types import Citation

    values = dict(
        number=number, article_id=f"a{number}", title=f"Title {number}", date=dt.date(2025, 11, 20 + number), source="apnews.com",
        url=f"https://apnews.com/{number}", passage="P", start=0, end=1, quote=f"Quote {number}.", score=1.0,
    )  # fmt: skip
    values.update(changes)
    return Citation(**values)


def answer(question: str, text: str, citations, **fields):
    from rag.types import Answer

    return Answer(question=question, text=text, citations=list(citations), **fields)


def test_an_answer_becomes_markdown_with_one_footnote_per_citation():
    from rag.present.markdown import answer_markdown

    md = answer_markdown(answer("Why did Peru act?", "Peru declared an emergency [1]. Troops were sent [2].", [citation(1), citation(2)]))
    assert md.startswith("## Why did Peru act?\n")
    assert "Peru declared an emergency[^1]. Troops were sent[^2]." in md
    assert "[^1]: *Title 1*, 2025-11-21, apnews.com, <https://apnews.com/1>.\n    > “Quote 1.”" in md
    assert "[^2]: *Title 2*, 2025-11-22" in md


def test_a_conversation_numbers_footnotes_on_through_the_document():
    from rag.present.markdown import conversation_markdown

    first = answer("Q one", "A [1] and B [2].", [citation(1), citation(2)])
    second = answer("Q two", "C [1].", [citation(1, title="Other", url="")])
    refused = answer("Q three", "The articles don't say. None of the indexed articles contains an answer to this question.", [], refused=True)
    md = conversation_markdown([first, second, refused], when=dt.datetime(2025, 12, 1, 9, 30))
    assert md.startswith("# newsdesk conversation\n\n*Exported 2025-12-01 09:30 from newsdesk.*")
    assert [m for m in re.findall(r"\[\^(\d+)\]:", md)] == ["1", "2", "3"]
    assert "C[^3]." in md and "[^3]: *Other*, 2025-11-21, apnews.com." in md  # no URL: none shown
    assert "## Q three\n\nThe articles don't say." in md


def test_only_cited_sources_unverified_sentences_and_article_text_cannot_inject_markdown():
    from rag.present.markdown import answer_markdown

    evil = citation(1, title="[click](javascript:alert(1)) <img src=x onerror=alert(1)>", url="javascript:alert(1)",
                    quote="*bold* _it_ `code` <script>alert(1)</script>", verified=False)  # fmt: skip
    md = answer_markdown(
        answer("q", "Stated [1]. Made up claim.", [evil, citation(2)], unsupported=["Made up claim."])
    )
    assert "[^2]" not in md  # not cited in the text: no footnote
    assert "Made up claim. ⚠ *(unverified)*" in md and "(not verified)" in md
    assert "javascript:" not in md.replace("(javascript:alert(1))", "")  # the URL is dropped, the title escaped
    assert "\\[click\\]" in md and "\\<img" in md and "\\<script\\>" in md and "\\*bold\\*" in md


def test_ask_markdown_prints_the_same(tmp_path, corpus_dir):
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}  # fmt: skip
    subprocess.run([sys.executable, "-m", "rag", "ingest", "--quiet"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    out = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--markdown", "Why did Peru declare a state of emergency?"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    ).stdout  # fmt: skip
    assert out.startswith("## Why did Peru declare a state of emergency?")
    assert "[^1]" in out and re.search(r"\[\^1\]: \*Peru to declare a state of emergency.*\*, 2025-11-28, apnews.com, <https://", out)
    assert "    > “" in out
