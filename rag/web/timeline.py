"""The Timeline tab: the articles of a story in date order, each with its best sentence, cited.

``render_timeline`` is the HTML (``templates/timeline.html``; each entry links to the reader);
``TimelineTab`` is the tab, its Markdown download and the public ``/timeline`` endpoint; its *new since*
control (``render_changes``, the public ``/changes`` endpoint) shows what is new since a date (``answer.changes``). Building
the timeline is ``Assistant.timeline``'s (``answer.timeline``), the filters are read by
``WebUI.options`` like the chat's, the Markdown is ``present.markdown``'s.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.ingest.library import Outcome, one_line
from rag.present.text import date_label
from rag.types import Changes, Citation, Timeline
from rag.web.answers import render_outcomes
from rag.web.downloads import write_download
from rag.web.links import read_link, safe_url
from rag.web.templating import render

log = logging.getLogger("newsdesk.webui")


def _entry(c: Citation) -> dict:
    """One dated, quoted entry, linked to the reader (a timeline's and a new-since list's alike)."""
    return {
        "number": c.number,
        "date": date_label(c.date),
        "title": c.title,
        "url": safe_url(c.url),
        "source": c.source,
        "read_href": read_link(c.article_id, [(c.start, c.end)]),
        "quote": c.quote.strip(),
    }


def render_timeline(timeline: Timeline) -> str:
    """A story timeline: one dated entry per article with its best sentence, cited and linked to the reader."""
    entries = [_entry(e.citation) for e in timeline.entries]  # the citation carries the entry's article fields
    return str(render("timeline.html", "timeline", entries=entries, notice=timeline.notice or "No article matches."))


def render_changes(changes: Changes) -> str:
    """What is new in a story since a date: the new facts, dated, quoted and linked to the reader, oldest first."""
    entries = [_entry(c) for c in changes.entries]
    count = len(entries)
    summary = f"{count} new fact{'s' if count != 1 else ''}, {changes.restated} restated left out" if count or changes.restated else ""
    return str(render("timeline.html", "changes", since=date_label(changes.since), entries=entries, summary=summary, notice=changes.notice))


class TimelineTab:
    """The Timeline tab of one ``WebUI`` (its ``Assistant``, its option checks and source list)."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.assistant = ui.assistant

    def timeline(self, query: str, date_from: str = "", date_to: str = "", sources: list[str] | None = None, limit: int = 0) -> dict:
        """The matching articles of a story in date order (no LLM), each with its best sentence, cited.

        Returns the Timeline as JSON: `query`, `entries` (article_id, title, date, source, url,
        citation with quote and offsets, relevance) oldest first, and `notice` when none matches.
        """
        try:
            options = self.ui.options(None, date_from, date_to, sources)
            return self.assistant.timeline(query or "", limit=int(limit) if limit else None, **options).to_dict()
        except (TypeError, ValueError) as error:
            raise gr.Error(str(error)) from None
        except Exception as error:
            log.exception("timeline %r failed", query)
            raise gr.Error(f"Could not build the timeline: {one_line(error)}") from None

    def on_timeline(self, query, date_from, date_to, sources):
        """(timeline HTML, download-button update with its Markdown)."""
        from rag.present.markdown import timeline_markdown

        def build():
            options = self.ui.options(None, date_from, date_to, sources)
            return self.assistant.timeline(query or "", **options)

        return _view(build, render_timeline, timeline_markdown, "newsdesk-timeline.md", "Could not build the timeline", query)

    def changes(self, query: str, since: str, date_from: str = "", date_to: str = "", sources: list[str] | None = None) -> dict:
        """What is new in a story since a date: facts of later articles that no article up to ``since`` stated.

        Returns the Changes as JSON: `topic`, `since`, `entries` (citations: article_id, title, date,
        source, url, quote and offsets) oldest first, `restated` (facts left out) and `notice`.
        """
        try:
            options = self.ui.options(None, date_from, date_to, sources)
            return self.assistant.changes(query or "", since=since, **options).to_dict()
        except (TypeError, ValueError) as error:
            raise gr.Error(str(error)) from None
        except Exception as error:
            log.exception("changes %r failed", query)
            raise gr.Error(f"Could not find what is new: {one_line(error)}") from None

    def on_changes(self, query, since, date_from, date_to, sources):
        """(changes HTML, download-button update with its Markdown)."""
        from rag.present.markdown import changes_markdown

        def build():
            options = self.ui.options(None, date_from, date_to, sources)
            return self.assistant.changes(query or "", since=since, **options)

        return _view(build, render_changes, changes_markdown, "newsdesk-new-since.md", "Could not find what is new", query)

    def tab(self) -> None:
        """The Timeline tab and its events (inside the page's outer ``gr.Tabs``)."""
        with gr.Tab("Timeline", id="timeline") as tab:
            with gr.Row():
                query = gr.Textbox(label="Story", placeholder="e.g. Peru Chile border migrants", scale=4, elem_id="nd-tl-query")
                go = gr.Button("Show timeline", variant="primary", scale=1, elem_id="nd-tl-go")
            with gr.Row():
                date_from = gr.DateTime(label="From", include_time=False, type="string", elem_id="nd-tl-from")
                date_to = gr.DateTime(label="To", include_time=False, type="string", elem_id="nd-tl-to")
                sources = gr.Dropdown(label="Sources", choices=[], multiselect=True, info="Empty: all sources", elem_id="nd-tl-sources")
            result = gr.HTML(elem_id="nd-timeline")
            download = gr.DownloadButton("Download timeline (.md)", size="sm", interactive=False, elem_id="nd-tl-export")
            with gr.Row():  # what is new since a date (answer/changes.py)
                since = gr.DateTime(label="New since", include_time=False, type="string", elem_id="nd-tl-since")
                show_new = gr.Button("What's new since", scale=1, elem_id="nd-tl-new")
            new_result = gr.HTML(elem_id="nd-tl-changes")
            new_download = gr.DownloadButton("Download new since (.md)", size="sm", interactive=False, elem_id="nd-tl-new-export")
        private = dict(api_visibility="private")
        for trigger in (query.submit, go.click):
            trigger(self.on_timeline, [query, date_from, date_to, sources], [result, download], concurrency_limit=4, concurrency_id="chat", **private)
        show_new.click(self.on_changes, [query, since, date_from, date_to, sources], [new_result, new_download], concurrency_limit=4, concurrency_id="chat", **private)
        tab.select(lambda: gr.update(choices=self.ui.source_choices()), None, sources, queue=False, **private)

    def wire(self) -> None:
        """The public ``/timeline`` endpoint."""
        gr.api(self.timeline, api_name="timeline", concurrency_limit=4, concurrency_id="chat")
        gr.api(self.changes, api_name="changes", concurrency_limit=4, concurrency_id="chat")


def _view(build, render, to_markdown, filename: str, failure: str, query) -> tuple:
    """(HTML, download-button update) for a built view (timeline or changes): a user's bad input or a
    failure shows as an outcome, an empty view disables the download."""
    try:
        view = build()
    except (TypeError, ValueError) as error:
        return render_outcomes([Outcome("failed", str(error))]), gr.update(value=None, interactive=False)
    except Exception as error:
        log.exception("%s for %r", failure, query)
        return render_outcomes([Outcome("failed", f"{failure}: {one_line(error)}")]), gr.update()
    if not view.entries:
        return render(view), gr.update(value=None, interactive=False)
    return render(view), gr.update(value=write_download(filename, to_markdown(view)), interactive=True)
