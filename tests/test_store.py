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
