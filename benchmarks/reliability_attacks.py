"""Reliability: the crafted bad inputs of issue 25 replayed through the command line, as a user runs it.

Each case runs ``python -m rag ...`` in a fresh process over a temp folder (embedded store, extractive
answers) and checks that it ends with the expected one-line outcome and no traceback:

* random bytes named ``.txt``/``.md`` → refused as "not text"; UTF-16 without a byte-order mark → read;
* a gzip of many ``{}`` lines (a bomb of small records) → given up at ``max_failures_per_file``, with
  the child's peak RSS and wall time;
* records dated ``"n/a"``, ``"nan"``, ``"12"`` → undated, with a line; ``ask --from n/a`` → an error;
* ``ask --top-k 1000000000``, ``ingest ""``, a question with bytes that are not UTF-8;
* ``RAG_DATA_DIR`` naming a file, ``RAG_TOP_K=-3``; ANSI escapes and BEL in a title (``list``, ``show``).

    python benchmarks/reliability_attacks.py [--bomb-lines 366000000]

``run()`` is what the test suite calls with a small bomb.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _write_inputs(folder: Path, bomb_lines: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(25)
    paths = {name: folder / name for name in ("bomb.jsonl.gz", "g.txt", "g.md", "utf16.txt", "dates.jsonl", "ansi.jsonl")}
    with gzip.open(paths["bomb.jsonl.gz"], "wb", compresslevel=9) as handle:
        block, left = b"{}\n" * 1_000_000, bomb_lines
        while left > 0:
            handle.write(block[: 3 * min(left, 1_000_000)])
            left -= 1_000_000
    paths["g.txt"].write_bytes(bytes(rng.getrandbits(8) for _ in range(100_000)))
    paths["g.md"].write_bytes(bytes(rng.getrandbits(8) for _ in range(5_000)))
    paths["utf16.txt"].write_bytes("Peru declared a state of emergency at its border with Chile, officials said.\n".encode("utf-16-le"))
    rows = [{"id": f"d{i}", "date": date, "title": f"Item {i}", "text": f"The council of town {i} approved the harbour works on Tuesday."}
            for i, date in enumerate(["n/a", "nan", "12", "2025-11-02"])]  # fmt: skip
    paths["dates.jsonl"].write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    paths["ansi.jsonl"].write_text(json.dumps({
        "id": "ansi-1", "title": "Harbour \u001b[2J\u001b[31mworks\u0007", "date": "2025-11-03",
        "text": "The harbour works in Port Elsby will cost 4.2 million euros, the council said on Tuesday.",
    }), encoding="utf-8")  # fmt: skip
    return paths


def _cli(workdir: Path, args: list, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    full = {**os.environ, "RAG_DATA_DIR": str(workdir / "data"), "RAG_CORPUS_DIR": str(workdir / "corpus"), "RAG_LLM": "extractive",
            "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), **(env or {})}  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "rag", *args], cwd=workdir, env=full, capture_output=True, timeout=1800)
    return result, time.perf_counter() - started


def run(bomb_lines: int = 366_000_000, workdir: Path | None = None) -> dict:
    """Every case once; ``{"rows": [{"case", "ok", "seconds", "line"}], "bomb_rss_mb"}``."""
    owned = None
    if workdir is None:
        owned = tempfile.TemporaryDirectory(prefix="newsdesk-attacks-")
        workdir = Path(owned.name)
    paths = _write_inputs(workdir / "inputs", bomb_lines)
    rows = []

    def case(name: str, args: list, expect_code: int, expect: str, env: dict | None = None, stream: str = "any") -> str:
        result, seconds = _cli(workdir, args, env)
        out, err = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
        text = {"out": out, "err": err}.get(stream, out + err)
        ok = result.returncode == expect_code and expect in text and "Traceback" not in err
        line = next((x for x in (out + err).splitlines() if expect in x), (err or out).strip().splitlines()[-1:] or [""])
        rows.append({"case": name, "ok": ok, "seconds": seconds, "line": (line if isinstance(line, str) else line[0])[:150]})
        return out

    case("gzip bomb of {} lines", ["ingest", "--quiet", paths["bomb.jsonl.gz"]], 0, "gave up after 1,000 failed records")
    bomb_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the first child: the bomb's
    case("random bytes .txt", ["ingest", "--quiet", paths["g.txt"]], 0, "not text:")
    case("random bytes .md", ["ingest", "--quiet", paths["g.md"]], 0, "not text:")
    case("UTF-16 without BOM", ["ingest", "--quiet", paths["utf16.txt"]], 0, "added 1")
    case("dates n/a, nan, 12", ["ingest", "--quiet", paths["dates.jsonl"]], 0, "undated: d0: could not read the date 'n/a'")
    listed = json.loads(case("list --json", ["list", "--json"], 0, "["))
    undated = sorted(a["id"] for a in listed if a["id"] in ("d0", "d1", "d2", "d3") and a["date"] is None)
    rows[-1]["ok"] = rows[-1]["ok"] and undated == ["d0", "d1", "d2"]  # d3, dated 2025-11-02, keeps its date
    rows[-1]["line"] = f"undated: {undated}"
    case("ask --from n/a", ["ask", "--from", "n/a", "Why?"], 2, "could not read the date 'n/a'")
    case("ask --top-k 10**9", ["ask", "--top-k", str(10**9), "What did the council approve?"], 2, "top_k must be at most")
    case("ask, 100 kB question", ["ask", "harbour " * 12_500], 2, "max_question_chars")
    case('ingest ""', ["ingest", ""], 2, "empty source path")
    case("ask with bytes not UTF-8", ["ask", os.fsencode("What did the council ") + b"\xff\xfe approve?"], 0, "")  # any answer, no traceback
    case("RAG_DATA_DIR=/etc/passwd", ["list"], 2, "is a file, not a folder", {"RAG_DATA_DIR": "/etc/passwd"})
    case("RAG_TOP_K=-3", ["list"], 2, "setting top_k (RAG_TOP_K or rag.toml)", {"RAG_TOP_K": "-3"})
    case("ANSI/BEL title: ingest", ["ingest", "--quiet", paths["ansi.jsonl"]], 0, "added 1")
    for command in (["list"], ["show", "ansi-1"]):
        result, seconds = _cli(workdir, command)
        clean = b"\x1b" not in result.stdout and b"\x07" not in result.stdout and b"Harbour" in result.stdout
        rows.append({"case": f"ANSI/BEL title: {' '.join(command)}", "ok": clean and result.returncode == 0, "seconds": seconds,
                     "line": "no ESC or BEL printed" if clean else repr(result.stdout[:150])})  # fmt: skip
    if owned is not None:
        owned.cleanup()
    return {"rows": rows, "bomb_rss_mb": bomb_rss_mb, "bomb_lines": bomb_lines}


def table(result: dict) -> str:
    width = max(len(r["case"]) for r in result["rows"])
    lines = [f"{'case':<{width}}  ok   seconds  what it said", "-" * (width + 60)]
    lines += [f"{r['case']:<{width}}  {'yes' if r['ok'] else 'NO':<3} {r['seconds']:>8.1f}  {r['line']}" for r in result["rows"]]
    lines.append("-" * (width + 60))
    lines.append(
        f"{sum(r['ok'] for r in result['rows'])} of {len(result['rows'])} cases as expected, 0 tracebacks allowed; the bomb "
        f"({result['bomb_lines']:,} lines) peaked at {result['bomb_rss_mb']:.0f} MB RSS"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bomb-lines", type=int, default=366_000_000, help="'{}' lines in the gzip bomb (1 MB gzipped by default)")
    args = parser.parse_args(argv)
    result = run(args.bomb_lines)
    print(table(result))
    return 0 if all(r["ok"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
