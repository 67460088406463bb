"""Gradio's upload route (`/gradio_api/upload`) against other sites and against filling the disk (issue #25,
item 4): a foreign page's multipart POST (a "simple" cross-site request) is refused with 403 and stores
nothing; a body over the upload cap is refused with 413 and stores nothing; the chat's own uploads still
work; the cache is cleaned by age (`delete_cache`, QA_UPLOAD_CACHE_MINUTES)."""
from __future__ import annotations

import http.client
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from testkit.servers import running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("upload-guard")
    cache = root / "gradio-cache"
    cache.mkdir()
    with running_server(root, QA_UPLOAD_LIMIT_MB="1", QA_UPLOAD_TOTAL_MB="2", GRADIO_TEMP_DIR=str(cache),
                        QA_UPLOAD_CACHE_MINUTES="0.05") as up:
        up.cache = cache
        yield up


def cached(server) -> list[Path]:
    return [p for p in server.cache.rglob("*") if p.is_file()]


def upload(server, size: int, headers: dict[str, str] | None = None) -> int:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"note.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + b"a" * size + f"\r\n--{boundary}--\r\n".encode()
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        conn.request("POST", "/gradio_api/upload", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})
        return conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        return 413  # refused from the headers while the body was still being sent
    finally:
        conn.close()


def test_a_foreign_page_cannot_upload(server):
    before = cached(server)
    assert upload(server, 1000, {"Origin": "http://evil.example"}) == 403
    assert upload(server, 1000, {"Origin": "null"}) == 403
    assert cached(server) == before


def test_the_servers_own_page_can_upload(server):
    assert upload(server, 1000, {"Origin": server.url.rstrip("/")}) == 200
    assert upload(server, 1000) == 200  # gradio_client sends no Origin


def test_a_body_over_the_cap_stores_nothing(server):
    before = set(cached(server))
    assert upload(server, 3 * 2**20) == 413   # over QA_UPLOAD_TOTAL_MB: refused from Content-Length
    assert upload(server, int(1.5 * 2**20)) == 413  # over QA_UPLOAD_LIMIT_MB: Gradio's own refusal
    assert set(cached(server)) <= before


def test_the_upload_cache_is_cleaned(server):
    import time

    assert upload(server, 1000) == 200
    assert cached(server)
    deadline = time.monotonic() + 60
    while cached(server) and time.monotonic() < deadline:
        time.sleep(1)
    assert not cached(server), cached(server)
