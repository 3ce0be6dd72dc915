"""Stopping the in-process llama.cpp model (``rag.llm.llama_cpp.LlamaCppChat``) with the real bundled
model: a ``cancel`` Event (on the main thread, and on a worker thread as the web chat's Stop sets it) and
Ctrl-C end a call even inside the prompt's evaluation, and the model answers the next call normally (marker ``llm``; skipped with the install command without the extra)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

pytestmark = pytest.mark.llm

# A prompt of about 1,800 tokens: its evaluation alone takes seconds, so a stop 0.5 s in lands inside it.
LONG_PROMPT = "Summarise these minutes. " + " ".join(f"Item {i}: the council of town {i} voted to fund the harbour plan." for i in range(120))


def user(text: str):
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole.USER, content=text)]


def answers_normally(llm) -> None:
    assert llm._lock.acquire(blocking=False), "the llama.cpp call still holds the model"
    llm._lock.release()
    reply = llm.chat(user("Reply with the single word OK."), max_tokens=4, temperature=0.0)
    assert "ok" in reply.message.content.lower()


def test_a_set_cancel_event_ends_the_prompt_evaluation_and_the_stream(local_llm) -> None:
    # On the main thread (as here) the abort callback watches ``cancel`` inside the prompt's evaluation too.
    local_llm.llama.reset()  # no cached prefix: the whole prompt is evaluated
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    deltas = [r.delta for r in local_llm.stream_chat(user(LONG_PROMPT), max_tokens=50, cancel=cancel)]
    assert cancel.is_set() and deltas == []  # stopped inside the prompt's evaluation: not one token written
    answers_normally(local_llm)


def test_a_cancel_event_set_for_a_worker_thread_call_ends_the_prompt_evaluation(local_llm) -> None:
    # The web chat's Stop: the generation runs on a worker thread (Gradio's), and the session's stop Event is
    # its ``cancel``. Before, the abort callback watched only main-thread calls, so the worker's call read
    # its whole prompt and stopped after its first token; now the same abort ends it inside the prompt.
    local_llm.llama.reset()
    cancel, deltas, errors = threading.Event(), [], []

    def generate() -> None:
        try:
            deltas.extend(r.delta for r in local_llm.stream_chat(user(LONG_PROMPT), max_tokens=50, cancel=cancel))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    worker = threading.Thread(target=generate)
    worker.start()
    threading.Timer(0.5, cancel.set).start()
    worker.join()
    assert errors == [] and cancel.is_set()  # ended quietly, as a stop should
    assert deltas == []  # stopped inside the prompt's evaluation: not one token written
    answers_normally(local_llm)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread")
def test_ctrl_c_interrupts_the_prompt_evaluation(local_llm) -> None:
    # Before, Python ran the Ctrl-C handler only once llama.cpp returned: the whole prompt (and pytest
    # ignored Ctrl-C for as long). Now it is a KeyboardInterrupt inside the evaluation.
    local_llm.llama.reset()
    deltas = []
    # Python's own Ctrl-C handler, as a terminal user has it: a library loaded earlier in the test session
    # may have installed its own, which would not raise KeyboardInterrupt at all.
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for response in local_llm.stream_chat(user(LONG_PROMPT), max_tokens=50):
                deltas.append(response.delta)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, handler)
    assert deltas == []  # raised inside the prompt's evaluation, before any token
    answers_normally(local_llm)


def test_the_model_is_named_readably_from_its_gguf_metadata(local_llm) -> None:
    from rag.llm.llama_cpp import model_label

    assert local_llm.metadata.model_name == "Qwen2.5-Coder 1.5B Instruct (Q4_K_M, local)"  # not the file name
    assert model_label({}, "/models/my-model.gguf") == "my-model.gguf (local)"  # a GGUF that names no model
