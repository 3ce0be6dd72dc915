"""Markdown downloads of the chat: the whole conversation and its last answer, after every answer.

``Downloads`` adds the two buttons under the chat and refreshes them after each chat event (and greys
them out when the chat is cleared); ``write_download`` is where every download file is written (the
Timeline tab's too). The Markdown is ``present.markdown``'s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr


def write_download(name: str, text: str) -> str:
    """``text`` in a new temporary file called ``name`` (Gradio serves it for download, then cleans it up)."""
    path = Path(tempfile.mkdtemp(prefix="newsdesk-export-")) / name
    path.write_text(text, encoding="utf-8")
    return str(path)


class Downloads:
    """The chat's download buttons."""

    def export(self, session) -> tuple[str | None, str | None]:
        """Markdown files of the session's conversation and of its last answer (None before any answer)."""
        from rag.present.markdown import answer_markdown, conversation_markdown

        turns = list(getattr(getattr(session, "conversation", None), "turns", []) or [])
        if not turns:
            return None, None
        return write_download("newsdesk-chat.md", conversation_markdown(turns)), write_download("newsdesk-answer.md", answer_markdown(turns[-1]))

    def on_export(self, session):
        chat, last = self.export(session)
        return gr.update(value=chat, interactive=chat is not None), gr.update(value=last, interactive=last is not None)

    def buttons(self):
        with gr.Row():
            chat = gr.DownloadButton("Download chat (.md)", size="sm", interactive=False, elem_id="nd-export-chat")
            last = gr.DownloadButton("Download last answer (.md)", size="sm", interactive=False, elem_id="nd-export-answer")
        self._buttons = [chat, last]

    def wire(self, chat_events, session, clears) -> None:
        """After each chat event the buttons offer the new files; a cleared chat greys them out."""
        private = dict(queue=False, api_visibility="private")
        for event in chat_events:
            event.then(self.on_export, [session], self._buttons, **private)
        for clear in clears:
            clear(lambda: (gr.update(value=None, interactive=False),) * 2, None, self._buttons, **private)
