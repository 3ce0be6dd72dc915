"""The short version of ``benchmarks/reliability_load.py``: a few concurrent web chats against the real
app on 127.0.0.1, idle and then while an ingest runs. No errors, no answer leaking between chats, and
questions keep being answered during the ingest. (Latency ratios are the benchmark's, not a test's.)"""

from __future__ import annotations

import pytest

from helpers import load_benchmark

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")


@pytest.mark.slow
def test_concurrent_chats_keep_their_own_histories_while_an_ingest_runs(tmp_path, embedding) -> None:
    benchmark = load_benchmark("reliability_load")
    idle, busy = benchmark.run(chats=3, seconds=12, idle_seconds=6, upload_articles=3, workdir=tmp_path, embedding=embedding)
    assert idle.errors == [] and busy.errors == []
    assert idle.leaks == [] and busy.leaks == []
    assert len(idle.latencies) >= 3 and len(busy.latencies) >= 3  # every chat got answers in both phases
    assert busy.ingested_files >= 1  # the questions ran beside a real ingest
