"""Tests for rag.llm.gguf: assembling GGUF weights from data-only distributions.

Most tests build a tiny fake model out of real installed distributions (a ``*.dist-info`` with a
RECORD) in a temporary site folder put on ``sys.path``, so ``importlib.metadata`` finds them exactly
as it finds the real part packages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from rag.llm import gguf
from rag.llm.gguf import QWEN_0_5B, QWEN_1_5B, ModelMissing, ModelSpec, assemble_gguf, part_files, resolve_gguf

# Distribution order matters (part10 sorts before part2 by name); within one distribution the
# files are taken by name, whatever order RECORD lists them in.
FAKE_PARTS = {
    "newsdesk-fake-part1": {"b.bin": b"BBBB", "a.bin": b"AAAA"},
    "newsdesk-fake-part2": {"c.bin": b"CCCCCC"},
    "newsdesk-fake-part10": {"d.bin": b"DD", "ignored.txt": b"not model data"},
}
FAKE_BYTES = b"AAAABBBBCCCCCCDD"


def install_fake_dist(site: Path, name: str, files: dict[str, bytes]) -> None:
    """Write an installed distribution ``name`` whose package folder holds ``data/<files>``."""
    package = name.replace("-", "_")
    info = site / f"{package}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    record = [f"{info.name}/METADATA,,"]
    for filename, data in files.items():
        path = site / package / "data" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        record.append(f"{package}/data/{filename},,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    for name, files in FAKE_PARTS.items():
        install_fake_dist(site, name, files)
    monkeypatch.syspath_prepend(site)  # also invalidates importlib's caches
    return site


@pytest.fixture
def spec() -> ModelSpec:
    return ModelSpec(
        name="fake",
        distributions=tuple(FAKE_PARTS),
        data_glob="newsdesk_fake_part*/data/*.bin",
        size=len(FAKE_BYTES),
        sha256=hashlib.sha256(FAKE_BYTES).hexdigest(),
        filename="fake.gguf",
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_assembles_parts_in_spec_and_name_order(site: Path, spec: ModelSpec, tmp_path: Path) -> None:
    path = assemble_gguf(spec, tmp_path / "cache")
    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == FAKE_BYTES
    sidecar = path.with_name("fake.gguf.sha256").read_text().split()
    assert sidecar[0] == spec.sha256 and int(sidecar[1]) == len(FAKE_BYTES)
    assert leftovers(path.parent) == []


def test_verified_file_is_reused_without_rehashing(
    site: Path, spec: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = assemble_gguf(spec, tmp_path)
    inode = path.stat().st_ino
    hashed: list[Path] = []
    real_hash = gguf.hash_file
    monkeypatch.setattr(gguf, "hash_file", lambda p: hashed.append(p) or real_hash(p))
    assert assemble_gguf(spec, tmp_path) == path
    assert path.stat().st_ino == inode and hashed == []
    # Without the sidecar the file is hashed once, found good, kept, and the sidecar rewritten.
    path.with_name("fake.gguf.sha256").unlink()
    assert assemble_gguf(spec, tmp_path) == path
    assert path.stat().st_ino == inode and hashed == [path]
    assert path.with_name("fake.gguf.sha256").is_file()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(FAKE_BYTES[:5]), id="partial"),
        pytest.param(lambda p: p.write_bytes(FAKE_BYTES.replace(b"C", b"X")), id="same-size-corrupt"),
        pytest.param(lambda p: p.with_name(p.name + ".sha256").write_text("junk"), id="bad-sidecar"),
    ],
)
def test_damaged_target_is_rebuilt(site: Path, spec: ModelSpec, tmp_path: Path, damage) -> None:
    path = assemble_gguf(spec, tmp_path)
    damage(path)
    assert assemble_gguf(spec, tmp_path) == path
    assert path.read_bytes() == FAKE_BYTES
    assert leftovers(path.parent) == []


def test_missing_parts_are_named(site: Path, spec: ModelSpec, tmp_path: Path) -> None:
    for name in ("newsdesk-fake-part2", "newsdesk-fake-part10"):
        shutil.rmtree(site / f"{name.replace('-', '_')}-1.0.dist-info")
    with pytest.raises(ModelMissing) as err:
        assemble_gguf(spec, tmp_path)
    message = str(err.value)
    assert "missing: newsdesk-fake-part2, newsdesk-fake-part10" in message
    assert "part1," not in message
    assert "pip install -e '.[local]'" in message and "RAG_LLM_MODEL_PATH" in message
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_part_with_deleted_data_file_counts_as_missing(site: Path, spec: ModelSpec, tmp_path: Path) -> None:
    (site / "newsdesk_fake_part2" / "data" / "c.bin").unlink()
    with pytest.raises(ModelMissing, match=r"missing: newsdesk-fake-part2\)"):
        assemble_gguf(spec, tmp_path)


def test_wrong_hash_fails_clearly_and_leaves_nothing(site: Path, spec: ModelSpec, tmp_path: Path) -> None:
    bad = dataclasses.replace(spec, sha256="0" * 64)
    with pytest.raises(RuntimeError, match="corrupt") as err:
        assemble_gguf(bad, tmp_path)
    assert not isinstance(err.value, ModelMissing)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == []


def test_resolve_prefers_an_explicit_path(site: Path, spec: ModelSpec, tmp_path: Path) -> None:
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    assert resolve_gguf(str(own), tmp_path / "cache", spec) == own
    assert not (tmp_path / "cache").exists()
    assert resolve_gguf("", tmp_path / "cache", spec).read_bytes() == FAKE_BYTES


def test_resolve_rejects_a_missing_explicit_path(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="RAG_LLM_MODEL_PATH") as err:
        resolve_gguf(str(tmp_path / "nope.gguf"), tmp_path)
    assert "nope.gguf" in str(err.value)


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.parametrize("spec_name", ["QWEN_1_5B", "QWEN_0_5B"])
def test_real_bundled_model_assembles(spec_name: str, request: pytest.FixtureRequest) -> None:
    spec = {"QWEN_1_5B": QWEN_1_5B, "QWEN_0_5B": QWEN_0_5B}[spec_name]
    fixture = {"QWEN_1_5B": "gguf_1_5b", "QWEN_0_5B": "gguf_0_5b"}[spec_name]
    path = request.getfixturevalue(fixture)  # assembled (and hash-checked) once per session
    parts = part_files(spec)
    assert len(parts) >= len(spec.distributions)
    assert path.stat().st_size == spec.size
    assert gguf.hash_file(path) == spec.sha256
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
