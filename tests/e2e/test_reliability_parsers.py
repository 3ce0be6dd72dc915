"""Short run of benchmarks/reliability_parsers.py: generated inputs through every parser (Hypothesis)."""

import pytest
from helpers import load_benchmark

pytest.importorskip("hypothesis", reason="hypothesis not installed: pip install -e '.[test]'")


def _module():
    return load_benchmark("reliability_parsers")


def test_generated_inputs_never_escape_and_rejected_input_never_changes_the_index(tmp_path, embedding):
    module = _module()
    result = module.run(40, seed=1, workdir=tmp_path, embedding=embedding)
    rows = result["rows"]
    assert set(rows) == set(module.KINDS)
    assert sum(r["examples"] for r in rows.values()) >= 300
    assert sum(r["unhandled"] for r in rows.values()) == 0, result["problems"]
    assert sum(r["index_changes"] for r in rows.values()) == 0, result["problems"]
    # The generators reach both sides: every kind produced failures, and most produced articles too.
    assert all(r["failures"] > 0 for r in rows.values()), rows
    assert sum(1 for r in rows.values() if r["articles"] > 0) >= 6, rows
    assert sum(r["rejected"] for r in rows.values()) > 0
    assert "total" in module.table(result)
