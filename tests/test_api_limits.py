"""`/v1` refuses what it should not compute, before computing it (issue #25, items 3 and 4): a body over
QA_API_MAX_BODY_MB (413, without reading it), more messages than QA_API_MAX_MESSAGES or a history longer
than QA_API_MAX_HISTORY_CHARS (400); a request that is not `application/json` (415: a foreign page's
"simple" text/plain POST) or that comes from a foreign `Origin` (403). Driven by the official `openai`
client and raw HTTP against a real `qa serve` with its defaults."""
from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import openai
import pytest

from testkit.servers import XI_QUESTION, XI_QUOTE, running_server
from ui.settings import ServeSettings

pytestmark = pytest.mark.slow
DEFAULTS = ServeSettings()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("api-limits")) as up:
        yield up


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "v1", api_key="none", max_retries=0, timeout=30)


def post(server, body: bytes, headers: dict[str, str], chunked: bool = False) -> tuple[int, dict]:
    """Raw POST to /v1/chat/completions: the status and the JSON reply."""
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body=iter([body]) if chunked else body,
                     headers=headers, encode_chunked=chunked)
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read() or b"{}")
    finally:
        conn.close()


def ask_body(question: str = XI_QUESTION, history: list[dict] | None = None) -> bytes:
    return json.dumps({"model": "extractive", "messages": [*(history or []),
                                                          {"role": "user", "content": question}]}).encode()


def assert_still_answers(client) -> None:
    reply = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": XI_QUESTION}])
    assert XI_QUOTE in reply.model_extra["seedqa"]["citations"][0]["quote"]


def test_too_many_messages_are_refused(client):
    history = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"turn {n}"} for n in range(4_999)]
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="extractive", messages=[*history, {"role": "user", "content": "Why?"}])
    assert "QA_API_MAX_MESSAGES" in str(err.value) and str(DEFAULTS.api_max_messages) in str(err.value)
    assert err.value.code == "context_length_exceeded"
    assert_still_answers(client)


def test_a_history_longer_than_the_cap_is_refused_at_once(client):
    started = time.monotonic()
    history = [{"role": "user", "content": "Who is Chris Cavoli?"}, {"role": "assistant", "content": "Cavoli " * 150_000}]
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="extractive", messages=[*history, {"role": "user", "content": "Why?"}])
    assert "QA_API_MAX_HISTORY_CHARS" in str(err.value), err.value
    assert time.monotonic() - started < 10
    assert_still_answers(client)


def test_a_body_over_the_cap_is_refused_without_being_read(server, client):
    limit = int(DEFAULTS.api_max_body_mb * 2**20)
    big = ask_body("x" * (limit + 10))
    status, reply = post(server, big, {"Content-Type": "application/json"})
    assert status == 413 and "QA_API_MAX_BODY_MB" in reply["error"]["message"], (status, reply)
    status, reply = post(server, big, {"Content-Type": "application/json"}, chunked=True)  # no Content-Length
    assert status == 413 and "QA_API_MAX_BODY_MB" in reply["error"]["message"], (status, reply)
    # A 150 MB body announced but never sent: the refusal comes from the header alone.
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    conn.putrequest("POST", "/v1/chat/completions")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(150 * 2**20))
    conn.endheaders(b'{"messages": [')
    assert conn.getresponse().status == 413
    conn.close()
    assert_still_answers(client)


def test_a_simple_cross_site_post_is_refused(server, client):
    status, reply = post(server, ask_body(), {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in reply["error"]["message"], (status, reply)
    status, _ = post(server, ask_body(), {})
    assert status == 415


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example"])
def test_a_foreign_origin_is_refused(server, origin):
    status, reply = post(server, ask_body(), {"Content-Type": "application/json", "Origin": origin})
    assert status == 403 and "Origin" in reply["error"]["message"], (status, reply)


def test_the_servers_own_origin_is_served(server):
    own = server.url.rstrip("/")
    status, reply = post(server, ask_body(), {"Content-Type": "application/json; charset=utf-8", "Origin": own})
    assert status == 200 and XI_QUOTE in reply["seedqa"]["citations"][0]["quote"], (status, reply)


def test_an_error_does_not_show_the_servers_folders(client, server):
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": XI_QUESTION}],
                                       extra_body={"collection": "nope"})
    message = str(err.value)
    assert "nope" in message and str(server.db) not in message and str(server.db.parent) not in message, message
