"""The chat's event handlers around one shared `Assistant`: asking (streamed, stoppable, regenerable), the
sources and document viewer of any earlier answer, conversations kept in the browser, feedback, export
and the `ask` API. The browser's store (`ui.web.browser_chats`) is the only record of a conversation."""
from __future__ import annotations

import functools
import json
import re
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from index.manager import collections
from qa.history import as_dicts
from qa.pipeline import Assistant
from qa.sharing.evidence import ChangeCheck, bundle
from qa.sharing.export import Turn, sources, to_markdown
from qa.types import Answer
from ui.settings import Config
from ui.web import browser_chats as chats, feedback, render
from ui.web.examples import ExampleQuestions
from ui.web.gradio_import import gr
from ui.web.viewer import Documents, opening_html, view_html

EMPTY_QUESTION = "Type a question about your documents first."
SAME_ANSWER = ("The same answer again: the extractive answerer always quotes the passage that matches best. "
               "Rephrase the question, search more passages (Settings) or pick an LLM answerer for another answer.")
MAX_SESSIONS = 10_000  # browsers whose open conversation is remembered
RECENT_SESSIONS = 256  # browsers whose last finished turns are kept (needed for seconds only; answers are big)


class Chat:
    """Handlers for the chat tab; holds the app's one `Assistant`, document loader and example questions."""

    def __init__(self, cfg: Config, assistant: Assistant, examples: ExampleQuestions | None = None):
        self.cfg, self.assistant = cfg, assistant
        self.docs = Documents(cfg.index.seeds_dir)
        self.examples = examples or ExampleQuestions(cfg.index, assistant)
        self.export_dir = Path(tempfile.mkdtemp(prefix="seedqa-export-"))
        self.folders = functools.partial(collections.folder, cfg.index)  # collection name -> its folder
        self.changed = ChangeCheck(self.folders)  # marks answers whose cited files changed since
        self._docs = {"": self.docs}
        self._stopped: set[str] = set()  # runs the user stopped; their answers are dropped, not shown
        self._showing: dict[str, str | None] = {}  # browser session -> the conversation it shows
        # browser session -> its last finished turns. Each handler gets the store as the browser had it when
        # the event fired, so two events close together (an answer settling, New chat) each miss the other's
        # change; every handler settles these again (settling is idempotent), so no answer is ever lost.
        self._finished: dict[str, list[dict]] = {}

    # asking: start (question shown and kept as a pending turn) -> respond (streamed) -> settle (the answer
    # stored in the conversation it was asked in, read afresh, so a New chat clicked meanwhile is kept) ->
    # finish; or stopped (Stop, Escape)

    def start(self, question: str, store, request: gr.Request = None) -> tuple:
        """Show the question and a waiting answer, keep it as a pending turn, swap Ask for Stop; outputs
        (pending, textbox, chat, sources, ask, stop, store, chat list, settled). An empty question only warns."""
        if not (question or "").strip():
            gr.Warning(EMPTY_QUESTION)
            return None, *[gr.skip()] * 8
        return self._started(question, chats.normalise(store), replace=False, request=request)

    def start_example(self, store, evt: gr.SelectData, request: gr.Request = None) -> tuple:
        """Ask the example question the user clicked."""
        value = evt.value if isinstance(evt.value, dict) else {}
        return self.start(str(value.get("text") or ""), store, request)

    def start_regenerate(self, store, request: gr.Request = None) -> tuple:
        """Ask the last question of the open conversation again (its answer is replaced when done)."""
        store = chats.normalise(store)
        turns = chats.turns(chats.current(store))
        if not turns:
            gr.Warning("There is no answer to regenerate yet.")
            return None, *[gr.skip()] * 8
        return self._started(turns[-1].question, store, replace=True, request=request)

    def _started(self, question: str, store: dict, replace: bool, request=None) -> tuple:
        store = self._healed(store, request)
        before = chats.turns(chats.current(store))
        previous = before[-1].answer.text if replace and before and before[-1].answer else None
        run = uuid.uuid4().hex
        store = chats.add_turn(store, question, None, "", chats.PENDING, replace, run=run)
        chat = chats.current(store)
        prior = chats.turns(chat)[:-1]
        self._show_chat(request, chat["id"])
        shown = render.conversation(prior, self.changed) + [{"role": "user", "content": render.user_html(question)},
                                                            _bot(render.pending_html(""))]
        pending = {"question": question, "replace": replace, "text": "", "run": run,
                   "chat": chat["id"], "turn": len(prior), "previous": previous}
        return (pending, "", shown, render.SEARCHING, gr.update(visible=False), gr.update(visible=True), store,
                self._list(store), None)

    def respond(self, pending: dict | None, store, k: float, backend: str, collection: str | None = None,
                where: str | None = None, request: gr.Request = None) -> Iterator[tuple]:
        """Stream the answer; outputs (chat, sources, pending, settled). The chat and sources change only
        while the question's conversation is the one shown; `settled` (the finished turn) is stored by
        `settle`."""
        if not pending:
            yield (gr.skip(),) * 4
            return
        chat = next((c for c in chats.normalise(store)["chats"] if c["id"] == pending["chat"]), None)
        prior = chats.turns(chat)[:pending["turn"]]
        base = render.conversation(prior, self.changed) + [{"role": "user", "content": render.user_html(pending["question"])}]
        shown = functools.partial(self._shown, request, pending["chat"])
        try:
            scope = {"collection": collection, "where": where or None}
            yield from self._stream(pending, prior, base, int(k), backend, scope, shown, request)
        except _Stopped:
            # The Stop handler has already shown and kept the stopped turn. Nothing more is sent: by now the
            # user may have asked again, and outputs from here would overwrite that run's pending state.
            yield (gr.skip(),) * 4
        except Exception as exc:  # the edge: every failure becomes a message, never a traceback
            yield (gr.skip(),) * 4 if self._was_stopped(pending) else self._failed(exc, pending, base, shown(),
                                                                                   request)
        finally:
            self._stopped.discard(pending["run"])

    def _failed(self, exc: Exception, pending: dict, base: list, shown: bool, request=None) -> tuple:
        """The outputs of `respond` after an error: a friendly message, kept as a failed turn."""
        message = render.error_text(exc)
        gr.Warning(message)
        settled = self._finish_turn(request, _settled(pending, chats.turn_dict(pending["question"], None, message,
                                                                              "error")))
        if not shown:
            return gr.skip(), gr.skip(), None, settled
        return base + [_bot(render.error_answer_html(message))], render.error_html(message), None, settled

    def _stream(self, pending, prior, base, k, backend, scope, shown, request=None) -> Iterator[tuple]:
        history = as_dicts(chats.history_of(prior))
        text = ""
        for piece in self.assistant.answer_stream(pending["question"], history, k=k, backend=backend, **(scope or {})):
            if self._was_stopped(pending):
                raise _Stopped(text)
            if isinstance(piece, Answer):
                settled = self._finish_turn(request, _settled(pending, chats.turn_dict(pending["question"], piece)))
                if pending.get("previous") is not None and piece.text == pending["previous"]:
                    gr.Info(SAME_ANSWER)
                if not shown():
                    yield gr.skip(), gr.skip(), None, settled
                    return
                turn = len(prior)
                panel = render.sources_html(piece, turn, question=pending["question"])
                yield base + [_bot(render.answer_html(turn, piece))], panel, None, settled
                return
            text += piece
            view = base + [_bot(render.pending_html(text))] if shown() else gr.skip()
            yield view, gr.skip(), {**pending, "text": text}, gr.skip()

    def settle(self, settled: dict | None, store, request: gr.Request = None) -> tuple:
        """Store a finished turn in its conversation, read from the browser now (not when it was asked);
        outputs (store, chat list, markdown, json). The open conversation stays the one this browser shows
        (a New chat clicked just before may not be in the store read here: the next question starts one)."""
        if not settled:
            return (gr.skip(),) * 4
        store = self._healed(chats.normalise(store), request)
        store = chats.settle(store, settled["chat"], settled["turn"], settled["record"], settled["run"])
        shows = self._showing.get(getattr(request, "session_hash", None) or "", store["current"])
        if shows != store["current"]:
            store = {**store, "current": shows if any(c["id"] == shows for c in store["chats"]) else None}
        return (store, *self._lists(store))

    def _finish_turn(self, request, settled: dict) -> dict:
        """Remember a finished turn for this browser (see `_finished`); returns it."""
        session = getattr(request, "session_hash", None)
        if session:
            self._finished[session] = (self._finished.pop(session, []) + [settled])[-4:]  # newest last
            while len(self._finished) > RECENT_SESSIONS:
                self._finished.pop(next(iter(self._finished)))
        return settled

    def _healed(self, store: dict, request) -> dict:
        """`store` with this browser's last finished turns settled in it (those already there are kept)."""
        for done in self._finished.get(getattr(request, "session_hash", None) or "", []):
            store = chats.settle(store, done["chat"], done["turn"], done["record"], done["run"])
        return store

    def stopped(self, pending: dict | None, store, request: gr.Request = None) -> tuple:
        """Stop pressed: keep what had arrived as a stopped turn; outputs (chat, sources, store, pending, chat
        list, markdown, json, ask, stop). The stream is told to end (it drops what comes after), rather than
        cancelled mid-update."""
        buttons = (gr.update(visible=True), gr.update(visible=False))
        if not pending:
            return (gr.skip(),) * 7 + buttons
        self._stopped.add(pending["run"])
        record = chats.turn_dict(pending["question"], None, pending["text"], "stopped")
        done = self._finish_turn(request, _settled(pending, record))
        store = self._healed(chats.normalise(store), request)
        store = chats.settle(store, done["chat"], done["turn"], done["record"], done["run"])
        shown = render.conversation(chats.turns(chats.current(store)), self.changed)
        return (shown, render.PLACEHOLDER, store, None, *self._lists(store)) + buttons

    def _was_stopped(self, pending: dict) -> bool:
        return pending.get("run") in self._stopped

    @staticmethod
    def finish() -> tuple:
        """The answer is complete: Ask comes back, Stop goes."""
        return gr.update(visible=True), gr.update(visible=False)

    def _show_chat(self, request, chat_id: str | None) -> None:
        """Remember which conversation this browser shows (so a late answer never paints over another)."""
        session = getattr(request, "session_hash", None)
        if session:
            self._showing[session] = chat_id
            while len(self._showing) > MAX_SESSIONS:
                self._showing.pop(next(iter(self._showing)))

    def _shown(self, request, chat_id: str) -> bool:
        """Whether this browser still shows conversation `chat_id`."""
        session = getattr(request, "session_hash", None)
        return not session or self._showing.get(session, chat_id) == chat_id

    # looking at an answer: its sources, and the document at a quote

    def select(self, store, evt: gr.SelectData) -> str:
        """A message was clicked: show the sources of its answer."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        turn = index // 2
        found = self._turn(store, turn)
        return render.sources_html(found.answer, turn, question=found.question) if found else gr.skip()

    def cite(self, store, evt: gr.EventData) -> Iterator[tuple]:
        """A `[n]` or a source card was clicked: that answer's sources, source n outlined, and the viewer open
        at its quote ("Opening NAME, p. N…" until it is read); outputs (sources, viewer, viewer content)."""
        turn, n = _int(sent(evt, "turn")), _int(sent(evt, "n"))
        asked = self._turn(store, turn) if turn is not None else None
        found = {s.n: s for s in sources(asked.answer)} if asked else {}
        if n not in found:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        panel = render.sources_html(asked.answer, turn, active=n, question=asked.question)
        yield panel, gr.update(visible=True), opening_html(found[n])
        yield gr.skip(), gr.skip(), view_html(self.docs_for(asked.answer.collection), found[n], asked.answer.short)

    def docs_for(self, collection: str) -> Documents:
        """The document loader of a collection's folder ("" = the default one)."""
        if collection not in self._docs:
            self._docs[collection] = Documents(self.folders(collection))
        return self._docs[collection]

    def _turn(self, store, turn: int) -> Turn | None:
        """Turn `turn` of the open conversation, when it has an answer."""
        turns = chats.turns(chats.current(chats.normalise(store)))
        return turns[turn] if 0 <= turn < len(turns) and turns[turn].answer else None

    # conversations

    def restore(self, store, request: gr.Request = None) -> tuple:
        """Page load: the open conversation as it was; outputs (store, chat, sources, chat list, markdown, json).
        The store is shown, never written back: on a slow machine this may return after a first question has
        changed it, and writing the store as read at load would drop that question."""
        return (gr.skip(), *self._show(chats.normalise(store), request)[1:])

    def new(self, store, request: gr.Request = None) -> tuple:
        """New chat: an empty conversation with example questions."""
        return self._show(chats.new_chat(self._healed(chats.normalise(store), request)), request)

    def pick(self, store, evt: gr.EventData, request: gr.Request = None) -> tuple:
        """A conversation in the list was opened or deleted, or a deletion undone."""
        action = sent(evt, "action")
        store, chat_id = self._healed(chats.normalise(store), request), str(sent(evt, "chat") or "")
        if action == "delete":
            return self._show(chats.delete_chat(store, chat_id), request)
        if action == "undo":
            return self._show(chats.undo_delete(store), request)
        return self._show(chats.open_chat(store, chat_id), request)

    def _show(self, store: dict, request=None) -> tuple:
        self._show_chat(request, store["current"])
        turns = chats.turns(chats.current(store))
        examples = [{"text": q} for q in self.examples.get()]
        shown = gr.update(value=render.conversation(turns, self.changed), examples=examples or None)
        last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].answer), None)
        panel = (render.sources_html(turns[last].answer, last, question=turns[last].question)
                 if last is not None else render.PLACEHOLDER)
        return (store, shown, panel, *self._lists(store))

    @staticmethod
    def _list(store: dict) -> str:
        """The chat list for `store`: conversations with a question, and an undo after a deletion."""
        return render.chat_list_html(chats.listed(store), store["current"], store.get("deleted"))

    def _lists(self, store: dict) -> tuple:
        """The chat list and the two export buttons for `store`."""
        listing = self._list(store)
        md, js = self.export(store)
        return (listing, gr.update(value=md, interactive=md is not None),
                gr.update(value=js, interactive=js is not None))

    def export(self, store: dict) -> tuple[str | None, str | None]:
        """The open conversation written as Markdown and JSON files (None, None when it is empty)."""
        chat = chats.current(store)
        turns = chats.turns(chat)
        if not turns:
            return None, None
        stem = self.export_dir / chat["id"] / ("chat-" + (_slug(chat["title"]) or chat["id"]))
        stem.parent.mkdir(parents=True, exist_ok=True)
        md, js = stem.with_suffix(".md"), stem.with_suffix(".json")
        md.write_text(to_markdown(chat["title"], turns), "utf-8")
        data = bundle(chat["title"], turns, self.folders, chat["created"])  # verifiable: `qa verify`
        js.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
        return str(md), str(js)

    # feedback

    def like(self, store, data: gr.LikeData) -> tuple:
        """Log a vote (or its withdrawal) on an answer; offer a box for an optional reason. Outputs
        (vote state, reason row)."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        asked = self._turn(store, index // 2)
        if asked is None:
            gr.Warning("Only answers can be rated.")
            return None, gr.update(visible=False)
        vote = feedback.vote_name(data.liked)
        entry = feedback.record(asked.answer)
        feedback.append(self.cfg.feedback_log, entry, vote)
        gr.Info("Your vote was withdrawn." if vote == feedback.WITHDRAWN else "Thanks, your feedback was recorded.")
        withdrawn = vote == feedback.WITHDRAWN
        return (None if withdrawn else {"entry": entry, "vote": vote}), gr.update(visible=not withdrawn)

    def reason(self, vote: dict | None, text: str) -> tuple:
        """Log the optional reason given for the last vote; outputs (vote state, reason row, reason box)."""
        if vote and (text or "").strip():
            feedback.append(self.cfg.feedback_log, vote["entry"], vote["vote"], reason=text.strip())
            gr.Info("Thanks, your reason was recorded.")
        return None, gr.update(visible=False), ""

    # API

    def ask(self, question: str, k: int | None = None, collection: str | None = None,
            where: dict | None = None) -> dict:
        """API: answer `question` with `k` passages, from `collection` (default: the documents folder), only
        from documents matching `where` ({"source", "title", "type", "after", "before"});
        {"answer", "abstained", "short", "citations"}. A `k` that is not a whole number in range (0, 1.7,
        "abc") is refused, never rounded or defaulted."""
        if isinstance(k, float) and k.is_integer():
            k = int(k)  # JSON clients may send 4.0
        try:
            answer = self.assistant.answer(question, k=None if k is None or k == "" else k,
                                           collection=collection or None, where=where or None)
        except Exception as exc:  # API callers get the same friendly message as the UI
            raise gr.Error(render.error_text(exc)) from None
        return {"answer": answer.text, "abstained": answer.abstained,
                "short": asdict(answer.short) if answer.short else None,
                "citations": [asdict(c) for c in answer.citations]}


class _Stopped(Exception):
    """The user stopped this answer."""


def _settled(pending: dict, record: dict) -> dict:
    """A finished turn, and where it goes: turn `pending["turn"]` of conversation `pending["chat"]`."""
    return {"chat": pending["chat"], "turn": pending["turn"], "record": record, "run": pending["run"]}


def _bot(html: str) -> dict:
    return {"role": "assistant", "content": html}


def sent(evt: gr.EventData, name: str):
    """Field `name` of the data the page sent with a custom event (`trigger('click', {...})` in the chat's
    JavaScript), read as gradio documents it for `gr.HTML` events (`evt.name`); None when it was not sent
    (or nothing was: a plain click)."""
    try:
        return getattr(evt, name)
    except (AttributeError, TypeError):  # TypeError: gradio keeps no data at all for a plain click
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _slug(title: str) -> str:
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")[:50]
