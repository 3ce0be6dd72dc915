"""Speed of the local LLM backend on this machine: load, time to first token, prompt and generation rates.

For each installed bundled GGUF (Qwen2.5-Coder 1.5B and 0.5B, Q4_K_M), loads it through
``rag.llm.factory.make_llm("local")`` and streams an answer to a ~1,200-token prompt of news passages plus a
question, with ``max_tokens=128``. Prints the median of 3 runs (a fresh model load each run, page cache
warm after the first assembly). Token rates come from llama.cpp's own performance counters.

    python benchmarks/llm_speed.py [--runs 3] [--threads 0] [--model all|1.5b|0.5b] [--cache-dir data]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.llm.factory import make_llm  # noqa: E402
from rag.settings import load_settings  # noqa: E402
from rag.llm.gguf import QWEN_0_5B, QWEN_1_5B, ModelMissing, assemble_gguf  # noqa: E402

PASSAGES = [
    "Harbor City council voted 7-2 on Tuesday to approve a $48 million plan to rebuild the Eastside seawall, "
    "which was damaged in last winter's storms. The project, funded partly by a federal resilience grant, "
    "will raise the wall by 1.2 metres and add a pedestrian promenade. Construction is expected to begin in "
    "March and last about two years. Councillor Ana Ruiz, who voted against, said the plan did not address "
    "flooding in low-lying inland neighbourhoods and asked for an independent review of the drainage network.",
    "The regional transit authority said ridership on its light-rail line rose 14 percent in the third "
    "quarter compared with a year earlier, driven by new late-night service and a fare cap introduced in "
    "June. Bus ridership was flat. The authority's chief executive, Martin Cole, told reporters the agency "
    "would extend the fare cap through next year but warned that a projected budget shortfall of $11 million "
    "could force service cuts on lower-demand routes unless the state increases its operating subsidy.",
    "Shares of Northwind Foods fell 9 percent after the grocery chain cut its annual profit forecast, citing "
    "higher wage costs and weaker demand for premium products. The company said it would close 23 "
    "underperforming stores and invest in its online delivery service, which grew 31 percent in the quarter. "
    "Analysts at two brokerages lowered their price targets, though one noted that the balance sheet remained "
    "strong and that the dividend, which the board left unchanged, appeared safe for now.",
    "A heatwave that has gripped the southern provinces for eleven days is expected to ease by the weekend, "
    "the national weather service said. Temperatures peaked at 43.1 degrees Celsius in Valdoria on Sunday, a "
    "record for September. Hospitals reported a rise in heat-related admissions, mostly among older people, "
    "and several towns opened cooling centres in libraries and schools. Farmers' groups said the dry spell had "
    "cut the expected olive harvest by as much as a third in the hardest-hit areas.",
    "The university's board of trustees named Dr. Priya Natarajan as its next president, the first woman to "
    "lead the institution in its 140-year history. Natarajan, a chemist who currently serves as provost, will "
    "take office in January. In a statement she said her priorities would be lowering costs for students, "
    "expanding research partnerships with local industry and improving campus housing. The faculty senate had "
    "endorsed her candidacy last month after a national search that drew more than 90 applicants.",
    "Police said a 34-year-old man had been charged in connection with a series of thefts of catalytic "
    "converters from cars parked near the central train station. Officers recovered 19 of the devices during a "
    "search of a storage unit on Friday. The thefts, which began in May, had prompted the city to install "
    "additional cameras in the station's car parks. A spokesperson urged drivers to report suspicious activity "
    "and said an online form had been set up for victims to claim recovered property.",
    "The national football team will play two friendly matches in November against Portugal and Morocco, the "
    "federation announced. Coach Elena Marsh is expected to give playing time to several younger players ahead "
    "of next year's qualifying campaign. The federation also confirmed that the renovated national stadium, "
    "closed for two years, will reopen for the match against Portugal with a capacity of 52,000, including a "
    "new section of affordable seats reserved for local youth clubs.",
    "Wildlife officials reported that the population of the endangered marsh harrier in the Lenten wetlands has "
    "grown to 64 breeding pairs, up from 21 a decade ago, after a restoration programme that re-flooded former "
    "farmland and restricted boat traffic during the nesting season. The programme will be extended to two "
    "neighbouring river valleys next spring, funded by a mix of public money and donations. Local fishermen "
    "said they had been consulted and supported the seasonal restrictions.",
    "The central bank held its benchmark interest rate at 4.25 percent for a third consecutive meeting, saying "
    "inflation had slowed to 2.8 percent but remained above its target. Governor Lars Eklund said the bank "
    "would watch wage growth and energy prices closely before considering a cut, which most economists now "
    "expect in the spring. The decision was unanimous. Mortgage lenders said they did not plan to change their "
    "variable rates, while business groups repeated calls for relief for small firms facing higher borrowing costs.",
    "Firefighters contained a blaze that destroyed a disused textile warehouse in the old industrial quarter "
    "overnight. No one was injured, but residents of two nearby apartment blocks were evacuated for several "
    "hours as a precaution because of thick smoke. The fire service said the cause was under investigation and "
    "did not rule out arson, noting that the building had been broken into several times this year. The owner, "
    "a property developer, had applied in June for permission to convert the site into housing.",
    "A new exhibition of photographs documenting the city's port over the past century opened at the municipal "
    "museum on Saturday and drew more than 3,000 visitors in its first weekend. The collection of 240 images, "
    "many never shown before, was assembled from family albums donated by former dock workers. The museum said "
    "entry would be free on Sundays until the exhibition closes in February, and that a companion book and an "
    "online archive of the images were being prepared with help from volunteers.",
]
SYSTEM = (
    "You answer questions about news articles using only the numbered passages given. Cite passages by "
    "their number in square brackets, like [2]. If the passages do not contain the answer, say so."
)
QUESTION = "Summarise what each passage reports, one or two sentences per passage, with citations."
MAX_TOKENS = 128
MODELS = {"1.5b": QWEN_1_5B, "0.5b": QWEN_0_5B}


def prompt_messages(n_passages: int) -> list:
    from llama_index.core.llms import ChatMessage

    passages = "\n\n".join(f"[{i + 1}] {PASSAGES[i % len(PASSAGES)]}" for i in range(n_passages))
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content=f"Passages:\n\n{passages}\n\nQuestion: {QUESTION}"),
    ]


def one_run(gguf: Path, cache_dir: Path, threads: int, messages: list) -> dict[str, float]:
    import llama_cpp

    started = time.perf_counter()
    generation = load_settings(
        llm_model_path=str(gguf), llm_max_tokens=MAX_TOKENS, llm_temperature=0.0, llm_threads=threads
    ).generation
    llm = make_llm("local", generation, cache_dir=cache_dir)
    loaded = time.perf_counter()
    ctx = llm.llama.ctx
    llama_cpp.llama_perf_context_reset(ctx)
    first = None
    for _ in llm.stream_chat(messages):
        first = first or time.perf_counter()
    done = time.perf_counter()
    perf = llama_cpp.llama_perf_context(ctx)
    del llm
    return {
        "load_s": loaded - started,
        "ttft_s": (first or done) - loaded,
        "total_s": done - loaded,
        "prompt_tokens": perf.n_p_eval,
        "prompt_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1000) if perf.t_p_eval_ms else 0.0,
        "gen_tokens": perf.n_eval,
        "gen_tps": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--model", choices=["all", *MODELS], default="all")
    parser.add_argument("--cache-dir", type=Path, help="where GGUFs are assembled and kept (default: a temp dir)")
    args = parser.parse_args()
    if args.cache_dir:
        bench(args, args.cache_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
            bench(args, Path(tmp))


def bench(args: argparse.Namespace, cache_dir: Path) -> None:
    messages = prompt_messages(len(PASSAGES))
    columns = ["load_s", "ttft_s", "total_s", "prompt_tokens", "prompt_tps", "gen_tokens", "gen_tps"]
    header = f"| {'model':<36} | " + " | ".join(f"{c:>13}" for c in columns) + " |"
    print(f"median of {args.runs} runs, {os.cpu_count()} cores, threads={args.threads or os.cpu_count()}, "
          f"max_tokens={MAX_TOKENS}, load average before {os.getloadavg()[0]:.1f}; ttft and total exclude load")
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|", flush=True)
    for name, spec in MODELS.items():
        if args.model not in ("all", name):
            continue
        try:
            gguf = assemble_gguf(spec, cache_dir)
        except ModelMissing as err:
            print(f"skipped {spec.name}: {err}")
            continue
        runs = [one_run(gguf, cache_dir, args.threads, messages) for _ in range(args.runs)]
        median = {c: statistics.median(r[c] for r in runs) for c in columns}
        print(f"| {spec.name:<36} | " + " | ".join(f"{median[c]:>13.2f}" for c in columns) + " |", flush=True)
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
