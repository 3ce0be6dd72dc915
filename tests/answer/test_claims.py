"""The claim check's number reader (``rag/answer/claims.py``): a lone digit is a number, and "one" is one
where it counts something, not in "one of" or as a pronoun. (The other cheap checks are tested on
claim/sentence pairs in ``test_cite.py``.)"""

import pytest

from rag.answer.claims import check_claim
from rag.answer.quantities import numbers_in


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("The fund lost 1 trillion dollars in a year.", {"1", "trillion"}),
        ("One firefighter was hurt and 1,200 homes lost power.", {"1", "1200"}),
        ("Only one bridge was left standing.", {"1"}),
        ("One million people left the city.", {"1", "million"}),
        ("He was the 1st person to vote.", {"1st"}),
        ("Peru is one of the most stable nations, with 12 ministries.", {"12"}),  # "one of": not a count
        ("No one was hurt, and the one who called stayed.", set()),  # pronouns
        ("One day he left; at one point the crowd cheered one another.", set()),  # idioms
        ("The first vote came in the second week.", set()),  # adverb, unit of time
        ("The group said it was one.", set()),  # nothing counted after it
    ],
)
def test_lone_digits_are_numbers_and_one_only_where_it_counts(text, numbers):
    assert numbers_in(text) == numbers


def test_soft_readings_are_what_a_sentence_may_state():
    assert numbers_in("one of the first voters", soft=True) == {"1", "1st"}
    assert numbers_in("one of the first voters") == set()


@pytest.mark.parametrize(
    ("claim", "sentence", "reason"),
    [
        # A changed lone digit (the constructed conflicts of benchmarks/corroboration.py).
        ("The storm caused 1 trillion dollars of damage, the agency said.",
         "The storm caused 8 trillion dollars of damage, the agency said.", "number '1'"),
        ("One firefighter was injured in the blaze on Main Street.",
         "Two firefighters were injured in the blaze on Main Street.", "number '1'"),
        ("Prosecutors filed 1 count of fraud against the mayor.",
         "Prosecutors filed 4 counts of fraud against the mayor.", "number '1'"),
    ],
)  # fmt: skip
def test_a_changed_lone_digit_or_counted_one_fails(claim, sentence, reason):
    verdict = check_claim(claim, sentence, min_support=0.5)
    assert verdict.outcome == "fail" and reason in verdict.reason, verdict


@pytest.mark.parametrize(
    ("claim", "sentence"),
    [
        ("1 person died in the fire at the warehouse.", "One person died in the fire at the warehouse."),
        ("One person died in the fire at the warehouse.", "1 person died in the fire at the warehouse."),
        ("Peru is one of the most stable nations in the region.", "Peru is among the most stable nations in the region."),
        ("No one was hurt in the fire at the warehouse.", "Nobody was hurt in the fire at the warehouse."),
        ("It was the 1st vote of the new council.", "It was the first vote of the new council."),
    ],
)
def test_the_same_count_written_otherwise_or_no_count_passes(claim, sentence):
    verdict = check_claim(claim, sentence, min_support=0.5)
    assert verdict.outcome == "pass", verdict
