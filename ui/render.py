"""HTML for the sources panel: cited passages with the quote highlighted, or related passages on abstention."""
from __future__ import annotations

from html import escape

from index.errors import IndexMissingError, QAError
from qa import wording
from qa.types import Answer, Citation, Passage

PLACEHOLDER = '<div class="qa-empty">Ask a question: the passages cited in the answer appear here.</div>'
SEARCHING = '<div class="qa-empty">Searching the documents…</div>'
SNIPPET = 420

CSS = """
.qa-sources { font-size: 0.92rem; line-height: 1.45; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--background-fill-secondary); }
.qa-head { font-weight: 600; margin-bottom: 2px; }
.qa-n { display: inline-block; min-width: 1.8em; color: var(--color-accent); }
.qa-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin-bottom: 6px; }
.qa-passage { white-space: pre-wrap; margin: 0; }
.qa-passage mark { background: #ffe58a; color: #111; padding: 0 2px; border-radius: 3px; }
.qa-abstain { font-weight: 600; margin-bottom: 8px; }
.qa-label { text-transform: uppercase; letter-spacing: .05em; font-size: 0.75em;
  color: var(--body-text-color-subdued); margin: 8px 0 6px; }
.qa-note { color: #8a5a00; margin-bottom: 8px; }
.qa-empty { color: var(--body-text-color-subdued); padding: 8px 2px; }
"""


def sources_html(answer: Answer) -> str:
    """The sources panel for `answer`: its citations, or an abstention with the related passages."""
    note = f'<div class="qa-note">{escape(answer.flagged)}</div>' if answer.flagged else ""
    if answer.abstained or not answer.citations:
        return f'<div class="qa-sources">{note}{abstention_html(answer.related)}</div>'
    body = "".join(citation_html(c) for c in answer.citations)
    return f'<div class="qa-sources"><div class="qa-label">Sources</div>{note}{body}</div>'


def citation_html(c: Citation) -> str:
    """One cited passage: `[n] title`, file and lines (or page), date, the quote marked inside its passage."""
    return (f'<div class="qa-source" data-n="{c.n}"><div class="qa-head"><span class="qa-n">[{c.n}]</span>'
            f'{escape(c.title or c.source)}</div>{_meta(c.source, c.start_line, c.end_line, c.page, c.published)}'
            f'<p class="qa-passage">{highlight(c)}</p></div>')


def highlight(c: Citation) -> str:
    """The citation's passage, escaped, with the quoted span wrapped in `<mark>`."""
    start = c.start - c.context_start
    if not c.context or c.context[start:start + len(c.quote)] != c.quote:
        start = c.context.find(c.quote) if c.context else -1
    if start < 0:
        return f"<mark>{escape(c.quote)}</mark>"
    end = start + len(c.quote)
    return f"{escape(c.context[:start])}<mark>{escape(c.quote)}</mark>{escape(c.context[end:])}"


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
    return (f'<div class="qa-source qa-related"><div class="qa-head">{escape(p.title or p.source)}</div>'
            f'{_meta(p.source, p.start_line, p.end_line, p.page, p.published)}'
            f'<p class="qa-passage">{escape(text)}</p></div>')


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


def _meta(source: str, start_line: int, end_line: int, page: int | None, published: str) -> str:
    date = f" · {escape(published)}" if published else ""
    return f'<div class="qa-meta">{escape(wording.location(source, start_line, end_line, page))}{date}</div>'
