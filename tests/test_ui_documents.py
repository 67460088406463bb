"""The Documents tab in a real browser: refused uploads leave seeds/ unchanged, a name conflict asks,
new formats are indexed and cited at their location, exclude / include / re-index / remove / download
work from the buttons, and a rebuild shows its progress file by file and can be cancelled.

One real app (`python -m ui`, real model, temp copy of the seeds, temp index) serves the module.
"""
from __future__ import annotations

import os
import re

import pytest
from gradio_client import Client
from playwright.sync_api import Page, expect

from index.manager.catalog import documents
from index.settings import IndexSettings
from testkit.invariants import index_state
from testkit.samples import write_pptx, write_scanned_pdf
from testkit.servers import ARTIFACTS, running_server

pytestmark = pytest.mark.slow

WAIT = 120_000
SEED = "000_ce4e22ba4c4cf3bd.txt"
DECK = [("Overview", "Quarterly review of the fleet.", ""), ("Harbours", "Four harbours were dredged.", ""),
        ("Cargo", "The schooner Mistral carried copper ingots to Bergen.", "")]
DECK_QUESTION = "What did the schooner Mistral carry to Bergen?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui-docs"), QA_UPLOAD_MAX_FILES="5") as running:
        yield running



@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#doc-table")).to_contain_text(SEED, timeout=WAIT)
    yield page
    context.close()


def names(seeds) -> list[str]:
    return sorted(p.name for p in seeds.iterdir())


def upload(page: Page, *paths) -> None:
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])


def status(page: Page):
    return page.locator("#doc-status")


def pick(page: Page, source: str) -> None:
    """Pick a document by clicking its row in the table."""
    page.locator("#doc-table").get_by_text(source, exact=True).locator("visible=true").first.click()
    expect(page.locator("#doc-pick input")).to_have_value(source)


def row_of(page: Page, source: str):
    """The table row of a document."""
    return page.locator("#doc-table").get_by_role("row").filter(has_text=source).locator("visible=true")


def ask(server, question: str) -> dict:
    return Client(server.url, verbose=False).predict(question, 4, api_name="/ask")


def settings_of(server) -> IndexSettings:
    return IndexSettings(seeds_dir=server.seeds, db_dir=server.db)


def test_refused_uploads_leave_seeds_unchanged_with_one_summary(page, server, tmp_path):
    before = names(server.seeds)
    fake_pdf, noise = tmp_path / "report.pdf", tmp_path / "notes.txt"
    fake_pdf.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    noise.write_bytes(os.urandom(4000))
    upload(page, fake_pdf, noise)
    expect(status(page)).to_contain_text("Refused: report.pdf: the content is a Portable Network Graphics", timeout=WAIT)
    expect(status(page)).to_contain_text("Refused: notes.txt: cannot be read: binary")
    expect(page.get_by_text("Upload: 0 saved, 2 refused")).to_be_visible()
    many = [tmp_path / f"doc{n}.txt" for n in range(6)]
    for path in many:
        path.write_text("A small note about herring.\n")
    upload(page, *many)
    expect(status(page)).to_contain_text("6 files in one upload; the limit is 5", timeout=WAIT)
    assert names(server.seeds) == before


def test_a_deck_is_indexed_and_cited_at_its_slide(page, server, tmp_path):
    upload(page, write_pptx(tmp_path / "deck.pptx", DECK))
    expect(status(page)).to_contain_text("deck.pptx: saved", timeout=WAIT)
    expect(status(page)).to_contain_text("1 added", timeout=WAIT)
    row = row_of(page, "deck.pptx")
    expect(row).to_contain_text("indexed")
    expect(row).to_contain_text("Overview")
    result = ask(server, DECK_QUESTION)
    first = result["citations"][0]
    assert (first["source"], first["unit"]) == ("deck.pptx", "slide 3") and "copper ingots" in first["quote"]
    # in the chat: the source card and the viewer name the slide
    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill(DECK_QUESTION)
    page.locator("#question textarea").press("Enter")
    cite = page.locator("#chat [data-testid=bot] .qa-cite").first
    expect(cite).to_be_visible(timeout=WAIT)
    expect(page.locator("#sources")).to_contain_text("deck.pptx, slide 3")
    cite.click()
    expect(page.locator("#viewer")).to_contain_text("deck.pptx, slide 3")
    expect(page.locator("#viewer mark.qa-quote").first).to_contain_text("copper ingots")


def test_a_name_conflict_asks_before_replacing(page, server, tmp_path):
    (tmp_path / "dup").mkdir()
    original = server.seeds / "harbour.txt"
    original.write_text("The harbour opened in 1850.\n", "utf-8")
    newer = tmp_path / "dup" / "harbour.txt"
    newer.write_text("The harbour opened in 1852, after two years of dredging.\n", "utf-8")
    upload(page, newer)
    expect(page.locator("#upload-conflict-text")).to_contain_text("harbour.txt", timeout=WAIT)
    assert original.read_text() == "The harbour opened in 1850.\n"  # nothing written before the answer
    page.locator("#upload-keep-both").click()
    expect(status(page)).to_contain_text("harbour-2.txt: saved", timeout=WAIT)
    assert (server.seeds / "harbour-2.txt").read_text() == newer.read_text()
    upload(page, newer)
    expect(page.locator("#upload-conflict-text")).to_contain_text("harbour.txt", timeout=WAIT)
    page.locator("#upload-replace").click()
    expect(status(page)).to_contain_text("harbour.txt: replaced the existing document", timeout=WAIT)
    assert original.read_text() == newer.read_text()
    expect(page.locator("#upload-conflict-row")).to_be_hidden()


def test_exclude_include_and_reindex_from_the_buttons(page, server):
    pick(page, SEED)
    page.locator("#doc-exclude").click()
    expect(status(page)).to_contain_text("left out of answers", timeout=WAIT)
    expect(row_of(page, SEED)).to_contain_text("indexed, excluded")
    answer = ask(server, "What did Xi herald during his call with Putin?")
    assert SEED not in {c["source"] for c in answer["citations"]}
    page.locator("#doc-include").click()
    expect(status(page)).to_contain_text("used in answers again", timeout=WAIT)
    assert SEED in {c["source"] for c in ask(server, "What did Xi herald during his call with Putin?")["citations"]}
    page.locator("#doc-reindex").click()
    expect(status(page)).to_contain_text("1 updated", timeout=WAIT)


def test_download_gives_the_original(page, server):
    pick(page, SEED)
    expect(page.locator("#doc-download")).to_be_enabled(timeout=WAIT)
    with page.expect_download() as info:
        page.locator("#doc-download").click()
    assert open(info.value.path(), "rb").read() == (server.seeds / SEED).read_bytes()


def test_remove_asks_then_deletes_the_file_and_its_passages(page, server):
    doomed = server.seeds / "doomed.txt"
    doomed.write_text("The doomed tower fell in 1704.\n", "utf-8")
    page.locator("#rebuild").click()
    expect(status(page)).to_contain_text("Index updated", timeout=WAIT)
    pick(page, "doomed.txt")
    page.locator("#doc-remove").click()
    expect(page.locator("#doc-confirm-text")).to_contain_text("Remove doomed.txt?")
    assert doomed.exists()
    page.locator("#doc-remove-confirm").click()
    expect(status(page)).to_contain_text("Removed doomed.txt", timeout=WAIT)
    expect(page.locator("#doc-table")).not_to_contain_text("doomed.txt")
    assert not doomed.exists()
    assert "doomed.txt" not in {d.source for d in documents(settings_of(server))}


def test_a_rebuild_shows_progress_per_file_and_can_be_cancelled(page, server, tmp_path):
    # Scanned pages: each takes OCR time (0.1 to 0.4 s a page), so 36 files keep the build busy for
    # seconds, and the progress (polled every 0.3 s) is seen at some file, whichever, before Cancel.
    for n in range(36):
        write_scanned_pdf(server.seeds / f"scan{n:02}.pdf", [f"Scanned register page {n} of the parish.",
                                                             f"Entry {n}: a baptism at the harbour chapel."])
    page.locator("#rebuild").click()
    expect(status(page)).to_contain_text(re.compile(r"Reading file \d+ of 36: scan\d\d\.pdf"), timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "documents-progress.png")) if ARTIFACTS.exists() else None
    page.locator("#rebuild-cancel").click()
    expect(status(page)).to_contain_text("Build cancelled", timeout=WAIT)
    settings = settings_of(server)
    index_state(settings).assert_consistent()
    pending = [d.source for d in documents(settings) if d.status == "pending"]
    assert pending and all(p.startswith("scan") for p in pending)
    page.locator("#rebuild").click()
    expect(status(page)).to_contain_text("Index updated", timeout=WAIT * 3)
    index_state(settings).assert_consistent()
    assert not [d for d in documents(settings) if d.status == "pending"]
    expect(row_of(page, "scan11.pdf")).to_contain_text("2 (2 by OCR)")


def test_an_upload_shows_embedding_progress_that_moves_and_cancel_only_while_building(page, server, tmp_path):
    """Embedding progress is reported as the passages are embedded (not only 0, then all at the end), and
    Cancel build is offered only while a build runs."""
    cancel = page.locator("#rebuild-cancel")
    expect(cancel).to_be_hidden()
    long_doc = tmp_path / "almanac.txt"
    long_doc.write_text("\n\n".join(
        f"Entry {n}. The almanac records that on day {n} the tide at Harwick rose {n % 7 + 1} feet, the ferry "
        f"{'Ostrava' if n % 2 else 'Kestrel'} carried {n * 3} passengers and the keeper noted a {n % 5} knot "
        f"breeze from the {('north', 'east', 'south', 'west')[n % 4]} before the evening bell." for n in range(700)),
        "utf-8")
    upload(page, long_doc)
    expect(cancel).to_be_visible(timeout=WAIT)
    # some passages embedded but not all: the count moved between 0 and the total while the build ran
    page.wait_for_function("""() => {
      const m = (document.querySelector('#doc-status')?.innerText || '').match(/Embedding: (\\d+) of (\\d+) passages/);
      return m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2]);
    }""", timeout=WAIT)
    expect(status(page)).to_contain_text("1 added", timeout=WAIT)
    expect(cancel).to_be_hidden()
