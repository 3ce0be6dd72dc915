"""How soon Ctrl-C ends a local LLM call that is reading a long prompt (``rag.llm.llama_cpp``'s abort callback).

Loads the bundled model, then for each delay sends this process SIGINT that long after a call starts
reading a new ~360-token prompt, and prints how long the KeyboardInterrupt took to arrive and how many
tokens had been written. Before the abort callback, the interrupt waited for the whole prompt.

    python benchmarks/interrupt_latency.py [--delays 0.5,1.5,3]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="0.5,1.5,3", help="seconds after the call's start, comma-separated")
    args = parser.parse_args(argv)
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from rag.llm.factory import make_llm
    from rag.settings import load_settings

    llm = make_llm("local", load_settings().generation, cache_dir=Path(tempfile.gettempdir()) / "newsdesk-llm-cache")
    print("| SIGINT after (s) | KeyboardInterrupt after (s) | tokens written |\n| --- | --- | --- |")
    for i, delay in enumerate(float(d) for d in args.delays.split(",")):
        prompt = f"Variant {i}. " + "Tell me a long story about the sea and the ships. " * 40  # a new prefix: read whole
        sent: dict[str, float] = {}
        timer = threading.Timer(delay, lambda: (sent.setdefault("t", time.perf_counter()), os.kill(os.getpid(), signal.SIGINT)))
        timer.start()
        tokens = 0
        try:
            for _ in llm.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=200):
                tokens += 1
            time.sleep(delay + 60)  # the call ended first: wait for the signal
        except KeyboardInterrupt:
            print(f"| {delay:.1f} | {time.perf_counter() - sent['t']:.2f} | {tokens} |")
        timer.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
