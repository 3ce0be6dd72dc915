"""Evaluation: the metric functions on hand-made cases, and ``python -m rag eval`` end to end.

The end-to-end run indexes the bundled sample article into a temporary data dir and asks the bundled
sample questions (``rag/sample_eval.jsonl``, ``rag/sample_refuse.jsonl``). The RealTimeQA check reads
``../shared/eval/realtimeqa`` beside the checkout and skips, saying so, when it is absent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.evaluate import (
    SUMMARY_KEYS,
    RetrievalConfig,
    all_verified,
    balanced_accuracy,
    best_thresholds,
    citation_precision,
    contains_answer,
    corpus_collection,
    format_table,
    hit_at_k,
    load_questions,
    mrr,
    normalise,
    parse_configs,
    percentile,
    reciprocal_rank,
    refusal_rate,
    stage_ms,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_QUESTIONS = ROOT / "rag" / "sample_eval.jsonl"
SAMPLE_REFUSE = ROOT / "rag" / "sample_refuse.jsonl"
SAMPLE_CORPUS = ROOT / "corpus"
REALTIMEQA = ROOT.parent / "shared" / "eval" / "realtimeqa"


@dataclass
class FakeCitation:
    article_id: str
    passage: str
    verified: bool | None = None


# --- normalisation and answer matching -------------------------------------------------------------


def test_normalise_folds_case_quotes_punctuation_accents_and_spaces():
    assert normalise("  “Squid   Game”!\n") == "squid game"
    assert normalise("‘Don’t’") == normalise("'Don't'") == "don t"
    assert normalise("José Jarí") == "jose jari"
    assert normalise("U.S.-Mexico") == "u s mexico"


def test_contains_answer_with_curly_quotes_and_whole_words():
    assert contains_answer('Netflix renewed "Squid Game" for a second season.', ["“Squid Game”"])
    assert contains_answer("President José Jarí said", ["Jose Jari"])
    assert contains_answer("The runoff is on Dec. 14.", ["Game", "Dec. 14"])
    assert not contains_answer("About 100 people came.", ["10"])  # whole words only
    assert not contains_answer("anything", [""])
    assert not contains_answer("anything", [])


# --- retrieval metrics -----------------------------------------------------------------------------


def test_hit_at_k_counts_passages_from_gold_articles():
    ranked = ["a", "b", "b", "c", "d"]
    assert not hit_at_k(ranked, {"c"}, 1)
    assert not hit_at_k(ranked, {"c"}, 3)
    assert hit_at_k(ranked, {"c"}, 4)
    assert hit_at_k(ranked, {"x", "a"}, 1)
    assert not hit_at_k(ranked, set(), 10)


def test_reciprocal_rank_and_mrr():
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"z"}) == 0.0
    assert mrr([1.0, 0.5, 0.0, 0.25]) == pytest.approx(0.4375)
    assert mrr([]) is None


def test_percentile_interpolates_like_numpy():
    values = [10, 1, 4, 2, 3]
    assert percentile(values, 50) == 3
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 10
    assert percentile(values, 95) == pytest.approx(8.8)  # numpy.percentile([1, 2, 3, 4, 10], 95)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


# --- citations ----------------------------------------------------------------------------------------


def test_citation_precision_gold_article_or_answer_in_passage():
    citations = [
        FakeCitation("gold", "unrelated text"),  # gold article: correct
        FakeCitation("other", "It was “Squid Game”, Netflix said."),  # contains the answer: correct
        FakeCitation("other", "Nothing useful here."),  # neither
    ]
    assert citation_precision(citations, {"gold"}, ['"Squid Game"']) == (2, 3)
    assert citation_precision([], {"gold"}, ["x"]) == (0, 0)


def test_all_verified_counts_unchecked_as_verified():
    assert all_verified([FakeCitation("a", "", None), FakeCitation("b", "", True)])
    assert not all_verified([FakeCitation("a", "", True), FakeCitation("b", "", False)])
    assert all_verified([])


# --- refusal calibration -----------------------------------------------------------------------------


def test_refusal_rate_needs_both_signals_low():
    signals = [(0.2, 0.1), (0.2, 0.9), (0.6, 0.1)]
    assert refusal_rate(signals, 0.4, 0.5) == pytest.approx(1 / 3)
    assert refusal_rate(signals, 0.4) == pytest.approx(2 / 3)  # similarity alone
    assert math.isnan(refusal_rate([], 0.4))


def test_best_thresholds_separates_the_sets():
    answerable = [(0.7, 0.2), (0.5, 0.3), (0.3, 0.9)]  # the last is found by its words, not its meaning
    unanswerable = [(0.2, 0.1), (0.35, 0.2)]
    evidence, coverage, score = best_thresholds(answerable, unanswerable, min_coverage=math.inf)
    assert 0.35 < evidence < 0.5 and score == pytest.approx((1 + 2 / 3) / 2)
    evidence, coverage, score = best_thresholds(answerable, unanswerable)
    assert score == 1.0
    assert balanced_accuracy(answerable, unanswerable, evidence, coverage) == 1.0
    assert all(math.isnan(x) for x in best_thresholds([], unanswerable))


# --- configurations, questions, collections ----------------------------------------------------------


def test_parse_configs():
    configs = parse_configs("hybrid, dense,bm25,hybrid:1,hybrid:0.5:30,hybrid:0", default_half_life=14)
    assert [c.name for c in configs] == ["hybrid", "dense", "bm25", "hybrid:1:14", "hybrid:0.5:30", "hybrid:0"]
    assert configs[3].updates() == {"retrieval_mode": "hybrid", "recency_weight": 1.0, "recency_half_life_days": 14.0}
    assert RetrievalConfig("dense").updates() == {"retrieval_mode": "dense"}  # the user's recency setting
    assert configs[5].updates() == {"retrieval_mode": "hybrid", "recency_weight": 0.0}
    with pytest.raises(ValueError):
        parse_configs("sparse")


def test_load_questions_accepts_both_field_spellings(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({"question_id": "q1", "question": "Who?", "answer_text": ["A"], "gold_doc_ids": ["d1"], "question_date": "2022/06/16"})
        + "\n\n"
        + json.dumps({"question": "What?", "answers": "B", "as_of": "June 3, 2022"})
        + "\n",
        encoding="utf-8",
    )
    first, second = load_questions(path)
    assert (first.id, first.answers, first.gold_ids, first.as_of.isoformat()) == ("q1", ("A",), ("d1",), "2022-06-16")
    assert (second.id, second.answers, second.as_of.isoformat(), second.has_gold) == ("q:3", ("B",), "2022-06-03", False)
    (refuse,) = load_questions(path, answerable=False, limit=1)
    assert not refuse.answerable and refuse.answers == ()


def test_corpus_collection_is_stable_and_follows_changes(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("one", encoding="utf-8")
    name = corpus_collection(corpus)
    assert name.startswith("eval_") and len(name) == 17
    assert corpus_collection(corpus) == name
    import shutil

    assert corpus_collection(shutil.copytree(corpus, tmp_path / "moved")) == name  # re-mounted elsewhere
    (corpus / "b.txt").write_text("two", encoding="utf-8")
    assert corpus_collection(corpus) != name


def test_stage_ms_and_table():
    assert stage_ms({"retrieval": 5.0, "generation": 9.0}, "answer") == 9.0
    assert stage_ms({"retrieval": 5.0}, "answer") is None
    table = format_table([{"config": "hybrid/extractive", "hit@1": 0.5, "mrr": None}])
    assert "hybrid/extractive" in table and "0.500" in table and " -" in table


def test_bundled_sample_sets_are_well_formed():
    questions = load_questions(SAMPLE_QUESTIONS)
    refuse = load_questions(SAMPLE_REFUSE, answerable=False)
    assert 8 <= len(questions) <= 12 and len(refuse) == 3
    article = next(SAMPLE_CORPUS.glob("000_*.txt")).read_text(encoding="utf-8")
    for q in questions:
        assert q.gold_origin_names == ("000_acb8fec70e58ae20.txt",)
        assert contains_answer(article, q.answers), q.question  # every question is answerable from the article


# --- end to end --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_eval_command_on_the_sample_set(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib not installed: pip install -e '.[eval]'")
    from rag.__main__ import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "out"
    argv = ["eval", "--questions", str(SAMPLE_QUESTIONS), "--corpus", str(SAMPLE_CORPUS), "--refuse", str(SAMPLE_REFUSE), "--quiet"]
    assert main([*argv, "--out", str(out), "--configs", "hybrid,bm25"]) == 0

    summaries = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [s["config"] for s in summaries] == ["hybrid/extractive", "bm25/extractive"]
    for summary in summaries:
        assert set(SUMMARY_KEYS) <= summary.keys()
        assert summary["answer_accuracy"] > 0
        assert summary["hit@10"] == 1.0  # a one-article corpus: the gold article is all there is
        assert summary["questions"] == 10 and summary["must_refuse_questions"] == 3
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(results) == 2 * 13
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "hybrid/extractive" in printed and "hit@1" in printed

    # The user's collection is untouched: the corpus went to its own eval_ collection, found again.
    # Retrieval only: no answers, so no answer metrics.
    assert main([*argv, "--limit", "1", "--configs", "dense", "--retrieval-only", "--out", str(out)]) == 0
    assert "1 unchanged" in capsys.readouterr().out
    (summary,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"] == "dense/none" and summary["answer_accuracy"] is None and summary["hit@1"] == 1.0


def test_realtimeqa_files_load():
    if not REALTIMEQA.is_dir():
        pytest.skip(f"RealTimeQA evaluation data not found at {REALTIMEQA} (../shared beside the checkout)")
    questions = load_questions(REALTIMEQA / "questions.dev.jsonl")
    refuse = load_questions(REALTIMEQA / "unanswerable.dev.jsonl", answerable=False)
    assert len(questions) == 102 and len(refuse) == 50
    assert all(q.gold_ids and q.answers and q.as_of for q in questions)
