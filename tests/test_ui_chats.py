"""The conversations kept in the browser: new, add, regenerate, open, delete, and distrust of stored data."""
from __future__ import annotations

import pytest

from qa.types import Answer, Citation
from ui.web import browser_chats as chats

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

QUOTE = "The quote."


def answer(text: str = "The quote. [1]") -> Answer:
    c = Citation(n=1, source="a.txt", title="A", published="", start=0, end=len(QUOTE), start_line=1, end_line=1,
                 quote=QUOTE, score=1.0, context=QUOTE)
    return Answer("q", text, (c,), False, "extractive")


def test_turns_go_into_a_conversation_titled_by_its_first_question():
    store = chats.add_turn(chats.empty(), "What is the quote?", answer())
    store = chats.add_turn(store, "And then?", None, "partial", "stopped")
    chat = chats.current(store)
    assert chat["title"] == "What is the quote?" and len(chat["turns"]) == 2
    turns = chats.turns(chat)
    assert turns[0].answer.citations[0].quote == QUOTE and turns[1].status == "stopped"
    assert chats.history_of(turns) == [{"role": "user", "content": "What is the quote?"},
                                       {"role": "assistant", "content": "The quote. [1]"},
                                       {"role": "user", "content": "And then?"},
                                       {"role": "assistant", "content": "partial"}]


def test_failed_turns_are_kept_but_not_sent_as_history():
    store = chats.add_turn(chats.empty(), "Q?", None, "LLM unreachable", "error")
    assert chats.history_of(chats.turns(chats.current(store))) == []


def test_regenerating_replaces_the_last_turn():
    store = chats.add_turn(chats.empty(), "Q?", answer("old [1]"))
    store = chats.add_turn(store, "Q?", answer("new [1]"), replace_last=True)
    assert [t.answer.text for t in chats.turns(chats.current(store))] == ["new [1]"]


def test_new_open_and_delete_chats():
    first = chats.add_turn(chats.empty(), "First?", answer())
    first_id = first["current"]
    store = chats.new_chat(first)
    assert chats.new_chat(store) == store  # an empty open chat is reused
    store = chats.add_turn(store, "Second?", answer())
    assert [c["title"] for c in store["chats"]] == ["Second?", "First?"]
    store = chats.open_chat(store, first_id)
    assert chats.current(store)["title"] == "First?"
    store = chats.delete_chat(store, first_id)
    assert [c["title"] for c in store["chats"]] == ["Second?"] and chats.current(store)["title"] == "Second?"


def test_stored_data_from_the_browser_is_checked():
    good = chats.add_turn(chats.empty(), "Q?", answer())
    tampered = {**good, "chats": good["chats"] + ["junk", {"id": 3}, {"id": "x", "turns": [{"question": 1}]}]}
    clean = chats.normalise(tampered)
    assert len(clean["chats"]) == 2 and clean["chats"][1]["turns"] == []
    assert chats.normalise(None) == chats.empty() and chats.normalise({"chats": "no"}) == chats.empty()
    assert chats.normalise({**good, "current": "nope"})["current"] is None


def test_the_browser_secret_is_kept_beside_the_index(tmp_path):
    first = chats.browser_secret(tmp_path / "db")
    assert first and chats.browser_secret(tmp_path / "db") == first
    assert (tmp_path / "db" / "browser-secret").stat().st_mode & 0o077 == 0


def test_a_pending_turn_is_settled_in_its_own_chat_even_after_a_new_chat_opened():
    store = chats.add_turn(chats.empty(), "Q?", None, "", chats.PENDING)
    asked_in = store["current"]
    store = chats.new_chat(store)  # not reused: the open chat holds a pending question
    assert store["current"] != asked_in and chats.listed(store) == [c for c in store["chats"] if c["id"] == asked_in]
    store = chats.settle(store, asked_in, 0, chats.turn_dict("Q?", answer()))
    settled = next(c for c in store["chats"] if c["id"] == asked_in)
    assert chats.turns(settled)[0].answer.text == "The quote. [1]" and store["current"] != asked_in
    assert chats.history_of(chats.turns(chats.current(chats.add_turn(chats.empty(), "Lost?", None, "",
                                                                         chats.PENDING)))) == []
    assert chats.settle(store, "gone", 0, {}) == store


def test_a_deleted_chat_can_be_brought_back():
    store = chats.add_turn(chats.empty(), "Q?", answer())
    gone = store["current"]
    store = chats.delete_chat(store, gone)
    assert store["chats"] == [] and store["deleted"]["id"] == gone
    back = chats.undo_delete(chats.normalise(store))
    assert back["current"] == gone and back["deleted"] is None and len(back["chats"]) == 1


def test_an_answer_and_a_new_chat_close_together_both_survive(tmp_path):
    """Each handler gets the store as the browser had it when its event fired: a New chat clicked as an
    answer settles reads a store without that answer, and the answer's settling reads one without the new
    chat. Neither loses the other's change (the handlers' unit tier, with an in-memory answerer)."""
    from types import SimpleNamespace

    from index.settings import IndexSettings
    from ui.settings import Config
    from ui.web.chat import Chat

    class Answers:  # the fake answerer: one answer, at once
        def answer_stream(self, question, history, **kwargs):
            yield answer()

    cfg = Config(index=IndexSettings(seeds_dir=tmp_path, db_dir=tmp_path / "db"))
    chat = Chat(cfg, Answers(), examples=SimpleNamespace(get=lambda: []))
    browser = SimpleNamespace(session_hash="one browser")
    pending, *_, asked, _, _ = chat.start("What is the quote?", chats.empty(), browser)
    *_, settled = list(chat.respond(pending, asked, 4, "extractive", request=browser))[-1]
    opened = chat.new(asked, browser)[0]  # New chat, from the store read before the answer settled
    first = next(c for c in opened["chats"] if c["id"] == pending["chat"])
    assert opened["current"] != pending["chat"] and chats.turns(first)[0].answer.text == "The quote. [1]"
    after = chat.settle(settled, asked, browser)[0]  # the answer settles in the store read before New chat
    assert after["current"] != pending["chat"]  # the new chat stays open: the next question starts there
    assert chats.turns(next(c for c in after["chats"] if c["id"] == pending["chat"]))[0].status == "answered"
    # regenerating the same turn: an earlier run's answer never settles the new pending turn
    again = chat.start_regenerate(chats.open_chat(after, pending["chat"]), browser)
    stale = chats.settle(again[6], pending["chat"], 0, chats.turn_dict("What is the quote?", answer("old [1]")),
                         pending["run"])
    assert chats.turns(next(c for c in stale["chats"] if c["id"] == pending["chat"]))[0].status == chats.PENDING
