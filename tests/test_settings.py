import pytest
from pydantic import ValidationError

from conftest import REPO

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
