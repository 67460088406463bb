"""The web chat in a real browser: a three-turn conversation whose citations open the document at the quote,
conversations that survive a reload, Stop and Regenerate, examples, feedback, export, layout at laptop and
phone widths, dark mode, uploads and errors.

One real app (`python -m ui`, real model, temp copy of the seeds, temp index, an OpenAI-protocol stub as its
LLM server) serves the whole module; each test opens a fresh browser context, so each starts with no chats.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from qa.wording import NOT_FOUND
from testkit.servers import ARTIFACTS, OFF_TOPIC, XI_QUESTION, XI_QUOTE, running_server

sys.path.insert(0, str(Path(__file__).parent))
from llm_stub import StubLLM  # noqa: E402
from pages import LAPTOP, PHONE, bots, finished, open_page  # noqa: E402

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT = 60_000
YELLEN_QUESTION = "Who delivered China a warning during her trip?"
CAVOLI_QUESTION = "What did Chris Cavoli tell lawmakers?"
FACT = ("date 2023-05-02 The Quillmere lighthouse was painted teal in 1897 by its keeper, Odile Franck.\n\n"
        "It stands on the northern cape of the island and its lamp burned whale oil until 1921.\n")
LIGHTHOUSE_QUESTION = "What colour was the Quillmere lighthouse painted?"
# Two sentences: the answerer shows a sentence once it is complete and its citation holds, so Stop can
# land between them.
STUB_REPLY = "Xi heralded a new year of growing coordination with Russia [1]. He said so in a call with Putin. [1]"


@pytest.fixture(scope="module")
def stub():
    """The LLM server the app's openai answerer talks to."""
    with StubLLM(STUB_REPLY) as llm:
        yield llm


@pytest.fixture(scope="module")
def server(tmp_path_factory, stub):
    """The app with a 1 MB upload limit and the stub as its LLM server."""
    env = {"QA_UPLOAD_LIMIT_MB": "1", "QA_LLM_BASE_URL": stub.url, "QA_LLM_MODEL": "stub", "QA_LLM_TIMEOUT": "10"}
    with running_server(tmp_path_factory.mktemp("ui-browser"), **env) as running:
        yield running




@pytest.fixture
def page(browser, server) -> Page:
    """A fresh page (new browser storage, so no earlier chats) at laptop size."""
    context, page = open_page(browser, server)
    yield page
    context.close()




def ask(page: Page, question: str, key: bool = True) -> None:
    """Type `question` and send it (Enter, or the Ask button); wait until its answer is complete."""
    before = finished(page).count()
    page.locator("#question textarea").fill(question)
    if key:
        page.locator("#question textarea").press("Enter")
    else:
        page.locator("#ask").click()
    expect(finished(page)).to_have_count(before + 1, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#ask")).to_be_visible()


def choose_llm(page: Page) -> None:
    page.get_by_text("Settings").click()
    page.locator("#backend input").click()
    page.get_by_role("option", name="openai").click()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name)


def test_a_conversation_persists_its_citations_open_the_document_and_chats_can_be_switched(page, stub):
    ask(page, XI_QUESTION)
    ask(page, YELLEN_QUESTION, key=False)
    ask(page, CAVOLI_QUESTION)
    expect(bots(page)).to_have_count(3)
    expect(page.locator("#sources")).to_contain_text("Answer 3")
    shot(page, "conversation-laptop.png")

    # a citation of the first answer, clicked after the third: the viewer opens at the highlighted quote
    page.locator("#chat .qa-cite.qa-turn-0").first.click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    quote = viewer.locator("mark.qa-quote").first
    expect(quote).to_contain_text(XI_QUOTE)
    expect(quote).to_be_in_viewport()
    expect(viewer).to_contain_text("000_ce4e22ba4c4cf3bd.txt, line 27 · 2024-04-13")
    expect(page.locator("#sources")).to_contain_text("Answer 1")
    expect(page.locator("#sources .qa-source.qa-active mark")).to_contain_text(XI_QUOTE)
    shot(page, "viewer-laptop.png")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # clicking the second answer shows its own sources
    bots(page).nth(1).click()
    expect(page.locator("#sources")).to_contain_text("Answer 2")
    expect(page.locator("#sources mark.qa-quote").filter(has_text="Janet Yellen").first).to_be_visible()

    # a reload keeps the conversation
    page.reload()
    expect(bots(page)).to_have_count(3, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat-list .qa-chat")).to_have_count(1)

    # a new chat: Stop ends a streaming answer, Regenerate asks again
    page.locator("#new-chat").click()
    expect(bots(page)).to_have_count(0)
    choose_llm(page)
    stub.delay = 0.4
    page.locator("#question textarea").fill("What did Xi herald?")
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#stop")).to_be_visible()
    expect(bots(page).last).to_contain_text("Xi heralded", timeout=ANSWER_TIMEOUT)
    page.keyboard.press("Escape")
    expect(bots(page).last).to_contain_text("Stopped.")
    expect(page.locator("#ask")).to_be_visible()
    expect(bots(page).last).not_to_contain_text("with Putin.")
    stub.delay = 0.0
    page.locator("#regenerate").click()
    expect(bots(page).last.locator(".qa-cite")).to_have_count(2, timeout=ANSWER_TIMEOUT)
    expect(bots(page)).to_have_count(1)
    expect(bots(page).last).to_contain_text("with Putin.")
    expect(page.locator("#chat-list .qa-chat")).to_have_count(2)

    # reopen the first chat, then delete the second
    page.locator("#chat-list .qa-chat-open", has_text=XI_QUESTION[:20]).click()
    expect(bots(page)).to_have_count(3)
    expect(bots(page).first).to_contain_text(XI_QUOTE)
    page.locator("#chat-list .qa-chat", has_text="What did Xi herald?").locator(".qa-chat-delete").click()
    expect(page.locator("#chat-list .qa-chat")).to_have_count(1)
    expect(bots(page)).to_have_count(3)


def test_follow_ups_resolve_in_the_browser_with_their_short_answers(page):
    """The chat sends the conversation with each question: "he" and "that" are resolved from the earlier
    turns, each answer shows its short answer first and marks it inside the quote, with its own sources."""
    ask(page, "Who is the commander of US European Command?")
    expect(finished(page).last.locator(".qa-short strong")).to_have_text("Chris Cavoli")
    expect(finished(page).last.locator("mark.qa-short-mark")).to_have_text("Chris Cavoli")

    ask(page, "What did he tell lawmakers?")
    expect(finished(page).last).to_contain_text("quite successful")
    expect(page.locator("#sources")).to_contain_text("Answer 2")
    expect(page.locator("#sources mark.qa-quote").filter(has_text="lawmakers").first).to_be_visible()

    ask(page, "When did he say that?")
    expect(finished(page).last.locator(".qa-short strong")).to_have_text("this week")
    expect(finished(page).last.locator("mark.qa-short-mark")).to_have_text("this week")
    expect(page.locator("#sources")).to_contain_text("Answer 3")
    shot(page, "screenshot-laptop.png")  # the README's picture


def test_an_empty_chat_offers_example_questions_from_the_documents(page):
    examples = page.locator("#chat").get_by_role("button", name="What do the documents say about")
    expect(examples.first).to_be_visible()
    assert 3 <= examples.count() <= 4
    examples.first.click()
    expect(finished(page)).to_have_count(1, timeout=ANSWER_TIMEOUT)
    expect(bots(page).first.locator(".qa-cite").first).to_be_visible()


def test_keys_and_plain_user_text(page):
    box = page.locator("#question textarea")
    box.fill("<b>Who</b> delivered")
    box.press("Shift+Enter")
    box.type("China a *warning*?")
    assert box.input_value() == "<b>Who</b> delivered\nChina a *warning*?"
    box.press("Enter")
    expect(finished(page)).to_have_count(1, timeout=ANSWER_TIMEOUT)
    user = page.locator("#chat [data-testid=user]").first
    expect(user).to_contain_text("<b>Who</b> delivered")
    expect(user.locator("b")).to_have_count(0)


def test_an_empty_question_only_warns(page):
    page.locator("#ask").click()
    expect(page.get_by_text("Type a question about your documents first.")).to_be_visible()
    expect(bots(page)).to_have_count(0)


def test_off_topic_question_abstains_and_shows_related_passages(page):
    ask(page, OFF_TOPIC)
    expect(bots(page).last).to_contain_text("do not contain")
    expect(bots(page).last.locator(".qa-cite")).to_have_count(0)
    sources = page.locator("#sources")
    expect(sources.locator(".qa-abstain")).to_contain_text(NOT_FOUND)
    expect(sources).to_contain_text("Related passages")
    assert sources.locator(".qa-related").count() >= 1 and sources.locator("mark").count() == 0


def test_votes_reasons_and_withdrawals_are_logged(page, server):
    ask(page, XI_QUESTION)
    like = page.locator("#chat").get_by_label("Like").last
    like.click()
    expect(page.get_by_text("feedback was recorded")).to_be_visible()
    page.locator("#reason textarea").fill("Quoted exactly the right line")
    page.locator("#reason-send").click()
    expect(page.locator("#reason-row")).to_be_hidden()
    like.click()
    expect(page.get_by_text("Your vote was withdrawn.")).to_be_visible()
    rows = [json.loads(line) for line in (server.db / "feedback.jsonl").read_text().splitlines()][-3:]
    assert [r["vote"] for r in rows] == ["up", "up", "withdrawn"]
    assert rows[1]["reason"] == "Quoted exactly the right line" and rows[0]["question"] == XI_QUESTION
    assert XI_QUOTE in rows[0]["answer"] and XI_QUOTE in rows[0]["citations"][0]["quote"]


def test_a_conversation_exports_as_markdown_and_json(page):
    ask(page, XI_QUESTION)
    with page.expect_download() as md:
        page.locator("#export-md").click()
    text = Path(md.value.path()).read_text("utf-8")
    assert text.startswith("# What did Xi herald") and XI_QUOTE in text.split("   > ", 1)[1]
    with page.expect_download() as js:
        page.locator("#export-json").click()
    data = json.loads(Path(js.value.path()).read_text("utf-8"))
    assert data["turns"][0]["question"] == XI_QUESTION
    assert XI_QUOTE in data["turns"][0]["sources"][0]["quotes"][0]["quote"]


def test_on_a_phone_the_sources_are_one_tap_away(browser, server):
    context, page = open_page(browser, server, PHONE)
    ask(page, XI_QUESTION)
    ask(page, YELLEN_QUESTION)
    bar = page.locator("#sources .qa-sheet-bar")
    expect(bar).to_be_in_viewport()
    expect(bar).to_contain_text("1 source")
    shot(page, "screenshot-phone.png")  # the README's picture: the conversation gets the screen
    bar.click()
    card = page.locator("#sources .qa-source").first
    expect(card).to_be_in_viewport()
    page.wait_for_timeout(300)  # the sheet slides up
    shot(page, "phone-sheet.png")
    card.click()
    expect(page.locator("#viewer mark.qa-quote").first).to_be_in_viewport()
    shot(page, "viewer-phone.png")
    context.close()


def test_dark_mode_follows_the_system(browser, server):
    context, page = open_page(browser, server, LAPTOP, color_scheme="dark")
    ask(page, XI_QUESTION)
    background = page.locator("#sources .qa-source").first.evaluate("e => getComputedStyle(e).backgroundColor")
    channels = [float(x) for x in re.findall(r"[\d.]+", background)[:3]]
    assert sum(channels) / 3 < 100, background
    shot(page, "dark-laptop.png")
    context.close()


def test_the_layout_has_no_stray_labels_or_dots(page):
    expect(page.locator("#chat [data-testid=block-label]")).to_have_count(0)
    expect(page.locator("footer .divider:visible")).to_have_count(0)
    expect(page.get_by_text("on the right")).to_have_count(0)
    page.get_by_text("Settings").click()
    expect(page.locator("#backend")).to_be_visible()  # an LLM server is configured: two answerers to choose
    page.get_by_role("tab", name="Documents").click()
    label, drop = page.locator("#upload-help"), page.get_by_text("Click to Upload")
    expect(drop).to_be_visible()
    assert label.bounding_box()["y"] + label.bounding_box()["height"] <= drop.bounding_box()["y"]


def test_uploaded_document_is_indexed_and_cited(page, server, tmp_path):
    doc = tmp_path / "quillmere.txt"
    doc.write_text(FACT, encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    status = page.locator("#doc-status")
    expect(status).to_contain_text("quillmere.txt: saved", timeout=ANSWER_TIMEOUT)
    expect(status).to_contain_text("1 added", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#doc-table")).to_contain_text("Quillmere lighthouse")
    page.locator("#rebuild").click()
    expect(status).to_contain_text("2 files, 6 chunks: 0 added, 0 updated, 0 removed, 2 unchanged")
    page.get_by_role("tab", name="Chat").click()
    ask(page, LIGHTHOUSE_QUESTION)
    expect(bots(page).last).to_contain_text("teal")
    expect(page.locator("#sources .qa-source").first).to_contain_text("quillmere.txt, line 1 · 2023-05-02")
    expect(page.locator("#sources mark").first).to_contain_text("painted teal in 1897")


def test_bad_uploads_are_refused_and_nothing_is_saved(page, server, tmp_path):
    before = sorted(p.name for p in server.seeds.iterdir())
    exe, big = tmp_path / "setup.exe", tmp_path / "huge.txt"
    exe.write_bytes(b"MZ" + b"\0" * 64)
    big.write_text("word " * 300_000)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(exe))
    expect(page.locator("#doc-status")).to_contain_text("Refused: setup.exe: file type .exe is not allowed")
    page.locator("#upload input[type=file]").set_input_files(str(big))
    expect(page.get_by_text("exceed the maximum allowed size")).to_be_visible()
    assert sorted(p.name for p in server.seeds.iterdir()) == before


def test_a_failing_llm_server_is_a_friendly_message(page, stub):
    choose_llm(page)
    stub.mode = "500"
    try:
        ask(page, XI_QUESTION)
    finally:
        stub.mode = "ok"
    expect(bots(page).last).to_contain_text("LLM server at")
    expect(page.locator("#sources")).to_contain_text("HTTP 500")
    assert "Traceback" not in page.content()
