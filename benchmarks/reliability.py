"""The standing reliability suite (README "Reliability"): every part in turn, each printing its own table.

Parts (each also runs on its own, with ``--help`` for its options; a short version of each runs in the
test suite):

* ``reliability_parsers.py``: generated inputs through every parser (Hypothesis);
* ``reliability_kill.py``: ``kill -9`` at random moments of an ingest, then resume;
* ``reliability_attacks.py``: issue 25's crafted bad inputs through the CLI (one line each, no traceback);
* ``reliability_remove.py``: ``kill -9`` during ``rag remove``, then check and heal;
* ``reliability_load.py``: concurrent web chats while an ingest runs;
* ``reliability_injection.py``: prompt-injection patterns inside articles against the local LLM;
* ``reliability_llm_down.py``: the LLM server down, hanging or trickling (openai backend).

    python benchmarks/reliability.py [--only parsers,kill,...]

The full run takes many minutes on 2 cores (the load part alone runs for five).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PARTS = ("parsers", "attacks", "kill", "remove", "load", "injection", "llm_down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent
    failed = []
    for part in [p.strip() for p in args.only.split(",") if p.strip()]:
        if part not in PARTS:
            parser.error(f"unknown part {part!r}")
        print(f"\n=== {part} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(here / f"reliability_{part}.py")])
        print(f"({part}: exit {code}, {time.perf_counter() - started:.0f} s)", flush=True)
        if code:
            failed.append(part)
    if failed:
        print(f"\nfailed parts: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
