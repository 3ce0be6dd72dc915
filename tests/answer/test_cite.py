"""Citation checking of generated text against real passages, with the real embedding model.

The cheap checks (``rag/answer/claims.py``) are tested on hand-written claim/sentence pairs, one per kind of
corruption; the verifier on real passages; the LLM judge (``rag/answer/entail.py``) and the whole chat with
the bundled 1.5B model on the Peru/Chile follow-up of issue 10 (tests marked ``llm``).
"""

import datetime as dt
import re

import pytest

from rag.answer.cite import CitationVerifier, split_answer
from rag.answer.claims import capitalised_words, check_claim
from rag.settings import load_settings
from rag.types import Passage, ScoredPassage

from helpers import SAMPLE_ARTICLE

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


def make_verifier(embedding, judge=None):
    return CitationVerifier(embedding, load_settings().citation, judge=judge)


@pytest.fixture
def verifier(embedding):
    return make_verifier(embedding)


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


# --- the cheap checks (rag/answer/claims.py) --------------------------------------------------------------

PERU = (
    "President José Jarí of Peru said his government on Friday would declare a state of emergency along the "
    "country's southern border and deploy more armed forces to the area as a large number of Venezuelan "
    "migrants venture north from Chile, where anti-immigrant sentiment has surged during a fraught presidential campaign."
)
KAST = "On Friday, Kast released a new video repeating his warning to immigrants and urging Boric to intervene."
PIER = "Repairs to the north pier will cost 3 million euros, the port authority said."


def cheap(claim, sentence):
    return check_claim(claim, sentence, min_support=load_settings().citation.cite_min_support, names_elsewhere=capitalised_words([sentence]))


@pytest.mark.parametrize(
    "claim, sentence, reason",
    [
        ("President Boric said his government would deploy more armed forces to the border.", PERU, "name 'boric'"),  # entity
        ("Repairs to the north pier will cost 4 million euros.", PIER, "number '4'"),  # number
        ("Repairs to the north pier will cost 3 billion euros.", PIER, "number 'billion'"),  # order of magnitude
        ("On Thursday, Kast released a new video urging Boric to intervene.", KAST, "date 'thursday'"),  # date
        ("Peru's government would not declare a state of emergency along its southern border.", PERU, "negated"),  # negation
        ("Kast did not release a new video on Friday.", KAST, "negated"),
        # a negation elsewhere in the sentence does not cover the claim's
        ("Kast is not urging Boric to act.", "Kast is urging Boric to act, which is nothing new.", "negated"),
        ("It caused 65% of new infections, the CDC said.", "It caused 65% of new infections, the WHO said.", "name 'cdc'"),  # acronyms
    ],
)
def test_cheap_checks_fail_a_claim_the_sentence_contradicts(claim, sentence, reason):
    verdict = cheap(claim, sentence)
    assert verdict.outcome == "fail" and reason in verdict.reason, verdict


@pytest.mark.parametrize(
    "claim, sentence",
    [
        ("The Chilean government declared a state of emergency along the country's southern border and deployed more armed forces.", PERU),
        ("Boric urged Kast to intervene.", KAST),  # subject and object exchanged
    ],
)
def test_a_name_in_another_role_is_not_passed_by_the_cheap_checks(claim, sentence):
    verdict = cheap(claim, sentence)
    assert verdict.outcome == "undecided" and "role" in verdict.reason, verdict


@pytest.mark.parametrize(
    "claim, sentence",
    [
        ("Peru declared a state of emergency along its southern border and deployed more armed forces.", PERU),
        ("Peruvian President Jarí said his government would declare a state of emergency on Friday.", PERU),
        ("Kast urged Boric to intervene in a new video on Friday.", KAST),
        ("Repairs to the north pier will cost three million euros.", PIER),
    ],
)
def test_cheap_checks_pass_a_faithful_paraphrase(claim, sentence):
    assert cheap(claim, sentence).outcome == "pass"


def test_a_reworded_claim_is_left_to_the_judge_not_failed():
    verdict = cheap("Fixing the north pier is going to cost three million euros.", PIER)
    assert verdict.outcome == "undecided" and "words" in verdict.reason


# --- the verifier: cheap checks, judge routing, short answers --------------------------------------


def sample_hits():
    text = SAMPLE_ARTICLE.read_text(encoding="utf-8")
    start = text.index("President José Jarí")
    end = text.index("\n", start)
    return [ScoredPassage(Passage("s#0", "s", text[start:end], start, end, "Peru border", dt.date(2025, 11, 28), "apnews.com"), 0.9)]


CHILE_CLAIM = (
    "The Chilean government declared a state of emergency along the country's southern border "
    "and deployed more armed forces to the area [1]."
)
PERU_CLAIM = "Peru's government declared a state of emergency along the country's southern border and deployed more armed forces [1]."


def test_without_a_judge_the_swapped_subject_is_not_verified(verifier):
    checked = verifier.check(CHILE_CLAIM, sample_hits())
    assert checked.citations == [] and "[1]" not in checked.text and checked.unsupported == [CHILE_CLAIM[:-5] + "."]
    good = verifier.check(PERU_CLAIM, sample_hits())
    assert good.unsupported == [] and good.citations[0].verified and good.text.endswith("[1]")


def test_corrupted_claims_are_unsupported_and_never_verified(verifier):
    for claim in ("Repairs to the north pier will cost 5 million euros [1].", "The harbour reopened on Monday after the storm [1].",
                  "The harbour of Port Vale did not reopen on Friday [1]."):
        checked = verifier.check(claim, hits())
        assert checked.citations == [] and len(checked.unsupported) == 1, (claim, checked)


class RecordingJudge:
    """Pure routing logic: which claims reach the judge, and what its answer does."""

    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    def states(self, claim, sentence, question=None):
        self.asked.append((claim, sentence, question))
        return self.answer


def test_only_undecided_claims_reach_the_judge_and_its_no_is_final(embedding):
    judge = RecordingJudge(False)
    verifier = make_verifier(embedding, judge)
    reworded = "Fixing the north pier is going to cost three million euros."
    checked = verifier.check(f"Repairs to the north pier will cost 3 million euros [1]. {reworded[:-1]} [1]. {CHILE_CLAIM}", hits() + sample_hits())
    assert [claim for claim, _, _ in judge.asked] == [reworded]  # verbatim passed, role conflict failed without it
    assert len(checked.citations) == 1 and checked.unsupported == [reworded, CHILE_CLAIM[:-5] + "."]
    failed = verifier.check("Repairs to the north pier will cost 9 million euros [1].", hits())
    assert len(judge.asked) == 1 and failed.unsupported  # a cheap failure never reaches the judge

    yes = make_verifier(embedding, RecordingJudge(True))
    assert yes.check("Fixing the north pier is going to cost three million euros [1].", hits()).citations[0].verified


def test_short_answer_is_checked_against_the_question(verifier, embedding):
    question = "When did the harbour of Port Vale reopen?"
    checked = verifier.check("Friday [1]. The harbour reopened after a storm closed it for nine days [1].", hits(), question=question)
    assert checked.text == "Friday. [1] The harbour reopened after a storm closed it for nine days. [1]" and checked.unsupported == []
    assert checked.citations[0].verified and "reopened on Friday" in checked.citations[0].quote
    wrong = verifier.check("Monday [1].", hits(), question=question)
    assert wrong.citations == [] and wrong.unsupported == ["Monday."]
    assert verifier.check("Yes.", hits(), question=question).text == "Yes."  # nothing to check or cite

    judge = RecordingJudge(False)
    judged = make_verifier(embedding, judge).check("Friday [1].", hits(), question=question)
    assert judged.citations == [] and judge.asked[0][2] == question and "Friday" in judge.asked[0][1]


# --- with the bundled 1.5B model ------------------------------------------------------------------


@pytest.mark.llm
def test_llm_judge_rejects_the_chilean_claim_and_accepts_the_peruvian_one(local_llm, embedding):
    from rag.answer.entail import EntailmentJudge

    judge = EntailmentJudge(local_llm, min_yes=load_settings().citation.cite_judge_min_yes)
    verifier = make_verifier(embedding, judge)
    swapped = verifier.check(CHILE_CLAIM, sample_hits())
    assert swapped.citations == [] and swapped.unsupported and "[1]" not in swapped.text
    true = verifier.check(PERU_CLAIM, sample_hits())
    assert true.unsupported == [] and true.citations[0].verified
    # The judge itself, on the sentence alone: the roles matter to it, not just the words.
    sentence = sample_hits()[0].passage.text
    assert judge.p_yes(CHILE_CLAIM[:-5] + ".", sentence) < judge.min_yes <= judge.p_yes(PERU_CLAIM[:-5] + ".", sentence)


@pytest.mark.llm
def test_peru_chile_follow_up_never_shows_the_swapped_claim_as_verified(make_settings, embedding, corpus_dir, local_llm):
    from rag import Assistant, Conversation

    assistant = Assistant(make_settings(llm="local"), embedding=embedding, llm=local_llm)
    assistant.ingest()
    chat = Conversation(assistant)
    first = chat.ask("Why did Peru declare a state of emergency?")
    assert not first.refused and first.citations
    follow_up = chat.ask("What did Chile do about it?")
    for answer in (first, follow_up):
        for sentence in re.split(r"(?<=\]\.)\s+|(?<=\])\s+", answer.text):
            if not re.search(r"\[\d+\]", sentence):
                continue  # not shown as verified
            chile_declared = re.search(r"\bChile(an|'s)?\b[^.]*\bdeclar", sentence) and not re.search(r"\bPer(u|uvian)\b[^.]*\bdeclar", sentence)
            assert not chile_declared, (answer.text, answer.unsupported)
        assert all(c.verified is not False for c in answer.citations)  # quoted evidence (None) or checked (True)


@pytest.mark.llm
@pytest.mark.parametrize(
    "claim",
    [
        "The government was responding to anti-immigrant sentiment. [1]",  # the sentiment is Chile's (issue 24)
        "Kast said that people cannot be used as a means to create controversy for the elections. [1]",  # Cordero's words
        "Peru declared a state of emergency to prevent a humanitarian crisis. [1]",  # Cordero's purpose, given to Peru
    ],
)
def test_the_judge_never_passes_words_or_relations_given_to_the_wrong_party(claim, make_settings, embedding, corpus_dir, local_llm):
    from rag import Assistant
    from rag.answer.entail import EntailmentJudge

    assistant = Assistant(make_settings(llm="local"), embedding=embedding, llm=local_llm)
    assistant.ingest()
    passages = assistant.retrieve("Why did Peru declare a state of emergency? What did Kast and Cordero say?", top_k=10).passages
    judge = EntailmentJudge(local_llm, min_yes=load_settings().citation.cite_judge_min_yes)
    checked = make_verifier(embedding, judge).check(claim, passages, question="Why did Peru declare a state of emergency?")
    assert checked.citations == [] and checked.unsupported, checked
