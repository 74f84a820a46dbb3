"""Raw email bytes to a `ParsedMessage`: pure, total, and bounded.

Real mail is hostile (broken MIME, unknown charsets, endless nesting, huge
headers), so every step degrades instead of raising: an unknown charset is
decoded with replacement characters, a part past the nesting or count limit
is ignored, a header value is cut. Only `UnreadableMessage` escapes, for
input that is not an email at all.

We parse with the `compat32` policy and decode headers ourselves: the
`policy.default` parser builds rich header objects for every header and runs
about ten times slower, which the triage throughput target cannot afford.
"""

from __future__ import annotations

import email.parser
import email.utils
import re
from dataclasses import dataclass
from email.header import decode_header
from email.message import Message

from responder.htmltext import html_to_text
from responder.message import Attachment, ParsedMessage
from responder.quotes import split_newest_text

MAX_HEADER_VALUE = 4_000  # characters kept of one header value
MAX_HEADERS = 200  # headers kept of one message
MAX_PARTS = 400  # MIME parts examined
MAX_DEPTH = 12  # multipart nesting followed
MAX_BODY_CHARS = 200_000  # body text kept for triage and review

# Charset labels seen in the wild that Python's codecs do not know by that name.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-mac-cyrillic": "mac_cyrillic",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "x-user-defined": "latin-1",
    "utf8": "utf-8",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "utf-8",  # mislabeled 8-bit mail is common; utf-8 is a superset of ascii
}

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_MBOX_SEPARATOR = re.compile(rb"From [^\s:]+[ \t]*\r?\n|From [^\s:]+ ")
_WS = re.compile(r"[ \t\r\n]+")


class UnreadableMessage(ValueError):
    """The bytes are not an email that can be read at all (empty, binary)."""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body or header bytes, never raising: unknown charsets fall back to UTF-8."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return data.decode(name, errors="replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", errors="replace")


def _fix_surrogates(text: str) -> str:
    """compat32 keeps raw 8-bit header bytes as surrogate escapes; read them as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def decode_header_value(value: object) -> str:
    """An RFC 2047 header value as one line of text, bounded in length."""
    if value is None:
        return ""
    raw = _fix_surrogates(str(value))[: MAX_HEADER_VALUE * 2]
    try:
        pieces = decode_header(raw)
    except Exception:  # noqa: BLE001 - the stdlib raises several types on junk
        pieces = [(raw, None)]
    out = []
    for chunk, charset in pieces:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    # decode_header drops the whitespace between an encoded word and plain text
    # only in some cases; collapsing all runs keeps the result stable either way.
    text = "".join(out) if len(pieces) > 1 else out[0] if out else ""
    return _WS.sub(" ", text).strip()[:MAX_HEADER_VALUE]


def _first_message_id(value: str) -> str | None:
    match = _MESSAGE_ID.search(value or "")
    return match.group(0) if match else None


def part_payload_bytes(part: Message) -> bytes:
    """A part's decoded bytes; broken encodings give the raw text rather than an error."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 or quoted-printable
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    data = part_payload_bytes(part)[: MAX_BODY_CHARS * 4]
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return decode_bytes(data, charset)[:MAX_BODY_CHARS]


def _estimated_size(part: Message) -> int:
    """Decoded size of a part, estimated from the encoded text without decoding it."""
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        return (len(raw) - raw.count("\n") - raw.count("\r")) * 3 // 4
    return len(raw)


def part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if name is None:
        return ""
    return decode_header_value(name)[:255]


def part_content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def walk_leaves(root: Message) -> list[tuple[Message, str, str]]:
    """Leaf parts in document order with their own and their parent's type, bounded.

    Iterative, so that pathological nesting cannot exhaust the stack.
    `message/rfc822` parts are leaves: an attached email is an attachment.
    """
    found: list[tuple[Message, str, str]] = []
    stack: list[tuple[Message, int, str]] = [(root, 0, "")]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth, parent = stack.pop()
        seen += 1
        ctype = part_content_type(part)
        if part.is_multipart() and not ctype.startswith("message/") and depth < MAX_DEPTH:
            children = part.get_payload()
            if isinstance(children, list):
                for child in reversed(children):
                    if isinstance(child, Message):
                        stack.append((child, depth + 1, ctype))
            continue
        found.append((part, ctype, parent))
    return found


def _disposition(part: Message) -> str:
    value = str(part.get("Content-Disposition", "") or "")
    return value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Leaf:
    """One leaf part: body text or an attachment, with what was read of its headers."""

    part: Message
    content_type: str
    filename: str
    disposition: str
    parent_type: str
    is_body_text: bool


def leaves(root: Message) -> list[Leaf]:
    """Every leaf part in document order, marked as body text or attachment.

    Body text is a text/plain or text/html part that is not an attachment and has
    no file name (or the whole message, when it is a single text part); every
    other leaf is an attachment. The review page lists attachments by this order.
    """
    out = []
    for part, ctype, parent in walk_leaves(root):
        disposition = _disposition(part)
        filename = part_filename(part)
        body = (ctype in ("text/plain", "text/html") and disposition != "attachment"
                and not filename) or (part is root and not part.is_multipart()
                                      and ctype.startswith("text/"))
        out.append(Leaf(part, ctype, filename, disposition, parent, body))
    return out


def _collect(root: Message) -> tuple[str, str, list[Attachment]]:
    """(plain text, html text, attachments) of the message's body parts."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for leaf in leaves(root):
        if leaf.is_body_text:
            (html if leaf.content_type == "text/html" else plain).append(_part_text(leaf.part))
            continue
        content_id = leaf.part.get("Content-ID")
        attachments.append(
            Attachment(
                filename=leaf.filename,
                content_type=leaf.content_type,
                size=_estimated_size(leaf.part),
                inline=leaf.disposition == "inline"
                or (leaf.disposition == "" and leaf.parent_type == "multipart/related"),
                content_id=str(content_id).strip()[:200] if content_id else None,
            )
        )
    return "\n".join(plain).strip(), "\n".join(html).strip(), attachments


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raises only `UnreadableMessage`."""
    if not raw or not raw.strip():
        raise UnreadableMessage("empty message")
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableMessage("an Outlook .msg file, not an RFC 822 message")
    # Files saved by some tools start with a UTF-8 byte-order mark or an mbox "From "
    # separator line; neither is part of the message.
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if _MBOX_SEPARATOR.match(raw):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    try:
        msg = email.parser.BytesParser().parsebytes(raw)
    except Exception as exc:  # noqa: BLE001 - the parser is meant to be total; be sure
        raise UnreadableMessage(f"the email parser failed: {exc.__class__.__name__}") from exc

    # Values stay RFC 2047-encoded here: screening reads only ASCII tokens, and
    # decoding every header of every message would cost more than the rest of parsing.
    headers = [
        (str(name).lower(), _fix_surrogates(str(value))[:MAX_HEADER_VALUE])
        for name, value in msg._headers[:MAX_HEADERS]  # raw pairs, skipping policy work
    ]
    if not headers:
        raise UnreadableMessage("no headers")
    # First value of each header: Message.get() scans every header per call.
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name, value)

    def header(name: str) -> str:
        return decode_header_value(first[name]) if name in first else ""

    sender_name, sender_address = "", ""
    from_value = first.get("from")
    if from_value is not None:
        try:
            name, address = email.utils.parseaddr(_fix_surrogates(str(from_value)))
        except Exception:  # noqa: BLE001
            name, address = "", ""
        sender_name = decode_header_value(name).strip().strip('"').strip("'")
        sender_address = address.strip().lower()[:320]

    date = None
    date_value = first.get("date")
    if date_value:
        try:
            date = email.utils.parsedate_to_datetime(str(date_value))
        except Exception:  # noqa: BLE001 - junk dates are common
            date = None

    plain, html, attachments = _collect(msg)
    body = plain if plain.strip() else html_to_text(html)
    newest, forwarded = split_newest_text(body)
    references = tuple(_MESSAGE_ID.findall(header("references")))[:50]

    return ParsedMessage(
        sender_name=sender_name[:200],
        sender_address=sender_address,
        subject=header("subject")[:1000],
        date=date,
        message_id=_first_message_id(header("message-id")),
        in_reply_to=_first_message_id(header("in-reply-to")),
        references=references,
        content_type=part_content_type(msg),
        headers=tuple(headers),
        newest_text=newest,
        full_text=body,
        forwarded_text=forwarded,
        attachments=tuple(attachments),
        defects=tuple(type(d).__name__ for d in getattr(msg, "defects", [])[:20]),
    )
