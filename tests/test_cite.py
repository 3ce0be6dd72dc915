"""Citation checking of generated text against real passages, with the real embedding model."""

import datetime as dt

import pytest

from rag.answer import ExtractiveAnswerer
from rag.cite import CitationVerifier, split_answer
from rag.generate import NO_DIRECT_ANSWER_NOTICE, UNVERIFIED_NOTICE, LLMAnswerer
from rag.types import Passage, ScoredPassage

ARTICLE = (
    "The harbour of Port Vale reopened on Friday after a storm closed it for nine days. "
    "Repairs to the north pier will cost 3 million euros, the port authority said.\n\n"
    "A weather satellite built in Toulouse was launched on Tuesday aboard an Ariane 6 rocket."
)


def hits():
    first_end = ARTICLE.index("\n\n")
    second_start = first_end + 2
    return [
        ScoredPassage(Passage("a#0", "a", ARTICLE[:first_end], 0, first_end, "Harbour reopens", dt.date(2025, 10, 3), "coast"), 0.9),
        ScoredPassage(Passage("a#1", "a", ARTICLE[second_start:], second_start, len(ARTICLE), "Harbour reopens", dt.date(2025, 10, 3), "coast"), 0.5),
    ]


@pytest.fixture
def verifier(embedding):
    return CitationVerifier(embedding)


def test_split_answer_reads_markers():
    assert split_answer("It reopened on Friday [1]. Repairs cost 3 million euros [1][2]. Done [3, 4].") == [
        ("It reopened on Friday.", [1]),
        ("Repairs cost 3 million euros.", [1, 2]),
        ("Done.", [3, 4]),
    ]


def test_supported_sentence_keeps_its_citation_and_span(verifier):
    checked = verifier.check("The harbour reopened on Friday after a nine-day storm closure [1].", hits())
    assert checked.unsupported == [] and len(checked.citations) == 1
    citation = checked.citations[0]
    assert citation.verified is True and citation.number == 1
    assert ARTICLE[citation.start : citation.end] == citation.quote
    assert citation.quote.startswith("The harbour of Port Vale reopened on Friday")
    assert checked.text.endswith("[1]")


def test_bogus_marker_is_removed_and_claim_recited(verifier):
    checked = verifier.check("A satellite was launched on an Ariane 6 rocket [7].", hits())
    assert "[7]" not in checked.text and checked.text.endswith("[1]")
    assert checked.citations[0].passage.startswith("A weather satellite")  # the passage that supports it


def test_wrong_citation_is_moved_to_the_supporting_passage(verifier):
    checked = verifier.check("Repairs to the north pier will cost 3 million euros [2].", hits())
    assert len(checked.citations) == 1 and "3 million euros" in checked.citations[0].quote


def test_unsupported_sentence_is_listed_and_uncited(verifier):
    text = "The harbour reopened on Friday [1]. The mayor resigned over a corruption scandal in Madrid [1]."
    checked = verifier.check(text, hits())
    assert checked.unsupported == ["The mayor resigned over a corruption scandal in Madrid."]
    assert checked.text.endswith("Madrid.") and checked.text.count("[1]") == 1


def test_generated_dont_say_and_unverifiable_text_fall_back_to_the_passages(embedding, verifier):
    answerer = LLMAnswerer(llm=None, verifier=verifier, fallback=ExtractiveAnswerer(embedding), model_name="test")
    no_answer = answerer.finish("When did the harbour reopen?", "The articles don't say.", hits())
    assert not no_answer.refused and no_answer.mode == "extractive" and no_answer.citations
    assert no_answer.notice == NO_DIRECT_ANSWER_NOTICE

    fallback = answerer.finish("When did the harbour reopen?", "Bananas are an excellent source of potassium [1].", hits())
    assert fallback.mode == "extractive" and fallback.notice == UNVERIFIED_NOTICE and fallback.citations

    good = answerer.finish("When did the harbour reopen?", "It reopened on Friday after the storm [1].", hits())
    assert good.mode == "llm" and good.citations[0].verified and good.text.endswith("[1]")


def test_llm_reads_the_best_sentences_grouped_under_their_passages(embedding, verifier):
    """``llm_context_sentences`` shows the LLM only the best-matching sentences, renumbering passages."""
    answerer = LLMAnswerer(None, verifier, ExtractiveAnswerer(embedding), context_sentences=1)
    shown, excerpts = answerer.excerpts("Which rocket launched the weather satellite?", hits())
    assert [h.passage.id for h in shown] == ["a#1"]  # the harbour passage had no chosen sentence
    assert excerpts == ["A weather satellite built in Toulouse was launched on Tuesday aboard an Ariane 6 rocket."]

    answerer.context_sentences = 3
    shown, excerpts = answerer.excerpts("What did the harbour repairs cost after the storm?", hits())
    assert [h.passage.id for h in shown] == ["a#0", "a#1"]  # reading order of the retrieval ranking
    assert excerpts[0] == ARTICLE[: ARTICLE.index("\n\n")]  # adjacent sentences joined without a gap mark

    answerer.context_sentences = 0
    assert answerer.excerpts("anything", hits()) == (hits(), None)


def test_excerpts_replace_the_passage_text_in_the_prompt():
    from rag.prompts import format_passages

    text = format_passages(hits()[:1], ["First sentence. … Third sentence."])
    assert '[1] Harbour reopens (2025-10-03, coast)\n"""\nFirst sentence. … Third sentence.\n"""' == text


def test_a_sentence_repeated_by_overlapping_chunks_is_shown_once(embedding, verifier):
    first_end = ARTICLE.index("\n\n")
    overlapping = [*hits(), ScoredPassage(Passage("a#2", "a", ARTICLE[:first_end], 0, first_end, "Harbour reopens", dt.date(2025, 10, 3), "coast"), 0.4)]
    answerer = LLMAnswerer(None, verifier, ExtractiveAnswerer(embedding), context_sentences=4)
    shown, excerpts = answerer.excerpts("What did the harbour repairs cost after the storm?", overlapping)
    assert sum(e.count("north pier") for e in excerpts) == 1
    assert "a#2" not in [h.passage.id for h in shown]
