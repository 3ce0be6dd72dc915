"""Evaluation: the metric functions on hand-made cases, and ``python -m rag eval`` end to end.

The end-to-end run indexes the bundled sample article into a temporary data dir and asks the bundled
sample questions (``rag/eval/sample_eval.jsonl``, ``rag/eval/sample_refuse.jsonl``). The RealTimeQA check reads
``../shared/eval/realtimeqa`` beside the checkout and skips, saying so, when it is absent.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import write_articles

from rag.eval.run import (
    FAILURE_CLASSES,
    PLOT_HINT,
    SUMMARY_KEYS,
    EvalRun,
    Outcome,
    RetrievalConfig,
    all_verified,
    balanced_accuracy,
    best_thresholds,
    citation_precision,
    contains_answer,
    names_answer,
    corpus_collection,
    failure_class,
    format_reading_table,
    format_table,
    hit_at_k,
    lead,
    load_questions,
    mrr,
    normalise,
    parse_configs,
    percentile,
    reciprocal_rank,
    refusal_rate,
    stage_ms,
    summarise,
    token_f1,
    write_outputs,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_QUESTIONS = ROOT / "rag" / "eval" / "sample_eval.jsonl"
SAMPLE_REFUSE = ROOT / "rag" / "eval" / "sample_refuse.jsonl"
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


def test_names_answer_accepts_a_short_answer_that_picks_out_the_right_choice_alone():
    hurricanes = ["Hurricane Irma", "Hurricane Fiona", "Hurricane Katrina", "Hurricane Maria"]
    assert names_answer("Fiona", ["Hurricane Fiona"], hurricanes)
    assert names_answer("Tony Awards", ["The Tony Awards"], ["The Grammy Awards", "The Emmy Awards", "The Tony Awards"])
    assert names_answer("Hurricane Fiona hit", ["Hurricane Fiona"])  # containment needs no choices
    assert not names_answer("Fiona", ["Hurricane Fiona"])  # no choices: containment only
    assert not names_answer("Irma", ["Hurricane Fiona"], hurricanes)  # picks out a wrong choice
    assert not names_answer("Hurricane", ["Hurricane Fiona"], hurricanes)  # ties between all four
    stations = ["Moon", "Mars", "International Space Station", "Tiangong Space Station"]
    assert not names_answer("space station", ["International Space Station"], stations)  # a tie
    assert not names_answer("Burmese python", ["Snake"], ["Iguana", "Snake", "Alligator"])  # no word shared
    assert not names_answer("", ["Snake"], ["Iguana", "Snake"])


def test_token_f1_gives_partial_credit_to_paraphrases():
    assert token_f1("Europe.", ["Europe"]) == 1.0
    assert token_f1("The European Union", ["Europe"]) == 0.0
    assert token_f1("assault weapons ban", ["Ban on military-style assault weapons"]) == pytest.approx(2 / 3)
    # the best of the accepted answers; articles and punctuation do not count
    assert token_f1("the “Squid Game”", ["Friends", '"Squid Game"']) == 1.0
    assert token_f1("New Jersey and Oregon", ["New Jersey & Oregon"]) == pytest.approx(2 * 0.75 * 1 / 1.75)
    assert token_f1("", ["Europe"]) == 0.0 and token_f1("Europe", []) == 0.0


def test_lead_is_the_first_sentence_without_markers():
    assert lead("Europe [1]. The EU will require a common USB-C charger [1].") == "Europe."
    assert lead("The U.S. Senate passed the bill [2][3]. It now goes to the House [2].") == "The U.S. Senate passed the bill."
    assert lead("Helio Works [1]\nThe plant opened [1].") == "Helio Works"
    assert lead("") == ""


def test_failure_class_tells_reading_from_retrieval_failures():
    def cls(correct=False, refused=False, context=False, top10=False):
        return failure_class(correct=correct, refused=refused, gold_in_context=context, gold_in_top10=top10)

    assert cls(correct=True, context=True, top10=True) == "correct"
    assert cls(correct=True) == "correct"  # right from another article's passage is still right
    assert cls(refused=True, context=True, top10=True) == "wrongly_refused"
    assert cls(context=True, top10=True) == "gold_in_context_wrong"
    assert cls(top10=True) == "gold_rank_6_10"
    assert cls() == "retrieval_miss"
    assert set(FAILURE_CLASSES) == {"correct", "retrieval_miss", "gold_rank_6_10", "gold_in_context_wrong", "wrongly_refused"}


def outcome(question_id: str, *, failure=None, correct=None, f1=None, reading_correct=None, answerable=True, **fields) -> Outcome:
    """An ``Outcome`` with only the fields a summary test needs."""
    values = dict(
        config="hybrid", backend="local", question_id=question_id, question="?", answerable=answerable, as_of=None,
        gold_ids=["g"], retrieved=["g"], hits={"hit@1": True, "hit@5": True, "hit@10": True}, reciprocal_rank=1.0,
        best_similarity=0.8, coverage=0.9, refused=failure == "wrongly_refused", answer="x", mode="llm",
        correct=correct, citations=1, citations_correct=1, verified=True, citations_checked=1, f1=f1, failure=failure,
        reading_mode="llm" if reading_correct is not None else "", reading_correct=reading_correct,
        reading_f1=1.0 if reading_correct else 0.0, reading_raw="x" if reading_correct is not None else None,
        reading_raw_correct=reading_correct,
    )  # fmt: skip
    values.update(fields)
    return Outcome(**values)


def test_summary_counts_failure_classes_f1_and_gold_context_reading():
    outcomes = [
        outcome("1", failure="correct", correct=True, f1=1.0, reading_correct=True, raw="Europe [1].", raw_correct=True),
        outcome("2", failure="gold_in_context_wrong", correct=False, f1=0.5, reading_correct=False, raw="Asia", raw_correct=False),
        outcome("3", failure="retrieval_miss", correct=False, f1=0.0, reading_correct=True, raw="Europe", raw_correct=True),
        outcome("4", failure="wrongly_refused", correct=False, f1=0.0),  # no gold-context reading for this one
        outcome("5", answerable=False, gold_ids=[], hits=None, reciprocal_rank=None),
    ]
    summary = summarise(outcomes, RetrievalConfig("hybrid"), "local")
    assert summary["failures"] == {"correct": 1, "retrieval_miss": 1, "gold_rank_6_10": 0, "gold_in_context_wrong": 1, "wrongly_refused": 1}
    assert summary["answer_accuracy"] == 0.25 and summary["answer_f1"] == pytest.approx(1.5 / 4)
    assert summary["answer_accuracy_raw"] == pytest.approx(2 / 4)  # the LLM text before the citation check
    assert summary["reading_questions"] == 3 and summary["reading_accuracy"] == pytest.approx(2 / 3)
    table = format_reading_table([summary])
    assert "gold_in_context_wrong" in table and "0.667" in table


def test_outputs_are_written_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "import matplotlib" now raises ImportError
    summaries = [summarise([outcome("1", failure="correct", correct=True, f1=1.0)], RetrievalConfig("hybrid"), "local")]
    run = EvalRun([outcome("1", failure="correct", correct=True, f1=1.0)], summaries, skipped={})
    written = write_outputs(run, tmp_path / "out")
    assert sorted(p.name for p in written) == ["results.jsonl", "run.json", "summary.json"]
    assert not (tmp_path / "out" / "comparison.png").exists()
    assert run.notes == [PLOT_HINT] and 'pip install -e ".[eval]"' in PLOT_HINT
    (result,) = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert result["failure"] == "correct" and result["f1"] == 1.0


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
        parse_configs("sparse", default_half_life=14)


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
    from rag.cli.main import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "out"
    # The sample article among twelve others, so that ranking it first is something retrieval can miss.
    corpus = tmp_path / "corpus"
    write_articles(corpus, 12)
    shutil.copy(next(SAMPLE_CORPUS.glob("000_*.txt")), corpus)
    argv = ["eval", "--questions", str(SAMPLE_QUESTIONS), "--corpus", str(corpus), "--refuse", str(SAMPLE_REFUSE), "--quiet"]
    assert main([*argv, "--out", str(out), "--configs", "hybrid,bm25"]) == 0

    summaries = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [s["config"] for s in summaries] == ["hybrid/extractive", "bm25/extractive"]
    for summary in summaries:
        assert set(SUMMARY_KEYS) <= summary.keys()
        assert summary["answer_accuracy"] > 0
        assert summary["hit@1"] == 1.0  # the gold article first, of 13
        assert summary["questions"] == 10 and summary["must_refuse_questions"] == 3
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(results) == 2 * 13
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "hybrid/extractive" in printed and "hit@1" in printed

    # The user's collection is untouched: the corpus went to its own eval_ collection, found again.
    # Retrieval only: no answers, so no answer metrics.
    assert main([*argv, "--limit", "1", "--configs", "dense", "--retrieval-only", "--out", str(out)]) == 0
    assert "13 unchanged" in capsys.readouterr().out
    (summary,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"] == "dense/none" and summary["answer_accuracy"] is None and summary["hit@1"] == 1.0


def test_realtimeqa_files_load():
    if not REALTIMEQA.is_dir():
        pytest.skip(f"RealTimeQA evaluation data not found at {REALTIMEQA} (../shared beside the checkout)")
    questions = load_questions(REALTIMEQA / "questions.dev.jsonl")
    refuse = load_questions(REALTIMEQA / "unanswerable.dev.jsonl", answerable=False)
    assert len(questions) == 102 and len(refuse) == 50
    assert all(q.gold_ids and q.answers and q.as_of for q in questions)


@pytest.mark.slow
def test_eval_command_reports_reading_and_failure_classes_and_runs_without_matplotlib(tmp_path, monkeypatch, capsys):
    from rag.cli.main import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the "eval" extra were not installed
    out = tmp_path / "out"
    argv = ["eval", "--questions", str(SAMPLE_QUESTIONS), "--corpus", str(SAMPLE_CORPUS), "--refuse", str(SAMPLE_REFUSE)]
    assert main([*argv, "--quiet", "--limit", "4", "--configs", "hybrid", "--gold-context", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert PLOT_HINT in printed and "Traceback" not in printed
    assert {p.name for p in out.iterdir()} == {"summary.json", "results.jsonl", "run.json"}
    (summary,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["reading_questions"] == 4 and summary["reading_accuracy"] is not None
    assert sum(summary["failures"].values()) == 4 and summary["answer_f1"] is not None
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    answerable = [r for r in results if r["answerable"]]
    assert all(r["failure"] in FAILURE_CLASSES and r["reading_mode"] == "extractive" for r in answerable)
    assert all(r["gold_in_context"] for r in answerable)  # one article: the gold one is always in context
    assert all(r["failure"] is None and not r["reading_mode"] for r in results if not r["answerable"])


def test_answer_in_gold_says_whether_the_quiz_answer_is_worded_in_the_gold_article(tmp_path, monkeypatch):
    from rag.cli.main import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gold = {"gold_origin_names": ["000_acb8fec70e58ae20.txt"], "question_date": "2025-11-28"}
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "worded", "question": "Who is the president of Peru?", "answer_text": ["José Jarí"], **gold}) + "\n"
        # Right, but worded by the quiz, not the article: no reader quoting the article can match it.
        + json.dumps({"id": "quiz", "question": "Which continent is Peru in?", "answer_text": ["South America"], **gold}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    argv = ["eval", "--questions", str(questions), "--corpus", str(SAMPLE_CORPUS), "--quiet", "--retrieval-only", "--configs", "hybrid"]
    assert main([*argv, "--out", str(out)]) == 0
    results = {r["question_id"]: r for r in map(json.loads, (out / "results.jsonl").read_text(encoding="utf-8").splitlines())}
    assert results["worded"]["answer_in_gold"] is True and results["quiz"]["answer_in_gold"] is False
    (summary,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["answer_in_gold"] == 0.5


@pytest.mark.llm
def test_an_llm_backend_is_loaded_once_and_shared_by_every_configuration(tmp_path, make_settings, embedding, gguf_1_5b):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install -e '.[local]'")
    from rag.eval.run import Evaluator

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(next(SAMPLE_CORPUS.glob("000_*.txt")), corpus)
    evaluator = Evaluator(make_settings(llm_model_path=str(gguf_1_5b)), corpus=corpus, embedding=embedding)
    assert evaluator.unavailable("local") is None
    hybrid, bm25 = (evaluator.assistant(RetrievalConfig(mode), "local") for mode in ("hybrid", "bm25"))
    assert hybrid.llm is not None and hybrid.llm is bm25.llm
