"""Builders of small raw emails for tests: `raw_mail(subject=..., body=...)` -> bytes."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid


def raw_mail(
    *,
    subject: str = "Question about my order",
    body: str = "Hello, where is my parcel? It is two weeks late.",
    sender: str = "Ana Lima <ana.lima@mail.example>",
    to: str = "support@kiwamibox.example",
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # (filename, mime type, data)
    inline_images: list[tuple[str, bytes]] = (),  # (content id, png bytes)
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 07:05:33 -0500"
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if inline_images:
            html_part = msg.get_payload()[1]
            for cid, data in inline_images:
                html_part.add_related(data, "image", "png", cid=f"<{cid}>",
                                      disposition="inline", filename=f"{cid}.png")
    for filename, mime, data in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
