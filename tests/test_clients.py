"""Clients no one here wrote, against a real `qa serve`: the official `openai` client and LangChain's
`ChatOpenAI` on `/v1`, the official `mcp` client on `/mcp`. What they show must carry the short answer, usage,
`max_tokens`, the model route, a refused filter and clean tool errors (issue 26)."""
from __future__ import annotations

import asyncio
import json
import re
import socket

import httpx2
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from testkit.servers import running_server
from ui.server.ports import can_bind

pytestmark = pytest.mark.slow
KEY = "clients-key-41d2"
WHO = "Who is the commander of US European Command?"
AGENCY = "Which news agency filed the report?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("clients"), QA_API_KEY=KEY) as up:
        yield up


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "v1", api_key=KEY, max_retries=0, timeout=300)


def ask(client, question: str, **options):
    return client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": question}],
                                          **options)


# --- item 9: the short answer reaches the client's text ------------------------------------------------------

def test_the_reply_leads_with_the_short_answer_and_names_sources_briefly(client):
    done = ask(client, WHO)
    text, extra = done.choices[0].message.content, done.model_extra["seedqa"]
    short = extra["short"]
    assert short["text"] == "Chris Cavoli"
    assert text.startswith(f"Answer: Chris Cavoli [{short['n']}]\n\n" + extra["answer"])
    sources = text.split("\n\nSources:\n", 1)[1]
    quote = " ".join(extra["citations"][0]["quote"].split())
    assert quote not in sources and "“" not in sources  # the quote is the text above; not repeated
    assert sources.startswith("[1] ") and "000_ce4e22ba4c4cf3bd.txt, line" in sources


def test_a_streamed_reply_leads_with_the_short_answer_too(client):
    whole = ask(client, WHO).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in ask(client, WHO, stream=True))
    assert streamed == whole and streamed.startswith("Answer: Chris Cavoli [")


def test_follow_ups_work_with_the_replies_sent_back(client):
    """A client sends our reply back as history, short-answer line and sources included."""
    messages = [{"role": "user", "content": WHO}]
    for question, wanted in (("What did he tell lawmakers?", "lawmakers"), ("When did he say that?", "this week")):
        reply = client.chat.completions.create(model="extractive", messages=messages).choices[0].message.content
        messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": question}]
    last = client.chat.completions.create(model="extractive", messages=messages)
    assert last.choices[0].message.content.startswith("Answer: this week [")


def test_langchain_chat_openai_sees_the_short_answer(server):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="extractive", base_url=server.url + "v1", api_key=KEY, max_retries=0, timeout=300)
    reply = llm.invoke(WHO)
    assert reply.content.startswith("Answer: Chris Cavoli [")
    assert reply.usage_metadata["output_tokens"] > 0 and reply.usage_metadata["input_tokens"] == 9
    chunks = list(llm.stream(WHO))
    assert "".join(c.content for c in chunks) == reply.content


# --- item 11: usage, max_tokens, the model route -----------------------------------------------------------

def test_usage_counts_the_prompt_and_the_reply(client):
    done = ask(client, WHO)
    words = len(WHO.split()) + 1  # "?" is a token of its own
    assert done.usage.prompt_tokens == words and done.usage.completion_tokens > 10
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    chunks = list(ask(client, WHO, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump(include={"prompt_tokens", "completion_tokens"}) \
        == done.usage.model_dump(include={"prompt_tokens", "completion_tokens"})
    plain = list(ask(client, WHO, stream=True))
    assert all(c.usage is None for c in plain)


def test_max_tokens_cuts_the_reply(client):
    cut = ask(client, WHO, max_tokens=5)
    assert cut.choices[0].message.content == "Answer: Chris Cavoli ["
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 5
    assert cut.model_extra["seedqa"]["short"]["text"] == "Chris Cavoli"  # the structured answer stays whole
    newer = ask(client, WHO, max_completion_tokens=4)
    assert newer.choices[0].message.content == "Answer: Chris Cavoli"
    chunks = list(ask(client, WHO, max_tokens=5, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Answer: Chris Cavoli ["
    assert chunks[-1].choices[0].finish_reason == "length"
    whole = ask(client, WHO, max_tokens=10_000)
    assert whole.choices[0].finish_reason == "stop" and "Sources:" in whole.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="max_tokens must be"):
        ask(client, WHO, max_tokens=0)


def test_a_model_is_served_by_its_id(client):
    model = client.models.retrieve("extractive")
    assert model.id == "extractive" and model.owned_by == "seedqa"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o-mini")
    assert caught.value.code == "model_not_found" and "extractive" in caught.value.message


# --- item 10: a filter that matches nothing, on a question about the documents ------------------------------

def test_a_filter_matching_nothing_is_refused_for_metadata_questions(client, server, qa_cli):
    with pytest.raises(openai.BadRequestError, match="no indexed document matches the filter type=pdf"):
        ask(client, AGENCY, extra_body={"where": {"type": "pdf"}})
    with pytest.raises(openai.BadRequestError, match="no indexed document matches the filter type=pdf"):
        ask(client, AGENCY, stream=True, extra_body={"where": {"type": "pdf"}})
    assert "ANI" in ask(client, AGENCY, extra_body={"where": {"type": "txt"}}).choices[0].message.content
    asked = qa_cli("ask", AGENCY, "--where", "type=pdf", "--seeds", str(server.seeds), "--db", str(server.db))
    assert asked.returncode == 2 and "no indexed document matches the filter type=pdf" in asked.stderr


# --- item 12: one name for the answer's text ------------------------------------------------------------------

def test_qa_ask_json_names_the_text_answer_as_every_other_output(client, server, qa_cli):
    asked = qa_cli("ask", WHO, "--json", "--seeds", str(server.seeds), "--db", str(server.db))
    got = json.loads(asked.stdout)
    assert got["answer"] == ask(client, WHO).model_extra["seedqa"]["answer"]
    assert got["text"] == got["answer"]  # the old name, kept for one release
    remote = json.loads(qa_cli("ask", WHO, "--json", "--server", server.url, env={"QA_API_KEY": KEY}).stdout)
    assert remote["answer"] == got["answer"]


# --- MCP: items 9, 10, 13 ------------------------------------------------------------------------------------

async def mcp_calls(url: str) -> dict:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return {"tools": (await session.list_tools()).tools,
                        "who": await session.call_tool("ask", {"question": WHO}),
                        "filtered": await session.call_tool("ask", {"question": AGENCY, "where": {"type": "pdf"}}),
                        "empty": await session.call_tool("ask", {"question": ""}),
                        "bad k": await session.call_tool("search", {"query": "drones", "k": 0})}


@pytest.fixture(scope="module")
def mcp(server) -> dict:
    return asyncio.run(mcp_calls(server.url + "mcp"))


def test_mcp_ask_leads_with_the_short_answer(mcp):
    got = mcp["who"]
    assert got.content[0].text.startswith("Answer: Chris Cavoli [1]\n\n")
    assert got.structured_content["short"]["text"] == "Chris Cavoli"
    assert "“" not in got.content[0].text.split("Sources:", 1)[1]


def test_mcp_reports_a_filter_matching_nothing_for_metadata_questions(mcp):
    assert mcp["filtered"].is_error
    assert "no indexed document matches the filter type=pdf" in mcp["filtered"].content[0].text


def test_mcp_tool_descriptions_and_errors_read_as_sentences(mcp):
    for tool in mcp["tools"]:
        assert "\n" not in tool.description and "  " not in tool.description, tool.description
    for name, field in (("empty", "question"), ("bad k", "k")):
        text = mcp[name].content[0].text
        assert mcp[name].is_error and f"{field}: " in text, text
        assert "pydantic" not in text and "http" not in text and "input_value" not in text, text


# --- `qa serve` on the terminal: items 4 and 13 ------------------------------------------------------------

def test_a_busy_port_is_one_line_naming_a_free_one(qa_cli, server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = qa_cli("serve", "--port", port, "--seeds", server.seeds, "--db", server.db, timeout=120)
    assert done.returncode == 2, done.stderr
    said = re.search(rf"^error: port {port} is in use; use --port (\d+)$", done.stderr, re.M)
    assert said and can_bind("127.0.0.1", int(said.group(1))), done.stderr
    assert "Traceback" not in done.stderr and "GRADIO_SERVER_PORT" not in done.stderr + done.stdout


def test_serve_says_where_it_runs_and_offers_no_share_link(server):
    said = server.output()
    assert f"Running on local URL:  {server.url.rstrip('/')}" in said, said
    assert "share=True" not in said and "public link" not in said, said
