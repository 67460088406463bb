"""HTML and XHTML: the visible text through BeautifulSoup (scripts, styles and hidden parts removed)."""
from __future__ import annotations

from index.formats.builder import tidy

HIDDEN = ["script", "style", "noscript", "template", "head", "svg", "iframe"]


def extract_html(html: str | bytes) -> tuple[str, str]:
    """The visible text of an HTML page and its `<title>`."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(HIDDEN):
        tag.decompose()
    root = soup.body or soup
    return title, tidy(root.get_text("\n"))
