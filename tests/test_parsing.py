"""Parsing: bytes to a plain message, newest text only, attachments listed, never a crash."""

from __future__ import annotations

import pytest

from responder.htmltext import html_to_text
from responder.parsing import UnreadableMessage, decode_header_value, parse_message
from responder.quotes import split_newest_text
from tests.mails import raw_mail

QUOTE_CASES = [
    # (body, newest text, forwarded text)
    ("Can I swap the socks?\n\nOn Tue, 3 Mar 2026 at 02:14, Yuki <s@k.example> wrote:\n"
     "> Your parcel is late.", "Can I swap the socks?", ""),
    ("Please cancel.\n\nOn Tue, 3 Mar 2026 at 02:14, Kiwami Box Support <support@kiwamibox.\n"
     "example> wrote:\n> Dear Ines", "Please cancel.", ""),
    ("Thanks!\n\nFrom: Kiwami Box <support@kiwamibox.example>\nSent: Monday, 2 March 2026\n"
     "To: me\nSubject: Your order\n\nDear customer", "Thanks!", ""),
    ("Is this normal?\n\n---------- Forwarded message ---------\nFrom: Royal Mail\n"
     "A fee is due on your parcel", "Is this normal?",
     "From: Royal Mail\nA fee is due on your parcel"),
    ("Box arrived crushed.\n\nSent from my iPhone", "Box arrived crushed.", ""),
    ("Where is it?\n--\nAna Lima\nCEO, Lima Trading", "Where is it?", ""),
    ("> old quoted line\nMy new answer is here", "My new answer is here", ""),
    ("Hallo\n\nAm 02.03.2026 um 10:00 schrieb Kiwami Box <s@k.example>:\n> alt", "Hallo", ""),
    ("", "", ""),
]


@pytest.mark.parametrize(("body", "newest", "forwarded"), QUOTE_CASES)
def test_newest_text_drops_history_and_signature(body: str, newest: str, forwarded: str) -> None:
    assert split_newest_text(body) == (newest, forwarded)


def test_html_to_text_drops_scripts_styles_and_quoted_thread() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<div>Hi,<br>my box is <b>late</b> &amp; lost.</div>"
        '<div class="gmail_quote">On Mon someone wrote:<blockquote>old</blockquote></div>'
        "</body></html>"
    )
    assert html_to_text(html) == "Hi,\nmy box is late & lost."


def test_parse_plain_message_fields() -> None:
    raw = raw_mail(
        sender="=?utf-8?q?Natalia_Wi=C5=9Bniewska?= <Natalia@Mail.Example>",
        subject="=?utf-8?q?Broken_ramune_bottles?=",
        headers={"In-Reply-To": "<a@b.example>", "References": "<z@b.example> <a@b.example>"},
        message_id="<m1@mail.example>",
    )
    msg = parse_message(raw)
    assert msg.sender_name == "Natalia Wiśniewska"
    assert msg.sender_address == "natalia@mail.example"
    assert msg.subject == "Broken ramune bottles"
    assert msg.message_id == "<m1@mail.example>"
    assert msg.in_reply_to == "<a@b.example>"
    assert msg.references == ("<z@b.example>", "<a@b.example>")
    assert msg.date is not None and msg.date.year == 2026
    assert "two weeks late" in msg.newest_text


def test_html_only_message_uses_html_text() -> None:
    raw = raw_mail(body="", html="<p>Please <i>cancel</i> order KB-10482</p>")
    msg = parse_message(raw)
    assert "cancel order KB-10482" in msg.newest_text.replace("\n", " ")


def test_attachments_are_listed_with_type_size_and_inline() -> None:
    photo = b"\xff\xd8\xff" + b"x" * 50_000
    raw = raw_mail(
        html="<p>Hi</p><img src='cid:logo'>",
        inline_images=[("logo", b"\x89PNG" + b"y" * 1500)],
        attachments=[("IMG_4821.HEIC", "application/octet-stream", photo)],
    )
    by_name = {a.filename: a for a in parse_message(raw).attachments}
    heic = by_name["IMG_4821.HEIC"]
    assert heic.content_type == "application/octet-stream" and not heic.inline
    assert abs(heic.size - len(photo)) < 100
    logo = by_name["logo.png"]
    assert logo.inline and logo.content_type == "image/png" and logo.size < 2000


def test_crlf_in_encoded_subject_is_flattened() -> None:
    # CVE-2024-6923: an encoded CR LF must not survive into a header we build.
    value = decode_header_value("=?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=")
    assert "\r" not in value and "\n" not in value
    assert value == "Hello Bcc: victim@evil.example"


@pytest.mark.parametrize(
    "charset", ["x-unknown-charset", "ks_c_5601-1987", "x-mac-cyrillic", "gb2312", "unknown-8bit"]
)
def test_unknown_or_odd_charsets_decode_without_error(charset: str) -> None:
    raw = (
        f"From: a@b.example\nSubject: hi\nContent-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: 8bit\n\n"
    ).encode() + "caf\u00e9 \u4e2d\u6587".encode()
    msg = parse_message(raw)
    assert msg.newest_text  # decoded, perhaps with replacement characters


@pytest.mark.parametrize("raw", [b"", b"   \n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"])
def test_not_an_email_is_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadableMessage):
        parse_message(raw)


def test_deep_nesting_is_bounded() -> None:
    inner = b"Content-Type: text/plain\n\nhello\n"
    for depth in range(200):
        boundary = f"b{depth}".encode()
        inner = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\n\n--" + boundary
                 + b"\n" + inner + b"\n--" + boundary + b"--\n")
    msg = parse_message(b"From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n" + inner)
    assert msg.subject == "deep"


def test_huge_header_is_cut() -> None:
    raw = b"From: a@b.example\nSubject: x\nX-Junk: " + b"a" * 300_000 + b"\n\nbody\n"
    msg = parse_message(raw)
    assert all(len(value) <= 4_000 for _, value in msg.headers)


@pytest.mark.parametrize(
    "prefix", [b"\xef\xbb\xbf", b"From someone@example.com Thu Mar  8 17:40:36 2005\n",
               b"\xef\xbb\xbfFrom -\n"],
)
def test_bom_and_mbox_separator_are_not_part_of_the_message(prefix: bytes) -> None:
    msg = parse_message(prefix + b"From: Ana <ana@mail.example>\nSubject: Late\n\nWhere is it?\n")
    assert msg.sender_address == "ana@mail.example" and msg.subject == "Late"
