"""The same pipeline against a real Chroma server (`chroma run`) on 127.0.0.1."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import free_port

from rag.assistant import Assistant


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(chroma).exists():
        pytest.skip("the `chroma` command (package chromadb) is not installed")
    port = free_port()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma server did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_server_mode_ingest_query_remove(make_settings, embedding, corpus_dir, chroma_server, tmp_path):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server)
    assistant = Assistant(settings, embedding=embedding)
    report = assistant.ingest()
    assert len(report.added) == 1
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store

    answer = assistant.query("Why did Peru declare a state of emergency?")
    assert answer.citations and "state of emergency" in answer.text

    # A second client (another process would see the same) finds the article indexed and unchanged.
    other = Assistant(settings, embedding=embedding)
    assert [a.id for a in other.articles()] == [a.id for a in assistant.articles()]
    assert len(other.ingest().unchanged) == 1
    assert other.remove([a.id for a in other.articles()]) == 1
    assert assistant.articles() == []


def test_two_processes_on_one_server_see_each_others_writes(make_settings, embedding, corpus_dir, chroma_server, tmp_path):
    import os

    from helpers import LIGHTHOUSE, REPO

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server)
    here = Assistant(settings, embedding=embedding)
    here.ingest()
    question = "Who chaired the lighthouse restoration committee?"
    assert "Mira Oduya" not in " ".join(p.passage.text for p in here.retrieve(question).passages)

    other = tmp_path / "other"
    other.mkdir()
    (other / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    env = {**os.environ, "RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(chroma_server), "RAG_DATA_DIR": str(tmp_path / "x"),
           "RAG_LLM": "extractive", "PYTHONPATH": str(REPO)}  # fmt: skip
    run = subprocess.run([sys.executable, "-m", "rag", "ingest", "--quiet", str(other)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    written = time.monotonic()
    # This long-running process's BM25 index and list of complete articles catch up at its next
    # question once FRESHNESS_S has passed; the other process's article is then found and cited.
    while "Mira Oduya" not in here.retrieve(question).passages[0].passage.text:
        assert time.monotonic() - written < 10, "the other process's article never showed up"
        time.sleep(0.1)
    print(f"seen {time.monotonic() - written:.2f} s after the other process's ingest ended")
    assert len(here.articles()) == 2
    assert any("Mira Oduya" in c.quote for c in here.query(question).citations)


def test_speakers_are_stored_in_the_passage_metadata_of_a_chroma_server(make_settings, embedding, corpus_dir, chroma_server):
    import json

    import chromadb

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server)
    Assistant(settings, embedding=embedding).ingest()
    collection = chromadb.HttpClient(host="127.0.0.1", port=chroma_server).get_collection(settings.storage.collection)
    stored = [json.loads(m["speakers"]) for m in collection.get(include=["metadatas"])["metadatas"]]
    assert any(speaker == "José Antonio Kast" for spans in stored for _, _, speaker in spans), stored
    answer = Assistant(settings, embedding=embedding).query("What did Kast say?")  # read back from the server
    assert "111 days" in answer.evidence[0].quote and "Kast" in answer.evidence[0].speaker
