"""The web chat in daily use, in a real browser: chats that keep a New chat click made during a slow answer,
deletions that can be undone, an honest Regenerate, a phone layout that gives the conversation the screen,
uploads from the chat box, a large PDF opened at its cited page, and a page that recovers when the server
is lost mid-answer and comes back on the same port.

One real app (`python -m ui`, real model, temp copy of the seeds plus a generated 40-page PDF, temp index,
an OpenAI-protocol stub as its LLM server) serves the module; the last test stops and restarts it.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from testkit.samples import write_pdf
from testkit.servers import ARTIFACTS, SEEDS, XI_QUESTION, XI_QUOTE, free_port, start_ui, stop_server, wait_until_up

sys.path.insert(0, str(Path(__file__).parent))
from llm_stub import StubLLM  # noqa: E402
from pages import LAPTOP, PHONE, bots, finished, open_page  # noqa: E402

pytestmark = pytest.mark.slow

WAIT = 90_000
STUB_REPLY = ("Xi heralded a new year of growing coordination with Russia [1] during a long call with Putin, "
              "the report says, and the two leaders spoke of trade, energy and security for the year ahead.")


MANUAL_PAGES, FERRY_PAGE = 40, 31
FERRY_FACT = "The ferry Albatross carried 412 crates of saffron to Lindqvist harbour in the spring of 1932."
FERRY_QUESTION = "What did the ferry Albatross carry to Lindqvist harbour?"


def manual_page(n: int) -> str:
    """A page of the generated manual: maintenance notes, and on one page, half way down, the ferry's cargo."""
    notes = [f"Section {n}.{i}: inspect valve {n * 10 + i} of the pump room and log its pressure each morning."
             for i in range(1, 13)]
    if n == FERRY_PAGE:
        notes.insert(8, FERRY_FACT)
    return "\n".join(notes)


# A manual's running header and labels in capitals, on every page: they recur more than any name in it.
PUMP_NOTES = ("ACME MARINE PUMP MANUAL\nACME MARINE PUMP MANUAL\nWARNING\nHOT SURFACE\n"
              "The relief valve of the bilge pump opens at 4 bar, and Odile Franck services it each spring.\n\n")


class App:
    """The module's server, which a test may stop and start again on the same port."""

    def __init__(self, root: Path, env: dict):
        import shutil

        self.root, self.env, self.port = root, env, free_port()
        self.seeds, self.db, self.log = root / "seeds", root / "db", root / "server.log"
        shutil.copytree(SEEDS, self.seeds, copy_function=shutil.copyfile)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = None

        (self.seeds / "pump-notes.txt").write_text(PUMP_NOTES * 6, "utf-8")
        write_pdf(self.seeds / "harbour-manual.pdf", [manual_page(n) for n in range(1, MANUAL_PAGES + 1)])

    def start(self) -> None:
        self.proc = start_ui(self.seeds, self.db, self.port, self.log, self.env)
        wait_until_up(self.url, self.proc, self.log, timeout=300)

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc)
            self.proc = None


@pytest.fixture(scope="module")
def stub():
    with StubLLM(STUB_REPLY) as llm:
        yield llm


@pytest.fixture(scope="module")
def app(tmp_path_factory, stub):
    env = {"QA_LLM_BASE_URL": stub.url, "QA_LLM_MODEL": "stub", "QA_LLM_TIMEOUT": "30"}
    running = App(tmp_path_factory.mktemp("ui-webchat"), env)
    running.start()
    try:
        yield running
    finally:
        running.stop()



@pytest.fixture
def page(browser, app) -> Page:
    context, page = open_page(browser, app)
    yield page
    context.close()




def send(page: Page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")


def ask(page: Page, question: str) -> None:
    before = finished(page).count()
    send(page, question)
    expect(finished(page)).to_have_count(before + 1, timeout=WAIT)
    expect(page.locator("#ask")).to_be_visible()


def choose_llm(page: Page) -> None:
    page.get_by_text("Settings").click()
    page.locator("#backend input").click()
    page.get_by_role("option", name="openai").click()
    page.get_by_text("Settings").click()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name)


def chat_items(page: Page):
    return page.locator("#chat-list .qa-chat")


def test_example_questions_read_like_questions_and_are_answered_from_a_quote_naming_them(page):
    examples = page.locator("#chat").get_by_role("button", name="What do the documents say about")
    expect(examples.first).to_be_visible(timeout=WAIT)
    texts = examples.all_inner_texts()
    for text in texts:
        words = text.removeprefix("What do the documents say about ").rstrip("?").split()
        assert len(set(words)) == len(words), text  # no doubled name
        assert sum(len(w) > 1 and w.isupper() for w in words) <= 1, text  # no capitals glued together
    name = texts[0].removeprefix("What do the documents say about ").rstrip("?")
    examples.first.click()
    expect(finished(page)).to_have_count(1, timeout=WAIT)
    expect(page.locator("#sources mark.qa-quote").first).to_contain_text(name)


def test_new_chat_during_a_slow_answer_is_kept_and_the_answer_lands_in_its_own_chat(page, stub):
    choose_llm(page)
    stub.delay = 0.15
    try:
        send(page, XI_QUESTION)
        expect(bots(page).last).to_contain_text("Xi heralded", timeout=WAIT)
        page.locator("#new-chat").click()  # while the answer still streams
        expect(page.locator("#chat [data-testid=user]")).to_have_count(0)
        expect(page.locator("#ask")).to_be_visible(timeout=WAIT)
    finally:
        stub.delay = 0.0
    expect(page.locator("#chat [data-testid=user]")).to_have_count(0)  # the late answer did not paint over it
    # the next question starts a second conversation; the first one kept its whole answer
    page.get_by_text("Settings").click()
    page.locator("#backend input").click()
    page.get_by_role("option", name="extractive").click()
    page.get_by_text("Settings").click()
    ask(page, "Who is the commander of US European Command?")
    expect(bots(page)).to_have_count(1)
    expect(chat_items(page)).to_have_count(2)
    page.locator("#chat-list .qa-chat-open", has_text=XI_QUESTION[:20]).click()
    expect(bots(page)).to_have_count(1)
    expect(bots(page).first).to_contain_text("security for the year ahead")
    expect(bots(page).first.locator(".qa-cite")).to_have_count(1)


def test_no_empty_chat_is_listed_and_a_deletion_can_be_undone(page):
    page.locator("#new-chat").click()
    expect(page.locator("#chat-list .qa-chat")).to_have_count(0)
    expect(page.locator("#chat-list")).not_to_contain_text("0 questions")
    ask(page, XI_QUESTION)
    page.locator("#new-chat").click()
    expect(chat_items(page)).to_have_count(1)
    expect(page.locator("#chat-list")).not_to_contain_text("0 questions")
    chat_items(page).first.locator(".qa-chat-delete").click()
    expect(chat_items(page)).to_have_count(0)
    undo = page.locator("#chat-list").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    undo.click()
    expect(chat_items(page)).to_have_count(1)
    expect(bots(page).first).to_contain_text(XI_QUOTE)


def test_regenerate_says_why_the_answer_is_the_same(page):
    ask(page, XI_QUESTION)
    page.locator("#regenerate").click()
    expect(page.get_by_text("The same answer again")).to_be_visible(timeout=WAIT)
    expect(bots(page)).to_have_count(1)


def test_on_a_phone_the_conversation_gets_the_screen(browser, app):
    """At 390x844 the conversation takes most of the height, and the chats, the composer, Regenerate and the
    sources bar are all on screen without scrolling."""
    context, page = open_page(browser, app, PHONE)
    ask(page, XI_QUESTION)
    ask(page, "Who is the commander of US European Command?")
    shot(page, "phone-conversation.png")
    assert page.locator("#chat").bounding_box()["height"] >= 0.6 * PHONE["height"]
    for element in ("#new-chat", "#chat-list .qa-chat", "#question textarea", "#ask", "#regenerate",
                    "#sources .qa-sheet-bar"):
        expect(page.locator(element).first).to_be_in_viewport(ratio=0.75)
    assert page.evaluate("() => document.scrollingElement.scrollTop") == 0
    context.close()


DROP = """([name, text]) => {
  const files = new DataTransfer();
  files.items.add(new File([text], name));
  const target = document.querySelector('#chat');
  for (const type of ['dragover', 'drop'])
    target.dispatchEvent(new DragEvent(type, {dataTransfer: files, bubbles: true, cancelable: true}));
}"""


def test_files_attached_or_dropped_in_the_chat_are_checked_saved_and_indexed(page, app, tmp_path):
    status = page.locator("#attach-status")
    before = sorted(p.name for p in app.seeds.iterdir())
    page.wait_for_function("() => window.qaReady === true")  # the page's script, which takes the drops, ran
    page.evaluate(DROP, ["setup.exe", "MZ" + "\0" * 64])  # refused, as in the Documents tab
    expect(status).to_contain_text("Refused: setup.exe: file type .exe is not allowed", timeout=WAIT)
    assert sorted(p.name for p in app.seeds.iterdir()) == before
    page.evaluate(DROP, ["lighthouse.txt", "date 2023-05-02 The Quillmere lighthouse was painted teal in 1897."])
    expect(status).to_contain_text("lighthouse.txt: saved", timeout=WAIT)
    expect(status).to_contain_text("1 added", timeout=WAIT)
    doc = tmp_path / "keeper.txt"
    doc.write_text("date 2023-05-03 Odile Franck kept the Quillmere lighthouse from 1890 to 1931.", "utf-8")
    with page.expect_file_chooser() as chooser:  # the attach button
        page.locator("#attach").click()
    chooser.value.set_files(str(doc))
    expect(status).to_contain_text("keeper.txt: saved", timeout=WAIT)
    expect(status).to_contain_text("1 added", timeout=WAIT)
    ask(page, "What colour was the Quillmere lighthouse painted?")
    expect(finished(page).last).to_contain_text("teal")
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#doc-table")).to_contain_text("keeper.txt")


HIGHLIGHT_SHOWN = """() => {
  const fig = document.querySelector('#viewer figure.qa-page[data-fy]');
  const img = fig && fig.querySelector('img');
  if (!img || !img.clientHeight) return null;
  const r = img.getBoundingClientRect(), v = document.querySelector('#viewer-doc').getBoundingClientRect();
  const x = r.left + Number(fig.dataset.fx) * r.width, y = r.top + Number(fig.dataset.fy) * r.height;
  const f = fig.getBoundingClientRect();
  return {inside: y > v.top && y < v.bottom && x > Math.max(v.left, f.left) && x < Math.min(v.right, f.right),
          width: r.width, screen: window.innerWidth};
}"""
OPENING_SEEN = """() => {
  window.qaSeen = [];
  new MutationObserver(() => {
    const doc = document.querySelector('#viewer-doc');
    if (doc) window.qaSeen.push(doc.innerText);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_pdf_citation_opens_at_its_drawn_page_with_the_highlight_in_view(browser, app, viewport):
    context, page = open_page(browser, app, viewport)
    ask(page, FERRY_QUESTION)
    expect(finished(page).last).to_contain_text("412 crates of saffron")
    page.evaluate(OPENING_SEEN)
    finished(page).last.locator(".qa-cite").first.click()
    viewer = page.locator("#viewer")
    expect(viewer.locator("figure.qa-page img")).to_be_visible(timeout=WAIT)
    expect(viewer).to_contain_text(f"harbour-manual.pdf, p. {FERRY_PAGE}")
    assert any(f"Opening harbour-manual.pdf, p. {FERRY_PAGE}…" in t for t in page.evaluate("window.qaSeen"))
    page.wait_for_function(f"() => ({HIGHLIGHT_SHOWN})()?.inside", timeout=10_000)
    shown = page.evaluate(HIGHLIGHT_SHOWN)
    if viewport is PHONE:  # the page is drawn large enough to read, not shrunk to the phone's width
        assert shown["width"] >= 1.5 * shown["screen"], shown
    shot(page, f"viewer-pdf-{'phone' if viewport is PHONE else 'laptop'}.png")
    context.close()


def test_a_lost_server_ends_the_pending_answer_with_retry_and_the_page_recovers(page, app, stub):
    """Last in the module: it stops the server mid-answer and starts it again on the same port."""
    choose_llm(page)
    stub.delay = 0.3
    sent = stub.sent
    send(page, XI_QUESTION)
    # The model is writing (its sentence is shown once it is whole and verified, issue 28): stop meanwhile.
    deadline = time.monotonic() + WAIT / 1000
    while stub.sent < sent + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stub.sent >= sent + 3, "the model was never asked"
    app.stop()
    stub.delay = 0.0
    pending = bots(page).last
    expect(pending).to_contain_text("connection to the server was lost", timeout=WAIT)
    expect(pending.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()  # nothing left to stop
    page.wait_for_timeout(3000)  # both of the stream's and the queue's errors have arrived
    expect(page.locator("[data-testid=toast-text]:visible")).to_have_count(1)
    shot(page, "lost-server.png")
    app.start()
    # the page reconnects by itself; the question is still there, unanswered, with Retry
    retry = bots(page).last.get_by_role("button", name="Retry")
    expect(retry).to_be_visible(timeout=WAIT)
    expect(page.locator("#chat [data-testid=user]").last).to_contain_text(XI_QUESTION)
    retry.click()
    expect(bots(page).last.locator(".qa-cite")).to_have_count(1, timeout=WAIT)
    expect(bots(page)).to_have_count(1)
    send(page, "Who is the commander of US European Command?")  # a new question is answered too
    expect(finished(page)).to_have_count(2, timeout=WAIT)
