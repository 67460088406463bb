"""The web chat in a real browser: cited answers, abstention, feedback, uploads and errors.

One real app (`python -m ui`, real model, temp copy of the seeds, temp index) serves the
whole module; each test opens a fresh page, so each has its own chat session.
"""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from qa.wording import NOT_FOUND
from ui.testing import ARTIFACTS, OFF_TOPIC, XI_QUESTION, XI_QUOTE, free_port, launch_chromium, running_server

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT = 60_000
FACT = ("date 2023-05-02 The Quillmere lighthouse was painted teal in 1897 by its keeper, Odile Franck.\n\n"
        "It stands on the northern cape of the island and its lamp burned whale oil until 1921.\n")
LIGHTHOUSE_QUESTION = "What colour was the Quillmere lighthouse painted?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with a 1 MB upload limit and an LLM endpoint that is not listening (to see its error)."""
    llm = f"http://127.0.0.1:{free_port()}/v1"
    env = {"QA_UPLOAD_LIMIT_MB": "1", "QA_LLM_BASE_URL": llm, "QA_LLM_MODEL": "stub", "QA_LLM_TIMEOUT": "5"}
    with running_server(tmp_path_factory.mktemp("ui-browser"), **env) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module."""
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server) -> Page:
    """A fresh page (new session) on the app."""
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    page.goto(server.url)
    expect(page.locator("#question textarea")).to_be_visible()
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    """Type `question` and send it; wait until the sources panel shows the finished answer."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(page.locator("#sources .qa-sources")).to_be_visible(timeout=ANSWER_TIMEOUT)


def last_answer(page: Page):
    return page.locator("#chat [data-testid=bot]").last


def upload(page: Page, path) -> None:
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))


def test_cited_answer_is_streamed_with_the_quote_in_the_sources(page):
    ask(page, XI_QUESTION)
    expect(last_answer(page)).to_contain_text("[1]")
    expect(last_answer(page)).to_contain_text(XI_QUOTE)
    source = page.locator("#sources .qa-source").first
    expect(source.locator("mark")).to_contain_text(XI_QUOTE)
    expect(source).to_contain_text("000_ce4e22ba4c4cf3bd.txt, line 27 · 2024-04-13")
    expect(source).to_contain_text("[1]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "cited-answer.png")


def test_the_page_makes_no_requests_off_the_machine(browser, server):
    context = browser.new_context()
    page = context.new_page()
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else elsewhere.append(r.url))
    page.goto(server.url)
    ask(page, XI_QUESTION)
    context.close()
    assert elsewhere == []


def test_follow_up_and_clear(page):
    ask(page, XI_QUESTION)
    ask(page, "Who delivered China a warning during her trip?")
    expect(page.locator("#chat [data-testid=bot]")).to_have_count(2)
    expect(last_answer(page)).to_contain_text("Yellen")
    page.locator("#clear").click()
    expect(page.locator("#chat [data-testid=bot]")).to_have_count(0)
    expect(page.locator("#sources")).to_contain_text("Ask a question")


def test_an_empty_question_only_warns(page):
    page.locator("#ask").click()
    expect(page.get_by_text("Type a question about your documents first.")).to_be_visible()
    expect(page.locator("#chat [data-testid=bot]")).to_have_count(0)


def test_off_topic_question_abstains_and_shows_related_passages(page):
    ask(page, OFF_TOPIC)
    expect(last_answer(page)).to_contain_text("do not contain")
    expect(last_answer(page)).not_to_contain_text("[1]")
    sources = page.locator("#sources")
    expect(sources.locator(".qa-abstain")).to_contain_text(NOT_FOUND)
    expect(sources).to_contain_text("Related passages")
    assert sources.locator(".qa-related").count() >= 1 and sources.locator("mark").count() == 0


def test_thumbs_up_is_appended_to_the_feedback_log(page, server):
    ask(page, XI_QUESTION)
    page.locator("#chat").get_by_label("Like").last.click()
    expect(page.get_by_text("feedback was recorded")).to_be_visible()
    rows = [json.loads(line) for line in (server.db / "feedback.jsonl").read_text().splitlines()]
    assert rows[-1]["vote"] == "up" and rows[-1]["question"] == XI_QUESTION
    assert XI_QUOTE in rows[-1]["answer"] and XI_QUOTE in rows[-1]["citations"][0]["quote"]


def test_uploaded_document_is_indexed_and_cited(page, server, tmp_path):
    doc = tmp_path / "quillmere.txt"
    doc.write_text(FACT, encoding="utf-8")
    upload(page, doc)
    status = page.locator("#doc-status")
    expect(status).to_contain_text("quillmere.txt: saved", timeout=ANSWER_TIMEOUT)
    expect(status).to_contain_text("1 added", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#doc-table")).to_contain_text("Quillmere lighthouse")
    page.locator("#rebuild").click()
    expect(status).to_contain_text("2 files, 6 chunks: 0 added, 0 updated, 0 removed, 2 unchanged")
    page.get_by_role("tab", name="Chat").click()
    ask(page, LIGHTHOUSE_QUESTION)
    expect(last_answer(page)).to_contain_text("teal")
    expect(page.locator("#sources .qa-source").first).to_contain_text("quillmere.txt, line 1 · 2023-05-02")
    expect(page.locator("#sources mark").first).to_contain_text("painted teal in 1897")


def test_bad_uploads_are_refused_and_nothing_is_saved(page, server, tmp_path):
    before = sorted(p.name for p in server.seeds.iterdir())
    exe, big = tmp_path / "setup.exe", tmp_path / "huge.txt"
    exe.write_bytes(b"MZ" + b"\0" * 64)
    big.write_text("word " * 300_000)
    upload(page, exe)
    expect(page.locator("#doc-status")).to_contain_text("Refused: setup.exe: file type .exe is not allowed")
    page.locator("#upload input[type=file]").set_input_files(str(big))
    expect(page.get_by_text("exceed the maximum allowed size")).to_be_visible()
    assert sorted(p.name for p in server.seeds.iterdir()) == before


def test_unreachable_llm_is_a_friendly_message(page):
    page.get_by_text("Advanced").click()
    page.locator("#backend input").click()
    page.get_by_role("option", name="openai").click()
    ask(page, XI_QUESTION)
    expect(last_answer(page)).to_contain_text("LLM server at")
    expect(page.locator("#sources")).to_contain_text("unreachable")
    assert "Traceback" not in page.content()

