"""The command line, run as a user runs it: ``python -m rag ...`` in a fresh process."""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.fixture
def run(tmp_path, corpus_dir):
    # PYTHONPATH: the subprocess runs in tmp_path, so without it `import rag` finds whatever checkout
    # the venv's editable install points at, not the code under test.
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}

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


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--from", "2025-13-45"], "date_from: could not read the date '2025-13-45'"),
        (["--as-of", "garbage"], "as_of: could not read the date 'garbage'"),
        (["--from", "2025-12-01", "--to", "2025-11-01"], "date range is inverted"),
        (["--top-k", "0"], "top_k must be at least 1"),
    ],
)
def test_invalid_options_exit_2_with_the_reason(run, args, reason):
    result = run("ask", *args, "What did Kast say?", check=False)
    assert result.returncode == 2
    assert reason in result.stderr and "Traceback" not in result.stderr


def test_refusal_json_says_refused_and_filters_say_what_exists(run):
    run("ingest", "--quiet")
    refused = json.loads(run("ask", "--json", "Who won the 2022 World Cup?").stdout)
    assert refused["refused"] is True and refused["mode"] == "refused"
    out = run("ask", "--source", "reuters.com", "What did Kast say?").stdout
    assert "No article from source reuters.com; sources in the index: apnews.com." in out


def test_ingest_flags_a_future_date(run, corpus_dir):
    (corpus_dir / "future.txt").write_text(
        "date 2999-01-01 The council of Port Vale approved the harbour budget on Monday after a long debate.", encoding="utf-8"
    )
    out = run("ingest", "--quiet").stdout
    assert "future date:" in out and "2999-01-01, after today" in out
