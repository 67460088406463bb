"""The web server's door, against one real app (`python -m ui`) behind a login read from a file:
the Host check (DNS rebinding, in a real browser), bad `k` values on `/ask`, the login attempt cap.

Before: any Host was served (a rebinding page could call `/gradio_api/call/ask`), `/ask` with k=0 used
the default, k=1.7 became 1 and k="abc" said "Something went wrong (ValueError ...)", logins could be
tried without limit and the password was a command-line argument (visible in `ps`).
"""
from __future__ import annotations

import http.client
import urllib.parse

import pytest
from gradio_client import Client
from playwright.sync_api import sync_playwright

from testkit.servers import CHROMIUM, CHROMIUM_ARGS, XI_QUESTION, XI_QUOTE, running_server
from ui.server.guard import MAX_FAILURES

pytestmark = pytest.mark.slow
LOGIN = ("alice", "tide-gauge-7391")
ALLOWED = "qa.internal"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One app whose login comes from a file, answering also to the name qa.internal."""
    root = tmp_path_factory.mktemp("guard")
    secret = root / "login.txt"
    secret.write_text(":".join(LOGIN) + "\n", "utf-8")
    secret.chmod(0o600)
    with running_server(root, QA_AUTH_FILE=str(secret), QA_ALLOWED_HOSTS=ALLOWED) as running:
        yield running


def request(server, method: str, path: str, host: str, body: bytes | None = None, headers: dict | None = None):
    """One HTTP request to the app with the given Host header: (status, body text, headers)."""
    port = urllib.parse.urlparse(server.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace"), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def test_the_password_is_not_on_the_command_line(server):
    cmdline = open(f"/proc/{server.proc.pid}/cmdline", "rb").read().decode()
    assert LOGIN[1] not in cmdline and LOGIN[1] not in server.output()


def test_only_known_host_names_are_served(server):
    port = urllib.parse.urlparse(server.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"{ALLOWED}:{port}"):
        assert request(server, "GET", "/", host)[0] == 200, host
    for host in (f"rebind.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
        status, text, _ = request(server, "GET", "/", host)
        assert status == 400 and "Invalid host header" in text, (host, status)
        status, _, _ = request(server, "POST", "/gradio_api/call/ask", host, b'{"data": ["x", 4]}',
                               {"Content-Type": "application/json"})
        assert status == 400, host


def test_a_dns_rebinding_page_gets_nothing_in_a_real_browser(server):
    """Chromium resolves rebind.example to 127.0.0.1, as after a DNS rebinding attack."""
    port = urllib.parse.urlparse(server.url).port
    rules = f"--host-resolver-rules=MAP rebind.example 127.0.0.1, MAP {ALLOWED} 127.0.0.1"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, rules])
        try:
            page = browser.new_page()
            response = page.goto(f"http://rebind.example:{port}/")
            assert response.status == 400 and "Invalid host header" in page.content()
            status = page.evaluate("""async () => (await fetch('/gradio_api/call/ask', {method: 'POST',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify({data: ['x', 4]})})).status""")
            assert status == 400
            assert page.goto(f"http://{ALLOWED}:{port}/").status == 200  # a configured name works
        finally:
            browser.close()


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, auth=LOGIN, verbose=False)


def test_ask_answers_with_the_default_or_a_whole_k(client):
    for k in (None, 3, 3.0):
        result = client.predict(XI_QUESTION, k, api_name="/ask")
        assert not result["abstained"] and XI_QUOTE in result["citations"][0]["quote"], k


@pytest.mark.parametrize("k", [0, 1.7, "abc", -2, 51])
def test_a_bad_k_on_ask_is_refused_with_a_clear_message(client, k):
    with pytest.raises(Exception) as err:
        client.predict(XI_QUESTION, k, api_name="/ask")
    message = str(err.value)
    assert "k must be a whole number between 1 and" in message and repr(k) in message, message
    assert "Something went wrong" not in message and "ValueError" not in message


def test_failed_logins_are_capped(server):
    host = f"127.0.0.1:{urllib.parse.urlparse(server.url).port}"

    def attempt(password: str):
        body = urllib.parse.urlencode({"username": LOGIN[0], "password": password}).encode()
        return request(server, "POST", "/login", host, body, {"Content-Type": "application/x-www-form-urlencoded"})

    assert attempt(LOGIN[1])[0] == 200  # a success clears nothing that matters, and works
    for _ in range(MAX_FAILURES):
        assert attempt("wrong")[0] == 400
    status, text, headers = attempt("wrong")
    assert status == 429 and "Too many failed logins" in text and int(headers["retry-after"]) > 0
    assert attempt(LOGIN[1])[0] == 429  # locked out: even the right password waits
