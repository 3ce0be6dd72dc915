"""Speaker attribution at index time (rag.ingest.speakers), on the bundled sample article and short texts."""

import pytest

from rag.answer.sentences import sentence_tokenizer
from rag.ingest.clean import clean_article_text
from rag.ingest.speakers import attribute, decode, encode, same_speaker, speaker_at, speaker_of_claim, speakers_of
from rag.types import Passage
from helpers import SAMPLE_ARTICLE


@pytest.fixture(scope="module")
def sample():
    text = clean_article_text(SAMPLE_ARTICLE.read_text(encoding="utf-8")).text
    return text, attribute(text, sentence_tokenizer())


def speaker_of_sentence(text, spans, words):
    start = text.index(words)
    return speaker_at([(s.start, s.end, s.speaker) for s in spans], start, start + len(words))


@pytest.mark.parametrize(
    "words, speaker",
    [
        ("You have 111 days to leave Chile voluntarily", "Kast"),  # "he said", after "He filmed ..., warning"
        ("we will detain you", "Kast"),  # the quote's next sentence, no attribution of its own
        ("rhetoric sometimes has consequences", "Cordero"),  # "Chilean Minister of Security Luis Cordero responded that"
        ("People cannot be used as a means", "Cordero"),  # "he said" after Cordero spoke
        ("Our main purpose is to prevent a humanitarian crisis", "Cordero"),  # continues Cordero's quote
        ("would declare a state of emergency", "Jarí"),  # "President José Jarí of Peru said"
    ],
)
def test_each_quote_of_the_sample_has_its_speaker(sample, words, speaker):
    text, spans = sample
    assert speaker in speaker_of_sentence(text, spans, words)


def test_sentences_that_report_no_speech_have_no_speaker(sample):
    text, spans = sample
    assert speaker_of_sentence(text, spans, "Soon Peruvian media was awash with images") == ""
    assert speaker_of_sentence(text, spans, "Hundreds of thousands of migrants escaping crises") == ""


def test_organisations_groups_and_inverted_attributions():
    text = (
        "The Pentagon said the drills would continue. Prices rose 3%, according to the Labor Department. "
        "\u201cWe are ready,\u201d said Maria Lopez, the mayor. Police said two men were arrested. "
        "Senator Tom Hill, who chairs the committee, warned that funding would run out."
    )
    got = [s.speaker for s in attribute(text, sentence_tokenizer())]
    assert got == ["Pentagon", "Labor Department", "Maria Lopez", "police", "Tom Hill"]


def test_a_claim_s_speaker():
    assert speaker_of_claim("Kast said that people cannot be used for the elections.") == "Kast"
    assert speaker_of_claim("Immigrants have 111 days to leave, Kast warned.") == "Kast"
    assert speaker_of_claim("He warned immigrants.") == ""  # speech, by nobody named
    assert speaker_of_claim("Peru deployed troops to the border.") is None  # no speech at all
    assert same_speaker("Kast", "José Antonio Kast") and same_speaker("Peru", "José Jarí of Peru")
    assert not same_speaker("Kast", "Luis Cordero")


def test_spans_round_trip_through_metadata_and_are_computed_for_older_passages(sample):
    text, spans = sample
    stored = tuple((s.start, s.end, s.speaker) for s in spans)
    assert decode(encode(stored)) == stored and decode(None) is None and decode("not json") is None
    start = text.index("When asked how the statements")
    passage = Passage("a#9", "a", text[start:], start, len(text))  # indexed before attribution: speakers None
    computed = speakers_of(passage, sentence_tokenizer())
    assert [p for _, _, p in computed] == ["Luis Cordero"] * 3
    assert [(s, e) for s, e, _ in computed] == [(s, e) for s, e, _ in stored if s >= start]
