"""The `ask` API endpoint of the real web app, called with gradio_client."""
from __future__ import annotations

import pytest
from gradio_client import Client

from testkit.servers import OFF_TOPIC, XI_QUESTION, XI_QUOTE, running_server

pytestmark = pytest.mark.slow
LOGIN = ("alice", "s3cret:with-colon")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One app for the module, behind a login, started on a fresh index (so `serve` has to build it)."""
    with running_server(tmp_path_factory.mktemp("ui-api"), QA_AUTH=":".join(LOGIN)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server) -> Client:
    """A gradio_client logged in to the app."""
    return Client(server.url, auth=LOGIN, verbose=False)


def test_serve_built_the_missing_index_with_progress_on_the_console(server):
    log = server.output()
    assert "no index in" in log and "embedding: 5/5" in log
    assert "1 files, 5 chunks: 1 added" in log
    assert (server.db / "manifest.json").is_file()


def test_a_login_is_required(server):
    with pytest.raises(Exception, match="credentials"):
        Client(server.url, verbose=False)
    with pytest.raises(Exception):
        Client(server.url, auth=("alice", "wrong"), verbose=False)


def test_only_ask_is_a_public_endpoint(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask"}


def test_ask_returns_a_cited_answer_as_json(client, server):
    result = client.predict(XI_QUESTION, 3, api_name="/ask")
    assert set(result) == {"answer", "abstained", "short", "citations"}
    assert result["abstained"] is False and "[1]" in result["answer"]
    first = result["citations"][0]
    assert first["n"] == 1 and XI_QUOTE in first["quote"]
    text = (server.seeds / first["source"]).read_text("utf-8")
    assert text[first["start"]:first["end"]] == first["quote"]
    assert first["context"][first["start"] - first["context_start"]:].startswith(first["quote"])


def test_ask_abstains_off_topic(client):
    result = client.predict(OFF_TOPIC, 4, api_name="/ask")
    assert result["abstained"] is True and result["citations"] == []
    assert "do not contain" in result["answer"]


def test_ask_errors_are_friendly_messages(client):
    with pytest.raises(Exception) as info:
        client.predict("   ", 4, api_name="/ask")
    assert "question is empty" in str(info.value) and "Traceback" not in str(info.value)
