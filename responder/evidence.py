"""Photo or video evidence of damage, by the contract's rule (pure).

A damage claim has evidence when the mail carries a photo or video of the
item: a part typed `image/*` or `video/*`, or one whose file name says so
(`IMG_2031.HEIC`, `box.mov` sent as `application/octet-stream`). Small inline
images are signature logos, not evidence; words such as "photos attached"
count for nothing without an attachment.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from responder.message import Attachment

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .webp .heic .heif .bmp .tif .tiff .dng .avif".split()
)
VIDEO_EXTENSIONS = frozenset(
    ".mov .mp4 .m4v .avi .3gp .3g2 .webm .mkv .hevc .wmv .mpg .mpeg".split()
)
# Inline images below this size are logos and icons in signatures; a phone
# photo, even one a mail client shrank, is larger.
LOGO_MAX_BYTES = 40_000


def _extension(filename: str) -> str:
    return PurePosixPath(filename.strip().lower().replace("\\", "/")).suffix


def is_photo_or_video(attachment: Attachment) -> bool:
    """True when the part is an image or a video by its type or by its file name."""
    ctype = attachment.content_type.lower()
    ext = _extension(attachment.filename)
    if ctype.startswith("video/") or ext in VIDEO_EXTENSIONS:
        return True
    return ctype.startswith("image/") or ext in IMAGE_EXTENSIONS


def is_signature_logo(attachment: Attachment) -> bool:
    """A small image shown inline in the body: a signature logo or icon."""
    ext = _extension(attachment.filename)
    is_video = attachment.content_type.lower().startswith("video/") or ext in VIDEO_EXTENSIONS
    return attachment.inline and not is_video and attachment.size < LOGO_MAX_BYTES


def evidence_attachments(attachments: tuple[Attachment, ...]) -> list[Attachment]:
    """The attachments that count as photo or video evidence."""
    return [a for a in attachments if is_photo_or_video(a) and not is_signature_logo(a)]


def has_evidence(attachments: tuple[Attachment, ...]) -> bool:
    return bool(evidence_attachments(attachments))
