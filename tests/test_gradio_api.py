"""The chat reads gradio only through its public API (issue #27): the data a page sends with a custom event
is read as `evt.<field>` (gradio's documented way for `gr.HTML` events), never through private attributes."""
from __future__ import annotations

import re

import pytest

from conftest import REPO
from ui.web.chat import sent
from ui.web.gradio_import import gr

pytestmark = pytest.mark.unit


def test_a_custom_events_fields_are_read_through_the_public_api():
    evt = gr.EventData(None, {"action": "delete", "chat": "c1", "turn": 2})
    assert (sent(evt, "action"), sent(evt, "chat"), sent(evt, "turn")) == ("delete", "c1", 2)
    assert sent(evt, "n") is None                      # a field the page did not send
    assert sent(gr.EventData(None, None), "turn") is None  # a plain click sends nothing


def test_no_module_reads_gradios_private_attributes():
    private = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in sorted((REPO / "ui").rglob("*.py"))
               for m in re.finditer(r"\bevt\._\w+", p.read_text("utf-8"))]
    assert private == []
