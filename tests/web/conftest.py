"""Fixtures of the web app's tests."""

from __future__ import annotations

import pytest
from newsroom import write_story

from rag.web.app import WebUI


@pytest.fixture
def story_ui(make_settings, embedding, tmp_path) -> WebUI:
    """A ``WebUI`` over an assistant that indexed the Peru/Chile border story."""
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_story(tmp_path / "story")
    assistant.ingest([tmp_path / "story"])
    return WebUI(assistant)
