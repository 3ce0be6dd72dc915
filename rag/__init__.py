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
    from .assistant import Assistant
    from .chat import Conversation
    from .ingest import IngestReport
    from .settings import Settings, load_settings
    from .types import Answer, Article, ArticleInfo, Citation, Passage, ScoredPassage, StreamEvent

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
    "Conversation": "chat",
    "Assistant": "assistant",
    "IngestReport": "ingest",
    "Settings": "settings",
    "load_settings": "settings",
}
_default: Assistant | None = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def query(question: str, **options: Any) -> Answer:
    """Answer ``question`` with the default assistant (settings from ``rag.toml`` and ``RAG_*``).

    The assistant is created on the first call and kept; see ``Assistant.query`` for the options
    (``top_k``, ``date_from``, ``date_to``, ``sources``, ``article_ids``, ``as_of``).
    """
    global _default
    with _default_lock:
        if _default is None:
            from .assistant import Assistant

            _default = Assistant()
    return _default.query(question, **options)
