"""Fast checks of the machine endpoints' parts: the bearer key and its cap on wrong keys, the reading of
chat-completion requests, the plain-text reply. No model, no server process."""
from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from qa.sharing.export import answer_of_reply, reply_text
from qa.types import Answer, Citation, Short, answer_dict, answer_from_dict
from ui.api import bearer, openai_usage
from ui.api.bearer import BearerGuard, api_key
from ui.api.openai_api import ApiError, read_request
from ui.settings import ServeSettings

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

NAMES = ["extractive", "openai"]


def test_the_key_is_qa_api_key_else_the_chat_password():
    assert api_key(ServeSettings()) is None
    assert api_key(ServeSettings(auth="alice:pa:ss")) == "pa:ss"
    assert api_key(ServeSettings(auth="alice:pass", api_key="k1")) == "k1"
    assert "k1" not in repr(ServeSettings(api_key="k1"))  # a secret is never shown


def test_the_guard_checks_the_bearer_and_caps_wrong_keys():
    async def ok(request):
        return PlainTextResponse("ok")

    client = TestClient(BearerGuard(Starlette(routes=[Route("/x", ok)]), "k1"))
    assert client.get("/x", headers={"Authorization": "Bearer k1"}).text == "ok"
    refused = client.get("/x", headers={"Authorization": "Basic k1"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    for _ in range(bearer.MAX_FAILURES - 1):
        assert client.get("/x").status_code == 401
    capped = client.get("/x", headers={"Authorization": "Bearer k1"})  # even the right key waits now
    assert capped.status_code == 429 and int(capped.headers["Retry-After"]) > 0
    assert TestClient(BearerGuard(Starlette(routes=[Route("/x", ok)]), None)).get("/x").text == "ok"


def test_a_request_names_the_question_history_and_options():
    body = {"model": "openai", "stream": True, "k": 3, "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who?"},
        {"role": "assistant", "content": "Him. [1]\n\nSources:\n[1] a.txt, line 1: “Him.”"},
        {"role": "user", "content": [{"type": "text", "text": "And then?"}]}]}
    asked = read_request(body, NAMES, "extractive")
    assert (asked.model, asked.question, asked.stream, asked.k) == ("openai", "And then?", True, 3)
    assert asked.history == [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Him. [1]"}]
    assert read_request({"messages": [{"role": "user", "content": "Q"}]}, NAMES, "extractive").model == "extractive"


@pytest.mark.parametrize("body, status, wanted", [
    ([], 400, "JSON object"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "Q"}]}, 404, "does not exist"),
    ({"messages": "Q"}, 400, "non-empty list"),
    ({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}, 400, "last message"),
    ({"messages": [{"role": "user", "content": "Q"}], "k": "4"}, 400, "k must be"),
])
def test_bad_requests_are_refused_with_a_reason(body, status, wanted):
    with pytest.raises(ApiError, match=wanted) as caught:
        read_request(body, NAMES, "extractive")
    assert caught.value.status == status


def test_the_reply_leads_with_the_short_answer_and_keeps_sources_short():
    cite = Citation(n=1, source="a.txt", title="A", published="2024-01-02", start=0, end=9, start_line=1,
                    end_line=1, quote="It  rains.", score=1.0)
    answer = Answer("Q", "It rains. [1]", (cite,), False, "extractive")
    # The text holds the quote already: the source line names where it is, without repeating it.
    assert reply_text(answer) == "It rains. [1]\n\nSources:\n[1] A (2024-01-02), a.txt, line 1"
    assert reply_text(Answer("Q", "Not found.", (), True, "extractive")) == "Not found."
    short = replace(answer, short=Short("rains", 3, 8, 1, "other"))
    assert reply_text(short).startswith("Answer: rains [1]\n\nIt rains. [1]\n\nSources:")
    written = replace(answer, text="The weather is wet [1].", backend="openai")  # an LLM's words: quote shown
    assert reply_text(written).endswith("[1] A (2024-01-02), a.txt, line 1: “It rains.”")
    long = replace(written, citations=(replace(cite, quote="word " * 200),))
    assert len(reply_text(long).splitlines()[-1]) < 200 and reply_text(long).endswith(" …”")
    noted = replace(answer, flagged="the model's answer was not used")
    assert reply_text(noted).startswith("It rains. [1]\n\nNote: the model's answer was not used\n\nSources:\n[1] A")
    assert reply_text(Answer("Q", "Not found.", (), True, "extractive", flagged="why")) == "Not found.\n\nNote: why"


def test_a_reply_sent_back_as_history_is_read_as_its_answer():
    cite = Citation(n=1, source="a.txt", title="A", published="", start=0, end=9, start_line=1, end_line=1,
                    quote="It rains.", score=1.0)
    answer = Answer("Q", "It rains. [1]", (cite,), False, "extractive", short=Short("rains", 3, 8, 1, "other"))
    assert answer_of_reply(reply_text(answer)) == "It rains. [1]"
    assert answer_of_reply("Answer: it is a noun. No marker here.") == "Answer: it is a noun. No marker here."
    body = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": reply_text(answer)},
                         {"role": "user", "content": "And then?"}]}
    assert read_request(body, NAMES, "extractive").history[1]["content"] == "It rains. [1]"


def test_tokens_are_counted_and_cut_the_same_way_streamed_or_not():
    assert openai_usage.count("Answer: Chris Cavoli [1]") == 7 and openai_usage.count("") == 0
    assert openai_usage.cut("a b c ", 3) == "a b c " and openai_usage.cut("a b c d", 3) == "a b c"
    budget = openai_usage.Budget(3)
    assert [budget.take(p) for p in ("Chri", "s Cav", "oli and more")] == ["Chri", "s Cav", "oli and"]
    assert budget.cut and budget.tokens == 3 and budget.take("x") == ""
    body = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who is he?"}],
            "max_tokens": 5, "stream_options": {"include_usage": True}}
    asked = read_request(body, NAMES, "extractive")
    assert (asked.max_tokens, asked.include_usage, asked.prompt_tokens) == (5, True, 7)
    assert read_request(body | {"max_completion_tokens": 2}, NAMES, "extractive").max_tokens == 2
    for bad in (0, "5", True):
        with pytest.raises(ApiError, match="max_tokens must be"):
            read_request(body | {"max_tokens": bad}, NAMES, "extractive")


def test_an_answer_survives_its_public_shape():
    """`qa ask --server` rebuilds the `Answer` from a `/v1` reply's `seedqa` field."""
    cite = Citation(n=1, source="deck.pptx", title="Deck", published="", start=4, end=30, start_line=1, end_line=1,
                    quote="The fleet sails at noon.", score=0.8, page=None, passage_id="abc-0", context="x",
                    context_start=0, unit="slide 3")
    answer = Answer("When does the fleet sail?", "The fleet sails at noon. [1]", (cite,), False, "extractive",
                    flagged="note", short=Short("noon", 24, 28, 1, "date"))
    back = answer_from_dict(answer_dict(answer))
    assert back == answer and back.citations[0].location() == cite.location()
    assert answer_from_dict(answer_dict(Answer("Q", "Not found.", (), True, "extractive"))).short is None


def test_v1_answers_at_most_qa_api_concurrency_at_once():
    """Forty requests at once run at most QA_API_CONCURRENCY answers at once (the rest wait): forty answers
    at once grew the server by hundreds of MB that stayed (bench/serve_memory_bench.py --bursts)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from ui.api.openai_api import OpenAIApi
    from ui.settings import Config

    running, peak, lock = [0], [0], threading.Lock()

    class Slow:
        def answer(self, question, history=None, k=None, answerer=None, where=None, collection=None):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            return Answer(question, "fine", (), True, "extractive")

    api = OpenAIApi(Config(serve=ServeSettings(api_concurrency=2)), Slow())
    client = TestClient(Starlette(routes=[Route("/v1/chat/completions", api.completions, methods=["POST"])]))
    body = {"model": "extractive", "messages": [{"role": "user", "content": "Who?"}]}
    with client, ThreadPoolExecutor(40) as pool:
        replies = list(pool.map(lambda _: client.post("/v1/chat/completions", json=body), range(40)))
    assert all(r.status_code == 200 for r in replies), replies[0].text
    assert peak[0] == 2


def test_login_v1_and_mcp_share_one_count_of_failures():
    """Wrong logins and wrong keys from one address add up: 15 guesses a minute (5 at each door) became 5."""
    from starlette.responses import JSONResponse

    from ui.server import guard

    settings = ServeSettings(api_key="k1")
    failures = guard.failures_for(settings)
    assert guard.failures_for(ServeSettings(api_key="k1")) is failures  # one count per server

    async def login(request):
        return JSONResponse({"detail": "wrong"}, status_code=400)

    async def ok(request):
        return PlainTextResponse("ok")

    chat = TestClient(guard.LoginLimiter(Starlette(routes=[Route("/login", login, methods=["POST"])]),
                                         failures=failures))
    v1 = TestClient(BearerGuard(Starlette(routes=[Route("/x", ok)]), "k1", failures=failures))
    mcp = TestClient(BearerGuard(Starlette(routes=[Route("/x", ok)]), "k1", failures=failures))
    for _ in range(2):
        assert chat.post("/login").status_code == 400
    assert v1.get("/x").status_code == 401
    assert mcp.get("/x").status_code == 401
    assert chat.post("/login").status_code == 400
    assert v1.get("/x").status_code == 429 and mcp.get("/x").status_code == 429 and chat.post("/login").status_code == 429
