"""Fast checks of the machine endpoints' parts: the bearer key and its cap on wrong keys, the reading of
chat-completion requests, the plain-text reply. No model, no server process."""
from __future__ import annotations

import dataclasses

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from qa.export import reply_text
from qa.types import Answer, Citation, Short, answer_dict, answer_from_dict
from ui import bearer
from ui.bearer import BearerGuard, api_key
from ui.openai_api import ApiError, read_request
from ui.settings import ServeSettings

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


def test_the_reply_lists_each_citation_after_the_text():
    cite = Citation(n=1, source="a.txt", title="A", published="2024-01-02", start=0, end=9, start_line=1,
                    end_line=1, quote="It  rains.", score=1.0)
    answer = Answer("Q", "It rains. [1]", (cite,), False, "extractive")
    assert reply_text(answer) == "It rains. [1]\n\nSources:\n[1] A (2024-01-02), a.txt, line 1: “It rains.”"
    assert reply_text(Answer("Q", "Not found.", (), True, "extractive")) == "Not found."
    noted = dataclasses.replace(answer, flagged="the model's answer was not used")
    assert reply_text(noted).startswith("It rains. [1]\n\nNote: the model's answer was not used\n\nSources:\n[1] A")
    assert reply_text(Answer("Q", "Not found.", (), True, "extractive", flagged="why")) == "Not found.\n\nNote: why"


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
