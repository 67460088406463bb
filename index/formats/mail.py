"""E-mail (the standard library's `email` and `mailbox`): a message's From, To, Date and Subject become
metadata (author, to, published, title) and lead its text; an mbox file is one segment per message."""
from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
from pathlib import Path

from index.formats.builder import DocBuilder, one_line, tidy
from index.formats.html import extract_html
from index.types import SkipFile

HEADERS = ("From", "To", "Cc", "Date", "Subject")


def parse_message(data: bytes):
    """An `EmailMessage` from raw bytes (modern policy: decoded headers, `get_body`)."""
    return email.message_from_bytes(data, policy=email.policy.default)


def message_text(msg) -> str:
    """`From: ...`, `To: ...`, `Date: ...`, `Subject: ...` lines, a blank line, then the body as text."""
    head = "\n".join(f"{name}: {value}" for name in HEADERS if (value := header(msg, name)))
    return tidy(head + "\n\n" + body(msg))


def header(msg, name: str) -> str:
    """A header's decoded value on one line ("" when absent or unreadable)."""
    try:
        return one_line(msg.get(name, "") or "")
    except Exception:  # noqa: BLE001 (a malformed header costs only itself)
        return ""


def body(msg) -> str:
    """The plain-text body, else the HTML body's visible text; attachments are not read."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return _raw_payload(msg) if not msg.is_multipart() else ""
        content = part.get_content()
        return extract_html(content)[1] if part.get_content_subtype() == "html" else content
    except Exception:  # noqa: BLE001 (broken MIME: fall back to the raw payload)
        return _raw_payload(msg)


def _raw_payload(msg) -> str:
    payload = msg.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def message_meta(msg) -> dict:
    """From -> author, To -> to, Date -> published (ISO day), Subject -> title."""
    meta = {"author": header(msg, "From"), "to": header(msg, "To"), "title": header(msg, "Subject")}
    try:
        meta["published"] = email.utils.parsedate_to_datetime(header(msg, "Date")).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    return {k: v for k, v in meta.items() if v}


def extract_eml(data: bytes) -> tuple[dict, str]:
    """(metadata, text) of one message."""
    msg = parse_message(data)
    meta = message_meta(msg)
    if not (meta.get("author") or meta.get("title") or msg.get_payload()):
        raise SkipFile("not an e-mail message (no From, Subject or body)")
    return meta, message_text(msg)


def extract_mbox(path: Path) -> tuple[DocBuilder, int, dict]:
    """One segment per message ("message N"); metadata of the first message with a date."""
    box = mailbox.mbox(str(path), factory=lambda fh: parse_message(fh.read()), create=False)
    builder, count, meta = DocBuilder(), 0, {}
    try:
        for msg in box:
            count += 1
            builder.add(message_text(msg), label=f"message {count}")
            meta = meta or ({k: v for k, v in message_meta(msg).items() if k == "published"})
    finally:
        box.close()
    if not count:
        raise SkipFile("not an mbox file: no message starts with a `From ` line")
    return builder, count, meta
