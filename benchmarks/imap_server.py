"""The benchmarks' IMAP server: the tests' throw-away Dovecot, loaded with a backlog.

    with BenchServer(files) as server:     # started, INBOX holds `files`, folder Empty exists
        server.host, server.port, server.user, server.password

Server life cycle comes from `tests/dovecot.py` (imported through sys.path, so
the benchmarks and the tests start Dovecot the same way). What is ours: the
backlog is written straight into the INBOX Maildir's `new/`, as a local
delivery agent would, which takes a second or two for 10,000 messages where
APPEND takes far longer (`load="append"` uses MULTIAPPEND over one connection
instead); `warm_up()` makes Dovecot index the folder before anything is timed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import dovecot  # noqa: E402 - tests/dovecot.py, found through the path above

USER = "bench"
PASSWORD = "bench-password"
EMPTY_FOLDER = "Empty"


class BenchServer:
    """A started Dovecot whose INBOX holds `files` and whose folder `Empty` is empty."""

    def __init__(self, files: Sequence[Path], *, load: str = "maildir") -> None:
        self.files = files
        self.load = load
        self.root = dovecot.make_root()
        self.server = dovecot.Dovecot(self.root)
        self.user, self.password = USER, PASSWORD
        self.empty_folder = EMPTY_FOLDER
        self.load_seconds = 0.0

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def client(self):  # -> imapclient.IMAPClient, logged in; the caller logs out
        return self.server.connect(self.server.account(self.user))

    def start(self) -> BenchServer:
        """Start and load the server; on any failure it is stopped and removed again."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        account = self.server.add_user(self.user, self.password)
        self.server.start()
        client = self.server.connect(account)  # the first login creates the Maildir
        try:
            client.create_folder(EMPTY_FOLDER)
            inbox = client.select_folder("INBOX")
        finally:
            client.logout()
        if inbox.get(b"EXISTS", 0):
            raise RuntimeError("the fresh INBOX is not empty")
        started = time.perf_counter()
        if self.load == "append":
            self.server.append(account, (p.read_bytes() for p in self.files))
        else:
            self._deliver()
        self.load_seconds = time.perf_counter() - started

    def _deliver(self) -> None:
        """Write each file into INBOX's new/ the way an MDA does (tmp/, then rename)."""
        maildir = self.root / "mail" / self.user
        owner = maildir.stat()
        stamp = int(time.time())
        for index, path in enumerate(self.files):
            raw = path.read_bytes()
            name = f"{stamp}.M{index}P{os.getpid()}.bench,S={len(raw)}"
            tmp = maildir / "tmp" / name
            tmp.write_bytes(raw)
            os.chown(tmp, owner.st_uid, owner.st_gid)
            tmp.rename(maildir / "new" / name)

    def warm_up(self) -> int:
        """First SELECT moves new/ to cur/ and indexes; untimed, for floor and product alike."""
        client = self.client()
        try:
            client.select_folder("INBOX", readonly=True)
            uids = client.search(["ALL"])
            for start in range(0, len(uids), 1000):
                client.fetch(uids[start : start + 1000], ["RFC822.SIZE"])
        finally:
            client.logout()
        return len(uids)

    def log_tail(self) -> str:
        return self.server.log_tail()

    def close(self) -> None:
        self.server.cleanup()

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
