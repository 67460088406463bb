"""The chat's event handlers around one shared `Assistant`: streamed answers, feedback and the `ask` API."""
from __future__ import annotations

from dataclasses import asdict
from typing import Iterator

import gradio as gr

from qa.history import as_dicts
from qa.pipeline import Assistant
from qa.types import Answer
from ui import feedback, render
from ui.settings import Config


class Chat:
    """Handlers for the chat tab; holds the one `Assistant` of the app."""

    def __init__(self, cfg: Config, assistant: Assistant):
        self.cfg, self.assistant = cfg, assistant

    def respond(self, question: str, chat: list, k: float, backend: str, records: dict) -> Iterator[tuple]:
        """Stream the answer into the chat; yields (chat, sources html, records, textbox value)."""
        if not (question or "").strip():
            gr.Warning("Type a question about your documents first.")
            yield chat, gr.skip(), records, ""
            return
        history = as_dicts(chat)
        chat = history + [{"role": "user", "content": question}, {"role": "assistant", "content": ""}]
        yield chat, render.SEARCHING, records, ""
        try:
            yield from self._stream(question, history, chat, int(k), backend, records)
        except Exception as exc:  # the edge: every failure becomes a message, never a traceback
            yield self._failed(exc, chat, records)

    def _stream(self, question, history, chat, k, backend, records) -> Iterator[tuple]:
        for piece in self.assistant.answer_stream(question, history, k=k, backend=backend):
            if isinstance(piece, Answer):
                chat[-1]["content"] = piece.text
                records = {**records, len(chat) - 1: feedback.record(piece)}
                yield chat, render.sources_html(piece), records, ""
            else:
                chat[-1]["content"] += piece
                yield chat, render.SEARCHING, records, ""

    def _failed(self, exc: Exception, chat: list, records: dict) -> tuple:
        message = render.error_text(exc)
        gr.Warning(message)
        chat[-1]["content"] = f"⚠️ {message}"
        return chat, render.error_html(message), records, ""

    def like(self, records: dict, data: gr.LikeData) -> None:
        """Append the voted answer (question, answer, citations, vote, time) to the feedback log."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        entry = (records or {}).get(index)
        if entry is None:
            gr.Warning("Feedback is only recorded for answers given in this session.")
            return
        feedback.append(self.cfg.feedback_log, entry, feedback.vote_name(data.liked))
        gr.Info("Thanks, your feedback was recorded.")

    def ask(self, question: str, k: int | None = None) -> dict:
        """API: answer `question` with `k` passages; {"answer", "abstained", "short", "citations"}.
        A `k` that is not a whole number in range (0, 1.7, "abc") is refused, never rounded or defaulted."""
        if isinstance(k, float) and k.is_integer():
            k = int(k)  # JSON clients may send 4.0
        try:
            answer = self.assistant.answer(question, k=None if k is None or k == "" else k)
        except Exception as exc:  # API callers get the same friendly message as the UI
            raise gr.Error(render.error_text(exc)) from None
        return {"answer": answer.text, "abstained": answer.abstained,
                "short": asdict(answer.short) if answer.short else None,
                "citations": [asdict(c) for c in answer.citations]}
