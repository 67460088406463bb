"""The conversation so far, read in one place from every shape callers pass it in:
`{"role", "content"}` dicts (content a string, a dict with "text", or a list of parts, as Gradio
sends), `(user, assistant)` pairs, or LangChain messages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

History = Sequence[Any]
_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant", "system": "system"}


@dataclass(frozen=True)
class Message:
    """One turn of the conversation: who said it (`user` or `assistant`) and its text."""

    role: str
    text: str


def text_of(content: Any) -> str:
    """The text of a message's content: a string, a dict with "text", or a list of such parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text") if isinstance(content.get("text"), str) else ""
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in (text_of(part) for part in content) if t)
    return ""


def messages(history: History | None) -> list[Message]:
    """The conversation as `Message`s, oldest first; unreadable entries are left out."""
    out: list[Message] = []
    for turn in history or ():
        out += _read(turn)
    return [m for m in out if m.text.strip()]


def _read(turn: Any) -> list[Message]:
    if isinstance(turn, dict):
        return [Message(_ROLES.get(str(turn.get("role", "user")), "user"), text_of(turn.get("content")))]
    if isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, (str, type(None))) for t in turn):
        return [Message("user", turn[0] or ""), Message("assistant", turn[1] or "")]
    role = getattr(turn, "type", None)  # a LangChain BaseMessage
    if role is not None and hasattr(turn, "content"):
        return [Message(_ROLES.get(role, "user"), text_of(turn.content))]
    return []


def user_turns(history: History | None) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [m.text for m in messages(history) if m.role == "user"]


def as_dicts(history: History | None) -> list[dict]:
    """The conversation as plain `{"role", "content": str}` dicts."""
    return [{"role": m.role, "content": m.text} for m in messages(history)]
