"""The sources panel HTML, friendly error messages, chat history conversion and the feedback log."""
from __future__ import annotations

import json

import pytest

from index.errors import IndexMissingError, UsageError
from index.settings import IndexSettings
from qa.answerers import available
from qa.errors import LLMError
from qa.history import as_dicts
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Passage
from qa.wording import NOT_FOUND
from ui import feedback, render
from ui.app import parse_auth
from ui.settings import Config

CONTEXT = "Intro <b>bold</b> & more. The quote is here. Tail text."
QUOTE = "The quote is here."


def citation(**changes) -> Citation:
    base = dict(n=1, source="dir/a&b.txt", title="A <Title>", published="2024-04-13", start=126, end=144,
                start_line=3, end_line=3, quote=QUOTE, score=0.9, context=CONTEXT, context_start=100)
    return Citation(**{**base, **changes})


def passage(text: str = "Closest passage text.") -> Passage:
    return Passage(id="p1", text=text, source="b.md", title="B", start=0, end=len(text), start_line=1,
                   end_line=2, published="2023-01-02")


def test_the_quote_is_marked_inside_its_escaped_passage():
    html = render.citation_html(citation())
    assert "Intro &lt;b&gt;bold&lt;/b&gt; &amp; more. <mark>The quote is here.</mark> Tail text." in html
    assert "[1]" in html and "A &lt;Title&gt;" in html and "dir/a&amp;b.txt, line 3 · 2024-04-13" in html
    assert "<b>" not in html


def test_pages_and_line_spans_are_shown():
    assert "x.pdf, p. 4" in render.citation_html(citation(source="x.pdf", page=4))
    assert "lines 3–7" in render.citation_html(citation(end_line=7))


def test_a_quote_at_the_wrong_offset_is_still_found_or_shown_alone():
    assert "more. <mark>The quote" in render.highlight(citation(context_start=90))
    assert render.highlight(citation(context="unrelated")) == f"<mark>{QUOTE}</mark>"


def test_abstention_says_so_and_lists_related_passages():
    answer = Answer("q?", "The documents do not contain an answer.", (), True, "extractive",
                    related=(passage("<script>x</script> text"),))
    html = render.sources_html(answer)
    assert NOT_FOUND in html and "Related passages" in html and "<script>" not in html
    assert "b.md, lines 1–2 · 2023-01-02" in html


def test_cited_answer_lists_only_the_citations():
    answer = Answer("q?", "Yes [1].", (citation(),), False, "extractive", passages=(passage(),))
    html = render.sources_html(answer)
    assert html.count('class="qa-source"') == 1 and "Closest passage" not in html


def test_error_messages_are_friendly():
    text = render.error_text(LLMError("LLM server at http://x unreachable: refused", hint="start the server"))
    assert text == "LLM server at http://x unreachable: refused. Start the server."
    assert "Rebuild index" in render.error_text(IndexMissingError("no index found in db", hint="run `qa index`"))
    assert render.error_text(ValueError("boom")) == "Something went wrong (ValueError: boom)."


def test_chatbot_messages_become_plain_history():
    chat = [{"role": "user", "content": [{"type": "text", "text": "Who?"}]},
            {"role": "assistant", "content": "Xi [1]."}]
    assert as_dicts(chat) == [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Xi [1]."}]


def test_llm_answerers_are_offered_only_with_an_endpoint():
    assert available(AnswerSettings().has_endpoint) == ["extractive"]
    assert available(AnswerSettings(llm_base_url="http://localhost:11434").has_endpoint) == ["extractive", "openai",
                                                                                             "ollama"]


def test_feedback_is_appended_as_json_lines(tmp_path):
    cfg = Config(index=IndexSettings(db_dir=tmp_path / "db"))
    entry = feedback.record(Answer("q?", "Yes [1].", (citation(),), False, "extractive"))
    for liked in (True, False):
        feedback.append(cfg.feedback_log, entry, feedback.vote_name(liked))
    rows = [json.loads(line) for line in (tmp_path / "db" / "feedback.jsonl").read_text().splitlines()]
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["question"] == "q?" and rows[0]["citations"][0]["quote"] == QUOTE and rows[0]["time"]
    assert "context" not in rows[0]["citations"][0]


def test_auth_setting_is_parsed():
    assert parse_auth(None) is None and parse_auth("") is None
    assert parse_auth("alice:pa:ss") == ("alice", "pa:ss")
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(UsageError):
            parse_auth(bad)
