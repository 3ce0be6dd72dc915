"""newsdesk web app: ``python app.py`` serves http://127.0.0.1:7860 (``host``/``port`` in rag.toml or RAG_HOST/RAG_PORT).

On the first start with an empty index it indexes the corpus folder (with a progress bar), then serves.
Served on an address other than localhost it requires a password (RAG_AUTH_USER / RAG_AUTH_PASSWORD)
and refuses to start without one. With ``feed_refresh_minutes`` set it refreshes the subscribed feeds in the
background. The page and its handlers live in ``rag/web/app.py``.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    from rag.assistant import Assistant
    from rag.settings import SettingsError, load_settings
    from rag.store import StoreUnavailable
    from rag.ingest import feeds
    from rag.web import app as webui

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    try:
        webui.launch_options(settings)  # refuse an unsafe configuration before loading anything
    except webui.LaunchError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    assistant = Assistant(settings)
    try:
        webui.prepare(assistant)
        print(f"newsdesk: answers by {assistant.llm_status()}", flush=True)
    except StoreUnavailable as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    demo = webui.build_ui(assistant)
    feeds.start_refresher(assistant)  # every feed_refresh_minutes (0: off), through the writer queue
    print(webui.startup_message(settings), flush=True)
    try:
        webui.launch(demo, settings)
    except OSError as error:  # e.g. the port is taken
        print(f"newsdesk: cannot serve on {settings.web.host}:{settings.web.port}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
