"""`assistant.chain`: the assistant as a LangChain Runnable (invoke, stream, batch, async forms), inside
`RunnableWithMessageHistory` and inside a user's own chain, on a real index of the seeds."""
from __future__ import annotations

import asyncio

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from conftest import assert_well_formed
from index.errors import UsageError
from qa.pipeline import Assistant, build_assistant
from qa.types import Answer, answer_dict
from testkit.servers import XI_QUESTION, XI_QUOTE

# LangChain now points to LangGraph for kept conversations; RunnableWithMessageHistory still works
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]
CAVOLI = "Who is Chris Cavoli?"
FOLLOW_UP = "What did he tell lawmakers?"


@pytest.fixture(scope="module")
def assistant(seed_index, embedder) -> Assistant:
    return build_assistant(seed_index, embedder=embedder)


def cites_xi(answer: Answer) -> bool:
    return any(XI_QUOTE in c.quote for c in answer.citations)


def test_the_chain_is_a_runnable_answering_a_question(assistant, seed_index):
    chain = assistant.chain
    assert isinstance(chain, Runnable)
    answer = chain.invoke({"question": XI_QUESTION, "history": []})
    assert isinstance(answer, Answer) and cites_xi(answer)
    assert_well_formed(answer, seed_index.seeds_dir)
    assert chain.invoke(XI_QUESTION).text == answer.text  # a plain string is the question


def test_stream_yields_the_text_then_the_answer(assistant, seed_index):
    *pieces, final = list(assistant.chain.stream({"question": XI_QUESTION}))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Answer) and "".join(pieces) == final.text
    assert_well_formed(final, seed_index.seeds_dir)


def test_batch_and_options(assistant):
    answers = assistant.chain.batch([XI_QUESTION, {"question": XI_QUESTION, "k": 1, "answerer": "extractive"}])
    assert all(cites_xi(a) for a in answers)
    assert [p.id for p in answers[1].passages] == [p.id for p in assistant.answer(XI_QUESTION, k=1).passages]


def test_async_forms(assistant):
    async def run():
        one = await assistant.chain.ainvoke({"question": XI_QUESTION})
        streamed = [piece async for piece in assistant.chain.astream(XI_QUESTION)]
        many = await assistant.chain.abatch([XI_QUESTION, XI_QUESTION])
        return one, streamed, many

    one, streamed, many = asyncio.run(run())
    assert cites_xi(one) and all(cites_xi(a) for a in many)
    assert isinstance(streamed[-1], Answer) and "".join(streamed[:-1]) == streamed[-1].text == one.text


def test_dicts_are_the_answer_as_json(assistant):
    out = assistant.chain.as_dicts().invoke({"question": XI_QUESTION})
    assert out == answer_dict(assistant.answer(XI_QUESTION)) | {"citations": out["citations"]}
    first = out["citations"][0]
    assert XI_QUOTE in first["quote"] and first["location"].startswith(first["source"])
    assert out["answer"].endswith("[1]") or "[1]" in out["answer"]


def test_bad_input_is_a_usage_error(assistant):
    for bad in ({"history": []}, {"question": 3}, ["a question"]):
        with pytest.raises(UsageError, match="question"):
            assistant.chain.invoke(bad)
    with pytest.raises(UsageError):
        assistant.chain.invoke({"question": "   "})


def test_runnable_with_message_history_follows_up(assistant, seed_index):
    sessions: dict[str, InMemoryChatMessageHistory] = {}
    chat = RunnableWithMessageHistory(
        assistant.chain.as_dicts(), lambda sid: sessions.setdefault(sid, InMemoryChatMessageHistory()),
        input_messages_key="question", history_messages_key="history", output_messages_key="answer")
    config = {"configurable": {"session_id": "s1"}}
    first = chat.invoke({"question": CAVOLI}, config)
    assert "Cavoli" in first["answer"]
    *pieces, second = list(chat.stream({"question": FOLLOW_UP}, config))
    assert all(isinstance(p, str) for p in pieces) and isinstance(second, dict)
    assert "lawmakers" in second["answer"] and any("Cavoli" in c["context"] for c in second["citations"])
    kept = sessions["s1"].messages
    assert [type(m) for m in kept] == [HumanMessage, AIMessage, HumanMessage, AIMessage]
    assert kept[2].content == FOLLOW_UP and kept[3].content == second["answer"]


def test_composed_in_a_users_own_chain(assistant):
    """What the README shows: a prompt that rewrites the user's input, the assistant, a formatter."""
    ask = PromptTemplate.from_template("What did {who} herald during his call with Putin?")
    footnotes = RunnableLambda(lambda a: a.text + "\n" + "\n".join(f"[{c.n}] {c.location()}" for c in a.citations))
    mine = ask | RunnableLambda(lambda p: {"question": p.to_string()}) | assistant.chain | footnotes
    reply = mine.invoke({"who": "Xi"})
    assert "coordination with Russia" in reply and "[1] 000_ce4e22ba4c4cf3bd.txt, line" in reply
