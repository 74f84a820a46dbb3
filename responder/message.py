"""Plain value objects for a parsed email and its attachments (no I/O, no logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """One non-body part: `Attachment(filename="IMG_1.HEIC", content_type=..., size=812345)`."""

    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMessage:
    """What triage needs from one email, decoded to plain text.

    `headers` keeps every header as (lower-cased name, raw value, still
    RFC 2047-encoded), each value cut to a bounded length so that a 200 KB
    header cannot bloat memory; `decode_header_value` decodes one for display.
    `newest_text` is only what the sender wrote this time: no quoted replies,
    forwarded history or signature. `forwarded_text` is the forwarded part, kept
    apart because a short "is this normal?" above a carrier notice needs it.
    """

    sender_name: str = ""
    sender_address: str = ""
    subject: str = ""
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()
    newest_text: str = ""
    full_text: str = ""
    forwarded_text: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None
