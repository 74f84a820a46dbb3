"""A real SMTP server for tests: aiosmtpd's Controller with a handler that keeps every mail."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps every envelope; `on_data` may act before the 250."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.on_data: Callable[[], object] | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.envelopes.append(envelope)
        if self.on_data is not None:
            self.on_data()
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [email.message_from_bytes(e.content, policy=policy.default)
                    for e in self.envelopes]
