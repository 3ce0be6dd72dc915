"""Question spelling correction and language detection (rag/retrieval/spelling.py), on real word lists."""

from __future__ import annotations

import pytest

from rag.retrieval.spelling import Speller, count_words, english_words, model_vocabulary, other_language_message, question_language

ARTICLE = (
    "President José Jerí of Peru said his government would declare a state of emergency along the border "
    "with Chile. Migrants have been stranded at the border for days. The emergency declaration lets the "
    "armed forces support the police. Chile's candidate Kast promised mass deportations of migrants."
)


@pytest.fixture(scope="module")
def speller() -> Speller:
    counts = count_words([ARTICLE])
    return Speller(counts, model_vocabulary(), dictionary=english_words)


def test_misspelt_words_are_corrected_to_the_articles_words(speller):
    fixed = speller.correct("Why did Peur declare a state of emergancy?")
    assert fixed.text == "Why did Peru declare a state of emergency?"
    assert fixed.changes == (("Peur", "Peru"), ("emergancy", "emergency"))


def test_a_correct_question_is_left_alone(speller):
    question = "Why did Peru declare a state of emergency?"
    assert speller.correct(question).text == question
    assert speller.correct(question).changes == ()


def test_real_words_and_names_the_articles_lack_are_never_corrected(speller):
    # "pager" is one letter from "paper"-like words, "Vance" a name, "iPhone" has an inner capital:
    # a question about what the articles do not cover must stay as asked, so that it is refused.
    for question in ("Who made the exploding pager?", "What did Vance say at the border?", "Which iPhone was sold?"):
        assert speller.correct(question).text == question


def test_short_words_and_numbers_are_not_touched(speller):
    assert speller.correct("Did Pru say 2025?").text == "Did Pru say 2025?"


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Por qué Perú declaró el estado de emergencia en la frontera?", "es"),
        ("Warum hat Peru den Ausnahmezustand an der Grenze ausgerufen?", "de"),
        ("Pourquoi le Pérou a-t-il déclaré l'état d'urgence à la frontière ?", "fr"),
        ("Why did Peru declare a state of emergency?", "en"),
        ("Jerí Kast Boric Cordero?", "en"),  # names only: not taken for another language
    ],
)
def test_question_language(speller, question, language):
    assert question_language(question, speller) == language


def test_other_language_message_names_the_language():
    assert "Spanish" in other_language_message("es") and "English" in other_language_message("es")
    assert "xx" in other_language_message("xx")
