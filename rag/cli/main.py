"""Command line: ``python -m rag ingest|ask|list|remove|eval`` (and ``feeds``, ``show``, ``timeline``: ``stories.py``). Parsing and printing only; the work is the Assistant's."""

from __future__ import annotations

import argparse
import json
import sys

from rag.cli import stories
from rag.present.text import date_label, evidence_dates, printable

EPILOG = "Settings come from rag.toml and RAG_* environment variables (see README, Configuration)."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Ask questions about news articles.", epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="index files, folders or URLs (default: the corpus folder)")
    ingest.add_argument("sources", nargs="*", help="files (.txt .md .html .pdf .json .jsonl[.gz]), folders, http(s) URLs or RSS/Atom feed URLs")
    ingest.add_argument("--sync", action="store_true", help="also drop stored articles whose files are gone")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--workers", type=int, default=0, help="embedding processes side by side (default: ingest_workers, 1)")

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--markdown", action="store_true", help="print the answer as Markdown with numbered footnotes")
    ask.add_argument("--top-k", type=int, help="passages to use")
    ask.add_argument("--from", dest="date_from", help="only articles published on or after this date")
    ask.add_argument("--to", dest="date_to", help="only articles published on or before this date")
    ask.add_argument("--source", dest="sources", action="append", help="only this source (repeatable)")
    ask.add_argument("--article", dest="article_ids", action="append", help="only this article id (repeatable)")
    ask.add_argument("--as-of", help="the day the question is asked (default: today)")

    listing = commands.add_parser("list", help="show indexed articles")
    listing.add_argument("--json", action="store_true")

    remove = commands.add_parser("remove", help="delete articles by id")
    remove.add_argument("ids", nargs="+")

    evaluate = commands.add_parser("eval", help="score retrieval, answers and refusals on a question set")
    evaluate.add_argument("--questions", required=True, help="JSONL: question, answer_text, gold_doc_ids, question_date")
    evaluate.add_argument("--corpus", required=True, help="file or folder indexed into its own eval collection")
    evaluate.add_argument("--refuse", help="JSONL of must-refuse questions")
    evaluate.add_argument("--out", help="folder for summary.json, results.jsonl and comparison.png")
    evaluate.add_argument("--limit", type=int, help="only the first N questions of each file")
    evaluate.add_argument(
        "--configs", default="hybrid,dense,bm25", help="retrieval configurations MODE[:RECENCY_WEIGHT[:HALF_LIFE_DAYS]], comma-separated"
    )
    evaluate.add_argument("--backends", default="extractive", help="answer backends (values of the llm setting), comma-separated")
    evaluate.add_argument("--retrieval-only", action="store_true", help="no answers: retrieval metrics and refusal signals only")
    evaluate.add_argument(
        "--gold-context", action="store_true", help="also answer each question from its gold articles' best passages (reading accuracy)"
    )
    evaluate.add_argument(
        "--gold-context-only", action="store_true", help="reading accuracy only: answer from the gold passages, skip the normal answers"
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    stories.add_parsers(commands)
    return parser


class PrintableOutput:
    """``sys.stdout`` that drops control characters (``present.text.printable``) from everything
    printed: titles, quotes and whole articles come from files anyone can write, and an ANSI escape or
    BEL in one must not reach the terminal. Hand-written because it is one method around the stream."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(printable(text))

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def main(argv: list[str] | None = None) -> int:
    stdout = sys.stdout
    sys.stdout = PrintableOutput(stdout)
    try:
        return _main(argv)
    finally:
        sys.stdout = stdout


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from rag.assistant import Assistant
    from rag.embed_server import EmbeddingServerError
    from rag.ingest.workers import WorkersFailed
    from rag.settings import SettingsError
    from rag.store import StoreUnavailable

    try:
        assistant = Assistant()
        return COMMANDS[args.command](assistant, args)
    except (StoreUnavailable, SettingsError, EmbeddingServerError, WorkersFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # one line, not a traceback (``ingest`` says what it had indexed)
        print("\ninterrupted", file=sys.stderr)
        return INTERRUPTED


INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


def _ingest(assistant, args) -> int:
    from rag.ingest.sources import is_url
    from rag.ingest.pipeline import IngestReport

    if any(not source.strip() for source in args.sources):  # "" would be the working directory, .git and all
        print("error: an empty source path was given; name files, folders or URLs (or none, for the corpus folder)", file=sys.stderr)
        return 2
    if args.workers > 0:
        assistant = type(assistant)(assistant.settings.model_copy(update={"ingest_workers": args.workers}))
    before = len(assistant.articles())
    sources, feeds, failed = args.sources or None, [], []
    if sources and any(is_url(s) for s in sources):  # each URL fetched once: a feed is ingested item by item
        sources, feeds, failed = assistant.feeds.expand(sources)
    for result in feeds:
        stories.print_feed_result(result)
    try:
        report = assistant.library.ingest(sources, sync=args.sync, show_progress=not args.quiet) if sources or not feeds + failed else IngestReport()
        report.failed[:0] = failed
    except KeyboardInterrupt:
        # Articles are committed batch by batch, so what was stored stays; an interrupted batch is
        # left pending and redone by the next run.
        indexed = len(assistant.articles()) - before
        print(
            f"\ninterrupted: {indexed} new article{'s' if indexed != 1 else ''} indexed before Ctrl-C; "
            "run the same command again to resume (finished articles are not redone).",
            file=sys.stderr,
        )
        return INTERRUPTED
    for origin, reason in report.failed:
        print(f"failed: {origin}: {reason}")
    if report.failed_unlisted:
        print(f"failed: … and {report.failed_unlisted:,} more (not listed; setting max_failures_listed)")
    for article_id, owner in report.duplicates:
        print(f"duplicate: {article_id} has the same text as {owner}; stored once")
    listed = assistant.settings.ingest.max_failures_listed
    for article_id, note in report.undated[:listed]:
        print(f"undated: {article_id}: {note}")
    if len(report.undated) > listed:
        print(f"undated: … and {len(report.undated) - listed:,} more (not listed; setting max_failures_listed)")
    if report.repaired:
        print(f"repaired: {len(report.repaired)} articles had lost their passages (an interrupted removal); "
              "those whose sources were read are re-indexed, the others wait for their source")
    for article_id, date in report.future_dated:
        print(f"future date: {article_id} is dated {date}, after today; check its date (it gets no recency boost)")
    print(report.summary())
    if report.passages:
        print(f"time: {report.timing()}")
    return 0


def _ask(assistant, args) -> int:
    from rag.retrieval.options import OPTION_NAMES, InvalidOption, query_options

    try:
        options = query_options(**{k: getattr(args, k) for k in OPTION_NAMES})
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    live = sys.stdout.isatty() and not (args.json or args.markdown)
    stages = sys.stderr.isatty()  # the stage lines are for a person watching, never for a pipe or a log
    answer, shown = None, False
    try:
        for event in assistant.stream(args.question, **options.given()):
            if event.kind == "stage" and stages:  # searching, reading N sentences, checking: the web chat's lines
                print(event.text, file=sys.stderr, flush=True)
            elif event.kind == "evidence" and live:  # on a terminal the evidence comes first, then the short answer
                _print_evidence(event.answer)
                shown = True
            elif event.kind == "answer":
                answer = event.answer
    except InvalidOption as error:  # checked before any work: a question too long, top_k over max_top_k
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if args.markdown:
        from rag.present.markdown import answer_markdown

        print(answer_markdown(answer))
        return 0
    if answer.notice:
        print(f"({answer.notice})")
    if answer.mode == "llm":
        print(f"Answer: {answer.text}")
    elif not answer.evidence:  # a refusal or a message
        print(answer.text)
    if answer.evidence and not shown:
        _print_evidence(answer)
    _print_quotes([c for c in answer.citations if c.number > len(answer.evidence)])  # the short answer's own, if apart
    if answer.evidence_to:
        print(f"\n{evidence_dates(answer)}")
    if answer.freshness:
        print(f"({answer.freshness})")
    return 0


def _print_evidence(answer) -> None:
    """The evidence as it is shown first on a terminal (the checked short answer follows it)."""
    print("\nEvidence, quoted from the articles:")
    _print_quotes(answer.evidence)


def _print_quotes(citations) -> None:
    """Each citation's quote and source, one entry each."""
    for c in citations:
        print(f'[{c.number}] "{c.quote.strip()}"' + (f" — {c.speaker}" if c.speaker else ""))  # who said it
        by = f", by {', '.join(c.authors)}" if c.authors else ""
        print(f"    {c.title} — {date_label(c.date)}{', ' + c.source if c.source else ''}{by}{'  ' + c.url if c.url else ''}  (show {c.article_id})")
        if c.corroboration:  # who else states it, and who gives another number (answer/corroborate.py)
            for line in [c.corroboration.summary, *(f"conflict: {x.text}" for x in c.corroboration.conflicts)]:
                print(f"    {line}")


def _list(assistant, args) -> int:
    articles = assistant.articles()
    if args.json:
        print(json.dumps([{**a.__dict__, "date": a.date.isoformat() if a.date else None} for a in articles], indent=2))
        return 0
    for a in articles:
        print(f"{a.id}  {date_label(a.date):<10}  {a.source or '-':<18.18}  {a.chunks:>3} passages  {a.title}")
    print(f"{len(articles)} articles")
    return 0


def _remove(assistant, args) -> int:
    outcomes = assistant.library.delete(args.ids)
    for outcome in outcomes:
        print(f"{outcome.kind}: {outcome.text}")
    removed = sum(o.kind == "removed" for o in outcomes)
    print(f"removed {removed} of {len(args.ids)} articles")
    return 0 if removed == len(args.ids) else 1


def _eval(assistant, args) -> int:
    from rag.eval.run import main as evaluate

    return evaluate(assistant.settings, args)


COMMANDS = {"ingest": _ingest, "ask": _ask, "list": _list, "remove": _remove, "eval": _eval, **stories.COMMANDS}
