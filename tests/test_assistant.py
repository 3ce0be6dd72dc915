"""The Assistant's concurrency and sharing: writes beside reads, one writer at a time, one model per process.

Each test has its own data and corpus folders (conftest's ``assistant`` fixture: the bundled sample
article, extractive answers, the session's embedding model).
"""

from __future__ import annotations

import threading
import time

from conftest import write_articles

PERU = "Why did Peru declare a state of emergency?"


def test_a_question_is_answered_while_an_ingest_runs_and_sees_its_articles_after_the_commit(assistant, tmp_path) -> None:
    # Finding 2: Assistant.ingest held the lock the retriever/embedding/store properties take, so a
    # question waited for the whole ingest (73 s behind a 110 s upload).
    assistant.ingest()
    assistant.query(PERU)  # the retriever is built and warm, as in a serving app
    folder = tmp_path / "incoming"
    write_articles(folder, 400)
    started = threading.Event()
    report = {}

    def ingest() -> None:
        report["value"] = assistant.ingest([folder], on_progress=lambda seen, outcome: started.set())

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        assert started.wait(120), "the ingest never started"
        answer = assistant.query(PERU)
        still_running = writer.is_alive()
        # Answered from the index as it was before the ingest: the Peru article, cited.
        assert not answer.refused and answer.citations and "Peru" in answer.text
        assert still_running, "the question waited for the ingest to finish"
        during = assistant.query("What did Mayor Ana Number399 say about the work?")
        assert not any("item 399" in c.title for c in during.citations)  # not committed yet: not seen
    finally:
        writer.join(300)
    assert len(report["value"].added) == 400
    after = assistant.query("What did Mayor Ana Number399 say about the work?")
    assert any("item 399" in c.title for c in after.citations)  # committed: seen


def test_writers_take_turns_in_arrival_order() -> None:
    from rag.assistant import _WriterQueue

    queue = _WriterQueue()
    order, active, overlaps = [], [], []

    def write(name: str) -> None:
        with queue:
            active.append(name)
            if len(active) > 1:
                overlaps.append(tuple(active))
            order.append(name)
            time.sleep(0.05)
            active.remove(name)

    with queue:  # a running write; the others queue behind it in the order they arrive
        threads = []
        for name in "abcd":
            thread = threading.Thread(target=write, args=(name,))
            thread.start()
            threads.append(thread)
            deadline = time.monotonic() + 5
            while queue.waiting() < len(threads) + 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        assert queue.waiting() == 5
    for thread in threads:
        thread.join(10)
    assert order == list("abcd") and not overlaps and queue.waiting() == 0


def test_assistants_with_the_same_settings_share_the_embedding_model(make_settings, corpus_dir) -> None:
    # Finding 12: each Assistant (and rag.query's hidden one) loaded its own models.
    from rag.assistant import Assistant

    settings = make_settings()
    first, second = Assistant(settings), Assistant(settings)
    assert first.embedding is second.embedding
    other = Assistant(make_settings(embed_batch_size=settings.embed_batch_size + 1))
    assert other.embedding is not first.embedding  # different settings: a model of its own


def test_query_keeps_one_default_assistant_per_settings(make_settings, corpus_dir) -> None:
    import rag

    settings = make_settings()
    assistant = rag.default_assistant(settings)
    assert rag.default_assistant(settings) is assistant
    assert rag.default_assistant(make_settings(top_k=3)) is not assistant
    assert assistant.embedding is rag.Assistant(settings).embedding  # the README example: one model


def test_the_llm_is_loaded_once_per_process_for_the_same_settings(make_settings, monkeypatch) -> None:
    # Loading the real 1.1 GB model twice is what the finding measured (4.6 GB peak); the sharing
    # rule is pure logic, so count the builds of a stand-in instead.
    import rag.llm
    from rag.assistant import Assistant

    built = []

    class StandIn:
        model_name = "stand-in"

    monkeypatch.setattr(rag.llm, "make_llm", lambda backend, **options: built.append(backend) or StandIn())
    monkeypatch.setattr(rag.llm, "probe", lambda llm: None)
    settings = make_settings(llm="local", llm_model_path=f"/nonexistent/{time.time_ns()}.gguf")
    first, second = Assistant(settings), Assistant(settings)
    assert first._build_llm() is second._build_llm()
    assert built == ["local"]
    # A different model is a different component.
    Assistant(make_settings(llm="local", llm_model_path=f"/nonexistent/{time.time_ns()}-b.gguf"))._build_llm()
    assert len(built) == 2


def test_an_unavailable_llm_is_not_remembered(make_settings, monkeypatch) -> None:
    # A server that is down now may be up for the next assistant: failures are not cached.
    import rag.llm
    from rag.assistant import Assistant

    calls = []

    def make(backend, **options):
        calls.append(backend)
        if len(calls) == 1:
            raise rag.llm.LLMUnavailable("server down")
        return object()

    monkeypatch.setattr(rag.llm, "make_llm", make)
    monkeypatch.setattr(rag.llm, "probe", lambda llm: None)
    settings = make_settings(llm="openai", openai_base_url=f"http://127.0.0.1:9/{time.time_ns()}/v1")
    assert Assistant(settings)._build_llm() is None
    assert Assistant(settings)._build_llm() is not None
