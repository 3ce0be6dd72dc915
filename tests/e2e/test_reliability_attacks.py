"""Short run of benchmarks/reliability_attacks.py: issue 25's crafted inputs through the CLI, each one line, no traceback."""

import pytest
from helpers import load_benchmark


@pytest.mark.slow
def test_every_crafted_input_gets_its_one_line_and_no_traceback(tmp_path):
    module = load_benchmark("reliability_attacks")
    result = module.run(bomb_lines=300_000, workdir=tmp_path)
    failed = [row for row in result["rows"] if not row["ok"]]
    assert not failed, failed
    assert len(result["rows"]) == 16 and "16 of 16 cases as expected" in module.table(result)
