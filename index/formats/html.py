"""HTML and XHTML: the main text as a person reads it, through BeautifulSoup and lxml.

Navigation is dropped (`nav`, `aside`, `footer`, ARIA navigation/banner/search roles, and blocks whose class or
id names navigation: `navheader`, `menu`, `breadcrumb`, `sidebar`, `toc`, ...), with scripts, styles and hidden
parts. What is left is laid out in blocks separated by a blank line: a paragraph, heading, list item or
definition is one line whatever the source's wrapping (a definition starts with its term: `AUTO_CD (-J): If a
command is issued ...`), with inline elements (`code`, `a`, `em`, `kbd`) inside
their sentence; a `pre` block keeps its lines whole; a table row is one line, its cells joined by ` | `.
(trafilatura was measured on the realdocs-dev pages: it keeps the answers, but folds `pre` blocks into one
line and drops some headings, and it is 3-10x slower on large reference pages.)
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from index.types import Heading

HIDDEN = ["script", "style", "noscript", "template", "head", "svg", "iframe", "nav", "aside", "footer", "button",
          "select", "input", "textarea"]
# Blocks that are navigation by their class or id (site menus, page headers of links, tables of contents).
_NAV_NAME = re.compile(r"^(?:nav|navbar|navheader|navfooter|navigation|navpath|navrow|navbox|menu|menubar|"
                       r"breadcrumbs?|sidebar|sidenav|footer|header|toc|skip-?link|related|pager)$", re.I)
_NAV_ROLE = {"navigation", "banner", "contentinfo", "search", "menu", "menubar"}
BLOCKS = {"p", "div", "section", "article", "main", "body", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd",
          "ul", "ol", "dl", "blockquote", "figure", "figcaption", "caption", "form", "fieldset", "address", "center",
          "hr", "table", "thead", "tbody", "tfoot", "details", "summary", "header"}
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"h[1-6]")
_BREAK = "\x00"  # a `<br>` inside a block: a line break the source's own newlines are not


@dataclass(frozen=True)
class HtmlText:
    """A page's `<title>`, its main text, and the `h1`-`h6` headings in that text."""

    title: str
    text: str
    headings: tuple[Heading, ...]


def extract_html(html: str | bytes) -> tuple[str, str]:
    """The main text of an HTML page (see the module doc) and its `<title>`."""
    page = extract_html_parts(html)
    return page.title, page.text


def extract_html_parts(html: str | bytes) -> HtmlText:
    """The `<title>`, main text (see the module doc) and headings of an HTML page."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(HIDDEN):
        tag.decompose()
    for tag in soup.find_all(_is_navigation):
        if not tag.decomposed:
            tag.decompose()
    out = _Layout()
    out.walk(soup.body or soup)
    text = out.text()
    return HtmlText(title, text, out.headings())


def _is_navigation(tag) -> bool:
    if tag.name in ("html", "body", "main", "article"):
        return False
    attrs = tag.attrs or {}
    if attrs.get("role") in _NAV_ROLE or "hidden" in attrs or "display:none" in str(attrs.get("style", "")).replace(" ", ""):
        return True
    names = list(attrs.get("class") or []) + [str(attrs.get("id") or "")]
    return any(_NAV_NAME.match(n) for n in names if n)


class _Layout:
    """Walks the tree, gathering inline text into the current block and closing it at block boundaries."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.levels: dict[int, int] = {}  # block number -> heading level, for `h1`-`h6` blocks
        self.line: list[str] = []
        self.term = ""  # a definition list's term, waiting to start its definition's first block

    def walk(self, node) -> None:
        from bs4 import Comment, NavigableString, Tag

        for child in node.children:
            if isinstance(child, Comment) or (isinstance(child, NavigableString) and type(child).__name__ in
                                              ("Declaration", "Doctype", "ProcessingInstruction", "CData")):
                continue
            if isinstance(child, NavigableString):
                self.line.append(str(child))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag) -> None:
        name = tag.name
        if name == "br":
            self.line.append(_BREAK)
        elif name == "pre":
            self.close()
            code = "\n".join(line.rstrip() for line in tag.get_text().strip("\n").splitlines())
            if code.strip():
                self.blocks.append(code)
        elif name == "tr":
            self.close()
            cells = [_SPACE.sub(" ", c.get_text(" ")).strip() for c in tag.find_all(["td", "th"], recursive=False)]
            row = " | ".join(c for c in cells if c)
            if row:
                self.blocks.append(row)
        elif name == "dt":
            self.close()
            self.walk(tag)
            term = _SPACE.sub(" ", "".join(self.line).replace(_BREAK, " ")).strip()
            self.line = []
            self._flush_term()
            self.term = term
        elif name in BLOCKS:
            self.close()
            before = len(self.blocks)
            self.walk(tag)
            self.close()
            if _HEADING.fullmatch(name) and len(self.blocks) == before + 1:  # one block: the heading's text
                self.levels[before] = int(name[1])
        else:
            self.walk(tag)

    def close(self) -> None:
        """End the current block: its text on one line per `<br>`, spaces folded."""
        raw = "".join(self.line)
        self.line = []
        text = "\n".join(line for line in (_SPACE.sub(" ", part).strip() for part in raw.split(_BREAK)) if line)
        if text and self.term:
            text, self.term = f"{self.term}: {text}", ""
        if text:
            self.blocks.append(text)

    def _flush_term(self) -> None:
        if self.term:
            self.blocks.append(self.term)
            self.term = ""

    def text(self) -> str:
        self.close()
        self._flush_term()
        return "\n\n".join(self.blocks)

    def headings(self) -> tuple[Heading, ...]:
        """The heading blocks with their offsets in `text()` (blocks are joined by a blank line)."""
        found, pos = [], 0
        for n, block in enumerate(self.blocks):
            if n in self.levels:
                found.append(Heading(pos, pos + len(block), self.levels[n], block))
            pos += len(block) + 2
        return tuple(found)
