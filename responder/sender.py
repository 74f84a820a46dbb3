"""Send approved replies over SMTP, exactly once: the only module that sends mail.

For each approved draft:
1. refuse recipients that must never be answered (no-reply, MAILER-DAEMON,
   postmaster, our own addresses) and hold replies past the per-recipient cap;
2. commit the outgoing Message-ID and a send-started stamp (`Store.begin_send`);
3. hand the message to SMTP;
4. commit it as sent, then mark the original `\\Answered` and append a copy to
   the Sent folder (best effort: the reply is out either way).

A failure the SMTP client sees (refused, timed out, connection lost before
the server accepted) clears the stamp and schedules a retry with backoff. A
crash between 2 and 4 leaves the stamp: such a reply is *in doubt* and is
never sent again automatically; `responder review release ID` allows one more
try after a person has checked.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from responder.config import Config, read_secret
from responder.drafting import ReplyHeaders, build_reply, clean_header, new_message_id
from responder.errors import MailboxError, RefusedRecipient, SendError
from responder.parsing import UnreadableMessage, parse_message
from responder.store import Store

log = logging.getLogger(__name__)

_NEVER_ANSWER = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?"
    r"|auto[-_.]?reply|autoresponder|daemon)([-+._].*)?$",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    refused: int = 0
    in_doubt: int = 0
    held: int = 0


def check_recipient(address: str, own_addresses: tuple[str, ...]) -> None:
    """Raise `RefusedRecipient` for an address a reply must never go to."""
    cleaned = clean_header(address, 320).lower()
    if not cleaned or cleaned != address.strip().lower() or not _ADDRESS.match(cleaned):
        raise RefusedRecipient(f"not a deliverable address: {address!r}")
    if cleaned in own_addresses:
        raise RefusedRecipient(f"{cleaned} is one of our own addresses")
    if _NEVER_ANSWER.match(cleaned.split("@", 1)[0]):
        raise RefusedRecipient(f"{cleaned} is an automatic address that must not be answered")


def _connect(config: Config) -> smtplib.SMTP:
    s = config.smtp
    context = ssl.create_default_context()
    try:
        if s.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                                    context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            if s.security == "starttls":
                client.starttls(context=context)
        if s.username:
            password = read_secret(s.password_env, s.password_file) or ""
            client.login(s.username, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"{s.host}: the SMTP server refused the login for {s.username!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot connect to SMTP {s.host}:{s.port}: {exc}") from exc
    return client


def _original_headers(store: Store, item) -> ReplyHeaders:
    references: tuple[str, ...] = ()
    raw = store.raw_message(item.message)
    if raw is not None:
        try:
            references = parse_message(raw).references
        except UnreadableMessage:
            references = ()
    return ReplyHeaders(
        to_address=item.sender_address,
        to_name=item.sender_name,
        subject=item.subject,
        message_id=item.message_id,
        references=references,
    )


def _backoff(config: Config, attempts: int) -> timedelta:
    seconds = config.smtp.retry_seconds * (2 ** max(0, attempts - 1))
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _after_sent(config: Config, store: Store, item, message_bytes: bytes) -> None:
    """Mark the original answered and file a copy in Sent, if the source is IMAP."""
    if config.source.kind != "imap":
        return
    from responder.mailbox import ImapSource

    source = ImapSource(config.imap)
    try:
        source.open()
        source.mark_answered(store.message_locations(item.message))
        if config.smtp.sent_folder:
            source.append_sent(config.smtp.sent_folder, message_bytes)
    except (MailboxError, OSError) as exc:
        log.warning("draft %s was sent, but updating the mailbox failed: %s", item.id, exc)
    finally:
        source.close()


def send_approved(config: Config, store: Store, *, only: set[int] | None = None,
                  now: datetime | None = None) -> SendResult:
    """Send every approved, due draft (or only those in `only`)."""
    result = SendResult()
    for item in store.in_doubt():
        if only is None or item.id in only:
            result.in_doubt += 1
            log.warning("draft %s: a send began at %s and never finished (crash?); not sending "
                        "it again; check the Sent folder, then `responder review release %s`",
                        item.id, item.send_started_at, item.id)
    due = [i for i in store.due_for_sending(now) if only is None or i.id in only]
    if not due:
        return result
    if not config.smtp.host:
        raise SendError("[smtp] host is not set; approved replies wait")
    client: smtplib.SMTP | None = None
    own = config.own_addresses
    moment = now or datetime.now(UTC)
    try:
        for item in due:
            try:
                check_recipient(item.sender_address, own)
            except RefusedRecipient as exc:
                store.reject(item.id, "sender", f"refused by the sender: {exc}")
                log.warning("draft %s refused: %s", item.id, exc)
                result.refused += 1
                continue
            window = moment - timedelta(hours=config.smtp.window_hours)
            if (not item.override_limit and store.sent_count(item.sender_address, window)
                    >= config.smtp.max_per_recipient):
                store.fail_send(item.id, f"reply cap reached: {config.smtp.max_per_recipient} "
                                f"per {config.smtp.window_hours} h to {item.sender_address}",
                                timedelta(hours=1))
                result.held += 1
                continue
            message_id = store.begin_send(item.id, new_message_id(config.smtp.message_id_domain))
            reply = build_reply(_original_headers(store, item), item.body,
                                from_address=config.from_address,
                                from_name=config.smtp.from_name, message_id=message_id)
            payload = reply.as_bytes()
            try:
                if client is None:
                    client = _connect(config)
                client.sendmail(config.from_address, [item.sender_address.lower()], payload)
            except (TimeoutError, SendError, OSError, smtplib.SMTPException) as exc:
                store.fail_send(item.id, str(exc), _backoff(config, item.send_attempts + 1))
                log.warning("draft %s not sent (will retry): %s", item.id, exc)
                result.failed += 1
                if client is not None:
                    _quit(client)
                    client = None
                continue
            store.finish_send(item.id)
            result.sent += 1
            log.info("draft %s sent to %s as %s", item.id, item.sender_address, message_id)
            _after_sent(config, store, item, payload)
    finally:
        if client is not None:
            _quit(client)
    return result


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
