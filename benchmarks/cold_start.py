"""Cold start: how long a fresh process takes before the user sees something, and what importing loads.

Each command runs ``--runs`` times in a new Python process (the page cache is warm after the first
run, as on a machine in use). Measured from process start:

* ``import rag``: wall time, and which heavy modules the import pulled in (there should be none);
* ``python -m rag --help``: wall time to exit;
* ``python -m rag ask "..."`` on the sample corpus (indexed beforehand into a temporary data dir),
  extractive and with the local LLM: time to the first line of output and to exit;
* ``python app.py`` with the local LLM: time until it serves, then one question through its ``/ask``
  API (Gradio's own client), and the server's peak RSS with the model loaded.

Peak RSS of each process comes from ``os.wait4`` (the app's from ``VmHWM`` in ``/proc``).

    python benchmarks/cold_start.py [--runs 3] [--model-path FILE] [--skip-llm]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "chromadb", "onnxruntime", "llama_cpp", "gradio", "llama_index.core", "transformers", "sentence_transformers")
QUESTION = "Why did Peru declare a state of emergency?"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(seconds to the first output line, seconds to exit, peak RSS MB, output) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    first_line = process.stdout.readline()
    first = time.perf_counter() - started
    rest = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS, not the max over all children
    total = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {first_line}{rest}")
    return first, total, usage.ru_maxrss / 1024, first_line + rest


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_run(env: dict[str, str]) -> tuple[float, float, float, str]:
    """(seconds until ``python app.py`` serves, seconds to its first answer, peak RSS MB, answer start)."""
    from gradio_client import Client

    port = free_port()
    started = time.perf_counter()
    app = subprocess.Popen(
        [sys.executable, "app.py"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(env, RAG_HOST="127.0.0.1", RAG_PORT=str(port)), cwd=ROOT,
    )  # fmt: skip
    try:
        for line in app.stdout:
            if "serving on" in line:
                break
        else:
            raise SystemExit("app.py exited before serving")
        serving = time.perf_counter() - started
        # The startup line is printed just before Gradio binds: wait for the port.
        client, deadline = None, time.monotonic() + 120
        while client is None:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:
                if app.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("app.py stopped or never accepted connections") from None
                time.sleep(0.2)
        answer = client.predict(QUESTION, api_name="/ask")
        answered = time.perf_counter() - started
        status = Path(f"/proc/{app.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return serving, answered, peak_kb / 1024, answer["text"][:60]
    finally:
        app.terminate()
        app.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-path", default="", help="a GGUF file (default: the bundled 1.5B, assembled in data/)")
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args(argv)

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="newsdesk-cold-") as tmp:
        env = dict(os.environ, RAG_DATA_DIR=tmp, RAG_CORPUS_DIR=str(ROOT / "corpus"), HF_HUB_OFFLINE="1")
        subprocess.run([python, "-m", "rag", "ingest", "--quiet"], env=env, cwd=ROOT, check=True, capture_output=True)
        probe = f"import rag, sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')"
        commands = [
            ("import rag", [python, "-c", probe], env),
            ("python -m rag --help", [python, "-m", "rag", "--help"], env),
            ("python -m rag ask (extractive)", [python, "-m", "rag", "ask", QUESTION], dict(env, RAG_LLM="extractive")),
        ]
        if not args.skip_llm:
            llm_env = dict(env, RAG_LLM="local", RAG_DATA_DIR=tmp)
            if args.model_path:
                llm_env["RAG_LLM_MODEL_PATH"] = args.model_path
            commands.append(("python -m rag ask (local LLM)", [python, "-m", "rag", "ask", QUESTION], llm_env))
        rows = []
        for name, command, command_env in commands:
            runs = [timed(command, command_env) for _ in range(args.runs)]
            note = runs[0][3].strip().splitlines()[0][:60] if name == "import rag" else ""
            rows.append((name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs), note))
        if not args.skip_llm:
            # "first output" = serving, "exit" = first answer through /ask; the note is that answer's start.
            runs = [app_run(llm_env) for _ in range(args.runs)]
            rows.append(("python app.py (local LLM): serving / answered", statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs), runs[0][3]))  # fmt: skip

    print(f"{os.cpu_count()} cores, median of {args.runs} runs, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| command | first output s | exit s | peak RSS MB | heavy modules imported / answer |")
    print("| --- | --- | --- | --- | --- |")
    for name, first, total, peak, note in rows:
        print(f"| {name} | {first:.2f} | {total:.2f} | {peak:,.0f} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
