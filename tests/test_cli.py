"""The command line, run as a user runs it: ``python -m rag ...`` in a fresh process."""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.fixture
def run(tmp_path, corpus_dir):
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive", "HF_HUB_OFFLINE": "1"}

    def call(*args, check=True):
        result = subprocess.run([sys.executable, "-m", "rag", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return call


def test_help_is_instant_and_loads_nothing_heavy(tmp_path):
    code = "import sys, rag.__main__ as m\ntry:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\nprint(sorted(k for k in sys.modules if k.split('.')[0] in ('chromadb', 'llama_index', 'onnxruntime', 'torch', 'gradio')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "ingest" in result.stdout and result.stdout.strip().endswith("[]")
    result = subprocess.run([sys.executable, "-c", "import rag, sys; print([k for k in sys.modules if k.startswith(('chromadb', 'llama_index', 'onnxruntime', 'torch'))])"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_ingest_ask_list_remove(run):
    first = run("ingest", "--quiet")
    assert "added 1" in first.stdout
    assert "unchanged 1" in run("ingest", "--quiet").stdout

    answer = run("ask", "Why did Peru declare a state of emergency?").stdout
    assert "[1]" in answer and "Sources:" in answer and "state of emergency" in answer

    as_json = json.loads(run("ask", "--json", "Why did Peru declare a state of emergency?").stdout)
    assert as_json["citations"][0]["quote"] in as_json["citations"][0]["passage"]

    refused = run("ask", "Who won the 2022 World Cup?").stdout
    assert "don't say" in refused and "Sources:" not in refused

    listing = run("list").stdout
    assert "1 articles" in listing and "2025-11-28" in listing
    article_id = json.loads(run("list", "--json").stdout)[0]["id"]
    assert "removed 1 of 1" in run("remove", article_id).stdout
    assert "0 articles" in run("list").stdout
    assert run("remove", "no-such-id", check=False).returncode == 1


def test_ingest_reports_bad_files(run, corpus_dir):
    (corpus_dir / "bad.jsonl").write_text("{broken\n", encoding="utf-8")
    out = run("ingest", "--quiet").stdout
    assert "failed:" in out and "malformed JSON line" in out and "added 1" in out


def test_unreachable_chroma_server_is_one_clear_line(run, tmp_path):
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": "9", "RAG_LLM": "extractive"}
    result = subprocess.run([sys.executable, "-m", "rag", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "unreachable" in result.stderr and "RAG_CHROMA_HOST" in result.stderr and "Traceback" not in result.stderr
