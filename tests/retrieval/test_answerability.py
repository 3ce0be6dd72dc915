"""The answerability model: its signals on a real store and model, and the logistic regression read from JSON."""

import json
import math

import pytest

from rag.assistant import Assistant
from rag.retrieval.answerability import BUNDLED, FEATURES, AnswerabilityModel, names

STORIES = [
    ("s1", "Harbour reopens after storm", "2025-10-03", "coast.example", "The harbour of Port Vale reopened on Friday after a storm closed it for nine days. Repairs to the north pier will cost 3 million euros."),
    ("s2", "New satellite launched", "2025-09-20", "space.example", "A weather satellite built in Toulouse was launched on Tuesday from French Guiana aboard an Ariane 6 rocket."),
]


def test_names_are_capitalised_words_inside_a_sentence_acronyms_and_numbers():
    assert names("Which rocket carried the satellite built in Toulouse for ESA in 2025?") == {"toulouse", "esa", "2025"}
    assert names("Kast won. Who lost to Kast?") == {"kast"}  # the first word of a sentence is not a name by its capital


def test_the_model_is_a_logistic_regression_over_standardised_signals(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"features": ["similarity", "coverage"], "mean": [0.5, 0.5], "scale": [0.1, 0.5],
                                "coef": [2.0, -1.0], "intercept": 0.5, "threshold": 0.3}), encoding="utf-8")  # fmt: skip
    model = AnswerabilityModel.load(path)
    z = 0.5 + 2.0 * (0.7 - 0.5) / 0.1 - 1.0 * (0.0 - 0.5) / 0.5
    assert model.probability({"similarity": 0.7, "coverage": 0.0}) == pytest.approx(1 / (1 + math.exp(-z)))
    assert model.threshold == 0.3


def test_the_bundled_model_reads_every_signal_and_separates_in_from_out_of_corpus(make_settings, embedding, tmp_path):
    bundled = json.loads(BUNDLED.read_text(encoding="utf-8"))
    assert set(bundled["features"]) <= set(FEATURES) and len(bundled["coef"]) == len(bundled["features"])
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "date": d, "source": s, "text": x}) for i, t, d, s, x in STORIES), encoding="utf-8")
    assistant = Assistant(make_settings(refusal_rule="model"), embedding=embedding)
    assistant.ingest([path])
    inside = assistant.retrieve("Which rocket carried the weather satellite built in Toulouse?")
    outside = assistant.retrieve("Which country won the Eurovision Song Contest in Basel?")
    assert set(inside.signals) == set(FEATURES)
    assert inside.signals["missing_names"] == 0.0 and outside.signals["missing_names"] == 1.0
    assert outside.signals["unknown_terms"] > inside.signals["unknown_terms"]
    assert inside.answerability > outside.answerability
    assert not inside.weak and outside.weak
