"""Embedding throughput idle and beside other work: passages/s and passages per CPU-second, per runtime setting.

Issue 22 found a bulk ingest embedding 2-5 passages/s (about 5 per CPU-second, against 15 idle) beside a
test suite. This script embeds the same passages (exactly the text ingest embeds, sent shortest first as
``ingest.embed_by_length`` does) with each configuration, each in a fresh process, first on the idle
machine and then beside ``--load`` busy-loop processes at normal priority, and prints a table:

* ``onnx tN spin``: the int8 ONNX model with N intra-op threads (0: ONNX Runtime's default, one per
  physical core), its threads allowed to spin-wait (ONNX Runtime's default) or not (newsdesk's);
* ``torch``: the fp32 sentence-transformers model in process (the reference);
* ``server``: the same fp32 model served by Infinity (``--infinity PATH``, started here on 127.0.0.1) and
  reached through ``embed_backend = "openai"``; its CPU time is the client's plus the server's.

CPU time is the process's user + system time (``getrusage``), so "per CPU-second" shows what a
configuration wastes when its threads wait for each other.

    python benchmarks/embed_efficiency.py [--articles 60] [--load 2] [--configs onnx:t0:spin,onnx:t0,onnx:t1,torch]
        [--infinity .venv-embed/bin/infinity_emb]

Uses the RealTimeQA corpus when ``../shared`` is present, else the bundled sample article's passages
repeated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "eval" / "realtimeqa" / "corpus.jsonl.gz"
DEFAULT_CONFIGS = "onnx:t0:spin,onnx:t0,onnx:t1,torch"


def passages(articles: int) -> list[str]:
    from rag.embed import word_piece_counter
    from rag.ingest.articles import LoadFailure
    from rag.ingest.chunk import Chunker
    from rag.ingest.corpus import load_sources
    from rag.ingest.pipeline import embed_text
    from rag.settings import load_settings

    s = load_settings().ingest
    chunker = Chunker(word_piece_counter(), s.chunk_size, s.chunk_overlap)
    source = CORPUS if CORPUS.is_file() else next((REPO / "corpus").glob("*.txt"))
    items = itertools.islice(load_sources([source], max_bytes=int(s.max_file_mb * 1e6), fetch_timeout_s=20), articles)
    texts = [embed_text(p) for a in items if not isinstance(a, LoadFailure) for p in chunker.split(a)]
    return texts if CORPUS.is_file() else (texts * 100)[: articles * 13]


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (or of ``pid``, from /proc)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(config: str, articles: int, server_url: str, server_pid: int) -> None:
    """Embed the passages with ``config`` and print passages, wall seconds and CPU seconds as JSON."""
    from rag.embed import OnnxMiniLM, bundled_model_dir, bundled_onnx_file, make_embedding, word_piece_counter
    from rag.ingest.pipeline import embed_by_length

    texts = passages(articles)
    counter = word_piece_counter()
    kind, *options = config.split(":")
    if kind == "onnx":
        threads = int(next((o[1:] for o in options if o.startswith("t")), "0"))
        embedding = OnnxMiniLM.load(bundled_onnx_file(), bundled_model_dir(), threads=threads, spinning="spin" in options)
    elif kind == "server":
        from rag.embed_server import make_server_embedding

        embedding = make_server_embedding(server_url, "all-MiniLM-L6-v2", "", batch_size=32, timeout_s=120, max_retries=2)
    else:
        embedding = make_embedding(kind)
    length = lambda text: len(counter(text))  # noqa: E731
    embed_by_length(embedding, texts[:64], length)  # warm-up
    cpu0, server0, t0 = cpu_seconds(), cpu_seconds(server_pid) if server_pid else 0.0, time.perf_counter()
    embed_by_length(embedding, texts, length)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0 + ((cpu_seconds(server_pid) - server0) if server_pid else 0.0)
    print(json.dumps({"passages": len(texts), "wall": wall, "cpu": cpu}))


def start_infinity(command: str) -> tuple[subprocess.Popen, str]:
    import socket

    from rag.embed import bundled_model_dir

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"embed-efficiency-infinity-{port}.log"
    env = {**os.environ, "INFINITY_ANONYMOUS_USAGE_STATS": "0", "DO_NOT_TRACK": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "v2", "--model-id", str(bundled_model_dir()), "--served-model-name", "all-MiniLM-L6-v2", "--engine", "torch",
             "--device", "cpu", "--host", "127.0.0.1", "--port", str(port), "--url-prefix", "/v1", "--no-bettertransformer",
             "--no-model-warmup"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    deadline = time.time() + 180
    while "Application startup complete" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.time() > deadline:
            raise SystemExit(f"Infinity did not start; see {log}")
        time.sleep(0.5)
    return process, f"http://127.0.0.1:{port}/v1"


def measure(config: str, args, server: subprocess.Popen | None, url: str) -> dict:
    command = [sys.executable, __file__, "--child", config, "--articles", str(args.articles), "--server-url", url,
               "--server-pid", str(server.pid if server and config == "server" else 0)]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=60, help="chunk the first N corpus articles")
    parser.add_argument("--load", type=int, default=2, help="busy-loop processes beside the second pass")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="comma-separated: onnx[:tN][:spin], torch, server")
    parser.add_argument("--infinity", default="", help="an infinity_emb executable: adds the 'server' configuration")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--server-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.articles, args.server_url, args.server_pid)
        return 0

    from rich.console import Console
    from rich.table import Table

    configs = args.configs.split(",") + (["server"] if args.infinity else [])
    server, url = start_infinity(args.infinity) if args.infinity else (None, "")
    results: dict[tuple[str, str], dict] = {}
    try:
        for condition in ("idle", f"beside {args.load} busy processes"):
            load = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load if condition != "idle" else 0)]
            try:
                for config in configs:
                    results[config, condition] = measure(config, args, server, url)
                    r = results[config, condition]  # as it goes: a long run shows its progress
                    print(f"{config}, {condition}: {r['passages'] / r['wall']:.1f} passages/s, {r['passages'] / r['cpu']:.1f} per CPU-s", flush=True)
            finally:
                for process in load:
                    process.kill()
                    process.wait()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    load1 = os.getloadavg()[0]
    table = Table(title=f"{os.cpu_count()} CPUs, {next(iter(results.values()))['passages']:,} passages, "
                        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average now {load1:.1f}")  # fmt: skip
    for column in ("configuration", "idle: passages/s", "per CPU-s", f"beside load: passages/s", "per CPU-s", "per CPU-s vs idle"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for config in configs:
        idle, loaded = results[config, "idle"], results[config, f"beside {args.load} busy processes"]
        idle_eff, loaded_eff = idle["passages"] / idle["cpu"], loaded["passages"] / loaded["cpu"]
        table.add_row(
            config, f"{idle['passages'] / idle['wall']:.1f}", f"{idle_eff:.1f}",
            f"{loaded['passages'] / loaded['wall']:.1f}", f"{loaded_eff:.1f}", f"{loaded_eff / idle_eff:.0%}",
        )  # fmt: skip
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
