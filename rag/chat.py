"""Conversations: multi-turn chat over one shared ``Assistant``.

A ``Conversation`` keeps its own history, so several run side by side (one per web session) without
mixing; a follow-up ("what did he say next?", "and in Peru?") is rewritten into a standalone question
from that history before retrieval (``Assistant.rewrite_followup``). Retrieval and answering are the
assistant's; this module only threads the history through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from rag.types import Answer, StreamEvent


class Conversation:
    """One chat: ``ask``/``stream`` questions in turn; ``reset`` starts over."""

    def __init__(self, assistant, max_turns: int = 6) -> None:
        self.assistant = assistant
        self.max_turns = max_turns
        self.turns: list[Answer] = []

    def history(self) -> list[tuple[str, str]]:
        """(question as asked, answer text) pairs of the recent turns."""
        return [(a.question, a.text) for a in self.turns[-self.max_turns :]]

    def stream(self, question: str, *, stop=None, **options) -> Iterator[StreamEvent]:
        """The assistant's events (stages, evidence, tokens, answer); the turn is recorded when the answer is complete.
        ``stop`` (a ``threading.Event``) ends the LLM at once, in the follow-up's rewrite as in the answer."""
        with self.assistant.questions:  # the rewrite is part of answering: an ingest yields the cores meanwhile
            standalone = self.assistant.rewrite_followup(question, self.history(), stop=stop)
        for event in self.assistant.stream(standalone, stop=stop, **options):
            if event.answer is not None:
                answer = dataclasses.replace(
                    event.answer,
                    question=question,
                    standalone_question=standalone if standalone != question else "",
                )
                if event.kind == "answer":
                    self.turns.append(answer)
                event = dataclasses.replace(event, answer=answer)
            yield event

    def ask(self, question: str, **options) -> Answer:
        final = None
        for event in self.stream(question, **options):
            final = event.answer if event.kind == "answer" else final
        return final

    def reset(self) -> None:
        self.turns.clear()
