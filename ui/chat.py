"""The chat's event handlers around one shared `Assistant`: asking (streamed, stoppable, regenerable), the
sources and document viewer of any earlier answer, conversations kept in the browser, feedback, export
and the `ask` API. The browser's store (`ui.chats`) is the only record of a conversation."""
from __future__ import annotations

import functools
import json
import re
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from index import collections
from qa.evidence import ChangeCheck, bundle
from qa.export import Turn, sources, to_markdown
from qa.history import as_dicts
from qa.pipeline import Assistant
from qa.types import Answer
from ui import chats, feedback, render
from ui.examples import ExampleQuestions
from ui.gradio_import import gr
from ui.settings import Config
from ui.viewer import Documents, view_html

EMPTY_QUESTION = "Type a question about your documents first."


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

    # asking: start (question shown at once) -> respond (streamed) -> finish; or stopped (Stop, Escape)

    def start(self, question: str, store) -> tuple:
        """Show the question and a waiting answer, swap Ask for Stop; outputs (pending, textbox, chat,
        sources, ask, stop). An empty question only warns."""
        if not (question or "").strip():
            gr.Warning(EMPTY_QUESTION)
            return None, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chat = chats.current(chats.normalise(store))
        return self._started(question, chats.turns(chat), replace=False)

    def start_example(self, store, evt: gr.SelectData) -> tuple:
        """Ask the example question the user clicked."""
        value = evt.value if isinstance(evt.value, dict) else {}
        return self.start(str(value.get("text") or ""), store)

    def start_regenerate(self, store) -> tuple:
        """Ask the last question of the open conversation again (its answer is replaced when done)."""
        turns = chats.turns(chats.current(chats.normalise(store)))
        if not turns:
            gr.Warning("There is no answer to regenerate yet.")
            return None, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return self._started(turns[-1].question, turns[:-1], replace=True)

    def _started(self, question: str, prior: list, replace: bool) -> tuple:
        shown = render.conversation(prior, self.changed) + [{"role": "user", "content": render.user_html(question)},
                                              {"role": "assistant", "content": render.pending_html("")}]
        pending = {"question": question, "replace": replace, "text": "", "run": uuid.uuid4().hex}
        return pending, "", shown, render.SEARCHING, gr.update(visible=False), gr.update(visible=True)

    def respond(self, pending: dict | None, store, k: float, backend: str, collection: str | None = None,
                where: str | None = None) -> Iterator[tuple]:
        """Stream the answer; outputs (chat, sources, store, pending, chat list, markdown, json). The store
        changes once, when the answer is complete."""
        if not pending:
            yield (gr.skip(),) * 7
            return
        store = chats.normalise(store)
        prior = chats.turns(chats.current(store))
        prior = prior[:-1] if pending["replace"] else prior
        base = render.conversation(prior, self.changed) + [{"role": "user", "content": render.user_html(pending["question"])}]
        try:
            scope = {"collection": collection, "where": where or None}
            yield from self._stream(pending, store, prior, base, int(k), backend, scope)
        except _Stopped:
            # The Stop handler has already shown and kept the stopped turn. Nothing more is sent: by now the
            # user may have asked again, and outputs from here would overwrite that run's pending state.
            yield (gr.skip(),) * 7
        except Exception as exc:  # the edge: every failure becomes a message, never a traceback
            yield (gr.skip(),) * 7 if self._was_stopped(pending) else self._failed(exc, pending, store, base)
        finally:
            self._stopped.discard(pending["run"])

    def _failed(self, exc: Exception, pending: dict, store: dict, base: list) -> tuple:
        """The outputs of `respond` after an error: a friendly message, kept as a failed turn."""
        message = render.error_text(exc)
        gr.Warning(message)
        store = chats.add_turn(store, pending["question"], None, message, "error", pending["replace"])
        return (base + [_bot(render.error_answer_html(message))], render.error_html(message), store, None,
                *self._lists(store))

    def _stream(self, pending, store, prior, base, k, backend, scope=None) -> Iterator[tuple]:
        history = as_dicts(chats.history_of(prior))
        text = ""
        for piece in self.assistant.answer_stream(pending["question"], history, k=k, backend=backend, **(scope or {})):
            if self._was_stopped(pending):
                raise _Stopped(text)
            if isinstance(piece, Answer):
                store = chats.add_turn(store, pending["question"], piece, replace_last=pending["replace"])
                turn = len(prior)
                panel = render.sources_html(piece, turn, question=pending["question"])
                yield (base + [_bot(render.answer_html(turn, piece))], panel, store,
                       None, *self._lists(store))
                return
            text += piece
            shown = base + [_bot(render.pending_html(text))]
            yield shown, gr.skip(), gr.skip(), {**pending, "text": text}, gr.skip(), gr.skip(), gr.skip()

    def stopped(self, pending: dict | None, store) -> tuple:
        """Stop pressed: keep what had arrived as a stopped turn; outputs those of `respond`, then ask, stop.
        The stream is told to end (it drops what comes after), rather than cancelled mid-update."""
        buttons = (gr.update(visible=True), gr.update(visible=False))
        if not pending:
            return (gr.skip(),) * 7 + buttons
        self._stopped.add(pending["run"])
        return self._stop_outputs(pending, chats.normalise(store)) + buttons

    def _stop_outputs(self, pending: dict, store: dict) -> tuple:
        """The outputs of `respond` for a stopped answer: shown (and kept) as far as it got (sent by the Stop
        handler only)."""
        store = chats.add_turn(store, pending["question"], None, pending["text"], "stopped", pending["replace"])
        shown = render.conversation(chats.turns(chats.current(store)), self.changed)
        return (shown, render.PLACEHOLDER, store, None, *self._lists(store))

    def _was_stopped(self, pending: dict) -> bool:
        return pending.get("run") in self._stopped

    @staticmethod
    def finish() -> tuple:
        """The answer is complete: Ask comes back, Stop goes."""
        return gr.update(visible=True), gr.update(visible=False)

    # looking at an answer: its sources, and the document at a quote

    def select(self, store, evt: gr.SelectData) -> str:
        """A message was clicked: show the sources of its answer."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        turn = index // 2
        found = self._turn(store, turn)
        return render.sources_html(found.answer, turn, question=found.question) if found else gr.skip()

    def cite(self, store, evt: gr.EventData) -> tuple:
        """A `[n]` or a source card was clicked: that answer's sources, source n outlined, and the viewer open
        at its quote; outputs (sources, viewer, viewer content)."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        turn, n = _int(data.get("turn")), _int(data.get("n"))
        asked = self._turn(store, turn) if turn is not None else None
        found = {s.n: s for s in sources(asked.answer)} if asked else {}
        if n not in found:
            return gr.skip(), gr.skip(), gr.skip()
        html = view_html(self.docs_for(asked.answer.collection), found[n], asked.answer.short)
        panel = render.sources_html(asked.answer, turn, active=n, question=asked.question)
        return panel, gr.update(visible=True), html

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

    def restore(self, store) -> tuple:
        """Page load: the open conversation as it was; outputs (store, chat, sources, chat list, markdown, json)."""
        return self._show(chats.normalise(store))

    def new(self, store) -> tuple:
        """New chat: an empty conversation with example questions."""
        return self._show(chats.new_chat(chats.normalise(store)))

    def pick(self, store, evt: gr.EventData) -> tuple:
        """A conversation in the list was opened or deleted."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        store, chat_id = chats.normalise(store), str(data.get("chat") or "")
        if data.get("action") == "delete":
            return self._show(chats.delete_chat(store, chat_id))
        return self._show(chats.open_chat(store, chat_id))

    def _show(self, store: dict) -> tuple:
        turns = chats.turns(chats.current(store))
        examples = [{"text": q} for q in self.examples.get()]
        shown = gr.update(value=render.conversation(turns, self.changed), examples=examples or None)
        last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].answer), None)
        panel = (render.sources_html(turns[last].answer, last, question=turns[last].question)
                 if last is not None else render.PLACEHOLDER)
        return (store, shown, panel, *self._lists(store))

    def _lists(self, store: dict) -> tuple:
        """The chat list and the two export buttons for `store`."""
        listing = render.chat_list_html(store["chats"], store["current"])
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


def _bot(html: str) -> dict:
    return {"role": "assistant", "content": html}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _slug(title: str) -> str:
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")[:50]
