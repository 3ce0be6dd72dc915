"""The faithfulness benchmark's claim set (``benchmarks/faithfulness.py``): its corruptions must corrupt."""

import random

from helpers import load_benchmark

faithfulness = load_benchmark("faithfulness")


def test_swap_exchanges_names_in_different_roles():
    swapped = faithfulness.corrupt("swap", "The Houston Astros beat the Philadelphia Phillies in six games.", [], random.Random(1))
    assert swapped == "The Philadelphia Phillies beat the Houston Astros in six games."


def test_swap_leaves_items_of_one_list_alone():
    # Exchanging "Finland" and "Sweden" here changes nothing: it would count a true claim as corrupted.
    for sentence in ("NATO invited Finland and Sweden to join the alliance.", "Talks between Ford, GM or Toyota stalled."):
        assert faithfulness.corrupt("swap", sentence, [], random.Random(1)) is None
