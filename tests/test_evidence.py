"""Evidence: a photo or video of the damage, by type or file name; logos are not evidence."""

from __future__ import annotations

import pytest

from responder.evidence import has_evidence
from responder.message import Attachment


def att(filename: str, ctype: str, size: int = 200_000, inline: bool = False) -> Attachment:
    return Attachment(filename=filename, content_type=ctype, size=size, inline=inline)


@pytest.mark.parametrize(
    ("attachments", "expected"),
    [
        ([att("IMG_1.jpg", "image/jpeg")], True),
        ([att("IMG_2031.HEIC", "application/octet-stream")], True),
        ([att("box.mov", "application/octet-stream")], True),
        ([att("IMG_2207.MOV", "video/quicktime")], True),
        ([att("clip.mp4", "video/mp4", size=5_000, inline=True)], True),
        ([att("", "image/png", size=120_000, inline=True)], True),  # a pasted phone photo
        ([att("image001.png", "image/png", size=4_000, inline=True)], False),  # signature logo
        ([att("invoice.pdf", "application/pdf")], False),
        ([att("notes.txt", "text/plain")], False),
        ([], False),
    ],
)
def test_evidence_rule(attachments: list[Attachment], expected: bool) -> None:
    assert has_evidence(tuple(attachments)) is expected
