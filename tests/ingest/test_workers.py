"""``rag ingest --workers N``: embedding spread over worker processes, one writer, nothing lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from helpers import REPO, load_benchmark

from rag.assistant import Assistant
from rag.ingest.workers import WorkerPoolEmbedding


@pytest.fixture
def news(tmp_path):
    """40 distinct synthetic articles (1 to 6 paragraphs each), and one text under a second name."""
    folder = tmp_path / "news"
    load_benchmark("reliability_kill").write_corpus(folder, 40, random.Random(3))
    (folder / "copy_of_0007.txt").write_bytes((folder / "article_0007.txt").read_bytes())
    return folder


def stored(assistant) -> dict[str, np.ndarray]:
    ids = sorted(p.id for p in assistant.store.all_passages())
    return dict(zip(ids, assistant.store.passage_vectors(ids)))


def test_workers_store_what_one_process_stores(make_settings, embedding, news, tmp_path):
    single = Assistant(make_settings(data_dir=tmp_path / "single"), embedding=embedding)
    single.ingest([news])
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "parallel"), "RAG_LLM": "extractive", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "rag", "ingest", "--workers", "2", "--quiet", str(news)]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "duplicates 1," in run.stdout  # the copy de-duplicated as in one process

    parallel = Assistant(make_settings(data_dir=tmp_path / "parallel"), embedding=embedding)
    expected, got = stored(single), stored(parallel)
    assert list(got) == list(expected)  # the same passages, each once
    cosine = [float(got[i] @ expected[i]) for i in expected]
    assert min(cosine) >= 0.999
    assert load_benchmark("reliability_kill").check_index(parallel.store) == []

    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "added 0, updated 0, unchanged 40," in again.stdout, again.stdout


def test_a_killed_worker_loses_nothing(make_settings, embedding, news, tmp_path):
    reference = Assistant(make_settings(data_dir=tmp_path / "reference"), embedding=embedding)
    reference.ingest([news])
    assistant = Assistant(make_settings(ingest_workers=2), embedding=embedding)
    pool = assistant.ingest_embedding
    assert isinstance(pool, WorkerPoolEmbedding)
    killed = []

    def kill_a_worker() -> None:
        deadline = time.monotonic() + 120
        while not pool.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the workers have loaded their model and are embedding
        pids = pool.worker_pids()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    report = assistant.ingest([news])
    killer.join()
    pool.close()

    assert killed and pool.restarts >= 1
    assert not report.failed and len(report.added) == 40
    assert sorted(p.id for p in assistant.store.all_passages()) == sorted(p.id for p in reference.store.all_passages())
    assert load_benchmark("reliability_kill").check_index(assistant.store) == []
    assert all(e.status == "complete" for e in assistant.store.registry().values())
    assert len(assistant.ingest([news]).unchanged) == 40
