"""Sources numbered once per passage, answers saved and read back, conversations as Markdown and JSON."""
from __future__ import annotations

import json
import re

import pytest

from qa.sharing.export import (
    FORMAT,
    Turn,
    answer_from_dict,
    answer_to_dict,
    md_escape,
    numbered_text,
    sources,
    to_json,
    to_markdown,
)
from qa.types import Answer, Citation, Passage, Short

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

TEXT = "Alpha beta gamma. Delta epsilon. Zeta eta theta."


def cite(n: int, start: int, end: int, passage: str = "p1", source: str = "a.txt") -> Citation:
    return Citation(n=n, source=source, title="A", published="2024-01-02", start=start, end=end, start_line=1,
                    end_line=1, quote=TEXT[start:end], score=1.0, passage_id=passage, context=TEXT, context_start=0)


def answer(text: str, *cites: Citation, **extra) -> Answer:
    return Answer("q?", text, cites, False, "extractive", **extra)


def test_two_quotes_of_one_passage_share_a_number_and_distinct_passages_get_distinct_numbers():
    a = answer("Alpha beta gamma. [1] Delta epsilon. [2] Zeta [3]", cite(1, 0, 17), cite(2, 18, 32),
               cite(3, 33, 48, passage="p2", source="b.txt"))
    found = sources(a)
    assert [s.n for s in found] == [1, 2]
    assert [len(s.citations) for s in found] == [2, 1]
    assert numbered_text(a) == "Alpha beta gamma. [1] Delta epsilon. [1] Zeta [2]"


def test_one_passage_cited_twice_back_to_back_keeps_one_marker():
    a = answer("Both [1][2].", cite(1, 0, 17, passage="x"), cite(2, 0, 17, passage="y"))
    assert len(sources(a)) == 1 and numbered_text(a) == "Both [1]."


def test_an_answer_survives_being_saved_and_read_back():
    p = Passage(id="p1", text=TEXT * 40, source="a.txt", title="A", start=0, end=len(TEXT), start_line=1,
                end_line=1, meta={"x": 1})
    a = answer("Alpha [1]", cite(1, 0, 17), passages=(p,), related=(p,), short=Short("beta", 6, 10, 1, "thing"))
    back = answer_from_dict(json.loads(json.dumps(answer_to_dict(a))))
    assert back.citations == a.citations and back.short == a.short and back.text == a.text
    assert len(back.passages[0].text) < len(p.text)
    assert answer_from_dict({"text": "no question"}) is None and answer_from_dict("junk") is None


def test_json_export_lists_turns_sources_and_each_cited_file_once():
    turns = [Turn("First?", answer("Alpha [1]", cite(1, 0, 17))),
             Turn("Second?", answer("Delta [1]", cite(1, 18, 32))),
             Turn("Third?", None, "partial", "stopped")]
    data = json.loads(json.dumps(to_json("Chat", turns, "2024-01-01")))
    assert data["format"] == FORMAT and data["version"] == 1
    assert data["documents"] == [{"source": "a.txt", "title": "A", "published": "2024-01-02"}]
    assert [t["status"] for t in data["turns"]] == ["answered", "answered", "stopped"]
    first = data["turns"][0]["sources"][0]
    assert first["n"] == 1 and first["location"] == "a.txt, line 1"
    assert first["quotes"][0]["quote"] == "Alpha beta gamma." and first["quotes"][0]["start"] == 0


def test_markdown_export_quotes_sources_and_defuses_markup():
    evil = "See ![x](http://evil/x.png) <img src=x>"
    md = to_markdown("My <chat>", [Turn(evil, answer("Alpha [1]", cite(1, 0, 17)))])
    assert "# My \\<chat\\>" in md
    assert not re.search(r"(?<!\\)(!\[|<img)", md)  # every image or tag opener is escaped
    assert "\\!\\[x\\](http://evil/x.png) \\<img src=x\\>" in md
    assert "1. **A**, a.txt, line 1 · 2024-01-02" in md and "> Alpha beta gamma." in md
    assert "Alpha \\[1\\]" in md


def test_md_escape_keeps_text_readable():
    assert md_escape("plain words, 3.5 km") == "plain words, 3.5 km"
