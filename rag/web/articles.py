"""The Articles tab's layout and events: upload files, paste text, add a URL (and the Feeds section),
the searchable table of indexed articles, delete (after a confirmation) and re-sync.

Layout and wiring only: each action is a ``WebUI`` method (``on_upload``, ``on_paste``, ...) taking
and returning plain values; adding and removing articles is ``Assistant.library``'s.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from rag.ingest.library import UPLOAD_SUFFIXES


def articles_tab(s, feeds) -> SimpleNamespace:
    """The components of the Articles tab (inside its ``gr.Tab``) for settings ``s``; ``feeds`` adds its section."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            with gr.Tabs():
                with gr.Tab("Upload files"):
                    files = gr.File(
                        label=f"Articles ({', '.join(UPLOAD_SUFFIXES)}; up to {s.web.max_upload_mb:g} MB each)",
                        file_count="multiple",
                        type="filepath",
                        elem_id="nd-files",
                    )
                    upload = gr.Button("Add files", variant="primary", elem_id="nd-upload")
                with gr.Tab("Paste text"):
                    paste_title = gr.Textbox(label="Title", elem_id="nd-paste-title")
                    with gr.Row():
                        paste_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", elem_id="nd-paste-date")
                        paste_source = gr.Textbox(label="Source", placeholder="e.g. apnews.com", elem_id="nd-paste-source")
                    paste_url = gr.Textbox(label="Link (optional)", placeholder="https://…", elem_id="nd-paste-url")
                    paste_text = gr.Textbox(label="Article text", lines=8, elem_id="nd-paste-text")
                    paste = gr.Button("Add text", variant="primary", elem_id="nd-paste")
                with gr.Tab("Add URL"):
                    url = gr.Textbox(label="Web page or PDF", placeholder="https://…", elem_id="nd-url")
                    fetch = gr.Button("Fetch and add", variant="primary", elem_id="nd-fetch")
                feeds.tab()
            result = gr.HTML(elem_id="nd-result")
        with gr.Column(scale=3):
            articles_status = gr.Markdown(elem_id="nd-articles-status")
            with gr.Row():
                search = gr.Textbox(
                    label="Search articles", placeholder="title, source, date or id", scale=4, elem_id="nd-search"
                )
                resync = gr.Button(f"Re-sync {Path(s.storage.corpus_dir).name}/", scale=1, elem_id="nd-resync")
            table = gr.Dataframe(
                headers=["Title", "Date", "Source", "Passages", "ID"],
                datatype=["str", "str", "str", "number", "str"],
                interactive=False,
                column_widths=["44%", "15%", "17%", "10%", "14%"],
                max_height=420,
                elem_id="nd-articles",
            )
            with gr.Row():
                to_delete = gr.Dropdown(
                    label="Delete articles",
                    info="Pick from the list (the search narrows it) or click a row of the table",
                    choices=[],
                    multiselect=True,
                    scale=4,
                    elem_id="nd-delete-pick",
                )
                delete = gr.Button("Delete", variant="stop", scale=1, elem_id="nd-delete")
            with gr.Row(visible=False, elem_id="nd-delete-confirm") as confirm_row:  # a delete is asked first
                confirm_text = gr.Markdown(elem_id="nd-delete-question")
                confirm = gr.Button("Yes, delete", variant="stop", scale=0, min_width=120, elem_id="nd-delete-yes")
                cancel = gr.Button("Cancel", scale=0, min_width=100, elem_id="nd-delete-no")
    return SimpleNamespace(confirm_row=confirm_row, confirm_text=confirm_text, confirm=confirm, cancel=cancel, files=files, upload=upload, paste_title=paste_title, paste_date=paste_date, paste_source=paste_source, paste_url=paste_url, paste_text=paste_text, paste=paste, url=url, fetch=fetch, result=result, articles_status=articles_status, search=search, resync=resync, table=table, to_delete=to_delete, delete=delete)


def wire_articles(ui, parts: SimpleNamespace, *, status, sources) -> None:
    """Each write reports in ``parts.result``, refreshes the table, pickers and status (``parts.refreshed``,
    the chat's ``sources`` filter among them) and copies the status to the chat tab's ``status``."""
    p = parts
    refreshed = p.refreshed = [p.table, p.to_delete, sources, p.articles_status]
    writes = dict(concurrency_limit=1, concurrency_id="articles", api_visibility="private")
    actions = [
        (p.upload, ui.on_upload, [p.files, p.search], [p.result, *refreshed, p.files]),
        (p.paste, ui.on_paste, [p.paste_text, p.paste_title, p.paste_date, p.paste_source, p.paste_url, p.search],
         [p.result, *refreshed, p.paste_text, p.paste_title, p.paste_date, p.paste_source, p.paste_url]),
        (p.fetch, ui.on_url, [p.url, p.search], [p.result, *refreshed, p.url]),
        (p.confirm, ui.on_delete, [p.to_delete, p.search], [p.result, *refreshed]),
        (p.resync, ui.on_resync, [p.search], [p.result, *refreshed]),
    ]
    for button, handler, inputs, outputs in actions:  # each write then copies the index status to the chat tab
        button.click(handler, inputs, outputs, **writes).then(
            lambda text: text, p.articles_status, status, api_visibility="private", queue=False
        )
    # Delete asks first ("Delete 2 articles: …?"); only "Yes, delete" deletes, and either answer closes the question.
    p.delete.click(ui.on_delete_ask, [p.to_delete], [p.confirm_row, p.confirm_text, p.result], api_visibility="private", queue=False)
    for answer in (p.confirm, p.cancel):
        answer.click(lambda: gr.update(visible=False), None, p.confirm_row, api_visibility="private", queue=False)
    p.search.change(ui.on_search, [p.search], [p.table, p.to_delete], api_visibility="private", show_progress="hidden")
    p.table.select(ui.on_row_select, None, p.to_delete, api_visibility="private", queue=False)
