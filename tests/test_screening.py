"""Screening: what must never be answered is `skip`; a person's mail never is."""

from __future__ import annotations

import pytest

from responder.parsing import parse_message
from responder.screening import screen
from tests.mails import raw_mail

OWN = ("support@kiwamibox.example",)


def flags_for(**kwargs) -> list[str]:
    return screen(parse_message(raw_mail(**kwargs)), OWN)


@pytest.mark.parametrize(
    ("headers", "flag"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto_generated"),
        ({"Auto-Submitted": "auto-generated"}, "auto_generated"),
        ({"X-Autoreply": "yes"}, "auto_generated"),
        ({"X-Autorespond": "yes"}, "auto_generated"),
        ({"X-Auto-Response-Suppress": "All"}, "auto_generated"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"Precedence": "junk"}, "bulk"),
        ({"Precedence": "list"}, "bulk"),
        ({"Precedence": "auto_reply"}, "auto_generated"),
        ({"List-Id": "<news.example>"}, "bulk"),
        ({"List-Unsubscribe": "<mailto:u@news.example>"}, "bulk"),
        ({"Return-Path": "<>"}, "bounce"),
    ],
)
def test_header_rules_skip(headers: dict[str, str], flag: str) -> None:
    assert flag in flags_for(headers=headers)


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example", "Mail Delivery System <mailer-daemon@mx.example>",
     "postmaster@shop.example", "Kiwami Box Support <Support@KiwamiBox.example>"],
)
def test_daemon_and_own_senders_skip(sender: str) -> None:
    assert flags_for(sender=sender)


def test_delivery_report_skips() -> None:
    raw = (b"From: Mail System <robot@mx.example>\nSubject: Delivery failure\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=XX\n\n"
           b"--XX\nContent-Type: text/plain\n\nfailed\n--XX\n"
           b"Content-Type: message/delivery-status\n\nStatus: 5.1.1\n--XX--\n")
    assert "bounce" in screen(parse_message(raw), OWN)


def test_auto_submitted_no_is_a_person() -> None:
    assert flags_for(headers={"Auto-Submitted": "no"}) == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Automatic reply: Your order has shipped", "Thank you for your email."),
        ("Out of Office: re your order", "I am away."),
        ("Re: your parcel", "Thank you for your email. I am out of the office until Monday 9 "
         "March with limited access to email. For anything urgent please call Lorraine."),
        ("Abwesenheitsnotiz", "Ich bin bis 12. Mai nicht im Büro."),
    ],
)
def test_out_of_office_text_without_headers_skips(subject: str, body: str) -> None:
    assert flags_for(subject=subject, body=body) == ["auto_generated"]


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Holding my April box while I'm away",
         "I'll be away visiting my daughter from 10 to 24 April, so nobody will be home. "
         "Would it be possible to hold my April box and post it after I'm back?"),
        ("On holiday next week", "I'm on holiday until the 20th, could you please hold my "
         "order until then? Thank you."),
        ("Cancel", "Please cancel my order, I am out of the office so I cannot receive it."),
    ],
)
def test_customers_mentioning_absence_are_not_skipped(subject: str, body: str) -> None:
    assert flags_for(subject=subject, body=body) == []
