"""Embeddings from a real OpenAI-compatible server: Infinity on 127.0.0.1 serving the bundled all-MiniLM-L6-v2.

Infinity (``infinity-emb``) pins other versions of transformers and sentence-transformers than the app, so
it lives in its own virtualenv, ``.venv-embed`` beside ``.venv`` (the README's test command makes it);
``NEWSDESK_INFINITY`` may name another ``infinity_emb`` executable. Without one these tests skip, saying
how to install it.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, free_port

from rag.assistant import Assistant
from rag.embed import bundled_model_dir
from rag.embed_server import EmbeddingServerError, make_server_embedding

INSTALL = 'python3 -m venv .venv-embed && .venv-embed/bin/pip install "infinity-emb[server,torch]==0.0.78" torch==2.13.0'
MODEL = "all-MiniLM-L6-v2"


def infinity_command() -> str | None:
    for candidate in (os.environ.get("NEWSDESK_INFINITY"), str(REPO / ".venv-embed" / "bin" / "infinity_emb"), shutil.which("infinity_emb")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def embedding_server(tmp_path_factory):
    """(base URL, log file) of Infinity serving the bundled model's folder; stopped after the module."""
    command = infinity_command()
    if command is None:
        pytest.skip(f"no Infinity embedding server installed: {INSTALL}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("infinity") / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0", "DO_NOT_TRACK": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [command, "v2", "--model-id", str(bundled_model_dir()), "--served-model-name", MODEL, "--engine", "torch",
             "--device", "cpu", "--host", "127.0.0.1", "--port", str(port), "--url-prefix", "/v1",
             "--no-bettertransformer", "--no-model-warmup"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    try:
        deadline = time.time() + 180
        while "Application startup complete" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.time() > deadline:
                pytest.fail(f"Infinity did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def server_settings(make_settings, url: str, **overrides):
    return make_settings(embed_backend="openai", embed_base_url=url, embed_server_model=MODEL, **overrides)


def requests_logged(log_path: Path) -> int:
    return log_path.read_text(errors="replace").count('"POST /v1/embeddings HTTP/1.1" 200')


def test_server_vectors_agree_with_the_local_model_per_passage(embedding_server, make_settings, embedding, assistant):
    url, log_path = embedding_server
    assistant.ingest()
    texts = [p.text for p in assistant.store.all_passages()] + ["Why did Peru declare a state of emergency?", "x"]
    server = Assistant(server_settings(make_settings, url, embed_batch_size=4)).embedding
    before = requests_logged(log_path)

    remote = np.asarray(server.get_text_embedding_batch(texts))
    local = np.asarray(embedding.get_text_embedding_batch(texts))

    assert remote.shape == local.shape == (len(texts), 384)
    cosine = (remote * local).sum(axis=1) / np.linalg.norm(remote, axis=1) / np.linalg.norm(local, axis=1)
    assert cosine.min() >= 0.99, cosine
    assert requests_logged(log_path) - before == -(-len(texts) // 4)  # batches of 4, each sent once


@pytest.mark.parametrize("build_with", ["openai", "onnx"])
def test_an_index_built_with_one_backend_is_searched_with_the_other(build_with, embedding_server, make_settings, embedding, corpus_dir):
    url, _ = embedding_server
    question = "Why did Peru declare a state of emergency at its border?"
    remote = server_settings(make_settings, url)
    builder, searcher = (remote, make_settings()) if build_with == "openai" else (make_settings(), remote)
    built = Assistant(builder, embedding=embedding if build_with == "onnx" else None)
    report = built.ingest()
    assert len(report.added) == 1 and not report.failed

    searched = Assistant(searcher, embedding=embedding if build_with == "openai" else None)
    found = searched.retrieve(question, top_k=3)
    expected = built.retrieve(question, top_k=3)
    assert [p.passage.id for p in found.passages] == [p.passage.id for p in expected.passages]
    assert [p.dense_score for p in found.passages] == pytest.approx([p.dense_score for p in expected.passages], abs=0.01)
    assert searched.query(question).citations
    # Re-ingesting through the other backend changes nothing: no passage is stored twice.
    count = built.store.count_passages()
    assert len(searched.ingest().unchanged) == 1
    assert searched.store.count_passages() == count


def test_an_unreachable_server_is_one_error_naming_the_setting(make_settings, corpus_dir):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    assistant = Assistant(server_settings(make_settings, url, embed_timeout_s=20, embed_max_retries=1))
    with pytest.raises(EmbeddingServerError, match="cannot be reached.*embed_base_url") as caught:
        assistant.ingest()
    assert url in str(caught.value)
    assert assistant.articles() == []  # nothing half-stored


def test_a_server_that_never_answers_is_stopped_at_the_total_deadline(make_settings):
    # A listening socket never read: the kernel completes each connection and nothing ever replies, as a
    # hung server. The client's retries (3, each allowed 1.5 s) must not stretch the total deadline.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    embedding = make_server_embedding(f"http://127.0.0.1:{port}/v1", MODEL, "", batch_size=8, timeout_s=1.5, max_retries=3)
    started = time.monotonic()
    with pytest.raises(EmbeddingServerError, match="within 1.5 s.*embed_timeout_s"):
        embedding.get_text_embedding_batch(["a passage"] * 3)
    assert time.monotonic() - started < 5
    listener.close()


def test_the_cli_reports_an_unreachable_server_in_one_line(tmp_path, corpus_dir):
    env = {
        **os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CORPUS_DIR": str(corpus_dir), "RAG_EMBED_BACKEND": "openai",
        "RAG_EMBED_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "RAG_EMBED_MAX_RETRIES": "0", "RAG_LLM": "extractive", "PYTHONPATH": str(REPO),
    }
    run = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().startswith("error: the embedding server at") and "RAG_EMBED_BASE_URL" in run.stderr


def test_workers_send_requests_side_by_side_to_the_server(embedding_server, make_settings, embedding, assistant):
    url, log_path = embedding_server
    assistant.ingest()
    before = requests_logged(log_path)
    parallel = Assistant(server_settings(make_settings, url, data_dir=make_settings().storage.data_dir.parent / "parallel", ingest_workers=2))
    report = parallel.ingest()
    assert len(report.added) == 1 and not report.failed
    assert sorted(p.id for p in parallel.store.all_passages()) == sorted(p.id for p in assistant.store.all_passages())
    assert requests_logged(log_path) - before >= 2  # the batch went out in slices, one per worker
