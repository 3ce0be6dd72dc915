"""Grounded generation with the real bundled local LLM (Qwen2.5-Coder-1.5B-Instruct on llama.cpp).

Kept few and short: each answer costs seconds of CPU. Skipped, with the install command, when the
``local`` extra is not installed.
"""

import re

import pytest
from helpers import INJECTED_ARTICLE

from rag.assistant import Assistant
from rag.chat import Conversation
from rag.answer.cite import split_answer
from rag.eval.metrics import lead

pytestmark = pytest.mark.llm


@pytest.fixture
def llm_assistant(make_settings, embedding, corpus_dir, local_llm):
    assistant = Assistant(make_settings(llm="local"), embedding=embedding, llm=local_llm)
    assistant.ingest()
    return assistant


def test_evidence_comes_first_then_the_checked_short_answer(llm_assistant):
    assert llm_assistant.llm_status() == "LLM: Qwen2.5-Coder 1.5B Instruct (Q4_K_M, local)"  # readable, not the file name
    events = list(llm_assistant.stream("How many days did Kast give immigrants to leave Chile voluntarily?"))
    kinds = [e.kind for e in events]
    # The stages name what is being done; the evidence comes before any token; the check after the last.
    assert kinds[:2] == ["stage", "evidence"] and kinds[-2:] == ["stage", "answer"] and "token" in kinds
    stages = [e for e in events if e.kind == "stage"]
    assert [e.stage for e in stages] == ["search", "write", "check"]
    assert stages[0].text == "Searching the articles…" and re.fullmatch(r"Reading \d+ sentences, writing the short answer…", stages[1].text)
    assert kinds.index("token") > kinds.index("stage", 2) and kinds.index("token") < len(kinds) - 2
    evidence, answer = events[1].answer, events[-1].answer
    assert evidence.evidence and all(c.quote in c.passage for c in evidence.evidence)
    assert not answer.refused and answer.mode == "llm", answer
    assert answer.evidence == answer.citations[: len(answer.evidence)]  # the same numbers as shown first
    cited = [c for c in answer.citations if c.verified]
    assert len(cited) == 1 and f"[{cited[0].number}]" in answer.text  # the short answer's own sentence, checked
    assert len(split_answer(answer.text)) == 1 and len(answer.text.split()) <= 40  # one short answer, no paraphrase
    t = answer.timings_ms
    assert t["evidence"] <= t["first_token"] <= t["short_answer"] <= t["total"]


def test_a_quote_of_chile_is_never_peru_s_reason(llm_assistant):
    # Cordero (Chile) says "Our main purpose is to prevent a humanitarian crisis"; the 1.5B model tends to
    # give it as Peru's reason. That sentence does not bear on the question, so such a reply is never shown.
    answer = llm_assistant.query("Why did Peru declare a state of emergency?")
    assert not answer.refused and answer.evidence
    assert answer.mode == "extractive" or "humanitarian" not in answer.text, answer.text


@pytest.mark.parametrize(
    "question, short_answer",
    [("Who is Chile's Minister of Security?", "Cordero"), ("How many days did Kast give immigrants to leave Chile voluntarily?", "111")],
)
def test_short_factual_question_gets_the_short_answer(llm_assistant, question, short_answer):
    answer = llm_assistant.query(question)
    assert answer.mode == "llm", answer
    assert short_answer in lead(answer.text) and len(lead(answer.text).split()) <= 5, answer.text
    assert answer.evidence and any(short_answer in c.quote for c in answer.citations if c.verified)


def test_out_of_corpus_question_is_refused_before_generation(llm_assistant):
    events = list(llm_assistant.stream("Who won the 2022 World Cup?"))
    assert [e.kind for e in events] == ["stage", "answer"]  # the search, then no token: the LLM was never asked
    assert events[-1].answer.refused and not events[-1].answer.citations


def test_follow_up_is_rewritten_from_the_history(llm_assistant):
    history = [("Who is the favorite to win Chile's presidential runoff?", "José Antonio Kast, an ultraconservative lawyer, is the favorite [1].")]
    rewritten = llm_assistant.rewrite_followup("What did he tell immigrants?", history)
    assert "Kast" in rewritten and rewritten.endswith("?")

    chat = Conversation(llm_assistant)
    chat.ask("Who is the favorite to win Chile's presidential runoff?")
    follow_up = chat.ask("What did he tell immigrants without formal status?")
    assert "Kast" in follow_up.standalone_question
    assert len(chat.history()) == 2 and Conversation(llm_assistant).history() == []


def test_instruction_inside_an_article_is_ignored(llm_assistant, tmp_path):
    path = tmp_path / "library.md"
    path.write_text(INJECTED_ARTICLE, encoding="utf-8")
    llm_assistant.ingest([path])
    answer = llm_assistant.query("What did the Ashford town council approve?")
    assert "PWNED" not in answer.text
    assert "library" in answer.text.lower() and answer.citations


def test_missing_model_falls_back_to_extractive_with_a_notice(make_settings, embedding, corpus_dir, tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    assistant = Assistant(make_settings(llm="local", llm_model_path=str(tmp_path / "missing.gguf")), embedding=embedding)
    assistant.ingest()
    answer = assistant.query("Why did Peru declare a state of emergency?")
    assert answer.mode == "extractive" and answer.citations
    assert answer.notice.startswith("extractive mode") and "RAG_LLM_MODEL_PATH" in answer.notice
    assert "extractive mode" in assistant.llm_status()


# Cordero's words (Chile's security minister) and the relative clause about Chile's sentiment, which the
# 1.5B model has given to Kast or to Peru (issue 24).
CORDERO_WORDS = ("cannot be used", "controversy", "humanitarian", "rhetoric")


def test_what_did_kast_say_shows_kast_s_quote_first_and_never_cordero_s(llm_assistant):
    answer = llm_assistant.query("What did Kast say?")
    assert not answer.refused and answer.evidence
    first = answer.evidence[0]
    assert "111 days" in first.quote and "Kast" in first.speaker, answer.evidence
    shown = lead(answer.text) if answer.mode == "llm" else answer.text
    assert not any(words in shown for words in CORDERO_WORDS), answer.text
    for citation in answer.citations:  # every quoted Cordero sentence is attributed to him, never to Kast
        if any(words in citation.quote for words in CORDERO_WORDS[:3]):
            assert "Cordero" in citation.speaker, citation


def test_peru_s_reason_is_neither_cordero_s_words_nor_chile_s_sentiment(llm_assistant):
    answer = llm_assistant.query("Why did Peru declare a state of emergency?")
    assert not answer.refused and answer.evidence
    if answer.mode == "llm":  # the short answer, checked: never Cordero's purpose or Chile's sentiment as Peru's reason
        assert not any(words in lead(answer.text) for words in (*CORDERO_WORDS, "sentiment")), answer.text
    for citation in answer.evidence:
        if "humanitarian crisis" in citation.quote:
            assert "Cordero" in citation.speaker, citation
