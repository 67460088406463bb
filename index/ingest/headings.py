"""The headings of a document, and the heading path in effect at any offset ("pg_dump › Options").

Loaders find headings where their format marks them: Markdown `#` lines and `===`/`---` underlines,
reStructuredText adornments (levels in order of first use, as docutils assigns them), HTML `h1`-`h6`, and in
plain text the section names of a manual page (`NAME`, `SYNOPSIS`, `OPTIONS`: a capitalised line at the left
margin over indented text, with the 3-space indented sub-sections under them) and underlined titles. A chunk
records the path at its start, so retrieval and source cards know where in the document a passage sits.
"""
from __future__ import annotations

import bisect
import json
import re

from index.types import Heading

SEP = " › "  # between the levels of a heading path
MAX_HEADING = 120  # characters of a heading kept in a path (a long one is cut at a word)


class Outline:
    """The heading path at any offset of one document's text."""

    def __init__(self, headings: tuple[Heading, ...]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.paths: list[str] = []
        stack: list[Heading] = []
        for h in sorted(headings, key=lambda h: h.start):
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            self.starts.append(h.start)
            self.ends.append(h.end)
            self.paths.append(SEP.join(shorten(s.text) for s in stack))

    def at(self, pos: int) -> str:
        """The path of the headings above `pos` (a heading that starts at `pos` included); "" before any."""
        n = bisect.bisect_right(self.starts, pos)
        return self.paths[n - 1] if n else ""

    def within(self, start: int, end: int) -> str:
        """The headings that start inside `start..end`, as the JSON list the chunk metadata
        keeps: `[[start, end, path], ...]` in file offsets, so a quote's path and a heading's extent are known
        at answer time; "" when there is none."""
        lo, hi = bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end)
        marks = [[self.starts[i], self.ends[i], self.paths[i]] for i in range(lo, hi)]
        return json.dumps(marks, ensure_ascii=False, separators=(",", ":")) if marks else ""


def below(path: str, title: str) -> str:
    """`path` without a first level that only repeats the document's title (a Markdown `# Title`, an HTML
    `h1` that is the page's `<title>`): what a source card shows under that title and the index reads."""
    title = shorten(title)
    if path == title:
        return ""
    return path[len(title) + len(SEP):] if title and path.startswith(title + SEP) else path


_MARKS = re.compile(r"[\s¶\ue000-\uf8ff]+$")  # a permalink's pilcrow or icon-font glyph after an HTML heading


def shorten(text: str) -> str:
    """A heading as a path shows it: spaces folded, a trailing permalink mark dropped, cut at a word."""
    text = _MARKS.sub("", " ".join(text.split()))
    return text if len(text) <= MAX_HEADING else text[:MAX_HEADING].rsplit(" ", 1)[0] + "…"


_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)", re.M)
_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_SETEXT = re.compile(r"^(?=[^\n]*\S)([^\n]+)\n[ \t]{0,3}(=+|-+)[ \t]*$", re.M)  # one pass a line: no backtracking
_NOT_TITLE = re.compile(r"[ \t]*(?:[-*+>]|\d+[.)])(?:[ \t]|$)|[ \t]*\|")  # a list item, quote or table row over a rule


def markdown(text: str) -> tuple[Heading, ...]:
    """`#` headings (level = number of `#`) and setext titles (`===` level 1, `---` level 2), outside code
    fences."""
    fenced = _fenced(text)
    found = [Heading(m.start(), m.end(), len(m.group(1)), m.group(2)) for m in _ATX.finditer(text)
             if not _inside(m.start(), fenced)]
    found += [Heading(m.start(), m.end(), 1 if m.group(2)[0] == "=" else 2, m.group(1).strip())
              for m in _SETEXT.finditer(text) if _titled(m.group(1)) and not _inside(m.start(), fenced)]
    return tuple(sorted(found, key=lambda h: h.start))


def _titled(line: str) -> bool:
    return not line.startswith((" " * 4, "\t")) and not _NOT_TITLE.match(line) and len(line.strip()) <= 200


def _fenced(text: str) -> list[tuple[int, int]]:
    marks = [m.start() for m in _FENCE.finditer(text)]
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


_RST = re.compile(r"^(?:(?P<over>([=\-~^\"'`#*+:._])\2{2,})[ \t]*\r?\n)?(?P<title>\S[^\n]*?)[ \t]*\r?\n"
                  r"(?P<under>([=\-~^\"'`#*+:._])\5{2,})[ \t]*$", re.M)


def rst(text: str) -> tuple[Heading, ...]:
    """Under- (and over-) lined titles; each adornment style gets the next level when first seen."""
    styles: dict[tuple[str, bool], int] = {}
    found = []
    for m in _RST.finditer(text):
        title, under = m.group("title"), m.group("under")
        # docutils wants the underline as long as the title; a shorter rule under a line is a separator
        if len(under) < 0.8 * len(title) or not _titled(title) or title.startswith(".. "):
            continue
        style = (under[0], bool(m.group("over")))
        level = styles.setdefault(style, len(styles) + 1)
        found.append(Heading(m.start(), m.end(), level, title))
    return tuple(found)


_MAN_SECTION = re.compile(r"^([A-Z][A-Z0-9]*(?:[ \t][A-Z0-9][A-Z0-9-]*){0,4})[ \t]*$", re.M)
_MAN_SUB = re.compile(r"^ {2,3}(\S[^\n]{0,60}?)[ \t]*$", re.M)
_INDENTED = re.compile(r"[ \t]{3,}\S")


def plain(text: str) -> tuple[Heading, ...]:
    """Plain text: a manual page's section names (a capitalised line at the margin whose next non-blank line
    is indented) with their indented sub-sections, else underlined titles as in Markdown or reStructuredText."""
    sections = [m for m in _MAN_SECTION.finditer(text) if _INDENTED.match(_next_line(text, m.end()))]
    if len(sections) >= 2:  # one capitalised line is a shout, two or more over indented text are a manual
        found = [Heading(m.start(), m.end(), 1, m.group(1)) for m in sections]
        found += [Heading(m.start(), m.end(), 2, m.group(1)) for m in _MAN_SUB.finditer(text)
                  if _sub_section(text, m)]
        return tuple(sorted(found, key=lambda h: h.start))
    return rst(text) or markdown(text)


def _sub_section(text: str, m: re.Match) -> bool:
    """A man page's sub-section: a short line without a closing stop, after a blank line or its section's
    name, over text indented further (`   Options` over `       -a ...`)."""
    title = m.group(1).rstrip(":")
    if not title or title[-1] in ".,;)" or len(title.split()) > 6 or not title[0].isupper():
        return False
    previous = text[text.rfind("\n", 0, max(0, m.start() - 1)) + 1:max(0, m.start() - 1)]
    nxt = _next_line(text, m.end())
    return (not previous.strip() or bool(_MAN_SECTION.fullmatch(previous))) and len(nxt) - len(nxt.lstrip()) >= 5


def _next_line(text: str, pos: int) -> str:
    """The first non-blank line after the line ending at `pos`."""
    while pos < len(text):
        nl = text.find("\n", pos + 1)
        end = len(text) if nl < 0 else nl
        line = text[pos + 1:end] if text[pos:pos + 1] == "\n" else text[pos:end]
        if line.strip():
            return line
        if nl < 0:
            break
        pos = nl
    return ""
