"""Reading the RealTimeQA evaluation data in ``../shared/eval`` for the benchmark scripts (not a benchmark)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def read_articles(corpus: Path, ids: set[str]) -> dict[str, dict]:
    """The records of ``corpus`` (a ``corpus.jsonl.gz``) whose ``doc_id`` is in ``ids``, by id, in file order."""
    found = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["doc_id"] in ids:
                found[record["doc_id"]] = record
    return found
