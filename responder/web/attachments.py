"""Attachment bytes of a stored mail, for the review page's list, thumbnails and downloads.

`list_parts(raw) -> [Part(index=0, filename="photo.jpg", content_type="image/jpeg",
size=81234, data=b"...", inline_image=True), ...]`. The parts are the same
ones `parsing.parse_message` calls attachments: every leaf that is not body
text, in document order, `message/rfc822` as one part. Only a part that
declares JPEG, PNG, GIF or WebP *and* starts with that format's signature may
be shown inline; everything else is a download of application/octet-stream.
`get_part(raw, n)` decodes only part n, for the attachment endpoint.
"""

from __future__ import annotations

import email.parser
import re
from dataclasses import dataclass
from email.message import Message

from responder.parsing import leaves, part_content_type, part_payload_bytes

INLINE_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    index: int
    filename: str
    content_type: str
    size: int
    data: bytes
    inline_image: bool

    @property
    def download_name(self) -> str:
        """A file name safe for Content-Disposition: no path, no control characters."""
        name = _UNSAFE_NAME.sub("_", self.filename).strip(" ._")[:150]
        return name or f"attachment-{self.index + 1}"


def _matches_signature(content_type: str, data: bytes) -> bool:
    """Does the payload really start like the declared image format? A part labelled
    image/png that holds HTML is then never served as an image."""
    if content_type == "image/jpeg":
        return data[:3] == b"\xff\xd8\xff"
    if content_type == "image/png":
        return data[:8] == b"\x89PNG\r\n\x1a\n"
    if content_type == "image/gif":
        return data[:6] in (b"GIF87a", b"GIF89a")
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return False


def _payload(part: Message) -> bytes:
    if part_content_type(part).startswith("message/"):
        # An attached email: compat32 gives its parsed form; hand out its bytes.
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            try:
                return inner[0].as_bytes()
            except Exception:  # noqa: BLE001
                return b""
    return part_payload_bytes(part)


def _attachment_leaves(raw: bytes) -> list[tuple[Message, str, str]]:
    """(part, content type, file name) of every attachment, without decoding any payload:
    the same parts, in the same order, as `parse_message` lists."""
    root = email.parser.BytesParser().parsebytes(raw)
    return [(leaf.part, leaf.content_type, leaf.filename)
            for leaf in leaves(root) if not leaf.is_body_text]


def _part(index: int, part: Message, ctype: str, filename: str) -> Part:
    data = _payload(part)
    return Part(index=index, filename=filename, content_type=ctype, size=len(data), data=data,
                inline_image=ctype in INLINE_IMAGE_TYPES and _matches_signature(ctype, data))


def list_parts(raw: bytes) -> list[Part]:
    """The attachments of a raw mail, with their decoded bytes."""
    return [_part(i, *leaf) for i, leaf in enumerate(_attachment_leaves(raw))]


def get_part(raw: bytes, index: int) -> Part | None:
    """Attachment `index` alone (a thumbnail request decodes one photo, not all of them)."""
    leaves = _attachment_leaves(raw)
    return _part(index, *leaves[index]) if 0 <= index < len(leaves) else None
