"""The IMAP source: the only module that imports imapclient.

Fetches with `BODY.PEEK[]`, so customer mail stays unread for staff; asks for
sizes first, so an oversized message gets a `human` verdict without being
fetched; fetches in batches; never deletes customer mail, and moves it only
when the configuration asks (`[imap] move_to`). Every message is keyed by
(account, folder, UIDVALIDITY, UID); the folder's high-water mark lives in
the store and moves only in the transaction that commits the batch.

The password comes from a file or an environment variable and is never
logged. Network and server errors become `MailboxError` (the worker retries);
a refused login becomes `AuthenticationError` (retrying will not help).
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Iterator

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from responder.config import ImapSettings, read_secret
from responder.errors import AuthenticationError, ConfigError, MailboxError
from responder.sources import Batch, Fetched
from responder.store import Store

log = logging.getLogger(__name__)

_NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, imaplib.IMAP4.abort, IMAPClientError,
                   EOFError)
_LOCATION = re.compile(r";UIDVALIDITY=(\d+)/;UID=(\d+)$")


class ImapSource:
    """One IMAP account and folder, opened per poll."""

    def __init__(self, settings: ImapSettings, *, password: str | None = None) -> None:
        self.settings = settings
        self._password = password
        self.client: imapclient.IMAPClient | None = None

        self.uidvalidity = 0
        self.keyword_allowed = False
        self.folder_key = (f"imap://{settings.username}@{settings.host}:{settings.port}/"
                           f"{settings.folder}")
        self.prefix = self.folder_key + ";"

    # -- connection ----------------------------------------------------------
    def _secret(self) -> str:
        if self._password is None:
            self._password = read_secret(self.settings.password_env, self.settings.password_file)
        if not self._password:
            raise ConfigError(f"no IMAP password: set ${self.settings.password_env} or "
                              "[imap] password_file")
        return self._password

    def connect(self) -> imapclient.IMAPClient:
        s = self.settings
        password = self._secret()
        context = ssl.create_default_context()
        try:
            client = imapclient.IMAPClient(
                s.host, port=s.port, ssl=s.security == "tls",
                ssl_context=context if s.security == "tls" else None,
                timeout=s.timeout_seconds,
            )
            if s.security == "starttls":
                client.starttls(context)
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        try:
            client.login(s.username, password)
        except LoginError as exc:
            _quietly_logout(client)
            raise AuthenticationError(
                f"{s.host}: the server refused the login for {s.username!r}; "
                "check the username and the password") from exc
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"{s.host}: login failed: {exc}") from exc
        return client

    def open(self) -> None:
        if self.client is not None:
            return
        client = self.connect()
        try:
            info = client.select_folder(self.settings.folder)
        except _NETWORK_ERRORS as exc:
            # imapclient drops the [NONEXISTENT] response code (Dovecot says "Mailbox
            # doesn't exist"), so ask the server: a missing folder is a setting to fix,
            # not an outage to retry for retry_max_seconds.
            missing = isinstance(exc, IMAPClientError) and (
                "NONEXISTENT" in str(exc).upper() or _folder_missing(client, self.settings.folder))
            _quietly_logout(client)
            if missing:
                raise ConfigError(f"[imap] folder {self.settings.folder!r} does not exist "
                                  f"on {self.settings.host}") from exc
            raise MailboxError(f"cannot select {self.settings.folder}: {exc}") from exc
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        flags = [f.decode() if isinstance(f, bytes) else str(f)
                 for f in info.get(b"PERMANENTFLAGS", ())]
        self.keyword_allowed = "\\*" in flags or self.settings.keyword in flags
        self.client = client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            _quietly_logout(client)

    # -- fetching ------------------------------------------------------------
    def location(self, uid: int) -> str:
        return f"{self.folder_key};UIDVALIDITY={self.uidvalidity}/;UID={uid}"

    def _last_uid(self, store: Store) -> int:
        """The store's high-water mark for this folder; 0 after a UIDVALIDITY change."""
        state = store.folder_state(self.folder_key)
        return state.last_uid if state and state.uidvalidity == self.uidvalidity else 0

    def _uids_after(self, last_uid: int) -> list[int]:
        assert self.client is not None, "open() first"
        try:
            # `N:*` matches the highest UID even when it is below N: filter.
            return sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"])
                          if u > last_uid)
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"search failed: {exc}") from exc

    def has_new_mail(self, store: Store) -> bool:
        """True if the folder holds mail past the store's high-water mark: mail that came
        after a poll's SEARCH but before this connection's SELECT, which IDLE will never
        announce because it is not new to this connection."""
        return bool(self._uids_after(self._last_uid(store)))

    def batches(self, store: Store) -> Iterator[Batch]:
        assert self.client is not None, "open() first"
        state = store.folder_state(self.folder_key)
        last_uid = self._last_uid(store)
        if state and state.uidvalidity != self.uidvalidity:
            log.warning("%s: UIDVALIDITY changed (%s -> %s); rescanning, duplicates are "
                        "recognised by content", self.folder_key, state.uidvalidity,
                        self.uidvalidity)
        size = self.settings.batch_size
        uids = self._uids_after(last_uid)
        for start in range(0, len(uids), size):
            chunk = uids[start : start + size]
            try:
                sizes, bodies, heads = self._fetch(chunk)
            except _NETWORK_ERRORS as exc:
                raise MailboxError(f"fetch failed: {exc}") from exc
            batch = Batch(folder=self.folder_key, uidvalidity=self.uidvalidity)
            for uid in chunk:
                if uid not in sizes:
                    continue  # expunged meanwhile
                length = int(sizes[uid].get(b"RFC822.SIZE", 0))
                raw = bodies.get(uid, {}).get(b"BODY[]") if uid in bodies else None
                if raw is None and length <= self.settings.max_message_bytes:
                    continue  # vanished between the two fetches; next poll sees it if back
                header = heads.get(uid, {}).get(b"BODY[HEADER]") if raw is None else None
                batch.items.append(Fetched(self.location(uid), raw, length, uid, header))
            if batch.items:
                yield batch

    def _fetch(self, chunk: list[int]) -> tuple[dict, dict, dict]:
        """Sizes of `chunk`, bodies of those within the limit, headers of the others."""
        assert self.client is not None
        sizes = self.client.fetch(chunk, ["RFC822.SIZE"])
        limit = self.settings.max_message_bytes
        small = [u for u in chunk if sizes.get(u, {}).get(b"RFC822.SIZE", 0) <= limit]
        bodies = self.client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        # Oversized mail: only its header, which identifies it across a
        # UIDVALIDITY reset and shows staff who wrote it.
        large = [u for u in chunk if u in sizes and u not in bodies]
        heads = self.client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
        return sizes, bodies, heads

    def _uids_of(self, locations: list[str]) -> list[int]:
        uids = []
        for location in locations:
            if not location.startswith(self.prefix):
                continue
            match = _LOCATION.search(location)
            if match and int(match.group(1)) == self.uidvalidity:
                uids.append(int(match.group(2)))
        return uids

    def mark_done(self, locations: list[str]) -> None:
        """Keyword (where the server allows one) and optional move, after the store committed."""
        uids = self._uids_of(locations)
        if not uids or self.client is None:
            return
        try:
            if self.keyword_allowed and self.settings.keyword:
                self.client.add_flags(uids, [self.settings.keyword.encode()], silent=True)
            if self.settings.move_to:
                self.client.move(uids, self.settings.move_to)
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"marking triaged mail failed: {exc}") from exc

    # -- idle ------------------------------------------------------------------
    def supports_idle(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    def wait_for_mail(self, seconds: float) -> bool:
        """IDLE until the server reports a change or `seconds` pass; True if it changed."""
        assert self.client is not None
        try:
            self.client.idle()
            responses = list(self.client.idle_check(timeout=seconds))
            # An EXISTS that lands between idle_check() and DONE comes back with DONE's
            # reply; dropping it would leave that mail waiting for idle_seconds.
            responses += self.client.idle_done()[1]
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"IDLE failed: {exc}") from exc
        return any(b"EXISTS" in r for r in responses if isinstance(r, tuple))

    # -- replies -----------------------------------------------------------------
    def mark_answered(self, locations: list[str]) -> None:
        uids = self._uids_of(locations)
        if uids and self.client is not None:
            try:
                self.client.add_flags(uids, [imapclient.ANSWERED], silent=True)
            except _NETWORK_ERRORS as exc:
                raise MailboxError(f"marking answered failed: {exc}") from exc

    def append_sent(self, folder: str, message: bytes) -> None:
        if self.client is None:
            self.open()
        assert self.client is not None
        try:
            self.client.append(folder, message, flags=[imapclient.SEEN])
        except _NETWORK_ERRORS as exc:
            raise MailboxError(f"appending to {folder} failed: {exc}") from exc


def _folder_missing(client: imapclient.IMAPClient, folder: str) -> bool:
    try:
        return not client.folder_exists(folder)
    except _NETWORK_ERRORS:
        return False  # cannot tell: treat it as an outage, which is retried


def _quietly_logout(client: imapclient.IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass
