import pytest
from pydantic import ValidationError

from helpers import REPO

from rag.settings import load_settings


def test_defaults_come_from_the_packaged_toml(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.top_k == 5 and settings.retrieval_mode == "hybrid" and settings.host == "127.0.0.1"
    assert settings.data_dir == tmp_path / "data"  # relative paths resolve against the working directory


def test_working_directory_toml_then_env_then_arguments(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('top_k = 7\ndata_dir = "store"\ncollection = "mine"\n', encoding="utf-8")
    assert load_settings().top_k == 7 and load_settings().data_dir == tmp_path / "store"
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_CHROMA_HOST", "db.internal")
    settings = load_settings()
    assert (settings.top_k, settings.chroma_host, settings.collection) == (9, "db.internal", "mine")
    assert load_settings(top_k=3).top_k == 3


def test_config_file_from_env_and_validation(monkeypatch, tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text('llm = "openai"\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    assert load_settings().llm == "openai"
    monkeypatch.setenv("RAG_RETRIEVAL_MODE", "magic")
    with pytest.raises(ValidationError):
        load_settings()


def test_every_field_is_documented():
    from rag.settings import Settings

    assert all(field.description for field in Settings.model_fields.values())
    toml_keys = {line.split("=")[0].strip() for line in (REPO / "rag" / "rag.toml").read_text().splitlines() if "=" in line and not line.startswith("#")}
    assert toml_keys == set(Settings.model_fields)


def test_each_field_is_in_exactly_one_stage_group_with_the_same_value():
    import dataclasses

    from rag.settings import GROUPS, Settings

    names = [f.name for group in GROUPS.values() for f in dataclasses.fields(group)]
    assert sorted(names) == sorted(Settings.model_fields)  # every field, none twice
    settings = load_settings(top_k=8, cite_min_support=0.9, port=7000)
    assert settings.retrieval.top_k == 8 and settings.citation.cite_min_support == 0.9 and settings.web.port == 7000
    for group in GROUPS.values():  # the groups carry no defaults of their own: rag.toml is the one set
        assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(group)), group.__name__


def test_flat_env_names_reach_the_groups(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_TOP_K", "8")
    monkeypatch.setenv("RAG_LLM", "extractive")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings()
    assert settings.retrieval.top_k == 8 and settings.answer.llm == "extractive"
    assert settings.storage.data_dir == tmp_path / "elsewhere"


def test_stage_constructors_have_no_defaults_for_settings():
    """A stage built outside the Assistant must not quietly use a second set of defaults."""
    import inspect

    from rag.answer.extractive import ExtractiveAnswerer
    from rag.ingest.chunk import Chunker
    from rag.answer.cite import CitationVerifier
    from rag.ingest.corpus import load_sources
    from rag.answer.entail import EntailmentJudge
    from rag.eval.run import parse_configs
    from rag.answer.generate import LLMAnswerer
    from rag.ingest.pipeline import Ingestor
    from rag.retrieval.lexical import LexicalIndex
    from rag.llm.factory import make_llm
    from rag.retrieval.hybrid import HybridRetriever
    from rag.settings import Settings

    # Parameter names that stand for a setting under another name.
    aliases = {"context_sentences", "default_half_life", "max_terms", "min_yes", "max_bytes", "timeout_s"}
    stages = [
        ExtractiveAnswerer.__init__, Chunker.__init__, CitationVerifier.__init__, load_sources, EntailmentJudge.__init__,
        parse_configs, LLMAnswerer.__init__, Ingestor.__init__, LexicalIndex.coverage, make_llm, HybridRetriever.__init__,
    ]  # fmt: skip
    for stage in stages:
        for name, parameter in inspect.signature(stage).parameters.items():
            if name in Settings.model_fields or name in aliases:
                assert parameter.default is inspect.Parameter.empty, f"{stage.__qualname__}({name}=...)"
