"""The conversations kept in the browser (Gradio's `BrowserState`): a plain dict, changed only through these
functions, each returning a new dict.

    {"version": 1, "current": "<id>", "chats": [{"id", "title", "created", "turns": [turn, ...]}, ...],
     "deleted": chat | None}
    turn = {"question": str, "answer": answer_to_dict(...) | None, "text": str, "status": str}

A question is kept as a "pending" turn from the moment it is asked, and settled (`settle`) in the
conversation it was asked in when its answer arrives, whichever conversation is open by then; one still
pending when the page loads never got its answer (the page was reloaded, or the server was lost).
`deleted` keeps the last deleted conversation, so that a deletion can be undone.

What comes back from the browser is checked (`normalise`): anything unreadable is dropped, never trusted.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qa.sharing.export import Turn, answer_from_dict, answer_to_dict
from qa.types import Answer

VERSION = 1
MAX_CHATS = 30
MAX_TURNS = 100
TITLE_CHARS = 60
STORAGE_KEY = "seedqa-chats"
PENDING = "pending"  # the status of a turn whose answer has not arrived (yet)


def empty() -> dict:
    """A store with no conversation."""
    return {"version": VERSION, "current": None, "chats": [], "deleted": None}


def normalise(store: Any) -> dict:
    """`store` as read from the browser, with every malformed chat or turn left out."""
    if not isinstance(store, dict) or not isinstance(store.get("chats"), list):
        return empty()
    chats = [c for c in (_chat(c) for c in store["chats"][:MAX_CHATS]) if c]
    current = store.get("current") if any(c["id"] == store.get("current") for c in chats) else None
    return {"version": VERSION, "current": current, "chats": chats, "deleted": _chat(store.get("deleted"))}


def _chat(chat: Any) -> dict | None:
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), str) or not isinstance(chat.get("turns"), list):
        return None
    turns = [t for t in chat["turns"][:MAX_TURNS] if _turn_ok(t)]
    return {"id": chat["id"][:64], "title": str(chat.get("title") or "New chat")[:TITLE_CHARS + 1],
            "created": str(chat.get("created") or "")[:40], "turns": turns}


def _turn_ok(turn: Any) -> bool:
    return (isinstance(turn, dict) and isinstance(turn.get("question"), str)
            and (turn.get("answer") is None or answer_from_dict(turn["answer"]) is not None))


def current(store: dict) -> dict | None:
    """The open conversation, or None before the first question."""
    return next((c for c in store["chats"] if c["id"] == store["current"]), None)


def new_chat(store: dict) -> dict:
    """`store` with a fresh, empty conversation open (an empty open one is reused)."""
    chat = current(store)
    if chat is not None and not chat["turns"]:
        return store
    fresh = {"id": uuid.uuid4().hex[:12], "title": "New chat", "created": _now(), "turns": []}
    return {**store, "current": fresh["id"], "chats": [fresh] + store["chats"][:MAX_CHATS - 1]}


def open_chat(store: dict, chat_id: str) -> dict:
    """`store` with conversation `chat_id` open (unchanged if there is none by that id)."""
    return {**store, "current": chat_id} if any(c["id"] == chat_id for c in store["chats"]) else store


def delete_chat(store: dict, chat_id: str) -> dict:
    """`store` without conversation `chat_id` (kept as `deleted` until the next deletion, for an undo); if it
    was open, the most recent other one opens."""
    gone = next((c for c in store["chats"] if c["id"] == chat_id), None)
    if gone is None:
        return store
    chats = [c for c in store["chats"] if c["id"] != chat_id]
    keep = store["current"] if store["current"] != chat_id else (chats[0]["id"] if chats else None)
    return {**store, "current": keep, "chats": chats, "deleted": gone}


def undo_delete(store: dict) -> dict:
    """`store` with the last deleted conversation back in the list, and open."""
    gone = store.get("deleted")
    if not gone:
        return store
    chats = [gone] + [c for c in store["chats"] if c["id"] != gone["id"]][:MAX_CHATS - 1]
    return {**store, "current": gone["id"], "chats": chats, "deleted": None}


def listed(store: dict) -> list[dict]:
    """The conversations worth listing: those with at least one question."""
    return [c for c in store["chats"] if c["turns"]]


def settle(store: dict, chat_id: str, index: int, turn: dict, run: str | None = None) -> dict:
    """`store` with the pending turn `index` of conversation `chat_id` (asked by `run`) replaced by `turn`
    (an answer that arrived); unchanged when that turn is gone (deleted meanwhile) or already settled, so
    settling twice is harmless."""
    chat = next((c for c in store["chats"] if c["id"] == chat_id), None)
    if chat is None or not 0 <= index < len(chat["turns"]):
        return store
    old = chat["turns"][index]
    if old.get("status") != PENDING or old.get("question") != turn.get("question") or old.get("run") != run:
        return store
    turns = chat["turns"][:index] + [turn] + chat["turns"][index + 1:]
    return {**store, "chats": [{**c, "turns": turns} if c is chat else c for c in store["chats"]]}


def turn_dict(question: str, answer: Answer | None, text: str = "", status: str = "answered") -> dict:
    """One stored turn."""
    return {"question": question, "answer": answer_to_dict(answer) if answer else None, "text": text,
            "status": status}


def add_turn(store: dict, question: str, answer: Answer | None, text: str = "", status: str = "answered",
             replace_last: bool = False, run: str | None = None) -> dict:
    """`store` with a turn appended to the open conversation (replacing its last turn when regenerating);
    the conversation is titled by its first question and moves to the top of the list."""
    store = store if current(store) is not None else new_chat(store)
    chat = current(store)
    turns = chat["turns"][:-1] if replace_last and chat["turns"] else chat["turns"]
    turn = turn_dict(question, answer, text, status)
    if run:
        turn["run"] = run  # which run's answer settles this pending turn
    title = chat["title"] if turns else _title(question)
    updated = {**chat, "title": title, "turns": (turns + [turn])[-MAX_TURNS:]}
    return {**store, "chats": [updated] + [c for c in store["chats"] if c["id"] != chat["id"]]}


def turns(chat: dict | None) -> list[Turn]:
    """The conversation's turns with their `Answer`s."""
    return [Turn(t["question"], answer_from_dict(t["answer"]) if t.get("answer") else None,
                 str(t.get("text") or ""), str(t.get("status") or "answered")) for t in (chat or {}).get("turns", [])]


def history_of(turns_: list[Turn]) -> list[dict]:
    """The conversation as `{"role", "content"}` messages for the answerer: answers as plain text, stopped
    answers as far as they got, failed and unanswered turns left out."""
    out: list[dict] = []
    for t in turns_:
        if t.status in ("error", PENDING):
            continue
        out.append({"role": "user", "content": t.question})
        out.append({"role": "assistant", "content": t.answer.text if t.answer else t.text})
    return out


def browser_secret(db_dir: Path) -> str:
    """The key Gradio uses to scramble the stored chats, kept beside the index so that chats survive a
    restart of the server (a new key each start would make them unreadable)."""
    path = db_dir / "browser-secret"
    try:
        return path.read_text("utf-8").strip() or _new_secret(path)
    except OSError:
        return _new_secret(path)


def _new_secret(path: Path) -> str:
    secret = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret, "utf-8")
        path.chmod(0o600)
    except OSError:  # a read-only index folder: chats then last until the server restarts
        pass
    return secret


def _title(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
