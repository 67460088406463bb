"""What the browser tests share: the two screen sizes, opening the chat in a fresh browser context, and the
answers on the page (every bot message; those whose answer has finished streaming)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

LAPTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def open_page(browser, server, viewport=LAPTOP, **options) -> tuple:
    """A new browser context (no stored chats) with the chat of `server` loaded: (context, page)."""
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.goto(server.url)
    expect(page.locator("#question textarea")).to_be_visible()
    return context, page


def bots(page: Page):
    """Every answer bubble of the conversation."""
    return page.locator("#chat [data-testid=bot]")


def finished(page: Page):
    """The answer bubbles whose answer has finished."""
    return page.locator("#chat [data-testid=bot] .qa-answer:not(.qa-streaming)")
