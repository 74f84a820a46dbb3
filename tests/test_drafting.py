"""Drafting: every template renders for every sample, is policy-true, and replies properly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from responder.classifier import CATEGORIES
from responder.drafting import (
    DraftContext,
    Drafter,
    ReplyHeaders,
    build_reply,
    find_order_number,
    greeting_name,
    reply_subject,
)
from responder.parsing import parse_message

# Promises the FAQ never makes: refunds for taste, customs or lateness, or any refund as done.
FORBIDDEN = re.compile(
    r"we (will|'ll|have|shall) (issue |process |give |send )?(you )?(a |your )?(full )?refund"
    r"|refund (has been|was) (issued|processed)|we will (replace|exchange|reship|resend)"
    r"|free (return|replacement)|we (will|can) accept (your )?return",
    re.IGNORECASE,
)


def test_every_template_renders_for_every_sample(samples_dir: Path, triager) -> None:
    for path in sorted(samples_dir.glob("*.eml")):
        msg = parse_message(path.read_bytes())
        for category in CATEGORIES:
            for also in ((), tuple(c for c in CATEGORIES if c != category)[:1]):
                for missing in (False, True):
                    text = triager.drafter.render(DraftContext(
                        category=category, also=also, missing_evidence=missing,
                        greeting_name=greeting_name(msg.sender_name),
                        order_number=find_order_number(msg.subject, msg.newest_text)))
                    assert "{{" not in text and "{%" not in text and "}}" not in text, path
                    assert not FORBIDDEN.search(text), (category, text)
                    assert text.rstrip().endswith("Kiwami Box Support")


def test_policy_lines_per_category(drafter: Drafter) -> None:
    def render(category: str, **kw) -> str:
        return drafter.render(DraftContext(category=category, **kw))

    assert "all sales are final" in render("return_exchange")
    assert "not made for reasons of personal preference" in render("unwanted_item")
    assert "unable to provide a refund" in render("customs_held")
    assert "not able to refund shipping" in render("shipping_delay")
    assert "Order Status" in render("cancel_order")
    asking = render("damaged_item", missing_evidence=True)
    assert "pictures or a video" in asking and "reply to this email" in asking
    assert "reply to this email with pictures" not in render("damaged_item")


def test_two_intents_are_both_answered(drafter: Drafter) -> None:
    text = drafter.render(DraftContext(category="cancel_order", also=("shipping_delay",)))
    assert "About cancelling your order:" in text and "About your parcel's delivery time:" in text


def test_greeting_and_order_number(drafter: Drafter) -> None:
    text = drafter.render(DraftContext(category="cancel_order", greeting_name="Megan",
                                       order_number="KB-10482"))
    assert text.startswith("Dear Megan,") and "your order KB-10482" in text
    assert drafter.render(DraftContext(category="other")).startswith("Hello,")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Megan Hollis", "Megan"), ("Hollis, Megan", "Megan"), ("megan", "Megan"),
     ("Dr. Ana Lima", "Dr. Lima"), ("", None), ("ana@x.example", None), ("Support", None),
     ("Ana\r\nBcc: x", "Ana"), ("Ana\r\nBcc: x@evil.example", None)],
)
def test_greeting_name(name: str, expected: str | None) -> None:
    assert greeting_name(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Cancel order KB-10482", "KB-10482"), ("kb 10482 please", "KB-10482"),
     ("my order #58213", "#58213"), ("Order number: 44710 was late", "#44710"),
     ("nothing here 12", None)],
)
def test_find_order_number(text: str, expected: str | None) -> None:
    assert find_order_number(text) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Cancel order", "Re: Cancel order"), ("Re: Cancel order", "Re: Cancel order"),
     ("RE: re: AW: Late", "Re: Late"), ("", "Re: your message")],
)
def test_reply_subject_has_re_once(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_build_reply_threads_and_strips_injection() -> None:
    original = ReplyHeaders(
        to_address="ana@mail.example", to_name="Ana\r\nBcc: x@evil.example",
        subject="Hello\r\nBcc: victim@evil.example", message_id="<orig@mail.example>",
        references=("<root@mail.example>",),
    )
    reply = build_reply(original, "Dear Ana,\n", from_address="support@kiwamibox.example",
                        from_name="Kiwami Box Support", message_id="<r1@kiwamibox.example>",
                        date=datetime(2026, 3, 2, tzinfo=UTC))
    raw = reply.as_bytes()
    assert b"\nBcc:" not in raw
    assert reply["In-Reply-To"] == "<orig@mail.example>"
    assert reply["References"] == "<root@mail.example> <orig@mail.example>"
    assert reply["Subject"] == "Re: Hello Bcc: victim@evil.example"
    assert reply["Message-ID"] == "<r1@kiwamibox.example>"
    assert reply["Date"] and reply["From"] == "Kiwami Box Support <support@kiwamibox.example>"
