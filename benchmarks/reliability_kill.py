"""Reliability: ``kill -9`` at random moments of an ingest, then the index is checked and resumed.

Each trial writes a few hundred synthetic articles (1 to 6 paragraphs, so 1 to 4 passages each) to a
fresh folder and starts a child process that ingests them into a fresh embedded Chroma store, in
small write batches (many moments at which a kill lands between two writes). The child is killed
with SIGKILL at a random moment between the start of its ingest and its expected end, and only
after checking that it is still running (a trial whose child finished first is drawn again, and
counted as a miss). Then, in this process:

* **consistent**: every article the registry marks complete has exactly its recorded number of
  passages, and no passage belongs to an article the registry does not know;
* **resumed**: a second ingest of the same folder completes without failures and leaves exactly the
  full corpus (every article complete, the same passage count as an uninterrupted run, consistent).

    python benchmarks/reliability_kill.py [--trials 20] [--articles 300] [--seed 0]

A calibration run (uninterrupted, in this process) gives the expected duration and the reference
passage count. ``run()`` is what the test suite calls with 2 trials.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BATCH_PASSAGES = 16  # passages per store write in the child: a small batch means many write points

CHILD = textwrap.dedent(
    """
    import sys
    from rag.assistant import Assistant
    from rag.ingest.pipeline import Ingestor
    from rag.settings import load_settings

    settings = load_settings(data_dir=sys.argv[1], corpus_dir=sys.argv[2], llm="extractive")
    assistant = Assistant(settings)
    ingestor = Ingestor(assistant.store, assistant.embedding, assistant.chunker, settings.ingest,
                        batch_passages=int(sys.argv[3]))
    print("started", flush=True)
    report = ingestor.ingest([settings.storage.corpus_dir])
    print("finished", report.passages, flush=True)
    """
)

_TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "bridge", "satellite", "festival", "factory"]


def write_corpus(folder: Path, count: int, rng: random.Random) -> None:
    """``count`` distinct news-like articles of 1 to 6 paragraphs."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        topic = _TOPICS[i % len(_TOPICS)]
        paragraphs = [f"date 2025-{(i % 12) + 1:02d}-{(i % 28) + 1:02d} Item {i}: the {topic} plan of town {i}"]
        for p in range(rng.randint(1, 6)):
            paragraphs.append(
                f"In paragraph {p} of report {i}, the council of town {i} discussed the {topic} project, which would cost "
                f"{100 + i * 7 + p} thousand euros and employ {i % 50 + p} people. Mayor Ana Number{i} said the work on the "
                f"{topic} would start next spring, while opponents argued that the money should go to schools and roads."
            )
        (folder / f"article_{i:04d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def _start_child(data: Path, corpus: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(corpus), str(BATCH_PASSAGES)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(REPO), env=env,
    )


def _wait_started(child: subprocess.Popen) -> None:
    line = child.stdout.readline().strip()
    if line != "started":
        rest = child.stdout.read() if child.poll() is not None else ""
        raise RuntimeError(f"ingest child did not start: {line} {rest[-2000:]}")


def check_index(store) -> list[str]:
    """Problems of a store after a crash: complete articles with missing or extra passages, passages
    of unknown articles. Empty when consistent."""
    from rag.store import COMPLETE

    registry = store.registry()
    chunks = {a.id: a.chunks for a in store.articles()}
    counts: dict[str, int] = {}
    for passage in store.all_passages():
        counts[passage.article_id] = counts.get(passage.article_id, 0) + 1
    problems = []
    for article_id, entry in registry.items():
        if entry.status == COMPLETE and counts.get(article_id, 0) != chunks.get(article_id):
            problems.append(f"complete article {article_id} has {counts.get(article_id, 0)} passages, registry says {chunks.get(article_id)}")
    problems.extend(f"{n} passages of unknown article {a}" for a, n in counts.items() if a not in registry)
    return problems


def calibrate(workdir: Path, corpus: Path, embedding) -> tuple[float, int]:
    """Seconds an uninterrupted ingest of ``corpus`` takes (in this process, with the child's batch
    size, so without the child's start-up), and the passages it writes: the reference for resumes."""
    from rag.assistant import Assistant
    from rag.ingest.pipeline import Ingestor
    from rag.settings import load_settings

    settings = load_settings(data_dir=workdir / "calibration", corpus_dir=corpus, llm="extractive")
    assistant = Assistant(settings, embedding=embedding)
    ingestor = Ingestor(assistant.store, embedding, assistant.chunker, assistant.settings.ingest, batch_passages=BATCH_PASSAGES)
    started = time.monotonic()
    report = ingestor.ingest([corpus])
    if report.failed:
        raise RuntimeError(f"calibration ingest failed: {report.failed[:3]}")
    return time.monotonic() - started, assistant.store.count_passages()


def run(
    trials: int = 20, articles: int = 300, *, seed: int = 0, embedding=None, workdir: Path | None = None, on_trial=None
) -> dict:
    """``trials`` kill-and-resume trials; returns ``{"rows": [...], "calibration_s", "passages", "misses", "seconds"}``.

    ``on_trial(row)`` is called after each trial (a long run shows its progress)."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    if embedding is None:
        from rag.embed import make_embedding

        embedding = make_embedding("onnx")
    started = time.perf_counter()
    rng = random.Random(seed)
    owned = None
    if workdir is None:
        owned = tempfile.TemporaryDirectory(prefix="newsdesk-kill-")
        workdir = Path(owned.name)
    corpus = workdir / "corpus"
    write_corpus(corpus, articles, rng)
    duration, reference_passages = calibrate(workdir, corpus, embedding)

    rows, misses, trial = [], 0, 0
    while len(rows) < trials:
        trial += 1
        if misses > 3 * trials:
            raise RuntimeError("the child kept finishing before the kill: the machine is much faster than calibrated")
        data = workdir / f"trial_{trial:03d}"
        child = _start_child(data, corpus)
        _wait_started(child)
        kill_at = rng.uniform(0.0, duration)
        time.sleep(kill_at)
        if child.poll() is not None:  # finished (or died) before the kill: no evidence, draw again
            child.wait()
            misses += 1
            continue
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        if child.returncode != -signal.SIGKILL:
            misses += 1
            continue

        settings = load_settings(data_dir=data, corpus_dir=corpus, llm="extractive")
        assistant = Assistant(settings, embedding=embedding)
        registry = assistant.store.registry()
        complete_at_kill = sum(1 for e in registry.values() if e.status == "complete")
        pending_at_kill = len(registry) - complete_at_kill
        problems = check_index(assistant.store)
        report = assistant.ingest()
        final = assistant.store.registry()
        after = check_index(assistant.store)
        resumed = (
            not report.failed
            and len(final) == articles
            and all(e.status == "complete" for e in final.values())
            and assistant.store.count_passages() == reference_passages
            and not after
        )
        rows.append(
            {
                "trial": len(rows) + 1, "kill_at_s": kill_at, "complete": complete_at_kill, "pending": pending_at_kill,
                "consistent": not problems, "resumed": resumed, "redone": len(report.added) + len(report.updated),
                "problems": (problems + after)[:3],
            }
        )
        if on_trial:
            on_trial(rows[-1])
    result = {"rows": rows, "calibration_s": duration, "passages": reference_passages, "misses": misses,
              "articles": articles, "seconds": time.perf_counter() - started}
    if owned is not None:
        owned.cleanup()
    return result


def table(result: dict) -> str:
    header = f"{'trial':>5}{'kill at s':>11}{'complete':>10}{'pending':>9}{'consistent':>12}{'resumed':>9}{'redone':>8}"
    lines = [
        f"{result['articles']} articles, {result['passages']} passages; uninterrupted ingest {result['calibration_s']:.1f} s "
        f"(kills drawn uniformly in that span; {result['misses']} draws missed a finished child and were redrawn)",
        header,
        "-" * len(header),
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['trial']:>5}{row['kill_at_s']:>11.2f}{row['complete']:>10}{row['pending']:>9}"
            f"{'yes' if row['consistent'] else 'NO':>12}{'yes' if row['resumed'] else 'NO':>9}{row['redone']:>8}"
        )
        lines.extend(f"      problem: {p}" for p in row["problems"])
    rows = result["rows"]
    lines.append("-" * len(header))
    lines.append(
        f"{len(rows)} trials: {sum(r['consistent'] for r in rows)} consistent indexes, {sum(r['resumed'] for r in rows)} "
        f"resumed to the full corpus ({result['seconds']:.0f} s)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    def progress(row: dict) -> None:
        print(f"trial {row['trial']}: killed at {row['kill_at_s']:.2f} s, consistent {row['consistent']}, resumed {row['resumed']}", flush=True)

    result = run(args.trials, args.articles, seed=args.seed, on_trial=progress)
    print(table(result))
    ok = all(r["consistent"] and r["resumed"] for r in result["rows"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
