"""The web chat in a real browser (issue #24): a summary shows as cited bullets, a comparison as its sides
side by side, a yes/no question with its verdict first. One real app (`python -m ui`, real model, a temp copy
of the seeds, a temp index) serves the module."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from testkit.servers import ARTIFACTS, running_server

pytestmark = pytest.mark.slow
ANSWER_TIMEOUT = 60_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui-forms")) as running:
        yield running


@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.url)
    expect(page.locator("#question textarea")).to_be_visible()
    yield page
    context.close()


def ask(page: Page, question: str):
    """Send `question`; the finished answer's element."""
    done = page.locator("#chat [data-testid=bot] .qa-answer:not(.qa-streaming)")
    before = done.count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(done).to_have_count(before + 1, timeout=ANSWER_TIMEOUT)
    return done.nth(before)


def test_a_summary_is_shown_as_cited_bullets_whose_numbers_open_the_sources(page):
    answer = ask(page, "Summarize the article.")
    bullets = answer.locator("ul.qa-bullets > li")
    expect(bullets).to_have_count(3)
    for n in range(bullets.count()):
        expect(bullets.nth(n).locator("button.qa-cite")).to_have_count(1)
    bullets.nth(1).locator("button.qa-cite").click()
    expect(page.locator(".qa-sources .qa-passage mark").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "forms-summary.png")


def test_a_comparison_shows_its_sides_side_by_side(page):
    answer = ask(page, "Compare Ukraine's military with Russia's.")
    sides = answer.locator(".qa-compare > .qa-side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0).locator(".qa-side-label")).to_have_text("Ukraine's military")
    expect(sides.nth(1).locator(".qa-side-label")).to_have_text("Russia's")
    left, right = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"] + 1   # one row, left to right
    for side in (sides.nth(0), sides.nth(1)):
        assert side.locator("li button.qa-cite").count() >= 1
    page.screenshot(path=ARTIFACTS / "forms-compare.png")


def test_a_yes_no_answer_leads_with_its_verdict(page):
    answer = ask(page, "Is China sending weapons to Russia?")
    expect(answer.locator(".qa-verdict")).to_have_text("No")
    expect(answer.locator("button.qa-cite").first).to_be_visible()
