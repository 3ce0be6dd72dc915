"""An ingest's priority: full while no question is in flight, ``ingest_nice`` while questions are answered."""

from __future__ import annotations

import os
import threading

from rag.assistant import Assistant
from rag.embed import BackgroundEmbedding
from rag.priority import PriorityEmbedding, QuestionsInFlight


def test_an_ingest_with_no_question_in_flight_embeds_at_full_priority(make_settings, embedding, corpus_dir):
    assistant = Assistant(make_settings(ingest_nice=15), embedding=embedding)
    report = assistant.ingest([corpus_dir])
    assert report.added
    worker = assistant.ingest_embedding
    assert isinstance(worker, PriorityEmbedding)
    assert worker.batches["normal"] > 0 and worker.batches["low"] == 0


def test_an_ingest_while_a_question_is_answered_embeds_at_the_configured_priority(make_settings, embedding, corpus_dir):
    assistant = Assistant(make_settings(ingest_nice=15), embedding=embedding)
    caller_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with assistant.questions:  # as the web app's chat does around each answer
        report = assistant.ingest([corpus_dir])
    assert report.added
    worker = assistant.ingest_embedding
    assert worker.batches["low"] > 0 and worker.batches["normal"] == 0
    assert isinstance(worker.background, BackgroundEmbedding)
    assert os.getpriority(os.PRIO_PROCESS, worker.background.thread_id) == 15
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller_nice
    assert assistant.query("Why did Peru declare a state of emergency?").citations


def test_answering_counts_as_a_question_in_flight(assistant):
    assistant.ingest()
    seen = []
    for event in assistant.stream("Why did Peru declare a state of emergency?"):
        seen.append(assistant.questions.busy())
    assert seen and all(seen)


def test_questions_in_flight_stay_busy_for_the_grace_period(monkeypatch):
    import rag.priority

    questions = QuestionsInFlight()
    assert not questions.busy()
    with questions:
        assert questions.busy()
    assert questions.busy()  # just ended: the next question of a burst is likely
    monkeypatch.setattr(rag.priority, "GRACE_S", 0.0)
    assert not questions.busy()


def test_ingest_nice_zero_embeds_with_the_question_side_model(make_settings, embedding):
    assistant = Assistant(make_settings(ingest_nice=0), embedding=embedding)
    assert assistant.ingest_embedding is embedding
