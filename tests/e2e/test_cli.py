"""The command line, run as a user runs it: ``python -m rag ...`` in a fresh process."""

import json
import os
import subprocess
import sys

import pytest

from helpers import REPO


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
    code = "import sys, rag.cli.main as m\ntry:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\nprint(sorted(k for k in sys.modules if k.split('.')[0] in ('chromadb', 'llama_index', 'onnxruntime', 'torch', 'gradio')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "ingest" in result.stdout and result.stdout.strip().endswith("[]")
    result = subprocess.run([sys.executable, "-c", "import rag, sys; print([k for k in sys.modules if k.startswith(('chromadb', 'llama_index', 'onnxruntime', 'torch'))])"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_ingest_ask_list_remove(run):
    first = run("ingest", "--quiet")
    assert "added 1" in first.stdout
    assert "unchanged 1" in run("ingest", "--quiet").stdout

    answer = run("ask", "Why did Peru declare a state of emergency?").stdout
    assert "[1]" in answer and "Evidence, quoted from the articles:" in answer and "state of emergency" in answer

    as_json = json.loads(run("ask", "--json", "Why did Peru declare a state of emergency?").stdout)
    assert as_json["citations"][0]["quote"] in as_json["citations"][0]["passage"]

    refused = run("ask", "Who won the 2022 World Cup?").stdout
    assert "don't say" in refused and "Evidence" not in refused

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


def _long_article(path, sentences: int = 1500) -> None:
    """One article long enough for several hundred passages (as a 1 MB upload has thousands)."""
    words = ["harbour", "council", "budget", "bridge", "railway", "drought", "museum", "school", "market", "festival"]
    body = " ".join(
        f"Sentence {i} says the {words[i % 10]} committee met {words[(i * 7) % 10]} officials on day {i % 28 + 1} and approved plan {i}."
        for i in range(sentences)
    )
    path.write_text(f"date 2025-10-01 A very long council report\n\n{body}\n", encoding="utf-8")


def _stream(process, chunks: list[str]):
    """Read ``process.stderr`` in a thread (tqdm rewrites one line with carriage returns)."""
    import threading

    def pump():
        for chunk in iter(lambda: process.stderr.read1(4096), b""):
            chunks.append(chunk.decode("utf-8", "replace"))

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def test_progress_bar_moves_with_the_embedding_not_ahead_of_it(tmp_path, corpus_dir):
    # Finding 11: the bar counted articles read, reached the article count before any embedding and stalled.
    import re

    _long_article(corpus_dir / "long.txt")
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "rag", "ingest"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    counts = [int(n) for n in re.findall(r"(\d+) passages", result.stderr)]
    total = int(re.search(r"\((\d+) passages embedded", result.stdout).group(1))
    assert total > 128  # more than one embedding step (EMBED_STEP)
    shown = sorted(set(counts))
    assert shown[-1] == total
    assert any(0 < n < total for n in shown), f"the bar jumped straight to the end: {shown}"


def test_ctrl_c_during_ingest_is_one_line_and_the_next_run_resumes(tmp_path, corpus_dir):
    # Finding 11: Ctrl-C printed a 40-line KeyboardInterrupt traceback.
    import re
    import signal
    import time

    from helpers import write_articles

    write_articles(corpus_dir, 300)
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive", "HF_HUB_OFFLINE": "1"}
    # A shell's background job (nohup ... &) hands its children SIGINT ignored, and Python then keeps it
    # ignored: restore the default so the child gets Ctrl-C as it would in a terminal.
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "ingest"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    chunks: list[str] = []
    reader = _stream(process, chunks)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if any(int(n) > 0 for n in re.findall(r"(\d+) passages", "".join(chunks))):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the ingest ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    reader.join(10)  # stderr is read by the reader thread only (communicate() would race it for the last line)
    process.stdout.read()
    err = "".join(chunks)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("interrupted")]
    assert len(lines) == 1 and "run the same command again to resume" in lines[0], err
    done = int(re.search(r"interrupted: (\d+) new article", lines[0]).group(1))
    assert done < 301

    resumed = subprocess.run([sys.executable, "-m", "rag", "ingest", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    added = int(re.search(r"added (\d+)", resumed.stdout).group(1))
    updated = int(re.search(r"updated (\d+)", resumed.stdout).group(1))  # left pending by the interruption
    unchanged = int(re.search(r"unchanged (\d+)", resumed.stdout).group(1))
    assert unchanged == done and added + updated + unchanged == 301  # nothing redone, nothing lost


def test_bad_settings_paths_and_arguments_give_one_line_not_a_traceback(run, tmp_path):
    # Issue 25, findings 4, 6 and 8.
    env_run = lambda env, *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "rag", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_LLM": "extractive", "HF_HUB_OFFLINE": "1",
             "PYTHONPATH": str(REPO), **env},
    )  # fmt: skip
    cases = [
        (env_run({"RAG_TOP_K": "-3"}, "list"), "setting top_k (RAG_TOP_K or rag.toml) is '-3': Input should be greater than 0"),
        (env_run({"RAG_DATA_DIR": "/etc/passwd"}, "list"), "is a file, not a folder; set RAG_DATA_DIR"),
        (run("ingest", "", check=False), "empty source path"),
        (run("ask", "--from", "n/a", "Why did Peru declare?", check=False), "could not read the date 'n/a'"),
        (run("ask", "--top-k", str(10**9), "Why did Peru declare?", check=False), "top_k must be at most 50"),
    ]
    for result, message in cases:
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_undecodable_argument_bytes_and_control_characters_in_titles(run, tmp_path, corpus_dir):
    # Issue 25, finding 8: a question with bytes that are not UTF-8 crashed the tokenizer; ANSI escapes
    # and BEL in a title reached the terminal through `rag list` and `rag show`.
    import json as json_module

    (corpus_dir / "ansi.jsonl").write_text(json_module.dumps({
        "id": "ansi-1", "title": "Harbour \u001b[2J\u001b[31mworks\u0007", "date": "2025-11-02",
        "text": "The harbour works in Port Elsby will cost 4.2 million euros, the council said on Tuesday.",
    }))  # fmt: skip
    run("ingest", "--quiet")
    listed = run("list").stdout
    shown = run("show", "ansi-1").stdout
    assert "Harbour" in listed and "\x1b" not in listed + shown and "\x07" not in listed + shown
    question = os.fsencode("Why did Peru ") + b"\xff\xfe" + b" declare a state of emergency?"
    result = subprocess.run([sys.executable, "-m", "rag", "ask", question], cwd=tmp_path, capture_output=True, timeout=300,
                            env={**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_LLM": "extractive",
                                 "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})  # fmt: skip
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]


def test_ask_prints_its_stages_on_stderr_only_when_that_is_a_terminal(run, tmp_path, corpus_dir):
    import pty

    run("ingest", "--quiet")
    piped = run("ask", "Why did Peru declare a state of emergency?")
    assert "Searching the articles" not in piped.stderr + piped.stdout  # a pipe or a log gets no stage line

    leader, follower = pty.openpty()  # stderr on a terminal (stdout stays a pipe: the answer is the same text)
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    try:
        result = subprocess.run([sys.executable, "-m", "rag", "ask", "Why did Peru declare a state of emergency?"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=300)
        os.close(follower)
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0 and result.stdout == piped.stdout
    assert "Searching the articles…" in terminal.decode("utf-8")
