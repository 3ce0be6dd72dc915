"""How soon a local LLM call that is reading a long prompt ends: Ctrl-C, and the web chat's Stop (a stop Event).

Loads the bundled model, then for each delay, that long after a call starts reading a new ~360-token prompt:
sends this process SIGINT (the CLI's Ctrl-C; the call on the main thread), and sets the call's ``cancel``
Event from another thread (the web chat's Stop; the call on a worker thread, as Gradio runs it). Prints how
long the call took to end after the signal or the Event, and how many tokens it had written. Both go through
``rag.llm.llama_cpp``'s one abort callback; before it, Ctrl-C waited for the whole prompt, and before the Event
reached it, the Stop waited for the whole prompt and the first token.

``--busy`` adds what watching the Event costs while another Python thread keeps the GIL busy (the callback
takes the GIL at each step of llama.cpp's computation): time for the same 32-token reply, with and without an
Event watched, each call on a worker thread (on the main thread the callback is installed anyway, for Ctrl-C).

    python benchmarks/interrupt_latency.py [--delays 0.5,1.5,3] [--busy]
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


def prompt_for(tag: str) -> str:
    return f"Variant {tag}. " + "Tell me a long story about the sea and the ships. " * 40  # a new prefix: read whole


def ctrl_c_row(llm, user, delay: float, tag: str) -> str:
    sent: dict[str, float] = {}
    timer = threading.Timer(delay, lambda: (sent.setdefault("t", time.perf_counter()), os.kill(os.getpid(), signal.SIGINT)))
    timer.start()
    tokens = 0
    try:
        for _ in llm.stream_chat(user(prompt_for(tag)), max_tokens=200):
            tokens += 1
        time.sleep(delay + 60)  # the call ended first: wait for the signal
    except KeyboardInterrupt:
        return f"| Ctrl-C (SIGINT, main thread) | {delay:.1f} | {time.perf_counter() - sent['t']:.2f} | {tokens} |"
    finally:
        timer.join()
    return f"| Ctrl-C (SIGINT, main thread) | {delay:.1f} | no interrupt | {tokens} |"


def stop_event_row(llm, user, delay: float, tag: str) -> str:
    stop, ended, tokens = threading.Event(), {}, []

    def generate() -> None:
        try:
            for response in llm.stream_chat(user(prompt_for(tag)), max_tokens=200, cancel=stop):
                tokens.append(response.delta)
        except Exception as error:  # noqa: BLE001 - shown in the row
            ended["error"] = error
        ended["t"] = time.perf_counter()

    worker = threading.Thread(target=generate)
    worker.start()
    time.sleep(delay)
    set_at = time.perf_counter()
    stop.set()
    worker.join()
    if "error" in ended:
        return f"| stop event (worker thread) | {delay:.1f} | raised {type(ended['error']).__name__}: {ended['error']} | {len(tokens)} |"
    if ended["t"] < set_at:
        return f"| stop event (worker thread) | {delay:.1f} | ended before the stop | {len(tokens)} |"
    return f"| stop event (worker thread) | {delay:.1f} | {ended['t'] - set_at:.2f} | {len(tokens)} |"


def timed_on_worker(llm, user, cancel) -> tuple[float, str]:
    """Seconds for the 32-token reply and its text, the call on a worker thread as Gradio runs it: on the
    main thread ``rag.llm.llama_cpp`` installs the abort callback anyway (for Ctrl-C), so only a worker
    thread's call runs without it when no ``cancel`` is given."""
    result: dict = {}
    extra = {"cancel": cancel} if cancel is not None else {}

    def generate() -> None:
        started, reply = time.perf_counter(), ""
        try:
            for response in llm.stream_chat(user("Count from one to forty in words."), max_tokens=32, temperature=0.0, **extra):
                reply = response.message.content
        except BaseException as error:  # noqa: BLE001 - raised again on the calling thread
            result["error"] = error
        result["s"], result["reply"] = time.perf_counter() - started, reply

    worker = threading.Thread(target=generate)
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]
    return result["s"], result["reply"]


def busy_rows(llm, user) -> list[str]:
    done = threading.Event()

    def spin() -> None:  # pure Python work: holds the GIL except at the interpreter's switch interval
        n = 0
        while not done.is_set():
            n += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    rows = []
    try:
        for label, cancel in (("no stop event", None), ("stop event watched", threading.Event())):
            llm.chat(user("Reply with the single word OK."), max_tokens=2)  # same cached prefix state for both
            seconds, reply = timed_on_worker(llm, user, cancel)
            rows.append(f"| {label} | {seconds:.2f} | {len(llm.llama.tokenize(reply.encode(), add_bos=False))} |")
    finally:
        done.set()
        spinner.join()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="0.5,1.5,3", help="seconds after the call's start, comma-separated")
    parser.add_argument("--busy", action="store_true", help="also time a reply beside a busy Python thread, with and without a watched stop event")
    args = parser.parse_args(argv)
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from rag.llm.factory import make_llm
    from rag.settings import load_settings

    def user(text: str):
        return [ChatMessage(role=MessageRole.USER, content=text)]

    llm = make_llm("local", load_settings().generation, cache_dir=Path(tempfile.gettempdir()) / "newsdesk-llm-cache")
    print("| how | signal / stop after (s) | call ended after (s) | tokens written |\n| --- | --- | --- | --- |")
    for i, delay in enumerate(float(d) for d in args.delays.split(",")):
        print(ctrl_c_row(llm, user, delay, f"c{i}"), flush=True)
        print(stop_event_row(llm, user, delay, f"s{i}"), flush=True)
    if args.busy:
        print("\n| beside a busy Python thread | 32-token reply (s) | tokens |\n| --- | --- | --- |")
        for row in busy_rows(llm, user):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
