"""The Timeline tab without a browser (``rag/web/timeline.py``), its API behind a password, and the
chat's Markdown downloads (``rag/web/downloads.py``)."""

from __future__ import annotations

import pytest
from newsroom import write_story

from rag.chat import Conversation
from rag.web.app import ChatSession
from rag.web.downloads import Downloads
from rag.web.timeline import TimelineTab


def test_timeline(story_ui):
    tab = TimelineTab(story_ui)
    timeline = tab.timeline("Peru Chile border migrants", date_from="2025-11-20")
    assert [e["date"] for e in timeline["entries"]] == ["2025-11-24", "2025-11-28", "2025-12-03"]
    with pytest.raises(Exception, match="Could not read the “From” date"):
        tab.timeline("Peru", date_from="2025-02-30")
    html, download = tab.on_timeline("Peru Chile border migrants", "", "", [])
    assert html.count("nd-tl-entry") == 4 and download["interactive"] is True and download["value"].endswith(".md")


def test_downloads(story_ui):
    downloads = Downloads()
    session = ChatSession(Conversation(story_ui.assistant))
    assert downloads.export(session) == (None, None)
    session.conversation.ask("Why did Peru declare a state of emergency?")
    session.conversation.ask("What did Kast tell migrants?")
    chat, last = downloads.export(session)
    chat_text, last_text = open(chat, encoding="utf-8").read(), open(last, encoding="utf-8").read()
    assert chat_text.count("\n## ") == 2 and "[^1]:" in chat_text and "Kast" in last_text and "Peru declare" not in last_text


def test_timeline_api_through_gradio_client_behind_a_password(make_settings, embedding, tmp_path):
    import httpx
    from gradio_client import Client

    from helpers import launch_app
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(auth_user="desk", auth_password="s3cret-harbour-7"), embedding=embedding)
    write_story(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    demo, url = launch_app(assistant)
    try:
        assert httpx.post(f"{url}gradio_api/call/timeline", json={"data": ["Peru"]}, timeout=10).status_code in (401, 403)
        client = Client(url, auth=("desk", "s3cret-harbour-7"), verbose=False, analytics_enabled=False, download_files=False)
        timeline = client.predict("Peru Chile border migrants", sources=["latin-wire.example"], api_name="/timeline")
        assert [e["title"] for e in timeline["entries"]] == [
            "Chile's candidate tells migrants to leave before the vote", "Chile and Peru agree on a humanitarian corridor for migrants"
        ]
        assert timeline["entries"][0]["citation"]["quote"] and timeline["entries"][0]["date"] == "2025-11-18"
        assert client.predict("Who won the 2022 football World Cup final?", api_name="/timeline")["entries"] == []
    finally:
        demo.close()
