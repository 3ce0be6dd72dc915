"""The chat's turns: one question streamed into the chat history, stage by stage, and Stop.

``chat_turn`` runs one turn of a browser session's ``Conversation``: it shows the stage the answer is
in (the core's ``stage`` events, worded in ``present.text``: searching the articles, reading N sentences
and writing the short answer, checking it), the evidence as soon as it is ready, then the checked
answer; the LLM's tokens are never shown. ``stop_turn`` ends a turn at once: it sets the session's stop
flag, which is also the LLM call's ``cancel``: llama.cpp's abort callback ends the computation at once, even
while it reads the prompt, so the CPU is freed (the same abort as the CLI's Ctrl-C, ``rag.llm.llama_cpp``);
the running turn, at its next event, closes the stream; the evidence already shown
stays, with a note that the short answer was stopped. Gradio's cancel of the running event is wired by
``app.py`` (the page); the HTML is ``answers.py``'s; the options' checks are the ``WebUI``'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rag.chat import Conversation
from rag.ingest.library import one_line
from rag.present.text import SEARCHING, STOPPED, as_sentence
from rag.retrieval.options import InvalidOption
from rag.types import Answer
from rag.web.answers import render_answer, render_error, render_pending, render_question, render_stopped

log = logging.getLogger("newsdesk.webui")


class OptionError(ValueError):
    """A chat option (date, number of passages) the user has to correct; shown as one line."""


@dataclass
class ChatSession:
    """One browser session's chat: its ``Conversation``, a turn counter for unique anchors, and the
    running turn's state for Stop: the evidence it shows (``shown``), whether its answer is complete
    (``finished``), the ``stop`` flag the Stop button sets (a new one each turn) and the history it showed
    (``stopped``)."""

    conversation: Conversation
    turn: int = 0
    shown: Answer | None = None
    finished: bool = True
    stop: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    stopped: list | None = field(default=None, repr=False, compare=False)

    def __deepcopy__(self, memo):  # Gradio copies a state's initial value; an Event cannot be copied
        return ChatSession(self.conversation, self.turn, self.shown, self.finished)


def chat_turn(assistant, question: str, history: list, session, options: Callable[[], dict], known_notice: str = "") -> Iterator[tuple]:
    """Stream one turn: yields (question box value, chat history, session) as the answer grows.

    ``options()`` gives the checked query options (``OptionError`` names what to fix); ``known_notice``
    is the backend line the page already shows (not repeated under each answer)."""
    history = list(history or [])
    question = (question or "").strip()
    if not question:
        yield "", list(history), session
        return
    if not isinstance(session, ChatSession):
        session = ChatSession(Conversation(assistant))
    session.turn += 1
    session.shown, session.finished = None, False
    # A new flag per turn (never cleared): an earlier turn's thread still running watches its own, set one.
    # session.stopped is not reset: stop_turn writes it just before setting a flag, and only then is it read.
    stop = session.stop = threading.Event()
    prefix = f"nd-{session.turn}"
    history.append({"role": "user", "content": render_question(question)})
    history.append({"role": "assistant", "content": render_pending(SEARCHING)})
    yield "", list(history), session
    try:
        with contextlib.closing(session.conversation.stream(question, stop=stop, **options())) as events:
            stage, content = "", history[-1]["content"]
            for event in events:
                if stop.is_set():
                    # Closing the stream stops the LLM. The turn's last output is what stop_turn showed: a
                    # generator that ends before Gradio's cancel lands has its last output sent again on
                    # completion, which would put the "writing" state back over the stopped answer.
                    yield "", list(session.stopped), session
                    return
                if event.kind == "stage":
                    stage = event.text
                elif event.answer is None:
                    continue  # the LLM's tokens are not shown: only the checked short answer is
                else:
                    session.shown = event.answer if event.kind == "evidence" else session.shown
                    session.finished = event.kind == "answer"
                if session.finished:
                    new = render_answer(event.answer, prefix, known_notice=known_notice)
                elif session.shown is None:
                    new = render_pending(stage or SEARCHING)
                else:  # the evidence (the articles' own sentences, checked) under the stage line
                    new = render_answer(session.shown, prefix, known_notice=known_notice, writing=True, stage=stage if stage != SEARCHING else "")
                if new != content:
                    content, history[-1] = new, {"role": "assistant", "content": new}
                    yield "", list(history), session
    except (OptionError, InvalidOption) as error:  # also a question too long, an option out of range
        session.finished = True
        history[-1] = {"role": "assistant", "content": render_error(as_sentence(str(error)))}
        yield "", list(history), session
    except Exception as error:  # one clear line in the chat; the traceback goes to the server log
        session.finished = True
        log.exception("answering %r failed", question)
        history[-1] = {"role": "assistant", "content": render_error(f"Could not answer: {one_line(error)}")}
        yield "", list(history), session
    # Not finished when Gradio closed this turn (its cancel may come before the Stop handler runs).


def stop_turn(history: list, session, known_notice: str = "") -> list:
    """The Stop button: end the running turn; its last message becomes the evidence already shown with a
    note that the short answer was stopped (or a "stopped" line before any evidence). A finished turn is
    left as it is."""
    history = list(history or [])
    if not isinstance(session, ChatSession) or session.finished:
        return history
    session.finished = True
    if session.shown is not None:
        content = render_answer(dataclasses.replace(session.shown, notice=STOPPED), f"nd-{session.turn}", known_notice=known_notice)
    else:
        content = render_stopped()
    last = history[-1] if history else None
    if isinstance(last, dict) and last.get("role") == "assistant":
        history[-1] = {"role": "assistant", "content": content}
    else:
        history.append({"role": "assistant", "content": content})
    session.stopped = history  # before the flag: the turn, seeing the flag, shows the same
    session.stop.set()
    return history
