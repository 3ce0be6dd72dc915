import pytest
from pydantic import ValidationError

from helpers import REPO

from rag.settings import SettingsError, load_settings


def test_defaults_come_from_the_packaged_toml(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.retrieval.top_k == 5 and settings.retrieval.retrieval_mode == "hybrid" and settings.web.host == "127.0.0.1"
    assert settings.storage.data_dir == tmp_path / "data"  # relative paths resolve against the working directory


def test_working_directory_toml_then_env_then_arguments(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('top_k = 7\ndata_dir = "store"\ncollection = "mine"\n', encoding="utf-8")
    assert load_settings().retrieval.top_k == 7 and load_settings().storage.data_dir == tmp_path / "store"
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_CHROMA_HOST", "db.internal")
    settings = load_settings()
    assert (settings.retrieval.top_k, settings.storage.chroma_host, settings.storage.collection) == (9, "db.internal", "mine")
    assert load_settings(top_k=3).retrieval.top_k == 3


def test_config_file_from_env_and_validation(monkeypatch, tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text('llm = "openai"\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    assert load_settings().answer.llm == "openai"
    monkeypatch.setenv("RAG_RETRIEVAL_MODE", "magic")
    # One line naming the key the user wrote, its variable and the rule (issue 25: was a pydantic traceback).
    with pytest.raises(SettingsError, match=r"setting retrieval_mode \(RAG_RETRIEVAL_MODE or rag.toml\) is 'magic': Input should be 'hybrid'"):
        load_settings()
    with pytest.raises(SettingsError, match="setting top_k .* greater than 0"):
        load_settings(retrieval_mode="dense", top_k=0)


def test_every_field_is_documented():
    from rag.settings import KEYS, Settings

    assert all(field.description for group in Settings.model_fields.values() for field in group.annotation.model_fields.values())
    toml_keys = {line.split("=")[0].strip() for line in (REPO / "rag" / "rag.toml").read_text().splitlines() if "=" in line and not line.startswith("#")}
    assert toml_keys == set(KEYS)


def test_each_field_is_in_exactly_one_stage_group_with_the_same_value():
    from rag.settings import KEYS, Settings

    names = [key for group in Settings.model_fields.values() for key in group.annotation.model_fields]
    assert sorted(names) == sorted(KEYS)  # every key, none twice
    settings = load_settings(top_k=8, cite_min_support=0.9, port=7000)
    assert settings.retrieval.top_k == 8 and settings.citation.cite_min_support == 0.9 and settings.web.port == 7000
    for name, group in Settings.model_fields.items():  # the groups carry no defaults of their own: rag.toml is the one set
        assert group.is_required() and all(f.is_required() for f in group.annotation.model_fields.values()), name


def test_settings_and_groups_are_frozen_and_hashable(tmp_path):
    """``rag._defaults`` keys assistants by Settings, shared models are keyed by a group."""
    first, second = load_settings(data_dir=tmp_path), load_settings(data_dir=tmp_path)
    assert first == second and hash(first) == hash(second) and hash(first.embedding) == hash(second.embedding)
    assert {first: 1}[second] == 1 and load_settings(data_dir=tmp_path, top_k=9) != first
    with pytest.raises(ValidationError):
        first.retrieval.top_k = 9  # type: ignore[misc]


def test_a_copy_takes_flat_keys_and_validates_them(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(data_dir=tmp_path)
    changed = settings.model_copy(update={"top_k": 9, "collection": "other"})
    assert (changed.retrieval.top_k, changed.storage.collection, settings.retrieval.top_k) == (9, "other", 5)
    assert changed.retrieval.candidates == settings.retrieval.candidates and changed.web == settings.web
    assert changed == load_settings(data_dir=tmp_path, top_k=9, collection="other")
    with pytest.raises(ValidationError, match="no_such_key"):
        settings.model_copy(update={"no_such_key": 1})
    with pytest.raises(ValidationError, match="top_k"):
        settings.model_copy(update={"top_k": 0})


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
    from rag.answer.short import ShortAnswerer
    from rag.ingest.pipeline import Ingestor
    from rag.retrieval.lexical import LexicalIndex
    from rag.llm.factory import make_llm
    from rag.retrieval.hybrid import HybridRetriever
    from rag.settings import KEYS

    # Parameter names that stand for a setting under another name.
    aliases = {"token_budget", "min_support", "max_tokens", "default_half_life", "max_terms", "min_yes", "max_bytes", "timeout_s"}
    stages = [
        ExtractiveAnswerer.__init__, Chunker.__init__, CitationVerifier.__init__, load_sources, EntailmentJudge.__init__,
        parse_configs, ShortAnswerer.__init__, Ingestor.__init__, LexicalIndex.coverage, make_llm, HybridRetriever.__init__,
    ]  # fmt: skip
    for stage in stages:
        for name, parameter in inspect.signature(stage).parameters.items():
            if name in KEYS or name in aliases:
                assert parameter.default is inspect.Parameter.empty, f"{stage.__qualname__}({name}=...)"
