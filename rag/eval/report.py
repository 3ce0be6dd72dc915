"""Evaluation results: per-configuration summaries of the outcomes, the terminal tables, the output files.

``summarise`` aggregates the per-question ``Outcome`` records (``results.py``) of a run (the metrics
are listed in ``run.py``'s module docstring); ``format_table`` / ``format_reading_table`` print them
(Markdown tables drawn by ``rich``, readable on a terminal and pasted as they are into a document);
``write_outputs`` writes ``summary.json``, ``results.jsonl``, ``run.json`` and, when matplotlib (extra
``eval``) is installed, ``comparison.png``. Asking the questions is ``run.py``'s; the metric
functions are ``metrics.py``'s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.eval.metrics import FAILURE_CLASSES, HIT_KS, best_thresholds, mean, mrr, percentile

if TYPE_CHECKING:
    from rag.eval.questions import RetrievalConfig
    from rag.eval.results import EvalRun, Outcome

PLOT_HINT = 'comparison.png not written: matplotlib is not installed (pip install -e ".[eval]")'

# Answer.timings_ms names a stage "answer" for extractive answers and "generation" for LLM ones;
# "evidence" (shown) and "short_answer" (the checked short answer) count from the question's start.
STAGES = {
    "retrieval": ("retrieval",), "answer": ("answer", "generation"), "evidence": ("evidence",),
    "first_token": ("first_token",), "short_answer": ("short_answer",), "total": ("total",),
}  # fmt: skip


def stage_ms(timings: dict[str, float], stage: str) -> float | None:
    """The time of ``stage`` (see ``STAGES``) in one answer's ``timings_ms``, if it ran."""
    return next((timings[key] for key in STAGES[stage] if key in timings), None)


def summarise(outcomes: Sequence[Outcome], config: RetrievalConfig, backend: str, settings=None) -> dict[str, Any]:
    """One configuration's metrics (see the module docstring); ``None`` where a metric does not apply.

    With ``settings`` (the ``RetrievalSettings`` group), also the refusal thresholds that would best
    separate the two question sets by the two main signals alone (similarity, and similarity with coverage),
    beside the balanced accuracy of the refusals made (the answerability model at ``min_answerable``).
    """
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    with_gold = [o for o in answerable if o.hits is not None]
    asked = [o for o in answerable if o.mode]  # empty when the run did not answer (retrieval only)
    answered = [o for o in outcomes if o.mode and not o.refused]
    cited = sum(o.citations for o in answerable)
    all_citations = sum(o.citations for o in outcomes)

    def rate(flags: Iterable[bool]) -> float | None:
        return mean(1.0 if f else 0.0 for f in flags)

    summary: dict[str, Any] = {
        "config": f"{config.name}/{backend}",
        "retrieval_mode": config.mode,
        "recency_weight": config.recency_weight if config.recency_weight is not None else getattr(settings, "recency_weight", None),
        "recency_half_life_days": config.recency_half_life_days or getattr(settings, "recency_half_life_days", None),
        "backend": backend,
        "questions": len(answerable),
        "questions_with_gold": len(with_gold),
        "must_refuse_questions": len(unanswerable),
        **{f"hit@{k}": rate(o.hits[f"hit@{k}"] for o in with_gold) for k in HIT_KS},
        "mrr": mrr(o.reciprocal_rank for o in with_gold),
        "answer_accuracy": rate(o.correct for o in asked),
        "citation_precision": sum(o.citations_correct for o in answerable) / cited if cited else None,
        "verified_rate": rate(o.verified for o in answered),
        "checked_rate": sum(o.citations_checked for o in outcomes) / all_citations if all_citations else None,
        "extractive_fallback_rate": rate(o.mode == "extractive" for o in answered) if backend != "extractive" else None,
        "refusal_answerable": rate(o.refused for o in answerable),
        "refusal_unanswerable": rate(o.refused for o in unanswerable),
    }
    for stage in STAGES:
        times = [t for o in outcomes if (t := stage_ms(o.timings_ms, stage)) is not None]
        prefix = "" if stage == "total" else f"{stage}_"
        summary[f"{prefix}p50_ms"] = percentile(times, 50)
        summary[f"{prefix}p95_ms"] = percentile(times, 95)
    summary.update(reading_summary(answerable))
    summary.update(refusal_calibration(answerable, unanswerable, settings))
    return summary


def reading_summary(answerable: Sequence[Outcome]) -> dict[str, Any]:
    """Token F1, the raw LLM text's accuracy, the failure classes and the gold-context reading metrics.

    ``answer_accuracy_raw`` / ``reading_accuracy_raw`` score the LLM's text before the citation check
    (``None`` for extractive answers); a refused answer scores 0 everywhere.
    """
    asked = [o for o in answerable if o.mode]
    read = [o for o in answerable if o.reading_mode]
    llm = any(o.raw is not None for o in asked)  # an LLM backend (a refused answer has no raw text)
    read_llm = any(o.reading_raw is not None for o in read)

    def rate(flags: Iterable[bool]) -> float | None:
        return mean(1.0 if f else 0.0 for f in flags)

    def times(key: str, stage: str) -> list[float]:
        return [t[stage] for o in read if stage in (t := getattr(o, key) or {})]

    return {
        "answer_f1": mean(o.f1 or 0.0 for o in asked),
        "answer_accuracy_raw": rate(bool(o.raw_correct) for o in asked) if llm else None,
        "failures": {name: sum(o.failure == name for o in asked) for name in FAILURE_CLASSES} if asked else None,
        "answer_in_gold": rate(o.answer_in_gold for o in answerable if o.answer_in_gold is not None),
        "short_accuracy": rate(bool(o.short_correct) for o in asked),
        "short_named_accuracy": rate(bool(o.short_named) for o in asked),
        "reading_questions": len(read),
        "reading_accuracy": rate(o.reading_correct for o in read),
        "reading_accuracy_raw": rate(bool(o.reading_raw_correct) for o in read) if read_llm else None,
        "reading_f1": mean(o.reading_f1 or 0.0 for o in read),
        "reading_short_accuracy": rate(bool(o.reading_short_correct) for o in read),
        "reading_short_named_accuracy": rate(bool(o.reading_short_named) for o in read),
        "reading_short_accuracy_in_gold": rate(bool(o.reading_short_correct) for o in read if o.answer_in_gold),
        "reading_fallback_rate": rate(o.reading_mode == "extractive" for o in read) if read_llm else None,
        "reading_first_token_p50_ms": percentile(times("reading_timings_ms", "first_token"), 50),
        "reading_p50_ms": percentile(times("reading_timings_ms", "total"), 50),
    }


def refusal_calibration(answerable: Sequence[Outcome], unanswerable: Sequence[Outcome], settings=None) -> dict[str, Any]:
    """The refusal signals of both sets, and the thresholds that would separate them best."""
    yes = [(o.best_similarity, o.coverage) for o in answerable]
    no = [(o.best_similarity, o.coverage) for o in unanswerable]
    result: dict[str, Any] = {
        "best_similarity_answerable_p50": percentile((s for s, _ in yes), 50),
        "best_similarity_unanswerable_p50": percentile((s for s, _ in no), 50),
        "coverage_answerable_p50": percentile((c for _, c in yes), 50),
        "coverage_unanswerable_p50": percentile((c for _, c in no), 50),
    }
    if not yes or not no or settings is None:
        return result
    evidence, _, balanced = best_thresholds(yes, no, min_coverage=math.inf)
    current = (mean(1.0 if o.refused else 0.0 for o in unanswerable) + 1 - mean(1.0 if o.refused else 0.0 for o in answerable)) / 2
    joint_evidence, joint_coverage, joint_balanced = best_thresholds(yes, no)
    result |= {
        "suggested_min_evidence": round(evidence, 4),
        "balanced_accuracy_at_suggested": round(balanced, 4),
        "balanced_accuracy_current": round(current, 4),
        "suggested_joint": {
            "min_evidence": round(joint_evidence, 4),
            "min_coverage": round(joint_coverage, 4),
            "balanced_accuracy": round(joint_balanced, 4),
        },
    }
    return result


# --- output ----------------------------------------------------------------------------------------

_TABLE = [  # (header, summary key, format)
    ("config", "config", "{}"),
    ("hit@1", "hit@1", "{:.3f}"),
    ("hit@5", "hit@5", "{:.3f}"),
    ("hit@10", "hit@10", "{:.3f}"),
    ("MRR", "mrr", "{:.3f}"),
    ("acc", "answer_accuracy", "{:.3f}"),
    ("F1", "answer_f1", "{:.3f}"),
    ("cit.prec", "citation_precision", "{:.3f}"),
    ("verified", "verified_rate", "{:.3f}"),
    ("refuse:ans", "refusal_answerable", "{:.3f}"),
    ("refuse:unans", "refusal_unanswerable", "{:.3f}"),
    ("evidence p50 ms", "evidence_p50_ms", "{:.0f}"),
    ("evidence p95 ms", "evidence_p95_ms", "{:.0f}"),
    ("short p50 ms", "short_answer_p50_ms", "{:.0f}"),
    ("short p95 ms", "short_answer_p95_ms", "{:.0f}"),
    ("p50 ms", "p50_ms", "{:.0f}"),
    ("p95 ms", "p95_ms", "{:.0f}"),
]


_READING_TABLE = [
    ("config", "config", "{}"),
    ("acc", "answer_accuracy", "{:.3f}"),
    ("acc raw", "answer_accuracy_raw", "{:.3f}"),
    ("F1", "answer_f1", "{:.3f}"),
    ("short", "short_accuracy", "{:.3f}"),
    ("short named", "short_named_accuracy", "{:.3f}"),
    ("fallback", "extractive_fallback_rate", "{:.3f}"),
    *((name, f"failures.{name}", "{}") for name in FAILURE_CLASSES),
    ("in gold", "answer_in_gold", "{:.3f}"),
    ("read acc", "reading_accuracy", "{:.3f}"),
    ("read raw", "reading_accuracy_raw", "{:.3f}"),
    ("read F1", "reading_f1", "{:.3f}"),
    ("read short", "reading_short_accuracy", "{:.3f}"),
    ("read short named", "reading_short_named_accuracy", "{:.3f}"),
    ("read short in gold", "reading_short_accuracy_in_gold", "{:.3f}"),
    ("read fallback", "reading_fallback_rate", "{:.3f}"),
    ("read 1st tok p50 ms", "reading_first_token_p50_ms", "{:.0f}"),
    ("read p50 ms", "reading_p50_ms", "{:.0f}"),
]


def _value(summary: dict[str, Any], key: str) -> Any:
    for part in key.split("."):  # "failures.correct" reads a nested count
        summary = summary.get(part) if isinstance(summary, dict) else None
    return summary


def format_reading_table(summaries: Sequence[dict[str, Any]]) -> str:
    """Answers and reading: accuracy before/after the citation check, F1, failure classes, gold context."""
    return format_table(summaries, _READING_TABLE)


def format_table(summaries: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]] = _TABLE) -> str:
    """The summaries as an aligned Markdown table ("-" where a metric does not apply)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.MARKDOWN, show_edge=True, pad_edge=True)
    for i, (header, _, _) in enumerate(columns):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True)
    for s in summaries:
        table.add_row(*("-" if (v := _value(s, key)) is None else fmt.format(v) for _, key, fmt in columns))
    console = Console(width=10_000, color_system=None, force_terminal=False, highlight=False)
    with console.capture() as captured:
        console.print(table)
    return "\n".join(line.rstrip() for line in captured.get().strip("\n").splitlines())


def write_outputs(run: EvalRun, out: Path) -> list[Path]:
    """Write ``summary.json``, ``results.jsonl``, ``run.json`` and ``comparison.png`` into ``out``.

    Without matplotlib the plot is skipped and ``run.notes`` says how to get it; the rest is written.
    """
    import dataclasses

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(run.summaries, indent=2) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for outcome in run.outcomes:
            handle.write(json.dumps(dataclasses.asdict(outcome), ensure_ascii=False) + "\n")
    (out / "run.json").write_text(json.dumps({"ingest": run.ingest, "skipped": run.skipped}, indent=2) + "\n", encoding="utf-8")
    written = [out / "summary.json", out / "results.jsonl", out / "run.json"]
    if run.summaries:
        try:
            written.append(plot_comparison(run.summaries, out / "comparison.png"))
        except ImportError:  # the plot is the optional extra "eval"; the figures are all in the files
            run.notes.append(PLOT_HINT)
    return written


def plot_comparison(summaries: Sequence[dict[str, Any]], path: Path) -> Path:
    """Grouped bars of the quality metrics and of latency, one group per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = ["hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "answer_f1", "reading_accuracy", "citation_precision",
               "refusal_answerable", "refusal_unanswerable"]  # fmt: skip
    latency = ["retrieval_p50_ms", "evidence_p50_ms", "short_answer_p50_ms", "p50_ms", "p95_ms"]
    names = [s["config"] for s in summaries]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(10, 1.4 * len(names) + 6), 9), height_ratios=[3, 2])
    for axis, metrics, label in ((top, quality, "share"), (bottom, latency, "ms")):
        width = 0.8 / len(metrics)
        for i, metric in enumerate(metrics):
            values = [s.get(metric) or 0.0 for s in summaries]
            axis.bar([x + i * width for x in range(len(names))], values, width, label=metric)
        axis.set_xticks([x + 0.4 - width / 2 for x in range(len(names))], names, rotation=20, ha="right")
        axis.set_ylabel(label)
        axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    top.set_ylim(0, 1.0)
    top.set_title("newsdesk evaluation (refusal_answerable: lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rule(settings) -> str:
    if settings.refusal_rule == "model":
        return f"answerability model, min_answerable {settings.min_answerable}"
    return f"thresholds, min_evidence {settings.min_evidence} and min_coverage {settings.min_coverage}"


def refusal_line(summary: dict[str, Any], settings) -> str:
    """One line on the refusal signals of a configuration and the thresholds that would fit them best."""
    joint = summary["suggested_joint"]
    return (
        f"{summary['config']}: refusal signals, median answerable / must-refuse: similarity "
        f"{summary['best_similarity_answerable_p50']:.3f} / {summary['best_similarity_unanswerable_p50']:.3f}, coverage "
        f"{summary['coverage_answerable_p50']:.3f} / {summary['coverage_unanswerable_p50']:.3f}. Balanced accuracy "
        f"{summary['balanced_accuracy_current']:.3f} now ({_rule(settings)}); "
        f"{summary['balanced_accuracy_at_suggested']:.3f} at min_evidence {summary['suggested_min_evidence']:.3f}; "
        f"{joint['balanced_accuracy']:.3f} at min_evidence {joint['min_evidence']:.3f} + min_coverage {joint['min_coverage']:.3f}"
    )
