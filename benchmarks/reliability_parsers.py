"""Reliability: generated inputs through every parser, and rejected input never changes the index.

Hypothesis generates inputs for every way an article comes in: ``.txt``, ``.md`` (front matter),
``.html``, ``.pdf``, ``.json``, ``.jsonl``, ``.jsonl.gz`` and pasted text. Each input is well formed,
damaged or hostile (random bytes, legacy encodings, NUL bytes, wrong JSON types, truncated gzip and
PDF, nested JSON, huge numbers...). Each goes through ``corpus.load_sources`` (pasted text through
``articles.make_article``, as ``Assistant.ingest_text`` does), and counts:

* **unhandled**: an exception escaping the loader, or anything but an ``Article`` / one-line
  ``LoadFailure`` coming out (must be 0);
* **rejected**: inputs that yielded no article at all. At the end every rejected file is ingested
  into a real Chroma store holding one article, and every rejected pasted text is given to
  ``Assistant.ingest_text``: **index changes** counts differences in the registry or the passages
  before and after (must be 0).

    python benchmarks/reliability_parsers.py [--examples 1250] [--seed 0]

``--examples`` is per input kind (8 kinds: the default is 10,000 inputs). ``run()`` is what the test
suite calls with a few dozen examples per kind.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KINDS = ("txt", "md", "html", "pdf", "json", "jsonl", "jsonl.gz", "pasted")
MAX_BYTES = 200_000  # small, so that "too large" paths are reached by generated inputs too


# --- strategies ------------------------------------------------------------------------------------


def _strategies():
    from hypothesis import strategies as st

    words = st.sampled_from(
        ["The", "council", "voted", "on", "Tuesday", "café", "José", "Городской", "新闻", "\x00", "\ufeff", "\r\n",
         "\n\n", "Advertisement", "Sign up for our newsletter", "date 2024-02-30", "_____", "<p>", "&amp;", "2022/06/12"]
    )
    prose = st.lists(st.one_of(words, st.text(max_size=30)), max_size=60).map(" ".join)
    encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252", "cp1251", "shift_jis", "gb18030"])

    @st.composite
    def encoded_text(draw):
        text = draw(prose)
        data = text.encode(draw(encodings), errors="replace")
        if draw(st.booleans()):
            data = _mutate(data, draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8)))
        return data

    raw_bytes = st.one_of(encoded_text(), st.binary(max_size=3000), st.just(b""), st.just(b"\x00" * 100), st.just(b"a" * (MAX_BYTES + 1)))
    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40), prose)
    json_value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
    field_names = st.sampled_from(["text", "body", "content", "title", "date", "publish_date", "published", "url", "id", "doc_id", "authors", "author", "source", "source_domain"])
    good_record = st.fixed_dictionaries({"title": prose, "text": prose, "date": st.sampled_from(["2024-05-01", "May 1, 2024", "", "yesterday", "2024-13-45"])})
    record = st.one_of(good_record, st.dictionaries(field_names, st.one_of(json_value, prose), max_size=8), json_value)

    @st.composite
    def jsonl(draw):
        lines = draw(st.lists(st.one_of(record.map(_dumps), st.text(max_size=50), st.just("{broken"), st.just(" ")), max_size=8))
        data = "\n".join(lines).encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), errors="replace")
        return data if draw(st.integers(0, 9)) else data + b'\n{"text": "' + b"x" * MAX_BYTES + b'"}\n'

    @st.composite
    def json_file(draw):
        value = draw(st.one_of(st.lists(record, max_size=5), record))
        data = _dumps(value).encode()
        return data if draw(st.booleans()) else data[: draw(st.integers(0, len(data)))]

    @st.composite
    def gz(draw):
        data = gzip.compress(draw(jsonl()))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return data[: draw(st.integers(0, len(data)))]  # truncated
        if choice == 1:
            return _mutate(data, draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4)))
        return data

    @st.composite
    def markdown(draw):
        meta = draw(st.dictionaries(field_names, st.one_of(json_value, prose), max_size=6))
        header = "\n".join(f"{k}: {_yaml_scalar(v)}" for k, v in meta.items())
        body = draw(prose)
        form = draw(st.integers(0, 3))
        text = f"---\n{header}\n---\n{body}" if form else draw(st.text(max_size=200))
        if form == 3:
            text = "---\n" + draw(st.text(max_size=100)) + "\n---\n" + body  # front matter that is not YAML
        return text.encode("utf-8", errors="replace")

    tags = st.sampled_from(["<html>", "<head>", "<title>", "</title>", "<body>", "<article>", "</article>", "<p>", "</p>",
                            "<script>alert(1)</script>", "<meta charset='latin-1'>", "<meta property='article:published_time' content='2024-02-30'>",
                            "<!--", "-->", "<![CDATA[", "<div", ">", "&#0;", "&#xD800;", "<table><tr><td>"])

    @st.composite
    def html(draw):
        parts = draw(st.lists(st.one_of(tags, prose), max_size=40))
        return "".join(parts).encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), errors="replace")

    @st.composite
    def pdf(draw):
        data = minimal_pdf(draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="()\\"), max_size=200)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return data[: draw(st.integers(0, len(data)))]
        if choice == 1:
            return _mutate(data, draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6)))
        if choice == 2:
            return b"%PDF-1.4\n" + draw(st.binary(max_size=500))
        return data

    pasted = st.tuples(st.one_of(prose, st.text(max_size=300)), st.one_of(st.just(""), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["2024-05-01", "2024-02-30"])))
    return {
        "txt": raw_bytes, "md": st.one_of(markdown(), raw_bytes), "html": st.one_of(html(), raw_bytes), "pdf": pdf(),
        "json": st.one_of(json_file(), raw_bytes), "jsonl": st.one_of(jsonl(), raw_bytes), "jsonl.gz": st.one_of(gz(), raw_bytes), "pasted": pasted,
    }


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def _yaml_scalar(value) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value.replace("\n", " ")


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for position, byte in edits:
        out[position % len(out)] = byte
    return bytes(out)


def minimal_pdf(text: str, info: str = "") -> bytes:
    """A one-page PDF with ``text`` in Helvetica, hand-built (no PDF writer with text is installed).

    ``info``: the body of an Info dictionary, e.g. ``/Title (Budget) /CreationDate (D:20250801120000Z)``.
    tests/test_corpus.py builds its PDFs here too.
    """
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if info:
        objects.append(b"<< " + info.encode() + b" >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    info_ref = b" /Info %d 0 R" % len(objects) if info else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info_ref, xref)
    return bytes(out)


# --- the run ---------------------------------------------------------------------------------------


def _check_items(items, row: dict, problems: list[str], label: str) -> int:
    """Count articles and failures of one input; anything else is an unhandled problem."""
    from rag.ingest.articles import LoadFailure
    from rag.types import Article

    articles = 0
    for item in items:
        if isinstance(item, Article):
            articles += 1
            if not item.text or "\x00" in item.text or not item.id:
                row["unhandled"] += 1
                problems.append(f"{label}: article with empty text, NUL or no id")
        elif isinstance(item, LoadFailure):
            row["failures"] += 1
            if "\n" in item.reason or not item.reason:
                row["unhandled"] += 1
                problems.append(f"{label}: failure reason not one line: {item.reason!r}")
        else:
            row["unhandled"] += 1
            problems.append(f"{label}: loader yielded {type(item).__name__}")
    row["articles"] += articles
    return articles


def run(examples: int = 1250, *, seed: int | None = 0, workdir: Path | None = None, embedding=None) -> dict:
    """Generate ``examples`` inputs per kind, parse them, then ingest the rejected ones.

    Returns ``{"rows": {kind: {...counts...}}, "problems": [first few problem lines], "seconds": s}``.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs are the point; their warnings are noise
    started = time.perf_counter()
    owned = None
    if workdir is None:
        owned = tempfile.TemporaryDirectory(prefix="newsdesk-reliability-")
        workdir = Path(owned.name)
    rejected_dir = workdir / "rejected"
    rejected_dir.mkdir(parents=True, exist_ok=True)
    strategies = _strategies()
    rows = {kind: {"examples": 0, "articles": 0, "failures": 0, "unhandled": 0, "rejected": 0, "index_changes": 0} for kind in KINDS}
    problems: list[str] = []
    rejected_pastes: list[tuple[str, str, str | None]] = []

    for kind in KINDS:
        one = _checker(kind, rows[kind], workdir, rejected_dir, rejected_pastes, problems)
        test = settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(
            given(strategies[kind])(one)
        )
        if seed is not None:
            test = hypothesis_seed(seed)(test)
        test()

    _ingest_rejected(rows, rejected_dir, rejected_pastes, workdir, embedding, problems)
    if owned is not None:
        owned.cleanup()
    return {"rows": rows, "problems": problems[:20], "seconds": time.perf_counter() - started}


def _checker(kind: str, row: dict, workdir: Path, rejected_dir: Path, rejected_pastes: list, problems: list[str]):
    """The function Hypothesis calls with each generated input of ``kind``; it never raises."""
    from rag.ingest.articles import BadSource, make_article
    from rag.ingest.corpus import load_sources

    def one(value) -> None:
        number = row["examples"]
        row["examples"] += 1
        label = f"{kind} #{number}"
        try:
            if kind == "pasted":
                text, title, date = value
                try:
                    items = [make_article(text, origin="pasted", title=title or None, date=date)]
                except BadSource:
                    row["failures"] += 1
                    items = []
                if not _check_items(items, row, problems, label):
                    row["rejected"] += 1
                    rejected_pastes.append(value)
                return
            path = workdir / f"input.{kind}"
            path.write_bytes(value)
            items = list(load_sources([path], max_bytes=MAX_BYTES, fetch_timeout_s=5))
            if not _check_items(items, row, problems, label):
                row["rejected"] += 1
                path.rename(rejected_dir / f"{number:06d}.{kind}")
        except Exception as error:  # exactly what must never happen
            row["unhandled"] += 1
            problems.append(f"{label}: {type(error).__name__}: {error}"[:300])

    return one


def _snapshot(store) -> tuple:
    registry = store.registry()
    return store.count_passages(), tuple(sorted((e.id, e.content_hash, e.status) for e in registry.values()))


def _ingest_rejected(rows, rejected_dir: Path, pastes, workdir: Path, embedding, problems: list[str]) -> None:
    """Ingest every rejected input into a real store holding one article: nothing may change."""
    from rag.assistant import Assistant
    from rag.settings import load_settings

    corpus = workdir / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "seed.txt").write_text("The harbour of Port Vale reopened on Friday after a storm closed it for nine days.", encoding="utf-8")
    settings = load_settings(data_dir=workdir / "data", corpus_dir=corpus, llm="extractive", max_file_mb=MAX_BYTES / 1e6)
    assistant = Assistant(settings, embedding=embedding)
    assistant.ingest()
    for kind in KINDS:
        before = _snapshot(assistant.store)
        if kind == "pasted":
            for text, title, date in pastes:
                try:
                    report = assistant.ingest_text(text, title=title, date=date)
                except ValueError:  # an unreadable date is the API's documented error (rag.retrieval.options.check_date)
                    continue
                if report.added or report.updated:
                    rows[kind]["index_changes"] += 1
                    problems.append(f"pasted: rejected text was indexed: {text[:60]!r}")
        else:
            files = sorted(rejected_dir.glob(f"*.{kind}"))
            files = [f for f in files if f.name.split(".", 1)[1] == kind]
            if files:
                report = assistant.ingest(files)
                if report.added or report.updated or report.removed:
                    rows[kind]["index_changes"] += len(report.added) + len(report.updated) + len(report.removed)
                    problems.append(f"{kind}: rejected input changed the index: {report.summary()}")
        if _snapshot(assistant.store) != before:
            rows[kind]["index_changes"] = max(1, rows[kind]["index_changes"])
            problems.append(f"{kind}: the store differs after ingesting rejected input")


def table(result: dict) -> str:
    header = f"{'input':<10}{'examples':>10}{'articles':>10}{'failures':>10}{'rejected':>10}{'unhandled':>11}{'index chg':>11}"
    lines = [header, "-" * len(header)]
    total = dict.fromkeys(["examples", "articles", "failures", "rejected", "unhandled", "index_changes"], 0)
    for kind, row in result["rows"].items():
        lines.append(f"{kind:<10}{row['examples']:>10}{row['articles']:>10}{row['failures']:>10}{row['rejected']:>10}{row['unhandled']:>11}{row['index_changes']:>11}")
        for key in total:
            total[key] += row[key]
    lines.append("-" * len(header))
    lines.append(f"{'total':<10}{total['examples']:>10}{total['articles']:>10}{total['failures']:>10}{total['rejected']:>10}{total['unhandled']:>11}{total['index_changes']:>11}")
    lines.append(f"({result['seconds']:.0f} s)")
    lines.extend(f"problem: {p}" for p in result["problems"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1250, help="generated inputs per input kind (8 kinds)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(args.examples, seed=args.seed)
    print(table(result))
    bad = sum(r["unhandled"] + r["index_changes"] for r in result["rows"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
