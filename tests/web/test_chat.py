"""The chat's turns (``rag.web.chat``): the stage lines as an answer streams, and Stop, with the real
bundled local LLM (marker ``llm``; skipped with the install command when the ``local`` extra is missing)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from rag.assistant import Assistant
from rag.present.text import CHECKING, SEARCHING, STOPPED
from rag.web.chat import ChatSession, chat_turn, stop_turn

pytestmark = pytest.mark.llm

KAST_DAYS = "How many days did Kast give immigrants to leave Chile voluntarily?"


@pytest.fixture
def llm_assistant(make_settings, embedding, corpus_dir, local_llm):
    assistant = Assistant(make_settings(llm="local", rewrite_followups=False), embedding=embedding, llm=local_llm)
    assistant.ingest()
    return assistant


def no_options() -> dict:
    return {}


def test_each_stage_is_named_as_the_answer_streams(llm_assistant):
    contents = [history[-1]["content"] for _, history, _ in chat_turn(llm_assistant, KAST_DAYS, [], None, no_options)]
    assert SEARCHING in contents[0] and "nd-pending" in contents[0]
    reading = [c for c in contents if re.search(r"Reading \d+ sentences, writing the short answer…", c)]
    checking = [c for c in contents if CHECKING in c]
    assert reading and checking and contents.index(reading[0]) < contents.index(checking[0])
    assert "<q>" in reading[0] and "<q>" in checking[0]  # the evidence stays under the stage line
    final = contents[-1]
    assert "nd-stage" not in final and "nd-short" in final and "111" in final  # the checked short answer


def test_stop_ends_the_generation_at_once_and_the_next_question_is_answered(llm_assistant, local_llm):
    # The turn runs on a worker thread, as Gradio runs it; Stop is pressed while the model writes.
    states = []
    worker = threading.Thread(target=lambda: states.extend(chat_turn(llm_assistant, KAST_DAYS, [], None, no_options)))
    worker.start()
    deadline = time.monotonic() + 600
    while not (states and "Reading" in states[-1][1][-1]["content"] and local_llm._lock.locked()):
        assert worker.is_alive() and time.monotonic() < deadline, "the model never started writing"
        time.sleep(0.01)
    _, history, session = states[-1]
    stopped = stop_turn(history, session)  # the Stop button's handler (Gradio also cancels the event)
    worker.join(timeout=120)
    assert not worker.is_alive() and not local_llm._lock.locked()  # the generation ended and freed the model
    content = stopped[-1]["content"]
    assert STOPPED in content and "<q>" in content and "nd-stage" not in content  # the evidence stays, with the note
    # No answer came after: the turn showed stages, then (seeing the flag) the stopped answer as its last output,
    # so Gradio re-sending a finished generator's last output cannot put the "writing" state back.
    assert all("nd-stage" in h[-1]["content"] or "nd-pending" in h[-1]["content"] for _, h, _ in states[:-1])
    assert states[-1][1] == stopped
    assert session.conversation.turns == []  # a stopped turn is no turn of the conversation

    *_, (_, history, session) = chat_turn(llm_assistant, "Who is Chile's Minister of Security?", stopped, session, no_options)
    assert "Cordero" in history[-1]["content"] and STOPPED not in history[-1]["content"]
    assert len(session.conversation.turns) == 1
    assert stop_turn(history, session) == history  # a finished turn is left as it is

