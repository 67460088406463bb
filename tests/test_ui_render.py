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
from qa.types import Answer, Citation, Passage, Short
from qa.wording import NOT_FOUND
from ui.settings import Config
from ui.web import feedback, render
from ui.web.app import parse_auth

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

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
    assert 'Intro &lt;b&gt;bold&lt;/b&gt; &amp; more. <mark class="qa-quote">The quote is here.</mark> Tail' in html
    assert '<span class="qa-n">1</span>A &lt;Title&gt;' in html and "dir/a&amp;b.txt, line 3 · 2024-04-13" in html
    assert "<b>" not in html


def test_a_cut_off_first_sentence_is_not_shown_as_the_title():
    assert render.display_title("Moscow [Russia], April 13 (ANI): Amid the…", "000_x.txt") == "000_x.txt"
    assert render.display_title("Harbour report", "a.md") == "Harbour report"
    assert render.display_title("", "a.md") == "a.md"


def test_answer_markers_become_our_own_buttons_and_text_is_escaped():
    evil = "<img src=http://x/p.png> ![t](http://x/t.png) [link](http://x) The quote is here. [1]"
    html = render.answer_html(2, Answer("q?", evil, (citation(),), False, "openai"))
    assert "<img" not in html and "&lt;img src=http://x/p.png&gt;" in html
    assert 'class="qa-cite qa-turn-2 qa-n-1"' in html and html.count("<button") == 1
    assert "[1]" not in html and "[link](http://x)" in html  # the model's markdown stays text


def test_the_short_answer_comes_first_and_is_marked_inside_the_quote():
    short = Short("quote", 130, 135, 1, "thing")
    a = Answer("q?", "The quote is here. [1]", (citation(),), False, "extractive", short=short)
    html = render.answer_html(0, a)
    assert html.index("qa-short-label") < html.index("qa-text")
    assert 'The <mark class="qa-short-mark">quote</mark> is here.' in html
    card = render.sources_html(a, 0)
    assert '<mark class="qa-quote">The <mark class="qa-short-mark">quote</mark> is here.</mark>' in card


def test_the_users_text_is_plain_text():
    shown = '<div class="qa-user">&lt;b&gt;hi&lt;/b&gt; *there*\nline</div>'
    assert render.user_html("<b>hi</b> *there*\nline") == shown


def test_one_passage_cited_twice_is_one_card_with_both_quotes_marked():
    second = citation(n=2, start=100, end=105, quote="Intro", passage_id="p")
    a = Answer("q?", "Intro [2] The quote is here. [1]", (citation(passage_id="p"), second), False, "extractive")
    html = render.sources_html(a, 0, active=1)
    assert html.count('role="button"') == 1 and html.count('<mark class="qa-quote">') == 2
    assert "qa-active" in html and render.answer_html(0, a).count("qa-n-1") == 2


def test_the_chat_list_escapes_titles():
    html = render.chat_list_html([{"id": "c1", "title": "<script>x</script>", "turns": [{}]}], "c1")
    assert "<script>" not in html and "&lt;script&gt;" in html and "qa-active" in html and "1 question" in html


def test_pages_and_line_spans_are_shown():
    assert "x.pdf, p. 4" in render.citation_html(citation(source="x.pdf", page=4))
    assert "lines 3–7" in render.citation_html(citation(end_line=7))


def test_a_quote_at_the_wrong_offset_is_still_found_or_shown_alone():
    assert 'more. <mark class="qa-quote">The quote' in render.highlight(citation(context_start=90))
    assert render.highlight(citation(context="unrelated")) == f'<mark class="qa-quote">{QUOTE}</mark>'


def test_abstention_says_so_and_lists_related_passages():
    answer = Answer("q?", "The documents do not contain an answer.", (), True, "extractive",
                    related=(passage("<script>x</script> text"),))
    html = render.sources_html(answer)
    assert NOT_FOUND in html and "Related passages" in html and "<script>" not in html
    assert "b.md, lines 1–2 · 2023-01-02" in html


def test_cited_answer_lists_its_sources_then_the_other_passages_searched():
    answer = Answer("q?", "Yes [1].", (citation(passage_id="p0"),), False, "extractive", passages=(passage(),))
    html = render.sources_html(answer, 0)
    assert html.count('class="qa-source"') == 1 and html.count("qa-related") == 1
    assert "1 more passage searched, not quoted" in html and html.index("qa-source") < html.index("<details")


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
    for liked in (True, False, ""):
        feedback.append(cfg.feedback_log, entry, feedback.vote_name(liked))
    feedback.append(cfg.feedback_log, entry, "down", reason="wrong source")
    rows = [json.loads(line) for line in (tmp_path / "db" / "feedback.jsonl").read_text().splitlines()]
    assert [r["vote"] for r in rows] == ["up", "down", "withdrawn", "down"]
    assert rows[-1]["reason"] == "wrong source" and rows[0]["reason"] is None
    assert rows[0]["question"] == "q?" and rows[0]["citations"][0]["quote"] == QUOTE and rows[0]["time"]
    assert "context" not in rows[0]["citations"][0]


def test_auth_setting_is_parsed():
    assert parse_auth(None) is None and parse_auth("") is None
    assert parse_auth("alice:pa:ss") == ("alice", "pa:ss")
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(UsageError):
            parse_auth(bad)
