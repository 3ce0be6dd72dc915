"""Reliability: ``kill -9`` at moments of a ``rag remove`` of many articles, then the index is checked and healed.

A corpus of synthetic articles is ingested once into a reference store (real embedding model, embedded
Chroma). Each trial copies that store, starts ``python -m rag remove <every id>`` on the copy as a
child process and kills it with SIGKILL after a delay drawn across the span an uninterrupted removal
takes (calibrated first, start-up included), only after checking it is still running (a child that
finished first counts as a miss and is drawn again). The writes of a removal take milliseconds of those
seconds, so random kills mostly land before or after them; the **step** trials pin each gap between
two writes: the child wraps chromadb's public ``Collection`` write methods to say when each write
returned and then wait, and is killed there (after the 1st, 2nd, ... write). Then, in this process:

* **consistent**: every article the registry marks complete has exactly its recorded number of
  passages, and no passage belongs to an article the registry does not know (``reliability_kill.check_index``);
* **healed**: the next command, ``rag ingest`` of the corpus folder, reports no failure and leaves
  every registry entry complete, the reference passage count and a consistent index (removed or
  half-removed articles are indexed again from their files, the others are unchanged).

Before the fix (passages deleted before registry entries) a kill between the two left articles
complete with no passages, which ``ingest`` called unchanged for ever.

    python benchmarks/reliability_remove.py [--trials 20] [--articles 250] [--seed 0]

``run()`` is what the test suite calls with a few trials.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_kill import check_index, write_corpus  # noqa: E402

# `rag remove IDS...` whose N-th Chroma write (argv[1]; 0: none) announces itself and then waits to be killed.
STEP_CHILD = """
import sys
from chromadb.api.models.Collection import Collection

stop_after, done = int(sys.argv[1]), [0]

def announced(name, write):
    def wrapper(self, *args, **kwargs):
        result = write(self, *args, **kwargs)
        done[0] += 1
        if done[0] == stop_after:
            print(f"after write {done[0]}: {name}", flush=True)
            sys.stdin.readline()  # the parent kills the process here
        return result
    return wrapper

for name in ("add", "upsert", "update", "delete"):
    setattr(Collection, name, announced(name, getattr(Collection, name)))
from rag.cli.main import main
sys.exit(main(["remove", *sys.argv[2:]]))
"""


def _start_remove(data: Path, corpus: Path, ids: list[str], stop_after: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "RAG_DATA_DIR": str(data),
           "RAG_CORPUS_DIR": str(corpus), "RAG_LLM": "extractive"}  # fmt: skip
    command = ["-m", "rag", "remove", *ids] if stop_after is None else ["-c", STEP_CHILD, str(stop_after), *ids]
    return subprocess.Popen(
        [sys.executable, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=str(data.parent), env=env,
    )  # fmt: skip


def reference_store(workdir: Path, corpus: Path, embedding) -> tuple[Path, list[str], int]:
    """The reference store (ingested once): its folder, its article ids and its passage count."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    data = workdir / "reference"
    assistant = Assistant(load_settings(data_dir=data, corpus_dir=corpus, llm="extractive"), embedding=embedding)
    report = assistant.ingest()
    if report.failed:
        raise RuntimeError(f"reference ingest failed: {report.failed[:3]}")
    return data, [a.id for a in assistant.articles()], assistant.store.count_passages()


def run(
    trials: int = 20, articles: int = 250, *, steps: int = 3, seed: int = 0, embedding=None, workdir: Path | None = None, on_trial=None
) -> dict:
    """``steps`` kills pinned after each of the first ``steps`` writes, then ``trials`` kills at random
    moments, each checked and healed; returns ``{"rows": [...], "calibration_s", "passages", "misses", ...}``."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    if embedding is None:
        from rag.embed import make_embedding

        embedding = make_embedding("onnx")
    started = time.perf_counter()
    rng = random.Random(seed)
    owned = None
    if workdir is None:
        owned = tempfile.TemporaryDirectory(prefix="newsdesk-remove-")
        workdir = Path(owned.name)
    corpus = workdir / "corpus"
    write_corpus(corpus, articles, rng)
    reference, ids, passages = reference_store(workdir, corpus, embedding)

    calibration = workdir / "calibration"
    shutil.copytree(reference, calibration)
    t = time.monotonic()
    child = _start_remove(calibration, corpus, ids)
    _, err = child.communicate(timeout=600)
    duration = time.monotonic() - t
    if child.returncode != 0:
        raise RuntimeError(f"calibration removal failed ({child.returncode}): {err[-2000:]}")

    rows, misses, trial = [], 0, 0
    while len(rows) < trials + steps:
        trial += 1
        if misses > 3 * trials:
            raise RuntimeError("the removal kept finishing before the kill: the machine is much faster than calibrated")
        data = workdir / f"trial_{trial:03d}"
        shutil.copytree(reference, data)
        step = len(rows) + 1 if len(rows) < steps else None
        if step:
            kill_at = f"write {step}"
            child = _start_remove(data, corpus, ids, stop_after=step)
            said = child.stdout.readline().strip()
            # A removal of fewer writes ends first: the "kill" then finds it finished, which is checked too.
            kill_at += said.split(":", 1)[1] if said.startswith("after write") else " (none: it had ended)"
        else:
            # Spread over the whole run, start-up included; most draws in its second half, where the
            # store is opened and written.
            kill_at = rng.uniform(0.5, 1.0) * duration if rng.random() < 0.8 else rng.uniform(0.0, 0.5) * duration
            child = _start_remove(data, corpus, ids)
            time.sleep(kill_at)
            if child.poll() is not None:
                child.communicate()
                misses += 1
                shutil.rmtree(data, ignore_errors=True)
                continue
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)

        assistant = Assistant(load_settings(data_dir=data, corpus_dir=corpus, llm="extractive"), embedding=embedding)
        registry = assistant.store.registry()
        statuses = {s: sum(e.status == s for e in registry.values()) for s in ("complete", "removing", "pending")}
        problems = check_index(assistant.store)
        report = assistant.ingest()
        final = assistant.store.registry()
        after = check_index(assistant.store)
        healed = (
            not report.failed and len(final) == articles and all(e.status == "complete" for e in final.values())
            and assistant.store.count_passages() == passages and not after
        )  # fmt: skip
        rows.append({
            "trial": len(rows) + 1, "kill_at_s": kill_at, **statuses, "consistent": not problems, "healed": healed,
            "redone": len(report.added) + len(report.updated), "problems": (problems + after)[:3],
        })  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)
        if on_trial:
            on_trial(rows[-1])
    result = {"rows": rows, "calibration_s": duration, "passages": passages, "misses": misses, "articles": articles,
              "seconds": time.perf_counter() - started}  # fmt: skip
    if owned is not None:
        owned.cleanup()
    return result


def _when(kill_at) -> str:
    return kill_at if isinstance(kill_at, str) else f"{kill_at:.2f} s"


def table(result: dict) -> str:
    header = f"{'trial':>5}{'killed at':>15}{'complete':>10}{'removing':>10}{'pending':>9}{'consistent':>12}{'healed':>8}{'redone':>8}"
    lines = [
        f"{result['articles']} articles, {result['passages']} passages; uninterrupted `rag remove` of all "
        f"{result['calibration_s']:.1f} s, start-up included ({result['misses']} draws missed a finished child)",
        header,
        "-" * len(header),
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['trial']:>5}{_when(row['kill_at_s']):>15}{row['complete']:>10}{row['removing']:>10}{row['pending']:>9}"
            f"{'yes' if row['consistent'] else 'NO':>12}{'yes' if row['healed'] else 'NO':>8}{row['redone']:>8}"
        )
        lines.extend(f"      problem: {p}" for p in row["problems"])
    rows = result["rows"]
    lines.append("-" * len(header))
    lines.append(
        f"{len(rows)} kills during removal: {sum(r['consistent'] for r in rows)} consistent indexes, "
        f"{sum(r['healed'] for r in rows)} healed by the next ingest ({result['seconds']:.0f} s)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--articles", type=int, default=250)
    parser.add_argument("--steps", type=int, default=3, help="kills pinned after each of the first N writes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    def progress(row: dict) -> None:
        print(f"trial {row['trial']}: killed at {_when(row['kill_at_s'])}, consistent {row['consistent']}, healed {row['healed']}", flush=True)

    result = run(args.trials, args.articles, steps=args.steps, seed=args.seed, on_trial=progress)
    print(table(result))
    return 0 if all(r["consistent"] and r["healed"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
