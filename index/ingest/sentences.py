"""Split passage text into sentences with exact character offsets.

Real documents wrap lines: a PDF's text layer, a plain-text manual and HTML source break a paragraph every
70-odd characters. A line break therefore ends a sentence only when it ends a block: a blank line, a short
line (a heading, a code line, the last line of a paragraph), the start of a list item, heading, table row or
code fence, or a change of indentation (an indented example). Within a block, lines are read as one text
and sentences end at `. ! ?` followed by a likely sentence start, as before. Offsets stay those of the text
given, so a sentence's quote is what the file says (with its line breaks).
"""
from __future__ import annotations

import re

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely sentence start.
_END = re.compile(r"""[.!?]["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|St|Mt|Jr|Sr|Inc|Corp|Ltd|Co|"
                     r"vs|etc|No|Vol|Fig|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|ca|cf|e\.g|i\.e)"
                     r"|\b[A-Z](?:\.[A-Z])*)\.$")
# A line that starts a block of its own: a list item, a heading, a table row, a code fence, a definition.
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+•◦▪‣·][ \t]|\d{1,3}(?:\.\d{1,3})*[.)]?[ \t]|[A-Za-z][.)][ \t]|#{1,6}[ \t]|\||```|~~~|"
                          r"\.\. |>|\[\d+\][ \t])")
_LIST_MARK = re.compile(r"[ \t]*(?:[-*+•◦▪‣·]|\d{1,3}(?:\.\d{1,3})*[.)]?|[A-Za-z][.)])[ \t]+"
                        r"|[ \t]*-\S*[ \t]{2,}(?=\S)")  # or an option with its text beside it (`-c     with`)
# The marker that starts a list item: a bullet or a number ("3. ", "5.3. ", "b) ").
ITEM_MARK = re.compile(r"^\s*(?:[-*+•◦▪‣·]|\d{1,3}(?:\.\d{1,3})*[.)]|[a-z][.)])\s+")
# A numbered item's number ("7.", "5.3.", "b)") is not a sentence of its own.
_NUMBERING = re.compile(r"\s*(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z]|[ivxIVX]{1,4})[.)]")
_ROW = " | "  # how loaders join a table row's cells: each row is a line, and a line of its own
SHORT_SHARE = 0.6  # a line shorter than this share of the text's wrap width ends where it ends
MIN_WRAP = 40      # text whose lines are all shorter than this is not wrapped prose (code, lists, headings)


def split(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `base`, whitespace trimmed.

    A term or heading on a line of its own directly above its text (no blank line between: `globstar` over
    "If set, the pattern ** ...", `-a, --all` over its description) starts that text's first sentence, so
    the term travels with what it says."""
    spans: list[tuple[int, int]] = []
    found = blocks(text)
    held = None
    for n, (b_start, b_end) in enumerate(found):
        if held is None and _heads(text, (b_start, b_end), found[n + 1] if n + 1 < len(found) else None):
            held = b_start
            continue
        start, held = (b_start if held is None else held), None
        for m in _END.finditer(text, b_start, b_end):
            if (_ABBREV.search(text[max(b_start, m.start() - 12):m.start() + 1])
                    or _NUMBERING.fullmatch(text, start, m.end())):
                continue
            _add(text, start, m.end(), base, spans)
            start = m.end()
        _add(text, start, b_end, base, spans)
    return spans


def _heads(text: str, block: tuple[int, int], nxt: tuple[int, int] | None) -> bool:
    """Whether `block` is a one-line term or heading sitting directly on top of the next block."""
    if nxt is None or text.count("\n", block[1], nxt[0]) != 1 or "\n" in text[block[0]:block[1]]:
        return False
    head = text[block[0]:block[1]].strip()
    if head.startswith(("#", "$ ", "% ", "> ")) or head.endswith("?") or _is_code(head) \
            or _BLOCK_START.match(text, nxt[0]) or _UNDERLINE.match(text, nxt[0]) or _UNDERLINE.fullmatch(head):
        return False
    return is_label(head)


def blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each block of `text`: runs of lines that read as one paragraph (see the module doc)."""
    lines = _lines(text)
    width = _width(text, lines)
    out: list[tuple[int, int]] = []
    start = None
    for n, (s, e) in enumerate(lines):
        if not text[s:e].strip():
            continue
        if start is None:
            start = s
        nxt = lines[n + 1] if n + 1 < len(lines) else None
        if nxt is None or not _soft(text, (s, e), nxt, width):
            out.append((start, e))
            start = None
    return out


def _width(text: str, lines: list[tuple[int, int]]) -> int:
    """The wrap width of `text`: the 80th percentile of its line lengths (blank lines and heading underlines
    aside), so that one long URL, badge or rule line does not make every wrapped line look short."""
    sizes = sorted(len(text[s:e].strip()) for s, e in lines
                   if text[s:e].strip() and not _UNDERLINE.fullmatch(text, s, e))
    return sizes[min(len(sizes) - 1, int(0.8 * len(sizes)))] if sizes else 0


def _soft(text: str, line: tuple[int, int], nxt: tuple[int, int], width: int) -> bool:
    """Whether the break between `line` and the next line is a wrap inside a paragraph."""
    cur, following = text[line[0]:line[1]], text[nxt[0]:nxt[1]]
    if not following.strip() or width < MIN_WRAP or len(cur.strip()) < SHORT_SHARE * width:
        return False
    if _BLOCK_START.match(following) or following.lstrip().startswith(("```", "~~~")):
        return False
    if _ROW in cur or _ROW in following:  # a table row (cells joined by " | ", as every loader writes them)
        return False
    indent, nxt_indent = _indent(cur), _indent(following)
    mark = _LIST_MARK.match(cur)
    text_indent = len(mark.group().expandtabs()) if mark else indent
    return abs(nxt_indent - indent) <= 1 or abs(nxt_indent - text_indent) <= 1


def _indent(line: str) -> int:
    return len(line.expandtabs()) - len(line.expandtabs().lstrip())


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos <= len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        out.append((pos, end))
        if nl < 0:
            break
        pos = nl + 1
    return out


def _add(text: str, start: int, end: int, base: int, spans: list) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((base + start + lead, base + start + lead + len(stripped)))


# A line that holds a term and what it is ("twopi − filter for radial layouts", "size | 1 GB") is content.
_PAIRED = re.compile(r"\S\s+(?:[−—–|]|-{1,2})\s+\S|\S:\s+\S")
_UNDERLINE = re.compile(r"[ \t]*([=\-~^*+#`:.'\"_])\1+[ \t]*(?:\r?$|(?=\n))", re.M)  # under a heading (Markdown, rST)
LABEL_WORDS = 12  # a line of at most this many words without an ending stop is a heading, title or term


def is_label(text: str) -> bool:
    """Whether a sentence is structure rather than a statement: a heading, a title, a term or a question.

    A Markdown heading (`# Title`), a question (`1.5 Who makes curl?`), a synopsis or code line
    (`VACUUM [ ( option [, ...] ) ]`, every line of it), or one short line without a closing stop that pairs no term with a
    description (`jq`, `EXTRACT_ALL`, `2.11 Schannel TLS 1.2 handshake bug`).
    Such lines are context for the sentences under them, never an answer on their own.
    """
    stripped = "\n".join(line for line in text.strip().split("\n") if not _UNDERLINE.fullmatch(line)).strip()
    if not stripped or stripped.startswith("#") or stripped.endswith("?"):
        return True
    if all(_is_code(line) for line in stripped.split("\n")):
        return True
    if "\n" in stripped or stripped[-1] in ".!:;)\"'”’" or _PAIRED.search(stripped):
        return False
    return len(stripped.split()) <= LABEL_WORDS


# A line of code or of a command: a prompt, an option, an assignment, a path, brackets, a pipe or a statement end.
_CODE_MARK = re.compile(r"^\s*(?:[$%>]|#\s)|(?:^|\s)--?[A-Za-z]|\S=|[/\\]\w|[(){}\[\];|<>]|\\\s*$")


def is_code_block(text: str) -> bool:
    """Lines of code or commands kept as one block (a `pre` block, an indented example): two lines or more,
    none ending as a sentence ends, at least half of them bearing a mark of code (`_CODE_MARK`). Quoted for
    a how-to question, never offered as the answer to another."""
    lines = [line for line in text.strip().split("\n") if line.strip()]
    return (len(lines) >= 2 and not any(line.rstrip().endswith((".", "!", "?")) for line in lines)
            and 2 * sum(bool(_CODE_MARK.search(line)) for line in lines) >= len(lines))


def is_lead_in(text: str) -> bool:
    """A sentence that announces what follows it ("..., for instance:", "Then run:"): it ends with a colon.
    It answers only together with the block under it (a command, an example), never alone."""
    return text.rstrip().endswith(":")


HEADLINE_WORDS = 5  # a Markdown heading of at least this many words states something ("# X tops box office ...")


def is_headline(text: str) -> bool:
    """A Markdown heading that reads as a statement, as news titles do: one line of at least
    `HEADLINE_WORDS` words that is not a question. It is context for its document's sentences; the
    answerer may quote it beside one of them, never alone."""
    line = text.strip()
    return (line.startswith("#") and "\n" not in line and not line.endswith("?")
            and len(line.lstrip("#").split()) >= HEADLINE_WORDS)


def _is_code(line: str) -> bool:
    """A synopsis or code line: many of its words are brackets, operators or punctuation alone."""
    words = line.split()
    return " | " not in line and len(words) >= 5 and sum(not any(ch.isalpha() for ch in w) for w in words) >= 0.4 * len(words)
