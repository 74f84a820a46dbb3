"""Sending against a real aiosmtpd server: proper replies, exactly once, never to loops."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from responder.config import load_config
from responder.parsing import parse_message
from responder.sender import send_approved
from responder.store import State, Store
from tests.mails import raw_mail
from tests.smtp import Recorder, free_port
from tests.test_store_worker import incoming


def make_config(tmp_path: Path, port: int, extra: str = ""):
    path = tmp_path / "responder.toml"
    path.write_text(
        f"[store]\npath = 'r.db'\n[smtp]\nhost = '127.0.0.1'\nport = {port}\n"
        "security = 'plain'\nfrom_address = 'support@kiwamibox.example'\n"
        "message_id_domain = 'kiwamibox.example'\n" + extra
    )
    return load_config(path, env={})


def queue_mail(store: Store, raw: bytes, location: str = "L1") -> int:
    msg = parse_message(raw)
    item = incoming(location, location + "-hash", msg.message_id)
    item = type(item)(**{**{f: getattr(item, f) for f in item.__slots__},
                         "raw": raw, "sender_address": msg.sender_address,
                         "sender_name": msg.sender_name, "subject": msg.subject})
    store.record_batch([item])
    return store.list_items()[-1].id


def received(recorder: Recorder, index: int = -1):
    return email.message_from_bytes(recorder.envelopes[index].content, policy=policy.default)


def test_approved_reply_arrives_as_a_proper_reply(tmp_path: Path, smtp_server) -> None:
    recorder, port = smtp_server
    config = make_config(tmp_path, port)
    raw = raw_mail(subject="Cancel order KB-10001", message_id="<orig@mail.example>",
                   headers={"References": "<root@mail.example>"})
    with Store(config.store.path) as store:
        draft = queue_mail(store, raw)
        assert send_approved(config, store).sent == 0  # pending drafts are never sent
        store.approve(draft, "yuki", "Dear Ana,\n\nYour order is cancelled.\n")
        assert send_approved(config, store).sent == 1
        assert send_approved(config, store).sent == 0
        assert store.get_item(draft).state == State.SENT
    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.rcpt_tos == ["ana.lima@mail.example"]
    assert envelope.mail_from == "support@kiwamibox.example"
    reply = received(recorder)
    assert reply["Subject"] == "Re: Cancel order KB-10001"
    assert reply["In-Reply-To"] == "<orig@mail.example>"
    assert reply["References"] == "<root@mail.example> <orig@mail.example>"
    assert reply["From"] == "Kiwami Box Support <support@kiwamibox.example>"
    assert reply["Message-ID"].endswith("@kiwamibox.example>") and reply["Date"]
    body = reply.get_content().replace("\r\n", "\n").strip()
    assert body == "Dear Ana,\n\nYour order is cancelled."


def test_encoded_crlf_subject_cannot_add_a_recipient(tmp_path: Path, smtp_server) -> None:
    # CVE-2024-6923: Python 3.11.7 copies an encoded CR LF into a new header unless we strip it.
    recorder, port = smtp_server
    config = make_config(tmp_path, port)
    raw = (b"From: Ana <ana@mail.example>\r\nTo: support@kiwamibox.example\r\n"
           b"Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=\r\n"
           b"Message-ID: <x1@mail.example>\r\n\r\nWhere is my parcel?\r\n")
    with Store(config.store.path) as store:
        draft = queue_mail(store, raw)
        store.approve(draft, "yuki")
        assert send_approved(config, store).sent == 1
    envelope = recorder.envelopes[0]
    assert envelope.rcpt_tos == ["ana@mail.example"]
    assert b"\nBcc:" not in envelope.content and b"\nbcc:" not in envelope.content.lower()
    assert received(recorder)["Subject"] == "Re: Hello Bcc: victim@evil.example"


@pytest.mark.parametrize(
    "sender", ["noreply@shop.example", "no-reply@shop.example", "MAILER-DAEMON@mx.example",
               "postmaster@shop.example", "support@kiwamibox.example"],
)
def test_loop_prone_recipients_are_refused(tmp_path: Path, smtp_server, sender: str) -> None:
    recorder, port = smtp_server
    config = make_config(tmp_path, port)
    with Store(config.store.path) as store:
        draft = queue_mail(store, raw_mail(sender=sender))
        store.approve(draft, "yuki")
        result = send_approved(config, store)
        assert (result.sent, result.refused) == (0, 1)
        assert store.get_item(draft).state == State.REJECTED
    assert recorder.envelopes == []


def test_reply_cap_per_recipient_unless_overridden(tmp_path: Path, smtp_server) -> None:
    recorder, port = smtp_server
    config = make_config(tmp_path, port)
    with Store(config.store.path) as store:
        ids = [queue_mail(store, raw_mail(body=f"mail {i}"), f"L{i}") for i in range(5)]
        for draft in ids[:4]:
            store.approve(draft, "yuki")
        result = send_approved(config, store)
        assert (result.sent, result.held) == (3, 1)
        store.approve(ids[4], "yuki", override_limit=True)
        assert send_approved(config, store).sent == 1
    assert len(recorder.envelopes) == 4


def test_failed_send_stays_approved_and_is_retried(tmp_path: Path, smtp_server) -> None:
    recorder, port = smtp_server
    config = make_config(tmp_path, free_port())  # nothing listens there
    with Store(config.store.path) as store:
        draft = queue_mail(store, raw_mail())
        store.approve(draft, "yuki")
        assert send_approved(config, store).failed == 1
        item = store.get_item(draft)
        assert item.state == State.APPROVED and item.last_error and item.send_attempts == 1
        assert send_approved(config, store).sent == 0  # backoff: not due yet
        config_up = make_config(tmp_path, port)
        later = datetime.now(UTC) + timedelta(hours=1)
        assert send_approved(config_up, store, now=later).sent == 1
    assert len(recorder.envelopes) == 1


def test_crash_between_smtp_and_store_never_sends_twice(tmp_path: Path, smtp_server) -> None:
    recorder, port = smtp_server
    config = make_config(tmp_path, port)
    with Store(config.store.path) as store:
        draft = queue_mail(store, raw_mail())
        store.approve(draft, "yuki")
    command = [sys.executable, "-m", "responder", "-c", config.source_file, "send"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The server has the message; the client dies before it hears "250" or commits.
    recorder.on_data = lambda: os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    recorder.on_data = None
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "held in doubt 1" in again.stdout
    assert len(recorder.envelopes) == 1
    with Store(config.store.path) as store:
        item = store.get_item(draft)
        assert item.state == State.APPROVED and item.send_started_at is not None
