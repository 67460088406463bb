"""The machine endpoints of a real `qa serve`: the OpenAI-compatible `/v1` API driven by the official `openai`
client (streaming included), and the MCP tools driven by the official `mcp` SDK's client over streamable
HTTP (`/mcp`) and over stdio (`qa mcp`)."""
from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import sys
import threading

import httpx2
import openai
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from conftest import REPO, file_text
from testkit.servers import OFF_TOPIC, XI_QUESTION, XI_QUOTE, free_port, running_server

pytestmark = pytest.mark.slow
KEY = "test-key-7f3a"
CAVOLI, FOLLOW_UP = "Who is Chris Cavoli?", "What did he tell lawmakers?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One app for the module with an API key (QA_API_KEY) and a chat login (QA_AUTH)."""
    with running_server(tmp_path_factory.mktemp("endpoints"), QA_API_KEY=KEY, QA_AUTH="alice:chat-pass") as up:
        yield up


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "v1", api_key=KEY, max_retries=0, timeout=300)


def assert_cited(server, citations: list[dict]) -> None:
    assert citations
    for c in citations:
        assert file_text(server.seeds, c["source"])[c["start"]:c["end"]] == c["quote"]



# --- `qa ask --server`: the terminal asking a running server ----------------------------------------------

@contextlib.contextmanager
def stub_site():
    """A web server that is not `qa serve`: every POST gets a page of HTML."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>a router's login page</html>")

        def log_message(self, *args):
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_port}"
    finally:
        site.shutdown()


def test_qa_ask_server_prints_the_servers_cited_answer(qa_cli, server):
    done = qa_cli("ask", XI_QUESTION, "--server", server.url, "--json", env={"QA_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert not got["abstained"] and XI_QUOTE in got["text"] and got["passages"] == []
    assert_cited(server, got["citations"])
    question = "Who is the commander of US European Command?"
    short = json.loads(qa_cli("ask", question, "--server", server.url, "--json", env={"QA_API_KEY": KEY}).stdout)["short"]
    shown = qa_cli("ask", question, "--server", server.url.rstrip("/"), env={"QA_API_KEY": KEY})
    assert shown.returncode == 0 and short["text"] == "Chris Cavoli", shown.stdout
    assert shown.stdout.splitlines()[0].endswith(f"Chris Cavoli [{short['n']}]")  # the short answer first, as `qa ask`
    assert ", line" in shown.stdout and "Gen. Chris Cavoli" in shown.stdout


def test_qa_ask_server_sends_the_flags_with_the_question(qa_cli, server):
    source = json.loads(qa_cli("ask", XI_QUESTION, "--server", server.url, "--json", env={"QA_API_KEY": KEY}).stdout)[
        "citations"][0]["source"]
    kept = qa_cli("ask", XI_QUESTION, "--server", server.url, "--where", f"source={source}", "--k", "2", "--json",
                  env={"QA_API_KEY": KEY})
    assert kept.returncode == 0 and {c["source"] for c in json.loads(kept.stdout)["citations"]} == {source}
    # Refused flags exit as they do without --server (2), with the server's own message.
    narrowed = qa_cli("ask", XI_QUESTION, "--server", server.url, "--where", "type=pdf", env={"QA_API_KEY": KEY})
    assert narrowed.returncode == 2 and "no indexed document matches the filter type=pdf" in narrowed.stderr
    missing = qa_cli("ask", XI_QUESTION, "--server", server.url, "--collection", "nosuch", env={"QA_API_KEY": KEY})
    assert missing.returncode == 2 and "nosuch" in missing.stderr and server.url in missing.stderr


def test_qa_ask_server_says_what_went_wrong(qa_cli, server):
    wrong = qa_cli("ask", XI_QUESTION, "--server", server.url, env={"QA_API_KEY": "wrong"})
    assert wrong.returncode == 1 and "refused the key" in wrong.stderr and "QA_API_KEY" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    nobody = qa_cli("ask", XI_QUESTION, "--server", f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 1 and "cannot reach a qa server" in nobody.stderr and "qa serve" in nobody.stderr
    bare = qa_cli("ask", XI_QUESTION, "--server", server.url.removeprefix("http://"), env={"QA_API_KEY": KEY})
    assert bare.returncode == 0 and "Xi heralded" in bare.stdout  # http:// may be left out
    with stub_site() as other:  # something else answers on that port
        stranger = qa_cli("ask", XI_QUESTION, "--server", other)
    assert stranger.returncode == 1 and "not as `qa serve` does" in stranger.stderr, stranger.stderr
    bundle = qa_cli("ask", XI_QUESTION, "--server", server.url, "--evidence", "bundle.json", env={"QA_API_KEY": KEY})
    assert bundle.returncode == 2 and "--evidence" in bundle.stderr and not (REPO / "bundle.json").exists()

# --- OpenAI-compatible API ------------------------------------------------------------------------------

def test_models_are_the_answerers(client):
    assert [m.id for m in client.models.list()] == ["extractive"]


def test_a_chat_completion_is_a_cited_answer(client, server):
    done = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": XI_QUESTION}])
    text = done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop" and done.model == "extractive"
    assert XI_QUOTE in text and "[1]" in text and "\n\nSources:\n[1] " in text
    extra = done.model_extra["seedqa"]  # the structured answer, in a field OpenAI clients ignore
    assert extra["abstained"] is False and text.startswith(extra["answer"])
    assert any(XI_QUOTE in c["quote"] for c in extra["citations"])
    assert_cited(server, extra["citations"])


def test_a_streamed_completion_sends_the_same_reply(client):
    whole = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": XI_QUESTION}])
    chunks = list(client.chat.completions.create(model="extractive", stream=True,
                                                 messages=[{"role": "user", "content": XI_QUESTION}]))
    assert len(chunks) >= 3 and chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["seedqa"]["citations"] == whole.model_extra["seedqa"]["citations"]


def test_the_message_history_drives_a_follow_up(client, server):
    first = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": CAVOLI}])
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": CAVOLI},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]}]
    done = client.chat.completions.create(model="extractive", messages=messages)
    citations = done.model_extra["seedqa"]["citations"]
    assert "lawmakers" in done.choices[0].message.content
    assert any("lawmakers" in c["quote"] and "Cavoli" in c["context"] for c in citations)


def test_off_topic_abstains_without_sources(client):
    done = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": OFF_TOPIC}])
    assert "do not contain" in done.choices[0].message.content
    assert "Sources:" not in done.choices[0].message.content
    assert done.model_extra["seedqa"]["abstained"] is True


def test_a_wrong_or_missing_key_is_refused(server):
    for key in ("wrong", "alice:chat-pass"):
        bad = openai.OpenAI(base_url=server.url + "v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            bad.models.list()
        assert caught.value.code == "invalid_api_key"
    response = httpx2.get(server.url + "v1/models")
    assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"


def test_bad_requests_get_openai_shaped_errors(client):
    q = [{"role": "user", "content": XI_QUESTION}]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=q)
    assert caught.value.code == "model_not_found" and "extractive" in caught.value.message
    for messages in ([], [{"role": "assistant", "content": "hi"}], [{"role": "user", "content": "  "}]):
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="extractive", messages=messages)
    for stream in (False, True):  # a bad option is refused before any stream starts
        with pytest.raises(openai.BadRequestError, match="k must be"):
            client.chat.completions.create(model="extractive", messages=q, stream=stream, extra_body={"k": 0})
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="extractive", input="x")


def test_collection_and_filters_travel_in_the_extra_body(client):
    q = [{"role": "user", "content": XI_QUESTION}]
    done = client.chat.completions.create(model="extractive", messages=q,
                                          extra_body={"where": {"source": "000_*.txt", "after": "2024-04"}})
    assert any(XI_QUOTE in c["quote"] for c in done.model_extra["seedqa"]["citations"])
    with pytest.raises(openai.BadRequestError, match="no indexed document matches the filter type=pdf"):
        client.chat.completions.create(model="extractive", messages=q, extra_body={"where": {"type": "pdf"}})
    with pytest.raises(openai.BadRequestError, match="unknown filter field"):
        client.chat.completions.create(model="extractive", messages=q, extra_body={"where": {"colour": "red"}})
    with pytest.raises(openai.BadRequestError, match="there is no collection 'nope'"):
        client.chat.completions.create(model="extractive", messages=q, stream=True, extra_body={"collection": "nope"})


def test_the_chat_login_password_is_the_key_when_no_api_key_is_set(tmp_path):
    with running_server(tmp_path, QA_AUTH="alice:chat-pass") as up:
        models = openai.OpenAI(base_url=up.url + "v1", api_key="chat-pass", max_retries=0).models.list()
        assert [m.id for m in models] == ["extractive"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=up.url + "v1", api_key="alice", max_retries=0).models.list()


# --- MCP ------------------------------------------------------------------------------------------------

async def use_tools(streams) -> dict:
    """List the tools and call each once; return what came back."""
    async with ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        tools = await session.list_tools()
        return {"tools": sorted(t.name for t in tools.tools),
                "ask": await session.call_tool("ask", {"question": XI_QUESTION}),
                "search": await session.call_tool("search", {"query": "drones made inside Russia", "k": 2}),
                "documents": await session.call_tool("list_documents", {}),
                "filtered": await session.call_tool("search", {"query": "drones", "where": {"type": "pdf"}}),
                "empty": await session.call_tool("ask", {"question": ""})}


def assert_tools_answer(server, got: dict) -> None:
    assert got["tools"] == ["ask", "list_documents", "search"]
    ask = got["ask"]
    assert not ask.is_error and XI_QUOTE in ask.content[0].text and "Sources:" in ask.content[0].text
    assert_cited(server, ask.structured_content["citations"])
    passages = got["search"].structured_content["passages"]
    assert len(passages) == 2 and "drones" in passages[0]["text"]
    assert file_text(server.seeds, passages[0]["source"])[passages[0]["start"]:passages[0]["end"]] == \
        passages[0]["text"]
    docs = got["documents"].structured_content["documents"]
    assert [d["source"] for d in docs] == ["000_ce4e22ba4c4cf3bd.txt"] and docs[0]["chunks"] == 5
    assert got["empty"].is_error
    assert got["filtered"].is_error and "no indexed document matches the filter type=pdf" in \
        got["filtered"].content[0].text
    assert got["documents"].structured_content["collections"] == ["default"]


async def over_http(url: str, key: str) -> dict:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            return await use_tools(streams)


def test_mcp_tools_over_http(server):
    assert_tools_answer(server, asyncio.run(over_http(server.url + "mcp", KEY)))


def test_mcp_over_http_needs_the_key(server):
    response = httpx2.post(server.url + "mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Accept": "application/json, text/event-stream"})
    assert response.status_code == 401


def test_mcp_tools_over_stdio(server):
    params = StdioServerParameters(command=sys.executable, cwd=str(REPO),
                                   args=["-m", "ui.cli.main", "mcp", "--seeds", str(server.seeds), "--db", str(server.db)])

    async def run():
        async with stdio_client(params) as streams:
            return await use_tools(streams)

    assert_tools_answer(server, asyncio.run(run()))
