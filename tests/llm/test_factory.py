"""Tests for rag.llm.factory: the backend factory, its error messages, and real local/OpenAI-compatible runs.

The real-model tests (marker ``llm``) use the bundled GGUF and a real ``llama_cpp.server`` started on
127.0.0.1; they are skipped with the install command when the model or llama-cpp-python is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from helpers import free_port

from rag.llm.factory import LLMUnavailable, make_llm, probe
from rag.settings import load_settings

QUESTION = "What is the capital of France? Answer with one word."


def settings(tmp_path: Path, **overrides: object) -> dict[str, object]:
    """make_llm's settings and cache folder: the defaults, a short answer, ``overrides`` (setting names)."""
    values = {"llm_context_window": 2048, "llm_max_tokens": 24, "llm_temperature": 0.0, "request_timeout_s": 60.0}
    return {"settings": load_settings(**{**values, **overrides}).generation, "cache_dir": tmp_path}


def chat(text: str):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=text)]


# --- pure logic ------------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    code = (
        "import sys, rag.llm.factory, rag.llm.gguf; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('llama_index', 'llama_cpp', 'openai', 'httpx')]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="local, openai, ollama"):
        make_llm("gpt", **settings(tmp_path))


@pytest.mark.parametrize(
    ("backend", "module"),
    [("local", "llama_cpp"), ("openai", "llama_index.llms.openai_like"), ("ollama", "llama_index.llms.ollama")],
)
def test_missing_extra_is_named(
    backend: str, module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(LLMUnavailable) as err:
        make_llm(backend, **settings(tmp_path))
    assert f"pip install -e '.[{backend}]'" in str(err.value)


def test_local_with_a_bad_model_file_names_the_setting(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install -e '.[local]'")
    with pytest.raises(LLMUnavailable, match="RAG_LLM_MODEL_PATH"):
        make_llm("local", **settings(tmp_path, llm_model_path=str(tmp_path / "missing.gguf")))
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("not a model")
    with pytest.raises(LLMUnavailable, match="could not load .*notes.gguf.*RAG_LLM_MODEL_PATH"):
        make_llm("local", **settings(tmp_path, llm_model_path=str(not_gguf)))


def test_unreachable_openai_server_names_the_setting(tmp_path: Path) -> None:
    pytest.importorskip("llama_index.llms.openai_like", reason="pip install -e '.[openai]'")
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = make_llm("openai", **settings(tmp_path, openai_base_url=url))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="RAG_OPENAI_BASE_URL") as err:
        probe(llm)
    assert url in str(err.value) and time.monotonic() - started < 5


def test_unreachable_ollama_server_names_the_setting(tmp_path: Path) -> None:
    pytest.importorskip("llama_index.llms.ollama", reason="pip install -e '.[ollama]'")
    url = f"http://127.0.0.1:{free_port()}"
    llm = make_llm("ollama", **settings(tmp_path, ollama_base_url=url))
    with pytest.raises(LLMUnavailable, match="RAG_OLLAMA_BASE_URL") as err:
        probe(llm)
    assert url in str(err.value)


@pytest.fixture
def stub_server():
    """A stand-in HTTP server on 127.0.0.1 answering ``routes[path] = (status, json)``; yields (url, routes, seen headers).

    Used only for what cannot run here (no Ollama server) or would need a misconfigured server.
    """
    routes: dict[str, tuple[int, object]] = {}
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            status, payload = routes.get(self.path, (404, {}))
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", routes, seen
    finally:
        server.shutdown()
        server.server_close()


def test_ollama_probe_checks_the_model_is_pulled(tmp_path: Path, stub_server) -> None:
    pytest.importorskip("llama_index.llms.ollama", reason="pip install -e '.[ollama]'")
    url, routes, _ = stub_server
    routes["/api/tags"] = (200, {"models": [{"name": "qwen2.5:1.5b-instruct", "model": "qwen2.5:1.5b-instruct"}]})
    probe(make_llm("ollama", **settings(tmp_path, ollama_base_url=url)))
    with pytest.raises(LLMUnavailable, match="ollama pull llama3"):
        probe(make_llm("ollama", **settings(tmp_path, ollama_base_url=url, ollama_model="llama3")))


def test_openai_probe_names_the_key_setting_on_401(tmp_path: Path, stub_server) -> None:
    pytest.importorskip("llama_index.llms.openai_like", reason="pip install -e '.[openai]'")
    url, routes, seen = stub_server
    routes["/v1/models"] = (401, {"error": "bad key"})
    llm = make_llm("openai", **settings(tmp_path, openai_base_url=f"{url}/v1", openai_api_key="sk-test"))
    with pytest.raises(LLMUnavailable, match="RAG_OPENAI_API_KEY"):
        probe(llm)
    assert seen[-1]["Authorization"] == "Bearer sk-test"
    routes["/v1/models"] = (500, {})
    with pytest.raises(LLMUnavailable, match="HTTP 500: check RAG_OPENAI_BASE_URL"):
        probe(llm)


# --- the real local model --------------------------------------------------------------------


@pytest.mark.llm
@pytest.mark.slow
def test_local_chat_uses_the_gguf_template(local_llm) -> None:
    # chat_format stays unset, so llama.cpp formats with the template stored in the GGUF.
    assert local_llm.llama.chat_format == "chat_template.default"
    assert local_llm.metadata.is_chat_model and local_llm.metadata.context_window == 4096
    response = local_llm.chat(chat(QUESTION))
    text = response.message.content
    assert "Paris" in text and "<|im_" not in text
    assert response.raw["choices"][0]["finish_reason"] == "stop"  # ended on the template's end-of-turn
    assert "Paris" in local_llm.complete(QUESTION).text
    probe(local_llm)  # in-process: nothing to check


@pytest.mark.llm
@pytest.mark.slow
def test_local_stream_yields_several_chunks(local_llm) -> None:
    chunks = list(local_llm.stream_chat(chat("Count from 1 to 10, separated by commas."), max_tokens=24))
    assert len(chunks) >= 5
    assert "".join(c.delta for c in chunks) == chunks[-1].message.content
    assert "1, 2, 3" in chunks[-1].message.content


@pytest.mark.llm
@pytest.mark.slow
def test_local_serialises_concurrent_calls(local_llm) -> None:
    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(local_llm.complete(QUESTION, max_tokens=4).text))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == 2 and all("Paris" in a for a in answers)


# --- a real OpenAI-compatible server (llama.cpp's) ------------------------------------------


@pytest.fixture
def llama_server(small_gguf: Path, tmp_path: Path):
    """``python -m llama_cpp.server`` on a free 127.0.0.1 port; yields its /v1 URL, always stopped."""
    pytest.importorskip("llama_cpp.server.app", reason="pip install 'llama-cpp-python[server]==0.3.36'")
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    # llama_cpp.server itself, started after the same AMX workaround the local backend applies
    # (rag.llm.factory.avoid_llama_cpp_amx_crash: without it, llama.cpp crashes on AMX CPUs at the first prompt).
    launcher = "import runpy, rag.llm.factory; rag.llm.factory.avoid_llama_cpp_amx_crash(); runpy.run_module('llama_cpp.server', run_name='__main__')"
    cmd = [sys.executable, "-c", launcher, "--model", str(small_gguf), "--model_alias", "local",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited {proc.returncode}:\n{(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server not ready after 120 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.llm
@pytest.mark.slow
def test_openai_backend_against_llama_cpp_server(llama_server: str, tmp_path: Path) -> None:
    pytest.importorskip("llama_index.llms.openai_like", reason="pip install -e '.[openai]'")
    llm = make_llm("openai", **settings(tmp_path, openai_base_url=llama_server))
    probe(llm)
    assert "Paris" in llm.chat(chat(QUESTION)).message.content
    chunks = list(llm.stream_chat(chat("Count from 1 to 10, separated by commas.")))
    assert len(chunks) >= 5
    assert "1, 2, 3" in chunks[-1].message.content
