"""Evaluation inputs: the question set, the retrieval configurations compared, the corpus's own collection.

``load_questions`` reads a JSONL question file into ``EvalQuestion`` records; ``parse_configs`` turns
``"hybrid,dense,bm25,hybrid:1:30"`` into ``RetrievalConfig`` records (each the ``Settings`` fields it
changes); ``corpus_collection`` names the Chroma collection an evaluation corpus is indexed into.
Asking the questions is ``run.py``'s; scoring ``metrics.py``'s and ``report.py``'s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.ingest.clean import parse_date

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class EvalQuestion:
    """One question: accepted answers, gold articles (by id or by file name), the day it is asked."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    gold_ids: tuple[str, ...] = ()
    gold_origin_names: tuple[str, ...] = ()  # file names, for sets that must not depend on paths
    as_of: dt.date | None = None
    answerable: bool = True
    choices: tuple[str, ...] = ()  # a quiz's options, for matching a short answer to one (metrics.names_answer)

    @property
    def has_gold(self) -> bool:
        return bool(self.gold_ids or self.gold_origin_names)


def load_questions(path: str | Path, *, answerable: bool = True, limit: int | None = None) -> list[EvalQuestion]:
    """Read a JSONL question file.

    Fields: ``question``; accepted answers as ``answer_text`` or ``answers`` (a list or one string);
    optional ``gold_doc_ids``, ``gold_origin_names``, ``question_date`` or ``as_of``, ``choices`` (a quiz's
    options), and ``question_id``
    or ``id``. ``answerable=False`` marks a must-refuse set (its answers, if any, are ignored).
    """
    questions = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            answers = record.get("answer_text", record.get("answers")) or []
            answers = [answers] if isinstance(answers, str) else answers
            questions.append(
                EvalQuestion(
                    id=str(record.get("question_id") or record.get("id") or f"{Path(path).stem}:{number}"),
                    question=record["question"],
                    answers=tuple(str(a) for a in answers) if answerable else (),
                    gold_ids=tuple(record.get("gold_doc_ids") or ()),
                    gold_origin_names=tuple(record.get("gold_origin_names") or ()),
                    as_of=parse_date(record.get("question_date") or record.get("as_of")),
                    answerable=answerable,
                    choices=tuple(str(c) for c in record.get("choices") or ()) if answerable else (),
                )
            )
            if limit and len(questions) >= limit:
                break
    return questions


@dataclass(frozen=True)
class RetrievalConfig:
    """A retrieval setting to compare: ``mode`` plus an optional recency boost."""

    mode: str
    recency_weight: float | None = None  # None: the user's setting
    recency_half_life_days: float | None = None  # None: the user's setting

    @property
    def name(self) -> str:
        if self.recency_weight is None:
            return self.mode
        if not self.recency_weight:
            return f"{self.mode}:0"
        return f"{self.mode}:{self.recency_weight:g}:{self.recency_half_life_days or 0:g}"

    def updates(self) -> dict[str, Any]:
        """The ``Settings`` fields this configuration changes."""
        changes: dict[str, Any] = {"retrieval_mode": self.mode}
        if self.recency_weight is not None:
            changes["recency_weight"] = self.recency_weight
        if self.recency_half_life_days:
            changes["recency_half_life_days"] = self.recency_half_life_days
        return changes


def parse_configs(spec: str, default_half_life: float) -> list[RetrievalConfig]:
    """``"hybrid,dense,bm25,hybrid:1:30"`` → configurations; each item is ``MODE[:WEIGHT[:HALF_LIFE_DAYS]]``."""
    configs = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        mode, *numbers = item.split(":")
        if mode not in MODES or len(numbers) > 2:
            raise ValueError(f"bad configuration {item!r}: use MODE[:RECENCY_WEIGHT[:HALF_LIFE_DAYS]], MODE one of {', '.join(MODES)}")
        weight = float(numbers[0]) if numbers else None
        half_life = float(numbers[1]) if len(numbers) > 1 else (default_half_life if weight else None)
        configs.append(RetrievalConfig(mode, weight, half_life))
    return configs


def corpus_collection(source: str | Path) -> str:
    """A Chroma collection name keyed by the corpus content: ``eval_`` + 12 hex of a sha256.

    The hash covers each file's bytes (and, for a folder, its relative names), not paths or mtimes, so
    the same corpus copied or re-mounted elsewhere finds its index again, and an edited one gets a
    fresh collection. Hashing the 13 MB RealTimeQA file takes about 50 ms.
    """
    path = Path(source).expanduser().resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else "").encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "eval_" + digest.hexdigest()[:12]
