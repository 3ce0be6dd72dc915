"""End-to-end answer latency with the local LLM, as a chat user feels it: evidence shown, short answer, total.

Indexes the bundled sample corpus (``corpus/``) into a temporary store, loads the local model once
(its load time is printed apart), and asks the sample questions (``rag/eval/sample_eval.jsonl``) through
``Assistant.stream``, the path the web chat and ``rag.query`` use. Each question runs ``--runs``
times per context setting; the first question is asked once beforehand as a warm-up (page cache,
llama.cpp buffers). Prints per setting the median and p95 of the time until the evidence is shown
(the ``evidence`` event), until the checked short answer (the ``answer`` event), the prompt size
(tokens llama.cpp evaluated, after its prefix cache), and the extractive answer's time as the no-LLM
baseline measured in the same run. (``rag eval`` reports the same timings over the RealTimeQA corpus.)

    python benchmarks/answer_latency.py [--budgets 100,200,300] [--runs 3] [--questions 10] [--model-path FILE]

``--budgets`` lists values of the ``llm_context_tokens`` setting. Without ``--model-path`` the bundled
1.5B GGUF is assembled into ``--cache-dir`` (default ``data``) once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    from rag.eval.run import percentile as _percentile

    return _percentile(values, q) or 0.0


def ask(assistant, question: str) -> dict[str, float]:
    import llama_cpp

    llm = assistant.llm
    ctx = getattr(getattr(llm, "llama", None), "ctx", None)
    if ctx is not None:
        llama_cpp.llama_perf_context_reset(ctx)
    started = time.perf_counter()
    evidence = None
    answer = None
    for event in assistant.stream(question):
        if event.kind == "evidence" and evidence is None:
            evidence = time.perf_counter()
        answer = event.answer or answer
    done = time.perf_counter()
    perf = llama_cpp.llama_perf_context(ctx) if ctx is not None else None
    return {
        "evidence_s": (evidence or done) - started,
        "total_s": done - started,
        "prompt_tokens": perf.n_p_eval if perf else 0,
        "gen_tokens": perf.n_eval if perf else 0,
        "mode": answer.mode if answer else "",
        "refused": bool(answer and answer.refused),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", default="100,200,300", help="llm_context_tokens values to compare, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs of each question per setting")
    parser.add_argument("--questions", type=int, default=10, help="how many sample questions")
    parser.add_argument("--model-path", default="", help="a GGUF file (default: the bundled 1.5B model)")
    parser.add_argument("--cache-dir", default="data", help="where the bundled GGUF is assembled")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)

    from rag import Assistant, load_settings
    from rag.llm.gguf import resolve_gguf

    questions = [json.loads(line)["question"] for line in (ROOT / "rag" / "eval" / "sample_eval.jsonl").read_text().splitlines() if line.strip()]
    questions = questions[: args.questions]
    model_path = str(resolve_gguf(args.model_path, Path(args.cache_dir)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = load_settings(
            data_dir=tmp, corpus_dir=str(ROOT / "corpus"), llm="local", llm_model_path=model_path, llm_threads=args.threads
        )
        extractive = Assistant(base.model_copy(update={"llm": "extractive"}))
        extractive.ingest()
        times = []
        for _ in range(args.runs):
            for q in questions:
                t = time.perf_counter()
                extractive.query(q)
                times.append(time.perf_counter() - t)
        rows.append(("extractive (no LLM)", statistics.median(times), percentile(times, 95), statistics.median(times), percentile(times, 95), 0, len(times), 0))

        t = time.perf_counter()
        loaded = Assistant(base, embedding=extractive.embedding, store=extractive.store)
        if loaded.generator is None:
            raise SystemExit(f"no local LLM: {loaded.llm_status()}")
        load_s = time.perf_counter() - t
        for budget in (int(b) for b in args.budgets.split(",")):
            settings = base.model_copy(update={"llm_context_tokens": budget})
            assistant = Assistant(settings, embedding=extractive.embedding, store=extractive.store, llm=loaded.llm)
            ask(assistant, questions[0])  # warm-up
            results = [ask(assistant, q) for _ in range(args.runs) for q in questions]
            generated = [r for r in results if r["mode"] == "llm" or r["gen_tokens"]]
            evidence = [r["evidence_s"] for r in results]
            total = [r["total_s"] for r in results]
            rows.append((
                f"local LLM, llm_context_tokens={budget}",
                statistics.median(evidence),
                percentile(evidence, 95),
                statistics.median(total),
                percentile(total, 95),
                statistics.median(r["prompt_tokens"] for r in generated) if generated else 0,
                len(results),
                sum(r["refused"] for r in results),
            ))

    print(f"model {Path(model_path).name}, load {load_s:.1f} s; {os.cpu_count()} cores; load average before {os.getloadavg()[0]:.1f}")
    print("| setting | evidence p50 s | evidence p95 s | short answer p50 s | short answer p95 s | prompt tokens p50 | answers | refused |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, t50, t95, a50, a95, tokens, n, refused in rows:
        print(f"| {name} | {t50:.2f} | {t95:.2f} | {a50:.2f} | {a95:.2f} | {tokens:.0f} | {n} | {refused} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
