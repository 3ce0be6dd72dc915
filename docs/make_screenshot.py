"""Make ``docs/screenshot.png`` (the README's picture) from the real app, so it can be redone after any change.

Serves the web app on a free loopback port over a temporary index of the bundled sample article, with
the configured LLM (``--llm``: ``auto`` takes the bundled local model when installed), opens it in
Debian's headless chromium through Playwright, asks one question, waits for the checked answer and
its sources, and saves the page: the tabs (Chat, Articles, Timeline, Reader), the status line, the
short answer, the evidence and the source cards.

    .venv/bin/python docs/make_screenshot.py                       # -> docs/screenshot.png
    .venv/bin/python docs/make_screenshot.py --llm extractive --out /tmp/shot.png
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "000_acb8fec70e58ae20.txt"
QUESTION = "How many days did Kast give immigrants to leave Chile voluntarily?"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 900_000  # an answer from a CPU-only LLM on a busy machine can take minutes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--llm", default="auto", help="auto, local or extractive (as RAG_LLM)")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from rag import Assistant, load_settings
    from rag.web import app as webui

    chromium = shutil.which("chromium")
    if chromium is None:
        print("Debian's chromium is needed: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        shutil.copy(SAMPLE, corpus)
        settings = load_settings(data_dir=Path(tmp) / "data", corpus_dir=corpus, llm=args.llm, rewrite_followups=False)
        assistant = Assistant(settings)
        webui.prepare(assistant, out=open(os.devnull, "w"))
        print(assistant.llm_status())
        demo = webui.build_ui(assistant)
        port = free_port()
        webui.launch(demo, settings, server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1360, "height": 1100})
                page.set_default_timeout(WAIT_MS)
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function("document.querySelector('#nd-status')?.innerText.includes('Index:')")
                box = page.locator("#nd-question textarea")
                box.fill(args.question)
                box.press("Enter")
                page.wait_for_function(
                    "() => document.querySelector('#nd-chat .nd-source mark') && !document.querySelector('#nd-chat .nd-writing, #nd-chat .nd-pending')"
                )
                time.sleep(1.0)  # the chat scrolls itself to the end of the answer; then show the turn from its question
                page.locator("#nd-chat .nd-q").first.evaluate("el => { el.scrollIntoView({block: 'start'}); window.scrollTo(0, 0); }")
                time.sleep(0.5)
                page.screenshot(path=args.out)
                browser.close()
        finally:
            demo.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
