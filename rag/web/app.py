"""The Gradio web app: chat with cited, highlighted sources, and an Articles tab to manage the index.

``build_ui(assistant)`` returns the ``gr.Blocks``; ``launch(demo, settings)`` serves it with the
settings' host, port and password (login attempts throttled, see ``LoginGuard``); ``app.py`` is the
thin shell that wires them up. Everything the page does goes through a ``WebUI`` method that takes and
returns plain values (strings, lists, dicts), so it is tested without a browser. The HTML of answers
and result lines is ``answers.py``'s; adding and removing articles is ``Assistant.library``'s
(``ingest.library``): the page reaches the index only through the ``Assistant``. The Feeds section,
the Reader and Timeline tabs and the chat's downloads are their own modules (``feeds``, ``reader``,
``timeline``, ``downloads``), which ``build`` lays out; serving is ``serve.py``'s. Nothing outside
``rag.web`` imports Gradio: importing ``rag`` stays cheap.
"""

import contextlib
import logging
import os
from collections.abc import Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from rag.retrieval.options import InvalidOption  # noqa: E402
from rag.ingest.library import UPLOAD_SUFFIXES, Outcome, one_line, prepare, safe_filename  # noqa: E402,F401  (re-exported)
from rag.web.chat import ChatSession, OptionError, chat_turn, stop_turn  # noqa: E402,F401  (re-exported)
from rag.web.login import LaunchError, is_local  # noqa: E402,F401  (re-exported)
from rag.present.text import as_sentence, date_label, date_text  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import ArticleInfo  # noqa: E402
from rag.web.articles import articles_tab, wire_articles  # noqa: E402
from rag.web.answers import render_answer, render_outcomes  # noqa: E402,F401  (render_answer re-exported)
from rag.web.downloads import Downloads  # noqa: E402
from rag.web.feeds import FeedsPanel  # noqa: E402
from rag.web.reader import Reader  # noqa: E402
from rag.web.serve import launch, launch_options, startup_message  # noqa: E402,F401  (re-exported)
from rag.web.timeline import TimelineTab  # noqa: E402

log = logging.getLogger("newsdesk.webui")

EXAMPLES = [
    "Why did Peru declare a state of emergency at its border with Chile?",
    "Why are Venezuelan migrants leaving Chile?",
    "What did José Antonio Kast tell migrants without legal status?",
]
MAX_SLIDER_TOP_K = 20  # the chat's passages slider (the API takes up to the max_top_k setting)
MAX_PICKER = 500  # articles offered in the delete picker at once; the search narrows the list


class WebUI:
    """The web app's behaviour, one method per action, over one shared ``Assistant``."""

    def __init__(self, assistant, *, examples: list[str] | None = None) -> None:
        self.assistant = assistant
        self.settings: Settings = assistant.settings
        self.examples = list(EXAMPLES if examples is None else examples)
        if not is_local(self.settings.web.host):  # decided once: an exposed app's URLs and feeds reach nothing private
            assistant.library.served_beyond_localhost = True

    @property
    def library(self):
        """Adding, deleting and re-syncing articles: the assistant's ``articles.ArticleService``."""
        return self.assistant.library

    # --- chat ----------------------------------------------------------------------------------------

    def options(self, top_k=None, date_from=None, date_to=None, sources=None, as_of=None) -> dict:
        """Chat controls → ``Conversation.stream`` options; ``OptionError`` names what to fix.

        The controls' values build the same ``QueryOptions`` as every face (``rag.retrieval.options``);
        its error is worded here with the controls' labels. A number of passages out of range is an
        error naming the range, never silently clamped (0 or empty: the default).
        """
        from rag.retrieval.options import bounded_options

        most = self.settings.retrieval.max_top_k
        if top_k in ("", 0):
            top_k = None
        elif isinstance(top_k, (float, str)):
            with contextlib.suppress(TypeError, ValueError, OverflowError):  # not a whole number: the check below says so
                top_k = int(top_k) if float(top_k).is_integer() else top_k
        try:
            checked = bounded_options(most, top_k=top_k, date_from=date_from, date_to=date_to, sources=sources or None, as_of=as_of)
        except InvalidOption as error:
            if error.problem == "inverted":
                raise OptionError("The “From” date is after the “To” date.") from None
            if error.option == "top_k":
                raise OptionError(f"The number of passages must be a whole number from 1 to {most}, not “{top_k}”.") from None
            if error.option == "sources":
                raise OptionError(f"Sources must be a list of source names, not “{sources}”.") from None
            label = {"date_from": "the “From” date", "date_to": "the “To” date", "as_of": "the as-of date"}.get(error.option, error.option)
            raise OptionError(f"Could not read {label} “{error.value}”: use YYYY-MM-DD.") from None
        return checked.given()

    def chat(self, question, history, session, top_k=None, date_from=None, date_to=None, sources=None):
        """Stream one turn: yields (question box value, chat history, session) as the answer grows (``chat.chat_turn``)."""
        options = lambda: self.options(top_k, date_from, date_to, sources)  # noqa: E731  (checked inside the turn: errors show in the chat)
        yield from chat_turn(self.assistant, question, history, session, options, self._backend_notice())

    def stop(self, history, session):
        """The Stop button: the running turn ends; the evidence shown stays, with a note (``chat.stop_turn``)."""
        return stop_turn(history, session, self._backend_notice())

    def _backend_notice(self) -> str:
        try:
            return self.assistant.llm_status()
        except Exception:
            return ""

    def new_chat(self, session=None):
        """Forget the conversation: (empty history, no session, empty question box)."""
        if isinstance(session, ChatSession):
            session.conversation.reset()
        return [], None, ""

    def ask(
        self,
        question: str,
        top_k: int = 0,
        date_from: str = "",
        date_to: str = "",
        sources: list[str] | None = None,
        as_of: str = "",
    ) -> dict:
        """Answer a question from the indexed articles (stateless; no conversation).

        Returns the answer as JSON: `text` (the short answer with its [n] when `mode` is "llm", else the
        quoted evidence), `evidence` (the sentences quoted first, each a citation), `citations` (number,
        title, date, source, url, passage, quote, offsets, verified), `refused` (the articles don't say),
        `unsupported` sentences, `notice` and `mode`.
        """
        try:
            options = self.options(top_k, date_from, date_to, sources, as_of)
        except OptionError as error:
            raise gr.Error(str(error)) from None
        try:
            return self.assistant.query(question or "", **options).to_dict()
        except InvalidOption as error:
            raise gr.Error(as_sentence(str(error))) from None
        except Exception as error:
            log.exception("API question %r failed", question)
            raise gr.Error(f"Could not answer: {one_line(error)}") from None

    def list_articles(self) -> list[dict]:
        """The indexed articles: id, title, date, source, url, chunks (newest first)."""
        return [
            {"id": a.id, "title": a.title, "date": date_text(a.date) or None, "source": a.source, "url": a.url, "chunks": a.chunks}
            for a in self.assistant.articles()
        ]

    # --- status and listings -------------------------------------------------------------------------

    def status(self, articles: list[ArticleInfo] | None = None) -> str:
        """Markdown: which backend answers, and the size of the index."""
        try:
            backend = self.assistant.llm_status()
        except Exception as error:
            backend = f"unknown ({one_line(error)})"
        try:
            articles = self.assistant.articles() if articles is None else articles
            index = f"{len(articles)} article{'s' if len(articles) != 1 else ''}, {sum(a.chunks for a in articles)} passages"
        except Exception as error:
            index = f"unavailable ({one_line(error)})"
        return f"**Answers:** {backend}  \n**Index:** {index}"

    def source_choices(self, articles: list[ArticleInfo] | None = None) -> list[str]:
        """The distinct sources of the indexed articles (for the chat's source filter)."""
        articles = self.assistant.articles() if articles is None else articles
        return sorted({a.source for a in articles if a.source}, key=str.lower)

    def article_rows(self, search: str = "", articles: list[ArticleInfo] | None = None) -> list[list]:
        """Rows (title, date, source, chunks, id) of the indexed articles matching ``search``."""
        needle = (search or "").strip().lower()
        rows = []
        for a in self.assistant.articles() if articles is None else articles:
            row = [a.title, date_text(a.date), a.source, a.chunks, a.id]
            if not needle or any(needle in str(value).lower() for value in row):
                rows.append(row)
        return rows

    @staticmethod
    def article_choices(rows: list[list]) -> list[tuple[str, str]]:
        """(label, id) pairs for the delete picker from table rows (the first ``MAX_PICKER`` of them)."""
        return [(f"{title} ({date_label(date)}) · {aid}", aid) for title, date, _, _, aid in rows[:MAX_PICKER]]

    # --- Gradio glue: plain methods above → component updates ----------------------------------------

    def refresh(self, search: str = ""):
        """(table rows, delete-picker update, sources-filter update, status) after the index changed."""
        try:
            articles = self.assistant.articles()
            rows = self.article_rows(search, articles)
            return (
                rows,
                gr.update(choices=self.article_choices(rows), value=[]),
                gr.update(choices=self.source_choices(articles)),
                self.status(articles),
            )
        except Exception as error:
            log.exception("listing articles failed")
            return [], gr.update(choices=[], value=[]), gr.update(), f"**Index:** unavailable ({one_line(error)})"

    def _progress(self, progress) -> Callable[[int, str], None]:
        """An ingest progress callback that moves ``progress``; says first when other writes go before."""
        ahead = self.library.queued()
        if progress is not None and ahead:
            progress(None, desc=f"waiting for {ahead} other write{'s' if ahead > 1 else ''} to finish; questions still work")

        def update(seen: int, outcome: str) -> None:
            if progress is not None:
                progress((seen, None), desc=outcome[:80], unit="articles")

        return update

    def on_upload(self, files, search, progress=gr.Progress()):
        outcomes: list[Outcome] = []
        files = list(files or [])
        if not files:
            yield (render_outcomes([Outcome("info", "Choose one or more files first")]), *self.refresh(search), None)
            return
        for number, lines in enumerate(self.library.add_files(files, on_progress=self._progress(progress)), 1):
            outcomes += lines
            progress((number, len(files)), desc=f"{number} of {len(files)} files", unit="files")
            yield render_outcomes(outcomes), *self.refresh(search), gr.update()
        yield render_outcomes(outcomes), *self.refresh(search), None

    def on_paste(self, text, title, date, source, url, search):
        outcomes = self.library.add_text(text, title, date, source, url)
        clear = not any(o.kind == "failed" for o in outcomes)
        cleared = ("", "", "", "", "") if clear else (gr.update(),) * 5
        return (render_outcomes(outcomes), *self.refresh(search), *cleared)

    def on_url(self, url, search, progress=gr.Progress()):
        progress(None, desc="fetching")
        outcomes = self.library.add_url(url, on_progress=self._progress(progress))
        return (render_outcomes(outcomes), *self.refresh(search), "" if not any(o.kind == "failed" for o in outcomes) else gr.update())

    def delete_question(self, ids) -> str:
        """Markdown asking to confirm the deletion of ``ids`` (their titles named), "" for none."""
        ids = list(ids or [])
        if not ids:
            return ""
        titles = {a.id: a.title for a in self.assistant.articles()}
        named = "; ".join(f"“{titles.get(i) or i}”" for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        many = len(ids) > 1
        return f"**Delete {len(ids)} article{'s' if many else ''}?** {named}. {'Their' if many else 'Its'} passages leave the index; this cannot be undone."

    def on_delete_ask(self, ids):
        """(confirmation row update, its question, result) when Delete is pressed; nothing chosen: a hint."""
        question = self.delete_question(ids)
        if not question:
            return gr.update(visible=False), "", render_outcomes([Outcome("info", "Choose the articles to delete first")])
        return gr.update(visible=True), question, ""

    def on_delete(self, ids, search):
        return (render_outcomes(self.library.delete(ids)), *self.refresh(search))

    def on_resync(self, search, progress=gr.Progress()):
        outcomes = self.library.resync(on_progress=self._progress(progress))
        return (render_outcomes(outcomes), *self.refresh(search))

    def on_search(self, search):
        rows, picker, _, _ = self.refresh(search)
        return rows, picker

    def on_example(self, evt: gr.SelectData):
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def on_row_select(self, evt: gr.SelectData):
        row = evt.row_value or []
        return [row[-1]] if row else []

    def on_load(self):
        rows, picker, sources, status = self.refresh("")
        return rows, picker, sources, status, status

    # --- the page ------------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        s, downloads, feeds, reader, timeline = self.settings, Downloads(), FeedsPanel(self), Reader(self.assistant), TimelineTab(self)
        # delete_cache: Gradio's own copies of uploaded files go after an hour (ours live in data_dir/uploads).
        with gr.Blocks(title="newsdesk", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
            session = gr.State(None)
            gr.Markdown("# newsdesk\nAsk questions about the indexed news articles; every answer cites the passages it used.")
            with gr.Tabs() as tabs:
                with gr.Tab("Chat", id="chat"):
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=3):
                            chatbot = gr.Chatbot(
                                elem_id="nd-chat",
                                label="Answers",
                                height="70vh",
                                layout="panel",
                                buttons=["copy"],
                                feedback_options=None,
                                placeholder="Ask about the articles in the index. Answers cite their sources [n].",
                                examples=[{"text": q} for q in self.examples] or None,
                            )
                            with gr.Row():
                                question = gr.Textbox(
                                    elem_id="nd-question",
                                    show_label=False,
                                    placeholder="Ask a question… (Enter to send)",
                                    scale=5,
                                    max_lines=4,
                                    autofocus=True,
                                )
                                send = gr.Button("Send", variant="primary", scale=1, elem_id="nd-send", min_width=80)
                                stop = gr.Button("Stop", variant="stop", scale=1, elem_id="nd-stop", min_width=80)
                            new_chat = gr.Button("New chat", size="sm", elem_id="nd-new-chat")
                            downloads.buttons()
                        with gr.Column(scale=1, min_width=240):
                            status = gr.Markdown("**Answers:** …", elem_id="nd-status")
                            with gr.Group():
                                date_from = gr.DateTime(label="From", include_time=False, type="string", elem_id="nd-from")
                                date_to = gr.DateTime(label="To", include_time=False, type="string", elem_id="nd-to")
                                sources = gr.Dropdown(
                                    label="Sources",
                                    choices=[],
                                    multiselect=True,
                                    info="Empty: all sources",
                                    elem_id="nd-sources-filter",
                                )
                                top_k = gr.Slider(
                                    1, min(MAX_SLIDER_TOP_K, s.retrieval.max_top_k), value=min(s.retrieval.top_k, MAX_SLIDER_TOP_K), step=1, label="Passages", elem_id="nd-top-k"
                                )
                with gr.Tab("Articles", id="articles"):
                    articles = articles_tab(s, feeds)
                timeline.tab()
                reader.tab(tabs)

            # chat
            chat_inputs = [question, chatbot, session, top_k, date_from, date_to, sources]
            chat_outputs = [question, chatbot, session]
            chat_args = dict(concurrency_limit=4, concurrency_id="chat", api_visibility="private", show_progress="hidden")
            chat_events = [question.submit(self.chat, chat_inputs, chat_outputs, **chat_args), send.click(self.chat, chat_inputs, chat_outputs, **chat_args)]
            chat_events.append(chatbot.example_select(self.on_example, None, question, api_visibility="private", queue=False).then(
                self.chat, chat_inputs, chat_outputs, **chat_args))
            # Stop: Gradio cancels the running turn (closing its stream stops the LLM) and the handler
            # shows the evidence already there with a note; it runs at once, outside the queue.
            stop.click(self.stop, [chatbot, session], [chatbot], cancels=chat_events, api_visibility="private", queue=False)
            new_chat.click(self.new_chat, [session], [chatbot, session, question], api_visibility="private", queue=False)
            chatbot.clear(self.new_chat, [session], [chatbot, session, question], api_visibility="private", queue=False)

            wire_articles(self, articles, status=status, sources=sources)

            demo.load(self.on_load, None, [articles.table, articles.to_delete, sources, status, articles.articles_status], api_visibility="private")
            reader.wire(demo)
            feeds.wire(demo, result=articles.result, refreshed=articles.refreshed, search=articles.search, status=status,
                       articles_status=articles.articles_status)
            downloads.wire(chat_events, session, clears=[new_chat.click, chatbot.clear])
            timeline.wire()

            # programmatic use (gradio_client): the only public endpoints
            gr.api(self.ask, api_name="ask", concurrency_limit=4, concurrency_id="chat")
            gr.api(self.list_articles, api_name="articles")
        demo.queue(default_concurrency_limit=2, max_size=256)
        return demo


def build_ui(assistant, *, examples: list[str] | None = None) -> gr.Blocks:
    """The web app for ``assistant`` (a ``gr.Blocks``, not yet launched)."""
    return WebUI(assistant, examples=examples).build()


__all__ = [
    "ChatSession", "LaunchError", "OptionError", "Outcome", "WebUI", "build_ui", "is_local", "launch",
    "launch_options", "prepare", "render_answer", "safe_filename", "startup_message",
]  # fmt: skip
