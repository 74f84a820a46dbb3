"""The SQLite store: messages, verdicts, review drafts, audit log, folder marks, users.

The only module that imports sqlite3. Every state change is one transaction
(`BEGIN IMMEDIATE ... COMMIT`), the database runs in WAL mode, and schema
migrations are recorded in `schema_migrations`. The methods are the whole
interface, narrow on purpose, so that a PostgreSQL store can follow.

Identity of a message: every place it was seen (`locations`: IMAP account,
folder, UIDVALIDITY and UID, or a Maildir file) points to one row of
`messages`, which is unique by content hash and, when present, by
Message-ID. A copy of a mail, or the same mail after a UIDVALIDITY reset,
adds a location, never a second verdict or draft.

Review states (`drafts.state`): pending -> approved -> sent, or pending ->
rejected. Sending records the outgoing Message-ID and `send_started_at` in its
own transaction before the SMTP conversation; a draft found with
`send_started_at` set and no `sent_at` after a crash is held (`send_unknown`)
for a person instead of being sent again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from responder.errors import ReviewError, StoreError


class State(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SENT = "sent"
    REJECTED = "rejected"


MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "initial schema", """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            message_id TEXT,
            content_hash TEXT NOT NULL UNIQUE,
            received_at TEXT NOT NULL,
            size INTEGER NOT NULL,
            raw BLOB,
            sender_name TEXT NOT NULL DEFAULT '',
            sender_address TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL DEFAULT '',
            newest_text TEXT NOT NULL DEFAULT '',
            category TEXT NOT NULL,
            confidence REAL NOT NULL,
            action TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '[]',
            also TEXT NOT NULL DEFAULT '[]',
            language TEXT NOT NULL DEFAULT 'en'
        );
        CREATE INDEX messages_by_message_id ON messages(message_id);
        CREATE TABLE locations (
            location TEXT PRIMARY KEY,
            message INTEGER NOT NULL REFERENCES messages(id),
            marked INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX locations_unmarked ON locations(marked) WHERE marked = 0;
        CREATE TABLE folders (
            folder TEXT PRIMARY KEY,
            uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL
        );
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            message INTEGER NOT NULL UNIQUE REFERENCES messages(id),
            state TEXT NOT NULL,
            category TEXT NOT NULL,
            body TEXT NOT NULL,
            drafted_body TEXT NOT NULL,
            reject_reason TEXT,
            override_limit INTEGER NOT NULL DEFAULT 0,
            outgoing_message_id TEXT,
            send_started_at TEXT,
            send_attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            sent_at TEXT,
            recipient TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX drafts_by_state ON drafts(state);
        CREATE INDEX drafts_by_recipient ON drafts(recipient, sent_at);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            draft INTEGER NOT NULL REFERENCES drafts(id),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            at TEXT NOT NULL
        );
        CREATE INDEX audit_by_draft ON audit(draft);
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
    """),
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """One fetched message with its verdict, ready to be recorded."""

    location: str
    content_hash: str
    size: int
    raw: bytes | None
    message_id: str | None
    sender_name: str
    sender_address: str
    subject: str
    newest_text: str
    category: str
    confidence: float
    action: str
    flags: tuple[str, ...]
    also: tuple[str, ...]
    language: str
    draft: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderState:
    folder: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    """A draft with its message, as the review CLI and page show it."""

    id: int
    message: int
    state: str
    category: str
    body: str
    drafted_body: str
    reject_reason: str | None
    confidence: float
    action: str
    flags: tuple[str, ...]
    also: tuple[str, ...]
    language: str
    message_id: str | None
    sender_name: str
    sender_address: str
    subject: str
    newest_text: str
    received_at: str
    outgoing_message_id: str | None
    send_started_at: str | None
    sent_at: str | None
    last_error: str | None
    send_attempts: int
    override_limit: bool

    def summary(self) -> dict:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "category": self.category,
            "action": self.action,
            "flags": list(self.flags),
            "state": self.state,
            "confidence": round(self.confidence, 4),
            "sender": self.sender_address,
            "subject": self.subject,
            "received_at": self.received_at,
        }


_ITEM_COLUMNS = """
    d.id, d.message, d.state, d.category, d.body, d.drafted_body, d.reject_reason,
    m.confidence, m.action, m.flags, m.also, m.language, m.message_id, m.sender_name,
    m.sender_address, m.subject, m.newest_text, m.received_at, d.outgoing_message_id,
    d.send_started_at, d.sent_at, d.last_error, d.send_attempts, d.override_limit
"""


def _item(row: sqlite3.Row) -> ReviewItem:
    return ReviewItem(
        id=row[0], message=row[1], state=row[2], category=row[3], body=row[4],
        drafted_body=row[5], reject_reason=row[6], confidence=row[7], action=row[8],
        flags=tuple(json.loads(row[9])), also=tuple(json.loads(row[10])), language=row[11],
        message_id=row[12], sender_name=row[13], sender_address=row[14], subject=row[15],
        newest_text=row[16], received_at=row[17], outgoing_message_id=row[18],
        send_started_at=row[19], sent_at=row[20], last_error=row[21], send_attempts=row[22],
        override_limit=bool(row[23]),
    )


class Store:
    """One SQLite database. Not shared between threads: open one per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                      check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        self.db.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)""")
        done = {row[0] for row in self.db.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as db:
                for statement in sql.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                           (version, name, now_iso()))

    def schema_versions(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT version FROM schema_migrations ORDER BY 1")]

    # -- intake ------------------------------------------------------------
    def folder_state(self, folder: str) -> FolderState | None:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM folders WHERE folder = ?",
                              (folder,)).fetchone()
        return FolderState(folder=folder, uidvalidity=row[0], last_uid=row[1]) if row else None

    def known_locations(self, locations: Iterable[str]) -> set[str]:
        wanted = list(locations)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT location FROM locations WHERE location IN ({marks})", chunk))
        return found

    def find_duplicate(self, content_hash: str, message_id: str | None) -> int | None:
        """The message already recorded with this content or Message-ID, or None."""
        found = self.find_duplicates([content_hash], [message_id] if message_id else [])
        return found.get(content_hash) or (found.get(message_id) if message_id else None)

    def _lookup(self, sql: str, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(sql.format(marks=marks), chunk).fetchall())
        return found

    def find_duplicates(self, hashes: Iterable[str],
                        message_ids: Iterable[str] = ()) -> dict[str, int]:
        """{content hash or Message-ID: message} for those already recorded: one query
        per kind for a whole batch, where a query per message would cost more than
        the inserts."""
        found = self._lookup("SELECT content_hash, id FROM messages WHERE content_hash IN "
                             "({marks})", list(dict.fromkeys(hashes)))
        found.update(self._lookup("SELECT message_id, min(id) FROM messages WHERE message_id "
                                  "IN ({marks}) GROUP BY message_id",
                                  list(dict.fromkeys(message_ids))))
        return found

    def record_batch(self, items: Iterable[Incoming | tuple[str, int]],
                     folder_state: FolderState | None = None) -> tuple[int, int]:
        """Record messages (or `(location, message)` aliases) and the folder mark in one
        transaction. Returns (new messages, duplicates).

        Rows are collected first and written with one `executemany` per table: a
        backlog commits hundreds of messages at a time.
        """
        items = list(items)
        stamp = now_iso()
        message_rows: list[tuple] = []
        location_rows: list[tuple[str, int]] = []
        draft_rows: list[tuple] = []
        duplicates = 0
        with self.transaction() as db:
            fresh = [i for i in items if not isinstance(i, tuple)]
            seen_locations = self.known_locations(i.location for i in fresh)
            # Content hashes and Message-IDs already stored, and those of this batch.
            known = self.find_duplicates((i.content_hash for i in fresh),
                                         (i.message_id for i in fresh if i.message_id))
            # BEGIN IMMEDIATE makes this the only writer, so ids can be handed out here.
            next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0]
            for item in items:
                if isinstance(item, tuple):
                    if item[0] not in seen_locations:
                        seen_locations.add(item[0])
                        location_rows.append(item)
                    duplicates += 1
                    continue
                if item.location in seen_locations:
                    duplicates += 1
                    continue
                seen_locations.add(item.location)
                existing = known.get(item.content_hash) or (
                    known.get(item.message_id) if item.message_id else None)
                if existing is not None:
                    location_rows.append((item.location, existing))
                    duplicates += 1
                    continue
                message = next_id
                next_id += 1
                known[item.content_hash] = message
                if item.message_id:
                    known[item.message_id] = message
                message_rows.append((
                    message, item.message_id, item.content_hash, stamp, item.size, item.raw,
                    item.sender_name, item.sender_address, item.subject, item.newest_text,
                    item.category, item.confidence, item.action, json.dumps(list(item.flags)),
                    json.dumps(list(item.also)), item.language,
                ))
                location_rows.append((item.location, message))
                if item.action != "skip":
                    draft_rows.append((message, State.PENDING, item.category, item.draft or "",
                                       item.draft or "", item.sender_address, stamp, stamp))
            db.executemany(
                """INSERT INTO messages(id, message_id, content_hash, received_at, size, raw,
                   sender_name, sender_address, subject, newest_text, category, confidence,
                   action, flags, also, language)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", message_rows)
            db.executemany("INSERT INTO locations(location, message) VALUES (?, ?)",
                           location_rows)
            db.executemany(
                """INSERT INTO drafts(message, state, category, body, drafted_body,
                   recipient, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                draft_rows)
            if folder_state is not None:
                db.execute(
                    """INSERT INTO folders(folder, uidvalidity, last_uid) VALUES (?, ?, ?)
                       ON CONFLICT(folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                       last_uid = excluded.last_uid""",
                    (folder_state.folder, folder_state.uidvalidity, folder_state.last_uid),
                )
        return len(message_rows), duplicates

    def unmarked_locations(self, prefix: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT location FROM locations WHERE marked = 0 AND location LIKE ? ESCAPE '\\'",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",))]

    def set_marked(self, locations: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE locations SET marked = 1 WHERE location = ?",
                           [(loc,) for loc in locations])

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "messages": one("SELECT count(*) FROM messages").fetchone()[0],
            "locations": one("SELECT count(*) FROM locations").fetchone()[0],
            "drafts": one("SELECT count(*) FROM drafts").fetchone()[0],
        }

    def raw_message(self, message: int) -> bytes | None:
        row = self.db.execute("SELECT raw FROM messages WHERE id = ?", (message,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def message_locations(self, message: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT location FROM locations WHERE message = ? ORDER BY rowid", (message,))]

    # -- review ------------------------------------------------------------
    def list_items(self, *, state: str | None = None, category: str | None = None,
                   flag: str | None = None, limit: int = 1000) -> list[ReviewItem]:
        sql = f"SELECT {_ITEM_COLUMNS} FROM drafts d JOIN messages m ON m.id = d.message"
        where, args = [], []
        if state:
            where.append("d.state = ?")
            args.append(state)
        if category:
            where.append("d.category = ?")
            args.append(category)
        if flag:
            where.append("EXISTS (SELECT 1 FROM json_each(m.flags) WHERE value = ?)")
            args.append(flag)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY d.id LIMIT ?"
        args.append(limit)
        return [_item(r) for r in self.db.execute(sql, args)]

    def state_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in State}
        counts.update(dict(self.db.execute("SELECT state, count(*) FROM drafts GROUP BY 1")))
        return counts

    def get_item(self, draft_id: int) -> ReviewItem:
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM drafts d JOIN messages m ON m.id = d.message "
            "WHERE d.id = ?", (draft_id,)).fetchone()
        if row is None:
            raise ReviewError(f"no draft with id {draft_id}")
        return _item(row)

    def audit_log(self, draft_id: int) -> list[dict]:
        return [
            {"actor": r[0], "action": r[1], "detail": json.loads(r[2]), "at": r[3]}
            for r in self.db.execute(
                "SELECT actor, action, detail, at FROM audit WHERE draft = ? ORDER BY id",
                (draft_id,))
        ]

    def _audit(self, db: sqlite3.Connection, draft_id: int, actor: str, action: str,
               detail: dict) -> None:
        db.execute("INSERT INTO audit(draft, actor, action, detail, at) VALUES (?, ?, ?, ?, ?)",
                   (draft_id, actor, action, json.dumps(detail, ensure_ascii=False), now_iso()))

    def _state_in(self, db: sqlite3.Connection, draft_id: int, allowed: tuple[State, ...]) -> str:
        row = db.execute("SELECT state FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if row is None:
            raise ReviewError(f"no draft with id {draft_id}")
        if row[0] not in allowed:
            raise ReviewError(f"draft {draft_id} is {row[0]}; this needs "
                              f"{' or '.join(s.value for s in allowed)}")
        return row[0]

    def edit(self, draft_id: int, actor: str, body: str, category: str | None = None,
             flags: tuple[str, ...] | None = None) -> None:
        """Save a new draft text; with `category`, also the new category and the flags of
        the re-drafted verdict (a damage claim without photos keeps `missing_evidence`
        whichever category staff chose). The old values stay in the audit log."""
        with self.transaction() as db:
            self._state_in(db, draft_id, (State.PENDING,))
            old = db.execute("SELECT d.body, d.category, m.flags, d.message FROM drafts d "
                             "JOIN messages m ON m.id = d.message WHERE d.id = ?",
                             (draft_id,)).fetchone()
            db.execute("UPDATE drafts SET body = ?, category = COALESCE(?, category), "
                       "updated_at = ? WHERE id = ?", (body, category, now_iso(), draft_id))
            detail: dict = {"before": old[0], "after": body}
            if category and category != old[1]:
                detail["category"] = [old[1], category]
            if flags is not None and list(flags) != json.loads(old[2]):
                db.execute("UPDATE messages SET flags = ? WHERE id = ?",
                           (json.dumps(list(flags)), old[3]))
                detail["flags"] = [json.loads(old[2]), list(flags)]
            self._audit(db, draft_id, actor, "edit", detail)

    def approve(self, draft_id: int, actor: str, body: str | None = None,
                override_limit: bool = False) -> None:
        with self.transaction() as db:
            self._state_in(db, draft_id, (State.PENDING,))
            old = db.execute("SELECT body FROM drafts WHERE id = ?", (draft_id,)).fetchone()[0]
            new_body = old if body is None else body
            if not new_body.strip():
                raise ReviewError(f"draft {draft_id} is empty; write a reply before approving")
            db.execute("UPDATE drafts SET state = ?, body = ?, override_limit = ?, "
                       "updated_at = ? WHERE id = ?",
                       (State.APPROVED, new_body, int(override_limit), now_iso(), draft_id))
            detail: dict = {"override_limit": override_limit}
            if new_body != old:
                detail.update(before=old, after=new_body)
            self._audit(db, draft_id, actor, "approve", detail)

    def reject(self, draft_id: int, actor: str, reason: str) -> None:
        if not reason.strip():
            raise ReviewError("a rejection needs a reason")
        with self.transaction() as db:
            self._state_in(db, draft_id, (State.PENDING, State.APPROVED))
            row = db.execute("SELECT send_started_at FROM drafts WHERE id = ?",
                             (draft_id,)).fetchone()
            if row[0]:
                raise ReviewError(f"draft {draft_id} is being sent; it cannot be rejected now")
            db.execute("UPDATE drafts SET state = ?, reject_reason = ?, updated_at = ? "
                       "WHERE id = ?", (State.REJECTED, reason.strip(), now_iso(), draft_id))
            self._audit(db, draft_id, actor, "reject", {"reason": reason.strip()})

    # -- sending -----------------------------------------------------------
    def due_for_sending(self, now: datetime | None = None) -> list[ReviewItem]:
        """Approved drafts not yet sent, not in flight, whose retry time has come."""
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM drafts WHERE state = ? AND send_started_at IS NULL "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (State.APPROVED, stamp))]
        return [self.get_item(i) for i in ids]

    def in_doubt(self) -> list[ReviewItem]:
        """Approved drafts whose SMTP conversation began but never recorded an end."""
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM drafts WHERE state = ? AND send_started_at IS NOT NULL",
            (State.APPROVED,))]
        return [self.get_item(i) for i in ids]

    def sent_count(self, recipient: str, since: datetime) -> int:
        return self.db.execute(
            "SELECT count(*) FROM drafts WHERE recipient = ? AND sent_at >= ?",
            (recipient.lower(), since.isoformat(timespec="seconds"))).fetchone()[0]

    def begin_send(self, draft_id: int, outgoing_message_id: str) -> str:
        """Commit the outgoing Message-ID before any byte goes to SMTP; returns the id to use
        (a retry keeps the id of the first attempt)."""
        with self.transaction() as db:
            self._state_in(db, draft_id, (State.APPROVED,))
            row = db.execute("SELECT outgoing_message_id, send_started_at FROM drafts "
                             "WHERE id = ?", (draft_id,)).fetchone()
            if row[1]:
                raise ReviewError(f"draft {draft_id} is already being sent")
            message_id = row[0] or outgoing_message_id
            db.execute("UPDATE drafts SET outgoing_message_id = ?, send_started_at = ?, "
                       "send_attempts = send_attempts + 1, updated_at = ? WHERE id = ?",
                       (message_id, now_iso(), now_iso(), draft_id))
        return message_id

    def finish_send(self, draft_id: int, actor: str = "sender") -> None:
        with self.transaction() as db:
            stamp = now_iso()
            db.execute("UPDATE drafts SET state = ?, sent_at = ?, last_error = NULL, "
                       "updated_at = ? WHERE id = ?", (State.SENT, stamp, stamp, draft_id))
            message_id = db.execute("SELECT outgoing_message_id FROM drafts WHERE id = ?",
                                    (draft_id,)).fetchone()[0]
            self._audit(db, draft_id, actor, "sent", {"message_id": message_id})

    def fail_send(self, draft_id: int, error: str, retry_after: timedelta,
                  actor: str = "sender") -> None:
        """The SMTP server refused or failed before taking the message: retry later."""
        with self.transaction() as db:
            next_at = (datetime.now(UTC) + retry_after).isoformat(timespec="seconds")
            db.execute("UPDATE drafts SET send_started_at = NULL, last_error = ?, "
                       "next_attempt_at = ?, updated_at = ? WHERE id = ?",
                       (error[:500], next_at, now_iso(), draft_id))
            self._audit(db, draft_id, actor, "send_failed", {"error": error[:500],
                                                              "retry_at": next_at})

    def release_in_doubt(self, draft_id: int, actor: str) -> None:
        """A person checked that an in-doubt reply did not arrive: allow one more send."""
        with self.transaction() as db:
            self._state_in(db, draft_id, (State.APPROVED,))
            db.execute("UPDATE drafts SET send_started_at = NULL, updated_at = ? WHERE id = ?",
                       (now_iso(), draft_id))
            self._audit(db, draft_id, actor, "release", {})

    # -- users ---------------------------------------------------------------
    def set_user(self, name: str, password_hash: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO users(name, password_hash, created_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                       (name, password_hash, now_iso()))

    def user_hash(self, name: str) -> str | None:
        row = self.db.execute("SELECT password_hash FROM users WHERE name = ?",
                              (name,)).fetchone()
        return row[0] if row else None

    # -- review page -----------------------------------------------------------
    def draft_flags(self) -> list[str]:
        """Every flag that some draft's message carries, sorted: the review page's filter."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT j.value FROM drafts d JOIN messages m ON m.id = d.message, "
            "json_each(m.flags) j ORDER BY 1")]
