"""Nothing from a document or a model runs or loads in the browser.

A document full of remote images, links, a fake login form, styles, frames and scripts is uploaded, quoted in
an answer and opened in the viewer; a stub LLM answers with the same kind of payload. The browser must make
no request anywhere but the app (127.0.0.1), and no element of the payloads may appear in the page: they are
shown as text. The Content-Security-Policy must also forbid remote loads on its own.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from testkit.servers import running_server

sys.path.insert(0, str(Path(__file__).parent))
from llm_stub import StubLLM  # noqa: E402

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT = 60_000
ELSEWHERE = "http://127.0.0.2:9"  # loopback, but not the app: any request there is a leak
PAYLOAD = (f'![pixel]({ELSEWHERE}/md.png) <img src="{ELSEWHERE}/img.png" onerror="window.pwned=1"> '
           f'<a href="{ELSEWHERE}/phish">log in again</a> <form action="{ELSEWHERE}/steal"><input type="password" '
           f'name="pw"><button>Sign in</button></form> <style>body {{ background: url({ELSEWHERE}/bg.png) }}</style> '
           f'<iframe src="{ELSEWHERE}/frame"></iframe> <script>window.pwned = 1</script> '
           f'<link rel="stylesheet" href="{ELSEWHERE}/x.css"> <svg onload="window.pwned=1"></svg>')
DOCUMENT = ("---\ntitle: Harbour notes <img src=" + ELSEWHERE + "/title.png>\n---\n"
            "# Harbour notes\n\nThe harbour master of Quillmere is Odile Franck " + PAYLOAD + ".\n\n"
            "The harbour closes in winter.\n")
QUESTION = "Who is the harbour master of Quillmere?"
# One cited sentence carrying the payload: only sentences whose citation holds are shown at all.
LLM_REPLY = "Odile Franck is the harbour master " + PAYLOAD + f" [more]({ELSEWHERE}/more) [1]."
FORBIDDEN = [f'img[src^="{ELSEWHERE}"]', f'a[href^="{ELSEWHERE}"]', "input[type=password]",
             f'form[action^="{ELSEWHERE}"]', f'iframe[src^="{ELSEWHERE}"]', f'link[href^="{ELSEWHERE}"]', "svg[onload]",
             "[onerror]"]


@pytest.fixture(scope="module")
def stub():
    with StubLLM(LLM_REPLY) as llm:
        yield llm


@pytest.fixture(scope="module")
def server(tmp_path_factory, stub):
    env = {"QA_LLM_BASE_URL": stub.url, "QA_LLM_MODEL": "stub", "QA_LLM_TIMEOUT": "10"}
    with running_server(tmp_path_factory.mktemp("ui-security"), **env) as running:
        yield running



@pytest.fixture
def watched(browser, server):
    """A page whose every request is recorded, and any not to the app refused (so nothing can leave)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    leaks: list[str] = []

    def route(r):
        if r.request.url.startswith(server.url):
            return r.continue_()
        leaks.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:")) else leaks.append(r.url))
    response = page.goto(server.url)
    yield page, leaks, response
    context.close()


def ask(page, question: str) -> None:
    before = page.locator("#chat [data-testid=bot] .qa-answer:not(.qa-streaming)").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat [data-testid=bot] .qa-answer:not(.qa-streaming)")).to_have_count(
        before + 1, timeout=ANSWER_TIMEOUT)


def assert_inert(page, leaks: list[str]) -> None:
    for selector in FORBIDDEN:
        assert page.locator(selector).count() == 0, selector
    assert page.evaluate("() => window.pwned") is None
    styles = page.evaluate("() => [...document.querySelectorAll('style')].map(s => s.textContent).join(' ')")
    assert ELSEWHERE not in styles
    assert leaks == []


def test_a_hostile_document_is_shown_as_text_and_loads_nothing(watched, server, tmp_path):
    page, leaks, _ = watched
    doc = tmp_path / "harbour.md"
    doc.write_text(DOCUMENT, "utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    expect(page.locator("#doc-status")).to_contain_text("1 added", timeout=ANSWER_TIMEOUT)
    page.get_by_role("tab", name="Chat").click()
    ask(page, QUESTION)
    answer = page.locator("#chat [data-testid=bot]").last
    expect(answer).to_contain_text("Odile Franck")
    expect(page.locator("#sources")).to_contain_text("<iframe src=")  # the markup is there, as text
    answer.locator(".qa-cite").first.click()
    expect(page.locator("#viewer .qa-doc")).to_contain_text('<input type="password"')
    expect(page.locator("#viewer mark.qa-quote").first).to_contain_text("Odile Franck")
    page.wait_for_timeout(500)
    assert_inert(page, leaks)


def test_a_hostile_llm_answer_is_shown_as_text_and_loads_nothing(watched, server):
    page, leaks, _ = watched
    page.get_by_text("Settings").click()
    page.locator("#backend input").click()
    page.get_by_role("option", name="openai").click()
    ask(page, "Who keeps the harbour?")
    answer = page.locator("#chat [data-testid=bot]").last
    expect(answer).to_contain_text(f"![pixel]({ELSEWHERE}/md.png)")
    expect(answer.locator(".qa-cite")).to_have_count(1)
    page.wait_for_timeout(500)
    assert_inert(page, leaks)


def test_the_content_security_policy_forbids_remote_loads(watched):
    page, leaks, response = watched
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data: blob:" in policy
    blocked = page.evaluate("""(url) => new Promise((done) => {
        document.addEventListener('securitypolicyviolation', (e) => done(e.blockedURI), {once: true});
        const img = document.createElement('img'); img.src = url; document.body.appendChild(img);
        setTimeout(() => done(null), 3000);
    })""", f"{ELSEWHERE}/probe.png")
    assert blocked and blocked.startswith(ELSEWHERE)  # refused by the policy itself (the route would abort it too)
