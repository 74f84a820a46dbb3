"""A sent reply marks the original `\\Answered` on the real IMAP server and files a copy in Sent."""

from __future__ import annotations

import email
import subprocess
import sys
from email import policy

import pytest

from responder.config import load_config
from responder.store import State, Store
from tests.smtp import Recorder, free_port
from tests.test_imap import store_path

pytestmark = pytest.mark.slow


def test_sent_reply_is_answered_and_filed(dovecot, imap_account, imap_config) -> None:
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mail = (b"From: Ana Lima <ana.lima@mail.example>\r\nTo: support@kiwamibox.example\r\n"
                b"Subject: Cancel order KB-10001\r\nMessage-ID: <cancel-1@mail.example>\r\n"
                b"Date: Mon, 02 Mar 2026 07:05:33 -0500\r\n\r\n"
                b"Please cancel my order KB-10001, it has not shipped yet.\r\n")
        dovecot.append(imap_account, [mail])
        dovecot.append(imap_account, [], folder="Sent")
        config_path = imap_config(imap_account, smtp={
            "host": "127.0.0.1", "port": controller.port, "security": "plain",
            "from_address": "support@kiwamibox.example", "sent_folder": "Sent"})
        command = [sys.executable, "-m", "responder", "-c", str(config_path)]
        first = subprocess.run([*command, "run", "--once"], capture_output=True, text=True,
                               timeout=120)
        assert first.returncode == 0, first.stderr
        with Store(store_path(config_path)) as store:
            [item] = store.list_items()
            store.approve(item.id, "yuki")
        sent = subprocess.run([*command, "send"], capture_output=True, text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr
        assert "sent 1" in sent.stdout
    finally:
        controller.stop()

    [envelope] = recorder.envelopes
    reply = email.message_from_bytes(envelope.content, policy=policy.default)
    assert reply["In-Reply-To"] == "<cancel-1@mail.example>"
    [flags] = dovecot.flags(imap_account).values()
    assert b"\\Answered" in flags and b"\\Seen" not in flags
    client = dovecot.connect(imap_account)
    try:
        client.select_folder("Sent", readonly=True)
        [uid] = client.search(["HEADER", "Message-ID", reply["Message-ID"]])
        assert b"\\Seen" in client.get_flags([uid])[uid]
    finally:
        client.logout()
    with Store(store_path(config_path)) as store:
        assert store.list_items()[0].state == State.SENT
    load_config(config_path)  # the config the test wrote is valid as a user would write it
