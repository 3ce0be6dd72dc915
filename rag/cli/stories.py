"""Command line, following stories: ``feeds add|list|remove|refresh``, ``show ID``, ``timeline "..."`` and ``changes "..." --since``.

Subcommands registered by ``main.py`` (which keeps ``ingest``, ``ask``, ``list``, ``remove``, ``eval``);
parsing and printing only: the work is ``Assistant.feeds`` (``rag.ingest.feeds``), ``Assistant.article``,
``Assistant.timeline`` (``rag.answer.timeline``) and ``Assistant.changes`` (``rag.answer.changes``).
"""

from __future__ import annotations

import json
import sys

from rag.present.text import date_label, parse_span


def add_parsers(commands) -> None:
    feeds = commands.add_parser("feeds", help="RSS/Atom subscriptions that keep the index current")
    actions = feeds.add_subparsers(dest="feeds_command", required=True)
    add = actions.add_parser("add", help="subscribe to a feed and index its items")
    add.add_argument("url")
    add.add_argument("--no-refresh", action="store_true", help="subscribe only; index at the next refresh")
    listing = actions.add_parser("list", help="subscribed feeds with their last refresh")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="unsubscribe (the articles stay indexed)")
    remove.add_argument("url")
    refresh = actions.add_parser("refresh", help="index the new items of every subscribed feed (or of URL)")
    refresh.add_argument("url", nargs="?")

    show = commands.add_parser("show", help="print a whole article (ID from `list` or a citation)")
    show.add_argument("id")
    show.add_argument("--span", action="append", default=[], metavar="START-END", help="mark these characters »like this« (repeatable)")
    show.add_argument("--json", action="store_true", help="print the article as JSON")

    timeline = commands.add_parser("timeline", help="the articles of a story in date order, each with its best sentence")
    timeline.add_argument("query")
    timeline.add_argument("--json", action="store_true", help="print the Timeline as JSON")
    timeline.add_argument("--from", dest="date_from", help="only articles published on or after this date")
    timeline.add_argument("--to", dest="date_to", help="only articles published on or before this date")
    timeline.add_argument("--source", dest="sources", action="append", help="only this source (repeatable)")
    timeline.add_argument("--limit", type=int, help="at most this many articles (default: setting timeline_max_articles)")

    changes = commands.add_parser("changes", help="what is new in a story since a date: facts no earlier article stated")
    changes.add_argument("topic")
    changes.add_argument("--since", required=True, help="the date of your last look (YYYY-MM-DD): facts published after it")
    changes.add_argument("--json", action="store_true", help="print the Changes as JSON")
    changes.add_argument("--source", dest="sources", action="append", help="only this source (repeatable)")
    changes.add_argument("--as-of", help="ignore articles published after this day (default: today)")


def print_feed_result(result) -> None:
    for line in result.lines:
        print(f"{line.kind}: {line.text}")


def _feeds(assistant, args) -> int:
    service = assistant.feeds
    command = args.feeds_command
    if command == "list":
        from rag.ingest.feeds import FeedError

        try:
            subscriptions = service.subscriptions()
        except FeedError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps([s.__dict__ for s in subscriptions], ensure_ascii=False, indent=2))
            return 0
        for s in subscriptions:
            when = s.last_refresh[:16].replace("T", " ") if s.last_refresh else "never refreshed"
            print(f"{s.url}\n    {s.title or '-'} · {when}{' · ' + s.last_outcome if s.last_outcome else ''}")
        print(f"{len(subscriptions)} feed{'s' if len(subscriptions) != 1 else ''}")
        return 0
    if command == "add":
        lines = service.add(args.url, refresh=not args.no_refresh)
    elif command == "remove":
        lines = service.remove(args.url)
    else:
        results = service.refresh([args.url] if args.url else None)
        if not results:
            print("no feed to refresh: subscribe with `python -m rag feeds add URL`" if not args.url else f"not subscribed to {args.url}")
            return 1
        for result in results:
            print_feed_result(result)
        return 0 if all(r.ok for r in results) else 1
    for line in lines:
        print(f"{line.kind}: {line.text}")
    return 1 if any(line.kind == "failed" for line in lines) else 0


def _show(assistant, args) -> int:
    try:
        spans = [parse_span(value, nonempty=True) for value in args.span]
    except ValueError as error:
        print(f"error: --span: {error}", file=sys.stderr)
        return 2
    article = assistant.article(args.id)
    if article is None:
        print(f"error: no indexed article has the id {args.id!r} (python -m rag list shows the ids)", file=sys.stderr)
        return 1
    if args.json:
        data = {**article.__dict__, "date": article.date.isoformat() if article.date else None, "authors": list(article.authors)}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    text = article.text
    for start, end in sorted(spans, reverse=True):  # from the end, so earlier offsets stay valid
        start, end = max(0, start), min(len(text), end)
        if start < end:
            text = f"{text[:start]}»{text[start:end]}«{text[end:]}"
    print(article.title)
    meta = [date_label(article.date), article.source or "", ", ".join(article.authors)]
    print(" · ".join(m for m in meta if m))
    if article.url:
        print(article.url)
    print(f"id {article.id}\n")
    print(text)
    return 0


def _timeline(assistant, args) -> int:
    try:
        timeline = assistant.timeline(
            args.query, date_from=args.date_from, date_to=args.date_to, sources=args.sources, limit=args.limit
        )
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(timeline.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if not timeline.entries:
        print(timeline.notice or "No article matches.")
        return 0
    for entry in timeline.entries:
        c = entry.citation
        print(f"{date_label(entry.date):<10}  {entry.title}  ({entry.source or '-'})")
        print(f'    "{c.quote.strip()}" [{c.number}]')
        if entry.url:
            print(f"    {entry.url}")
    if timeline.notice:
        print(f"({timeline.notice})")
    return 0


def _changes(assistant, args) -> int:
    try:
        changes = assistant.changes(args.topic, since=args.since, sources=args.sources, as_of=args.as_of)
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(changes.to_dict(), ensure_ascii=False, indent=2))
        return 0
    for c in changes.entries:
        print(f'{date_label(c.date):<10}  "{c.quote.strip()}" [{c.number}]')
        print(f"    {c.title} ({c.source or '-'})  (show {c.article_id} --span {c.start}-{c.end})")
    if changes.entries or changes.restated:
        print(f"{len(changes.entries)} new fact{'s' if len(changes.entries) != 1 else ''} since {changes.since}; "
              f"{changes.restated} restated fact{'s' if changes.restated != 1 else ''} left out")  # fmt: skip
    if changes.notice:
        print(f"({changes.notice})")
    return 0


COMMANDS = {"feeds": _feeds, "show": _show, "timeline": _timeline, "changes": _changes}
