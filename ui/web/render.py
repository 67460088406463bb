"""HTML for the chat, built from our own structure: every piece of document, model or user text is escaped,
and citations, highlights and short answers are our own elements. Nothing here reads files.

The chat's messages (`user_html`, `answer_html`, ...) go through Gradio's Chatbot with Markdown off, so
they are shown as the HTML written here (and Gradio's sanitizer runs on top). The sources panel and the
list of chats are `gr.HTML` values.
"""
from __future__ import annotations

import re
from html import escape

from index.errors import IndexMissingError, QAError
from qa import wording
from qa.sharing.export import Source, Turn, numbered_text, sources
from qa.types import Answer, Citation, Passage

_BAR = ('<button type="button" class="qa-sheet-bar" aria-label="Show or hide the sources">Sources{}</button>')
PLACEHOLDER = (f'<div class="qa-sources qa-empty-panel">{_BAR.format("")}<div class="qa-empty">Sources appear here. '
               'Click an answer to see the passages it quotes; click a number or a card to open the document.'
               '</div></div>')
SEARCHING = (f'<div class="qa-sources">{_BAR.format(" · searching…")}'
             '<div class="qa-empty">Searching the documents…</div></div>')
EMPTY_CHAT = ("**Ask a question about your documents.** Every answer quotes the passages it rests on; "
              "click a number to open the document at the quote.")
SNIPPET = 420
_MARKER = re.compile(r"\[(\d+)\]")


def user_html(question: str) -> str:
    """The user's question, shown exactly as typed (plain text, line breaks kept)."""
    return f'<div class="qa-user">{escape(question)}</div>'


def pending_html(text: str) -> str:
    """An answer still streaming: its text so far, shown as plain text."""
    body = escape(text) if text else '<span class="qa-wait">Searching the documents…</span>'
    return f'<div class="qa-answer qa-streaming">{body}</div>'


LOST = ("No answer arrived for this question: the connection to the server was lost, or the page was "
        "reloaded while it was answered.")
RETRY = '<button type="button" class="qa-retry">Retry</button>'


def note_html(text: str, status: str, last: bool = False) -> str:
    """A stopped, failed or unanswered answer: what had arrived, then a note saying what happened (the last
    unanswered one offers Retry)."""
    if status == "pending":
        retry = f" {RETRY}" if last else ""
        return f'<div class="qa-answer qa-lost"><div class="qa-note">⚠️ {escape(LOST)}{retry}</div></div>'
    note = {"stopped": "Stopped.", "error": ""}.get(status, "")
    shown = f'<div class="qa-partial">{escape(text)}</div>' if text else ""
    return f'<div class="qa-answer qa-{escape(status)}">{shown}<div class="qa-note">{escape(note)}</div></div>'


def error_answer_html(message: str) -> str:
    """The chat message after an error."""
    return f'<div class="qa-answer qa-error"><div class="qa-note">⚠️ {escape(message)}</div></div>'


def answer_html(turn: int, answer: Answer, changed: tuple[str, ...] = ()) -> str:
    """A finished answer: the short answer first when there is one, then the text with its `[n]` markers as
    buttons that open source n of this turn, the short answer highlighted where the text quotes it; a note
    when cited files (`changed`) changed since it was given."""
    numbered = {s.n: s for s in sources(answer)}
    text = numbered_text(answer)
    if _structured(answer):
        body = structured_html(text, answer, lambda n: cite_button(turn, n, numbered))
    else:
        body = _mark(text, _short_span(text, answer), "qa-short-mark")
        body = _MARKER.sub(lambda m: cite_button(turn, int(m.group(1)), numbered) or m.group(0), body)
    short = ""
    if answer.short and not answer.abstained:
        n = _short_source(answer)
        button = cite_button(turn, n, numbered) if n else ""
        short = (f'<div class="qa-short"><span class="qa-short-label">Short answer</span> '
                 f'<strong>{escape(answer.short.text)}</strong>{button}</div>')
    flag = f'<div class="qa-note">{escape(answer.flagged)}</div>' if answer.flagged else ""
    flag += changed_html(changed)
    return f'<div class="qa-answer" data-turn="{turn}">{short}<div class="qa-text">{body}</div>{flag}</div>'


def _structured(answer: Answer) -> bool:
    return not answer.abstained and answer.form != "fact" and ("\n" in answer.text or answer.verdict is not None)


def structured_html(text: str, answer: Answer, button) -> str:
    """A multi-sentence answer (`Answer.form`): its bullets as a list, a comparison's groups side by side
    (one column per side, headed by its label), a yes/no verdict first. `button(n)` draws citation n."""
    def line(t: str) -> str:
        return _MARKER.sub(lambda m: button(int(m.group(1))) or m.group(0), escape(t))

    verdict = ""
    if answer.verdict:
        word = answer.verdict.capitalize()
        verdict = f'<div class="qa-verdict qa-verdict-{escape(answer.verdict)}">{word}</div>'
        text = text.split(" ", 1)[1] if text.startswith(word + ".") else text
    labels = {g.label for g in answer.groups}
    sides, current, loose = [], None, []
    for raw in text.split("\n"):
        if raw.endswith(":") and raw[:-1] in labels:
            current = (raw[:-1], [])
            sides.append(current)
        elif raw.startswith("- "):
            (current[1] if current else loose).append(f"<li>{line(raw[2:])}</li>")
        elif raw.strip():
            loose.append(f"<p>{line(raw)}</p>")
    items = "".join(x for x in loose if x.startswith("<li>"))
    paras = "".join(x for x in loose if x.startswith("<p>"))
    body = paras + (f'<ul class="qa-bullets">{items}</ul>' if items else "")
    if sides:
        cols = "".join(f'<div class="qa-side"><div class="qa-side-label">{escape(label)}</div>'
                       f'<ul class="qa-bullets">{"".join(lis)}</ul></div>' for label, lis in sides)
        body += f'<div class="qa-compare">{cols}</div>'
    return verdict + body


def changed_html(changed: tuple[str, ...]) -> str:
    """The mark on an answer whose cited files changed since it was given (empty when none did)."""
    if not changed:
        return ""
    files = ", ".join(changed)
    return (f'<div class="qa-note qa-changed" role="note">⚠️ Changed since this answer: {escape(files)}. '
            'Its quotes may no longer match; ask again for a fresh answer.</div>')


def cite_button(turn: int, n: int, numbered: dict[int, Source]) -> str:
    """`[n]` as our own button (empty string when the answer has no source n)."""
    source = numbered.get(n)
    if source is None:
        return ""
    where = escape(source.first.location())
    # Gradio's sanitizer drops data-* attributes from chat messages, so the target travels in the classes.
    return (f'<button type="button" class="qa-cite qa-turn-{turn} qa-n-{n}" '
            f'title="Open source {n}: {where}" aria-label="Source {n}: {where}">{n}</button>')


def _short_source(answer: Answer) -> int | None:
    short = answer.short
    for s in sources(answer):
        if any(c.start <= short.start and short.end <= c.end and c.source == s.first.source for c in s.citations):
            return s.n
    return None


def _short_span(text: str, answer: Answer) -> tuple[int, int] | None:
    """Where the short answer sits in the answer's text: inside the quote of its citation, else anywhere."""
    short = answer.short
    if short is None or not short.text:
        return None
    cite = next((c for c in answer.citations if c.n == short.n), None)
    at = text.find(cite.quote) if cite and cite.quote else -1
    if at >= 0 and text[at + short.start - cite.start:][:len(short.text)] == short.text:
        at += short.start - cite.start
    else:
        at = text.find(short.text)
    return (at, at + len(short.text)) if at >= 0 else None


def _mark(text: str, span: tuple[int, int] | None, cls: str) -> str:
    if span is None:
        return escape(text)
    start, end = span
    return f'{escape(text[:start])}<mark class="{cls}">{escape(text[start:end])}</mark>{escape(text[end:])}'


def conversation(turns: list[Turn], changed=None) -> list[dict]:
    """The Chatbot's messages for a conversation: each question, then its answer (or what happened), marked
    when `changed(answer)` names cited files that changed since."""
    messages: list[dict] = []
    for i, t in enumerate(turns):
        messages.append({"role": "user", "content": user_html(t.question)})
        shown = answer_html(i, t.answer, changed(t.answer) if changed else ()) if t.answer else \
            note_html(t.text, t.status, last=i == len(turns) - 1)
        messages.append({"role": "assistant", "content": shown})
    return messages


def sources_html(answer: Answer, turn: int | None = None, active: int | None = None,
                 question: str | None = None) -> str:
    """The sources panel for one answer to `question` (default: the answer's own, which may be the
    follow-up resolved): its numbered sources (source `active` outlined), or an abstention with the related
    passages; then the other passages that were searched."""
    note = f'<div class="qa-note">{escape(answer.flagged)}</div>' if answer.flagged else ""
    found = sources(answer)
    head = _panel_head(turn, question or answer.question, len(found))
    if answer.abstained or not found:
        return f'<div class="qa-sources">{head}{note}{abstention_html(answer.related)}</div>'
    cards = "".join(source_html(s, turn, s.n == active, answer.short) for s in found)
    return f'<div class="qa-sources" data-turn="{_attr(turn)}">{head}{note}{cards}{searched_html(answer)}</div>'


def _panel_head(turn: int | None, question: str, count: int) -> str:
    which = f"Answer {turn + 1}" if turn is not None else "Answer"
    label = f"{count} source{'s' if count != 1 else ''}" if count else "no sources"
    return (_BAR.format(f" · {escape(label)}") + f'<div class="qa-label">{escape(which)}: {escape(label)}</div>'
            f'<div class="qa-question">{escape(question)}</div>')


def source_html(s: Source, turn: int | None, active: bool = False, short=None) -> str:
    """One source card: number, title, location and date, its passage with every quoted span marked."""
    c = s.first
    cls = "qa-source qa-active" if active else "qa-source"
    return (f'<div class="{cls}" data-turn="{_attr(turn)}" data-n="{s.n}" role="button" tabindex="0" '
            f'title="Open the document at this passage">'
            f'<div class="qa-head"><span class="qa-n">{s.n}</span>{escape(display_title(c.title, c.source))}</div>'
            f'{_path(c.heading)}{_meta(c.location(), c.published)}'
            f'<p class="qa-passage">{highlight_all(s.citations, short)}</p>'
            f'<div class="qa-open">Open document ›</div></div>')


def citation_html(c: Citation) -> str:
    """One cited passage on its own (a one-quote source card)."""
    return source_html(Source(c.n, (c,)), None)


def display_title(title: str, source: str) -> str:
    """The title to show for a document: its own title, or its file name when the "title" is only the
    cut-off first sentence the loader falls back to."""
    return source if not title or title.endswith("…") else title


def highlight(c: Citation) -> str:
    """The citation's passage, escaped, with the quoted span wrapped in `<mark>`."""
    return highlight_all((c,))


def highlight_all(cites: tuple[Citation, ...], short=None) -> str:
    """The passage of `cites` (they share one), escaped, every quote marked, the short answer inside."""
    first = cites[0]
    context, offset = first.context, first.context_start
    spans = [(c.start - offset, c.end - offset) for c in cites if c.context == context and
             context[c.start - offset:c.end - offset] == c.quote]
    if not context or not spans:
        at = context.find(first.quote) if context else -1
        if at < 0:
            return f'<mark class="qa-quote">{escape(first.quote)}</mark>'
        spans, offset = [(at, at + len(first.quote))], first.start - at
    inner = (short.start - offset, short.end - offset) if short is not None else None
    return marked(context, spans, inner)


def marked(text: str, spans: list[tuple[int, int]], inner: tuple[int, int] | None = None) -> str:
    """`text` escaped, each span in `spans` wrapped in `<mark class="qa-quote">`, and `inner` (a span inside
    one of them) in `<mark class="qa-short-mark">`."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out.append(escape(text[at:start]))
        out.append(f'<mark class="qa-quote">{_inner(text, start, end, inner)}</mark>')
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def _inner(text: str, start: int, end: int, inner: tuple[int, int] | None) -> str:
    if inner is None or not (start <= inner[0] < inner[1] <= end):
        return escape(text[start:end])
    a, b = inner
    return f'{escape(text[start:a])}<mark class="qa-short-mark">{escape(text[a:b])}</mark>{escape(text[b:end])}'


def searched_html(answer: Answer) -> str:
    """The passages searched but not quoted, folded away (this is what the k setting changes)."""
    cited = {c.passage_id for c in answer.citations}
    rest = [p for p in answer.passages if p.id not in cited]
    if not rest:
        return ""
    items = "".join(related_html(p) for p in rest)
    return (f'<details class="qa-searched"><summary>{len(rest)} more passage{"s" if len(rest) != 1 else ""} '
            f'searched, not quoted</summary>{items}</details>')


def abstention_html(related: tuple[Passage, ...]) -> str:
    """Say plainly that the documents do not hold the answer, then list the closest passages as related."""
    head = f'<div class="qa-abstain">{escape(wording.NOT_FOUND)}</div>'
    if not related:
        return head
    items = "".join(related_html(p) for p in related)
    return f'{head}<div class="qa-label">{escape(wording.RELATED)}</div>{items}'


def related_html(p: Passage) -> str:
    """One related passage: title, location, date and the start of its text."""
    text = p.text if len(p.text) <= SNIPPET else p.text[:SNIPPET].rsplit(" ", 1)[0] + " …"
    return (f'<div class="qa-source qa-related"><div class="qa-head">{escape(display_title(p.title, p.source))}'
            f'</div>{_path(p.heading_at(p.start))}{_meta(p.location(), p.published)}'
            f'<p class="qa-passage">{escape(text)}</p></div>')


def chat_list_html(chats: list[dict], current: str | None, deleted: dict | None = None) -> str:
    """The list of conversations, newest first: open one by its title, delete it with ×; after a deletion,
    a line to undo it."""
    undo = (f'<div class="qa-undo" role="status">Deleted “{escape(deleted["title"])}”. <button type="button" '
            f'class="qa-undo-button" data-action="undo">Undo</button></div>') if deleted else ""
    if not chats:
        return f'<div class="qa-chats">{undo}<div class="qa-empty">Your conversations are listed here.</div></div>'
    items = "".join(_chat_item(c, c["id"] == current) for c in chats)
    return f'<nav class="qa-chats" aria-label="Conversations">{undo}{items}</nav>'


def _chat_item(chat: dict, active: bool) -> str:
    cid, title = escape(chat["id"]), escape(chat["title"])
    n = len(chat["turns"])
    return (f'<div class="qa-chat{" qa-active" if active else ""}">'
            f'<button type="button" class="qa-chat-open" data-action="open" data-chat="{cid}" '
            f'aria-current="{"true" if active else "false"}">{title}<small>{n} question{"s" if n != 1 else ""}'
            f'</small></button><button type="button" class="qa-chat-delete" data-action="delete" data-chat="{cid}" '
            f'title="Delete this conversation" aria-label="Delete “{title}”">×</button></div>')


def error_text(exc: Exception) -> str:
    """A friendly one-paragraph message for an error (no traceback)."""
    if isinstance(exc, IndexMissingError):
        return f"{_first(exc)}. Add documents and click “Rebuild index” in the Documents tab."
    if isinstance(exc, QAError):
        return f"{_first(exc)}." + (f" {exc.hint[0].upper()}{exc.hint[1:]}." if exc.hint else "")
    return f"Something went wrong ({type(exc).__name__}: {_first(exc)})."


def error_html(message: str) -> str:
    """The sources panel after an error."""
    return f'<div class="qa-sources"><div class="qa-note">{escape(message)}</div></div>'


def _first(exc: Exception) -> str:
    text = exc.args[0] if exc.args else type(exc).__name__
    return str(text).rstrip(".")


def _attr(value) -> str:
    return "" if value is None else escape(str(value))


def _path(heading: str) -> str:
    """The heading path above a passage ("pg_dump › Options"), where the document has headings."""
    return f'<div class="qa-path">{escape(heading)}</div>' if heading else ""


def _meta(location: str, published: str) -> str:
    date = f" · {escape(published)}" if published else ""
    return f'<div class="qa-meta">{escape(location)}{date}</div>'
