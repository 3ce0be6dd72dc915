"""Who said it and who did what to whom (rag.answer.roles), through check_claim as the citation check calls it."""

import pytest

from rag.answer.claims import capitalised_words, check_claim
from rag.answer.roles import asked_speaker, clauses
from rag.settings import load_settings

JARI = (
    "President José Jarí of Peru said his government on Friday would declare a state of emergency along the country's "
    "southern border and deploy more armed forces to the area as a large number of Venezuelan migrants venture north "
    "from Chile, where anti-immigrant sentiment has surged during a fraught presidential campaign."
)
CORDERO = "\u201cPeople cannot be used as a means to create controversy for the elections,\u201d he said."
CORDERO_2 = "\u201cOur main purpose is to prevent a humanitarian crisis.\u201d"
KAST = "\u201cYou have 111 days to leave Chile voluntarily,\u201d he said in the ad."


def verdict(claim, sentence, speaker, asked=""):
    return check_claim(
        claim, sentence, min_support=load_settings().citation.cite_min_support,
        names_elsewhere=capitalised_words([sentence]), speaker=speaker, asked=asked,
    )


@pytest.mark.parametrize(
    "claim, sentence, speaker",
    [
        ("Kast said that people cannot be used as a means to create controversy for the elections.", CORDERO, "Luis Cordero"),
        ("Peru said people cannot be used as a means to create controversy for the elections.", CORDERO, "Luis Cordero"),
        ("Cordero said immigrants have 111 days to leave Chile voluntarily.", KAST, "José Antonio Kast"),
        ("The government declared a state of emergency to prevent a humanitarian crisis.", CORDERO_2, "Luis Cordero"),
        ("Peru's main purpose is to prevent a humanitarian crisis.", CORDERO_2, "Luis Cordero"),  # a quote stated as fact
    ],
)
def test_words_given_to_someone_else_fail(claim, sentence, speaker):
    result = verdict(claim, sentence, speaker)
    assert result.outcome == "fail", result


@pytest.mark.parametrize(
    "claim, sentence, speaker",
    [
        ("Cordero said that people cannot be used as a means to create controversy for the elections.", CORDERO, "Luis Cordero"),
        ("Kast said you have 111 days to leave Chile voluntarily.", KAST, "José Antonio Kast"),
        ("Jarí said his government would declare a state of emergency.", JARI, "José Jarí of Peru"),
    ],
)
def test_words_given_to_their_speaker_pass_even_after_he_said(claim, sentence, speaker):
    assert verdict(claim, sentence, speaker).outcome == "pass"


def test_a_quote_answers_what_its_speaker_said():
    claim = "Our main purpose is to prevent a humanitarian crisis."
    assert verdict(claim, CORDERO_2, "Luis Cordero", asked="Cordero").outcome == "pass"
    assert verdict(claim, CORDERO_2, "Luis Cordero", asked="Peru").outcome == "fail"


def test_subject_and_object_in_different_clauses_is_a_role_conflict():
    result = verdict("The government was responding to anti-immigrant sentiment.", JARI, "José Jarí of Peru")
    assert result.outcome == "undecided" and result.reason.startswith("role"), result  # final in cite.py and short.py
    # Within one clause the same words pass, and a relative clause set off by commas does not split its clause.
    assert verdict("His government would declare a state of emergency along the southern border.", JARI, "").outcome == "pass"
    assert verdict("Kast warned migrants to leave.", "Kast, who leads the polls, warned migrants to leave.", "Kast").outcome == "pass"
    assert clauses("Kast, who leads the polls, warned migrants to leave.") == ["Kast warned migrants to leave.", "leads the polls"]


@pytest.mark.parametrize(
    "question, speaker",
    [("What did Kast say?", "Kast"), ("What has Luis Cordero said about the elections?", "Luis Cordero"),
     ("What was Kast's warning?", "Kast"), ("Why did Peru declare a state of emergency?", ""),
     ("How many days did Kast give immigrants?", "")],
)
def test_the_speaker_a_question_asks_about(question, speaker):
    assert asked_speaker(question) == speaker


def test_names_exchanged_around_the_same_words_are_a_role_swap():
    sentence = "The meal kit company said it had secured Series D funding that valued Daily Harvest at over $1 billion."
    swapped = "The meal kit company said it had secured Daily Harvest D funding that valued Series at over $1 billion."
    assert verdict(swapped, sentence, "company").reason.startswith("role"), verdict(swapped, sentence, "company")
    assert verdict("Biden met Macron in Paris on Monday.", "Macron met Biden in Paris on Monday.", "").reason.startswith("role")
    # A name moved with its own words, or a name added, is no exchange.
    assert verdict("Peru's President Jarí said his government would declare a state of emergency.", JARI, "José Jarí of Peru").outcome == "pass"
    assert verdict(sentence, sentence, "company").outcome == "pass"


def test_a_name_exchanged_with_a_common_noun_phrase_is_a_role_swap():
    # Exchanging an actor named by a common noun ("the council") with a named one keeps every word of the
    # sentence; only the places tell the roles apart.
    sentence = "The council rejected the plan, and then Lopez resigned."
    swapped = verdict("Lopez rejected the plan, and then the council resigned.", sentence, "")
    assert swapped.outcome == "undecided" and "role swap" in swapped.reason, swapped
    assert verdict("The council rejected the plan, and then Lopez resigned.", sentence, "").outcome == "pass"
    # A name moved with its own words, or a word merely dropped beside it, is no exchange.
    assert "role swap" not in verdict("Then Lopez resigned after the council rejected the plan.", sentence, "").reason
    assert verdict("The council rejected the plan, and Lopez resigned.", sentence, "").outcome == "pass"
