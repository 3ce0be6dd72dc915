"""newsdesk: answers questions about news articles, citing the passages it used.

>>> from rag import query
>>> answer = query("Why did Peru declare a state of emergency?")
>>> answer.text, [c.quote for c in answer.citations]

Importing ``rag`` does no work: names are resolved on first use, and no model is loaded nor store
opened until a question is asked or articles are ingested.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.chat import Conversation
    from rag.ingest.pipeline import IngestReport
    from rag.settings import Settings, load_settings
    from rag.types import Answer, Article, ArticleInfo, Citation, Passage, ScoredPassage, StreamEvent, Timeline, TimelineEntry

__all__ = [
    "Answer",
    "Article",
    "ArticleInfo",
    "Assistant",
    "Citation",
    "Conversation",
    "IngestReport",
    "Passage",
    "ScoredPassage",
    "Settings",
    "StreamEvent",
    "Timeline",
    "TimelineEntry",
    "default_assistant",
    "load_settings",
    "query",
]

_LAZY = {
    "Answer": "types",
    "Article": "types",
    "ArticleInfo": "types",
    "Citation": "types",
    "Passage": "types",
    "ScoredPassage": "types",
    "StreamEvent": "types",
    "Timeline": "types",
    "TimelineEntry": "types",
    "Conversation": "chat",
    "Assistant": "assistant",
    "IngestReport": "ingest.pipeline",
    "Settings": "settings",
    "load_settings": "settings",
}
_defaults: dict[Settings, Assistant] = {}  # one default assistant per settings
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def query(question: str, **options: Any) -> Answer:
    """Answer ``question`` with the default assistant (settings from ``rag.toml`` and ``RAG_*``).

    One assistant per settings is created on first use and kept; it shares its models with any
    ``Assistant`` of the same settings in the process, so ``query()`` beside an ``Assistant()`` holds
    one LLM, not two. See ``Assistant.query`` for the options (``top_k``, ``date_from``,
    ``date_to``, ``sources``, ``article_ids``, ``as_of``).
    """
    return default_assistant().query(question, **options)


def default_assistant(settings: Settings | None = None) -> Assistant:
    """The process's assistant for ``settings`` (default: loaded from ``rag.toml`` and ``RAG_*``)."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    settings = settings or load_settings()
    with _default_lock:
        if settings not in _defaults:
            _defaults[settings] = Assistant(settings)
        return _defaults[settings]
