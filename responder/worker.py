"""One poll: fetch new mail, triage it, commit, then tell the server it is done.

`Worker.run_once()` is what cron's `responder run --once` and each tick of the
scheduler call. The order is the whole safety argument:

1. a file lock: a second poll started meanwhile exits at once;
2. for each batch the source yields: triage every message (pure), then
   commit the verdicts, drafts and the folder's high-water mark in one
   transaction;
3. only then mark the messages on the server (keyword, or move).

A crash before 3 leaves committed mail unmarked: the next poll marks it
first. A crash before 2 loses nothing: the high-water mark did not move and
the batch is fetched again; location, content hash and Message-ID keys keep
it from being drafted twice. A connection error is retried with backoff,
logged once per outage, and the poll resumes where it stopped.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from responder.errors import AuthenticationError, MailboxError
from responder.message import ParsedMessage
from responder.parsing import UnreadableMessage, parse_message
from responder.sources import Batch, Fetched, MailSource
from responder.store import Incoming, Store
from responder.triage import Triager, Verdict, unreadable_verdict

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one poll did; `table` counts (category, action) with the flags seen."""

    locked_out: bool = False
    new: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    outages: int = 0
    sent: int = 0
    table: dict[tuple[str, str], dict] = field(default_factory=dict)

    def add(self, verdict: Verdict) -> None:
        row = self.table.setdefault((verdict.category, verdict.action), {"count": 0, "flags": {}})
        row["count"] += 1
        for flag in verdict.flags:
            row["flags"][flag] = row["flags"].get(flag, 0) + 1

    def summary_line(self) -> str:
        parts = ", ".join(f"{c}/{a} {row['count']}" for (c, a), row in sorted(self.table.items()))
        return (f"poll done: {self.new} new, {self.duplicates} already seen, "
                f"{self.sent} sent, {self.seconds:.2f} s" + (f"; {parts}" if parts else ""))


class PollLock:
    """An exclusive, non-blocking lock file beside the store: one poll at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def header_only(header: bytes | None) -> ParsedMessage | None:
    """Sender, subject and Message-ID of a message we did not fetch whole."""
    if not header:
        return None
    try:
        return parse_message(header + b"\n\n")
    except UnreadableMessage:
        return None


class Worker:
    def __init__(
        self,
        *,
        source: MailSource,
        store: Store,
        triager: Triager,
        lock_path: Path,
        retry_max_seconds: float = 300.0,
        after_poll: Callable[[], int] | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], object] = time.sleep,
        progress: Callable[[int], object] | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.triager = triager
        self.lock = PollLock(lock_path)
        self.retry_max_seconds = retry_max_seconds
        self.after_poll = after_poll
        self.stop = stop or threading.Event()
        self.sleep = sleep
        self.progress = progress  # called with the count of each committed batch

    def run_once(self) -> RunReport:
        report = RunReport()
        if not self.lock.acquire():
            report.locked_out = True
            return report
        started = time.perf_counter()
        try:
            self._poll_with_retries(report)
            if self.after_poll is not None and not self.stop.is_set():
                report.sent = self.after_poll()
        finally:
            self.lock.release()
            try:
                self.source.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail
                pass
            report.seconds = time.perf_counter() - started
        log.info("%s", report.summary_line())
        return report

    def _poll_with_retries(self, report: RunReport) -> None:
        delay = 1.0
        outage_started: float | None = None
        while True:
            try:
                self.source.open()
                self._poll(report)
                if outage_started is not None:
                    log.info("mail server reachable again after %.0f s",
                             time.monotonic() - outage_started)
                return
            except AuthenticationError:
                raise
            except MailboxError as exc:
                try:
                    self.source.close()
                except Exception:  # noqa: BLE001
                    pass
                if outage_started is None:
                    outage_started = time.monotonic()
                    report.outages += 1
                    log.warning("mail server unavailable (%s); retrying with backoff", exc)
                elapsed = time.monotonic() - outage_started
                if elapsed >= self.retry_max_seconds or self.stop.is_set():
                    raise MailboxError(f"mail server unavailable for {elapsed:.0f} s, "
                                       f"giving up this poll: {exc}") from exc
                self.sleep(min(delay, max(0.0, self.retry_max_seconds - elapsed)))
                delay = min(delay * 2, 60.0)

    def _poll(self, report: RunReport) -> None:
        leftover = self.store.unmarked_locations(self.source.prefix)
        if leftover:
            self.source.mark_done(leftover)
            self.store.set_marked(leftover)
        for batch in self.source.batches(self.store):
            self._process(batch, report)
            if self.stop.is_set():
                log.info("stop requested; the poll ends after the messages in hand")
                return

    def _process(self, batch: Batch, report: RunReport) -> None:
        items: list[Incoming | tuple[str, int]] = []
        last_uid = 0
        # Mail the store already holds (a copy, or a rescan after a UIDVALIDITY reset)
        # is recognised by its bytes before any triage work.
        hashes = {f.location: content_hash(f.raw) for f in batch.items if f.raw is not None}
        recorded = self.store.find_duplicates(hashes.values())
        for fetched in batch.items:
            last_uid = max(last_uid, fetched.uid)
            digest = hashes.get(fetched.location)
            if digest is not None and digest in recorded:
                items.append((fetched.location, recorded[digest]))
            else:
                items.append(self._triage_one(fetched, digest, report))
            if self.stop.is_set():
                break
        new, duplicates = self.store.record_batch(items, batch.state_after(last_uid))
        report.new += new
        report.duplicates += duplicates
        locations = [i.location if isinstance(i, Incoming) else i[0] for i in items]
        self.source.mark_done(locations)
        self.store.set_marked(locations)
        if self.progress is not None:
            self.progress(len(items))

    def _triage_one(self, fetched: Fetched, digest: str | None,
                    report: RunReport) -> Incoming | tuple[str, int]:
        raw = fetched.raw
        message = None
        if raw is not None and digest is not None:
            result = self.triager.triage(raw)
            verdict, message = result.verdict, result.message
        else:
            # Too large to parse: identify it by its header and size, and let a person look.
            head = fetched.header or fetched.location.encode()
            digest = "oversized:" + content_hash(head + str(fetched.size).encode())
            message = header_only(fetched.header)
            message_id = message.message_id if message else None
            duplicate = self.store.find_duplicate(digest, message_id)
            if duplicate is not None:
                return (fetched.location, duplicate)
            verdict = unreadable_verdict("oversized", message_id)
        report.add(verdict)
        return Incoming(
            location=fetched.location,
            content_hash=digest,
            size=fetched.size,
            raw=raw,
            message_id=verdict.message_id,
            sender_name=message.sender_name if message else "",
            sender_address=message.sender_address if message else "",
            subject=message.subject if message else "",
            newest_text=message.newest_text if message else "",
            category=verdict.category,
            confidence=verdict.confidence,
            action=verdict.action,
            flags=verdict.flags,
            also=verdict.also,
            language=verdict.language,
            draft=verdict.draft,
        )
