"""Polling a real IMAP server (a throw-away Dovecot), exactly once.

Every test runs `responder` the way cron or systemd would, as a subprocess
with a config file, against a real Dovecot, and then checks the store
(SQLite) and the mailbox (flags): each message gets one verdict and at most
one draft whatever happens meanwhile - SIGKILL, a server restart, a
re-created folder, a second poll. Timeouts are safety limits only: no test
asserts how long something took.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from dovecot import Account, Dovecot, customer_mail, customer_mails

from responder.config import load_config
from responder.errors import ResponderError
from responder.mailbox import ImapSource
from responder.store import Store
from responder.worker import Worker

pytestmark = pytest.mark.slow

TRIAGED = b"$Triaged"
SEEN = b"\\Seen"


# -- helpers ---------------------------------------------------------------------------

def cli_env() -> dict[str, str]:
    """The environment without RESPONDER_* overrides, which would beat the test's config."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """`python -m responder --config FILE ...` as a subprocess; output goes to files so a
    chatty process never blocks on a full pipe."""

    def __init__(self, config: Path, *args: str) -> None:
        folder = config.parent
        stem = f"cli-{time.monotonic_ns()}"
        self.out_path, self.err_path = folder / f"{stem}.out", folder / f"{stem}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "responder", "--config", str(config), *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=cli_env(), cwd=folder,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 120) -> Finished:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"responder did not end within {timeout} s; stderr:\n{self.stderr()}")
        return Finished(self.process.returncode,
                        self.out_path.read_text(encoding="utf-8", errors="replace"),
                        self.stderr())

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def cli() -> Iterator[Callable[..., Cli]]:
    """Start `responder` subprocesses; any still running after the test is killed."""
    started: list[Cli] = []

    def start(config: Path, *args: str) -> Cli:
        started.append(Cli(config, *args))
        return started[-1]

    yield start
    for process in started:
        if process.running():
            process.process.kill()
            process.process.wait()


def run(config: Path, *args: str, timeout: float = 120) -> Finished:
    return Cli(config, *args).finish(timeout)


def store_path(config: Path) -> Path:
    return Path(tomllib.loads(config.read_text(encoding="utf-8"))["store"]["path"])


def query(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    # Read-write (but never create): after a SIGKILL only a writable connection may
    # recover the WAL index that the dead worker left behind.
    with closing(sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=30)) as conn:
        return conn.execute(sql, args).fetchall()


def stored(db: Path) -> int:
    """Messages committed so far; 0 before the worker created the store."""
    try:
        return query(db, "SELECT count(*) FROM messages")[0][0]
    except sqlite3.OperationalError:  # no file or no table yet
        return 0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.005)


def message_ids(mails: list[bytes]) -> set[str | None]:
    ids: set[str | None] = set()
    for raw in mails:
        match = re.search(rb"^Message-ID: (<[^>]+>)\r$", raw, re.MULTILINE)
        assert match, raw[:200]
        ids.add(match.group(1).decode())
    return ids


def assert_exactly_once(db: Path, expected_ids: set[str | None]) -> None:
    """One verdict per message, at most one draft per message, and a draft for each
    message that is not skipped: nothing lost, nothing twice."""
    ids = [r[0] for r in query(db, "SELECT message_id FROM messages")]
    assert len(ids) == len(set(ids)), "a message was recorded twice"
    assert set(ids) == expected_ids
    assert query(db, "SELECT m.message_id, count(*) FROM drafts d "
                     "JOIN messages m ON m.id = d.message GROUP BY 1 HAVING count(*) > 1") == []
    drafted = query(db, "SELECT count(*) FROM drafts")[0][0]
    not_skipped = query(db, "SELECT count(*) FROM messages WHERE action != 'skip'")[0][0]
    assert drafted == not_skipped
    assert query(db, "SELECT count(*) FROM locations WHERE marked = 0") == [(0,)]


def assert_marked_unread(server: Dovecot, account: Account, count: int,
                         folder: str = "INBOX") -> None:
    flags = server.flags(account, folder)
    assert len(flags) == count
    assert [uid for uid, f in flags.items() if TRIAGED not in f] == []
    assert [uid for uid, f in flags.items() if SEEN in f] == [], "triage marked mail as read"


def no_traceback(result: Finished) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# -- the tests ---------------------------------------------------------------------------

def test_a_backlog_of_1000_is_triaged_exactly_once(dovecot, imap_account, imap_config):
    mails = customer_mails(1000, tag="backlog")
    dovecot.append(imap_account, mails)
    config = imap_config(imap_account, imap={"batch_size": 200})
    db = store_path(config)

    first = run(config, "run", "--once")

    assert first.returncode == 0, first.stderr
    no_traceback(first)
    assert "poll done: 1000 new, 0 already seen" in first.stdout
    assert_exactly_once(db, message_ids(mails))
    assert query(db, "SELECT count(*), count(DISTINCT location), count(DISTINCT message) "
                     "FROM locations") == [(1000, 1000, 1000)]
    actions = dict(query(db, "SELECT action, count(*) FROM messages GROUP BY 1"))
    assert actions.get("skip", 0) > 0 and actions.get("draft", 0) > 0, actions
    assert_marked_unread(dovecot, imap_account, 1000)

    again = run(config, "run", "--once")

    assert again.returncode == 0, again.stderr
    assert "poll done: 0 new, 0 already seen" in again.stdout
    assert stored(db) == 1000


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
        dovecot, imap_account, imap_config, cli):
    mails = customer_mails(600, tag="kill")
    dovecot.append(imap_account, mails)
    config = imap_config(imap_account, imap={"batch_size": 50})
    db = store_path(config)

    worker = cli(config, "run", "--once")
    wait_for(lambda: stored(db) > 0 or not worker.running(), "the first committed batch")
    worker.signal(signal.SIGKILL)
    assert worker.finish().returncode == -signal.SIGKILL
    at_kill = stored(db)
    assert 0 < at_kill < 600, "the worker was not killed in the middle of the run"

    rerun = run(config, "run", "--once")

    assert rerun.returncode == 0, rerun.stderr
    # Committed batches are not fetched again: the high-water mark moved with them.
    assert f"poll done: {600 - at_kill} new, 0 already seen" in rerun.stdout
    assert_exactly_once(db, message_ids(mails))
    assert_marked_unread(dovecot, imap_account, 600)


def test_the_server_restarting_mid_run_is_survived(dovecot_factory, imap_config, cli):
    server = dovecot_factory()
    account = server.fresh_account()
    mails = customer_mails(600, tag="outage")
    server.append(account, mails)
    config = imap_config(account, imap={"batch_size": 25, "timeout_seconds": 5.0})
    db = store_path(config)

    worker = cli(config, "run", "--once")
    wait_for(lambda: stored(db) > 0 or not worker.running(), "the first committed batch")
    # Frozen while the server goes down, so the outage surely falls mid-run: Dovecot
    # lets open sessions go on for about a second after SIGTERM.
    worker.signal(signal.SIGSTOP)
    try:
        assert 0 < stored(db) < 600
        server.stop()
    finally:
        worker.signal(signal.SIGCONT)
    wait_for(lambda: "mail server unavailable" in worker.stderr() or not worker.running(),
             "the worker to notice the outage")
    assert worker.running(), worker.stderr()
    server.start()
    result = worker.finish()

    assert result.returncode == 0, result.stderr
    no_traceback(result)
    assert "mail server unavailable" in result.stderr  # the outage did happen
    assert "reachable again" in result.stderr
    assert_exactly_once(db, message_ids(mails))
    assert_marked_unread(server, account, 600)


def test_a_recreated_folder_new_uidvalidity_makes_no_second_drafts(
        dovecot, imap_account, imap_config):
    mails = customer_mails(30, tag="uidvalidity")
    dovecot.append(imap_account, mails, folder="Support")
    config = imap_config(imap_account, imap={"folder": "Support"})
    db = store_path(config)
    assert run(config, "run", "--once").returncode == 0
    drafts_before = query(db, "SELECT id, message, body FROM drafts ORDER BY id")
    [(old_validity,)] = query(db, "SELECT uidvalidity FROM folders")

    client = dovecot.connect(imap_account)
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    dovecot.append(imap_account, mails, folder="Support")
    client = dovecot.connect(imap_account)
    new_validity = client.select_folder("Support", readonly=True)[b"UIDVALIDITY"]
    client.logout()
    assert new_validity != old_validity, "the server kept UIDVALIDITY; the test proves nothing"

    result = run(config, "run", "--once")

    assert result.returncode == 0, result.stderr
    assert "poll done: 0 new, 30 already seen" in result.stdout
    assert query(db, "SELECT id, message, body FROM drafts ORDER BY id") == drafts_before
    assert_exactly_once(db, message_ids(mails))
    # Each message now has two locations, its old one and its alias after the reset.
    assert query(db, "SELECT count(*) FROM locations GROUP BY message HAVING count(*) != 2") \
        == []
    aliases = query(db, "SELECT count(*) FROM locations WHERE location LIKE ?",
                    (f"%;UIDVALIDITY={new_validity}/;%",))
    assert aliases == [(30,)]
    assert query(db, "SELECT uidvalidity FROM folders") == [(new_validity,)]
    assert_marked_unread(dovecot, imap_account, 30, folder="Support")


def test_a_second_poll_started_meanwhile_exits_at_once(dovecot, imap_account, imap_config,
                                                       cli):
    mails = customer_mails(300, tag="twice")
    dovecot.append(imap_account, mails)
    config = imap_config(imap_account, imap={"batch_size": 50})
    db = store_path(config)
    lock = Path(str(db) + ".lock")

    pair = [cli(config, "run", "--once"), cli(config, "run", "--once")]

    def holder() -> Cli | None:
        try:
            pid = int(lock.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return None
        return next((p for p in pair if p.pid == pid), None)

    wait_for(lambda: holder() is not None, "one of the two polls to take the lock")
    winner = holder()
    assert winner is not None
    loser = pair[1] if winner is pair[0] else pair[0]
    # Freeze the winner while it holds the lock, so the loser meets it for certain
    # however fast the winner would have been.
    winner.signal(signal.SIGSTOP)
    try:
        lost = loser.finish(timeout=60)
    finally:
        winner.signal(signal.SIGCONT)
    won = winner.finish()

    assert lost.returncode == 0, lost.stderr
    assert "another poll is running" in lost.stderr
    assert "poll done" not in lost.stdout
    no_traceback(lost)
    assert won.returncode == 0, won.stderr
    assert "poll done: 300 new" in won.stdout
    assert_exactly_once(db, message_ids(mails))


def test_a_wrong_password_exits_4_with_one_line(dovecot, imap_account, imap_config):
    config = imap_config(replace(imap_account, password="not-the-password"))

    result = run(config, "run", "--once")

    assert result.returncode == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("responder: error:")
    assert imap_account.username in lines[0]
    assert "not-the-password" not in result.stderr + result.stdout
    assert stored(store_path(config)) == 0


def test_mail_arriving_during_a_run_is_picked_up_by_the_next(dovecot, imap_account,
                                                             imap_config, cli):
    early = customer_mails(200, tag="early")
    late = customer_mails(5, tag="late")
    dovecot.append(imap_account, early)
    config = imap_config(imap_account, imap={"batch_size": 20})
    db = store_path(config)

    worker = cli(config, "run", "--once")
    wait_for(lambda: stored(db) > 0 or not worker.running(), "the first committed batch")
    # Paused mid-run, so the new mail certainly arrives while the run is in progress.
    worker.signal(signal.SIGSTOP)
    try:
        assert 0 < stored(db) < 200
        dovecot.append(imap_account, late)
    finally:
        worker.signal(signal.SIGCONT)
    first = worker.finish()
    assert first.returncode == 0, first.stderr
    assert "poll done: 200 new" in first.stdout  # the run works on what it found at start

    second = run(config, "run", "--once")

    assert second.returncode == 0, second.stderr
    assert "poll done: 5 new, 0 already seen" in second.stdout
    assert_exactly_once(db, message_ids(early + late))
    assert_marked_unread(dovecot, imap_account, 205)


def test_an_oversized_message_goes_to_a_person_unparsed(dovecot, imap_account, imap_config):
    small = customer_mails(3, tag="small")
    big = customer_mail(99, kind="damage", tag="big", size=60_000)
    dovecot.append(imap_account, [*small, big])
    config = imap_config(imap_account, imap={"max_message_bytes": 20_000})
    db = store_path(config)

    result = run(config, "run", "--once")

    assert result.returncode == 0, result.stderr
    assert "poll done: 4 new" in result.stdout
    [row] = query(db, "SELECT action, flags, raw IS NULL, message_id, subject, size "
                      "FROM messages WHERE size > 20000")
    # Never fetched whole nor parsed; its header alone says who wrote it.
    assert row[:4] == ("human", '["oversized"]', 1, next(iter(message_ids([big]))))
    assert row[4] and row[5] >= 60_000
    assert_exactly_once(db, message_ids(small) | message_ids([big]))
    assert_marked_unread(dovecot, imap_account, 4)

    # A copy of the oversized mail is recognised by its header: no second draft.
    dovecot.append(imap_account, [big])
    again = run(config, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert "poll done: 0 new, 1 already seen" in again.stdout
    assert_exactly_once(db, message_ids(small) | message_ids([big]))


def test_review_list_json_prints_one_object_per_draft(dovecot, imap_account, imap_config):
    mails = customer_mails(14, tag="review")
    dovecot.append(imap_account, mails)
    config = imap_config(imap_account)
    assert run(config, "run", "--once").returncode == 0

    result = run(config, "review", "list", "--json")

    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    db = store_path(config)
    assert len(items) == query(db, "SELECT count(*) FROM drafts")[0][0] > 0
    for item in items:
        assert {"id", "message_id", "category", "action", "flags", "state"} <= item.keys()
        assert item["state"] == "pending"
        assert isinstance(item["flags"], list)
        assert item["action"] in ("draft", "human")
    assert {i["message_id"] for i in items} <= message_ids(mails)
    assert len({i["id"] for i in items}) == len(items)


def test_committed_but_unmarked_mail_is_marked_by_the_next_poll(
        dovecot, imap_account, imap_config, triager, tmp_path):
    """A crash between the commit and the flags (step 3 of the worker) leaves the mail
    unmarked on the server; the next poll marks it first and triages nothing again."""
    mails = customer_mails(40, tag="unmarked")
    dovecot.append(imap_account, mails)
    config = load_config(imap_config(imap_account, imap={"batch_size": 10}), env=cli_env())

    class Crash(BaseException):
        """Stands for the process dying: nothing in the worker catches it."""

    class CrashAfterCommit(ImapSource):
        def mark_done(self, locations: list[str]) -> None:
            raise Crash

    def worker(source: ImapSource, store: Store) -> Worker:
        return Worker(source=source, store=store, triager=triager,
                      lock_path=tmp_path / "poll.lock", retry_max_seconds=5)

    with Store(config.store.path) as store:
        with pytest.raises(Crash):
            worker(CrashAfterCommit(config.imap), store).run_once()
        assert store.counts()["messages"] == 10  # the first batch was committed
        assert len(store.unmarked_locations("imap://")) == 10
        assert not any(TRIAGED in f for f in dovecot.flags(imap_account).values())

        report = worker(ImapSource(config.imap), store).run_once()

        assert (report.new, report.duplicates) == (30, 0)
    assert_exactly_once(Path(config.store.path), message_ids(mails))
    assert_marked_unread(dovecot, imap_account, 40)


def test_run_idle_picks_up_new_mail_and_stops_on_sigterm(dovecot, imap_account, imap_config,
                                                         cli):
    first = customer_mails(3, tag="idle-first")
    later = customer_mails(2, tag="idle-later")
    dovecot.append(imap_account, first)
    config = imap_config(imap_account)
    db = store_path(config)

    service = cli(config, "run", "--idle")
    wait_for(lambda: stored(db) == 3 or not service.running(), "the first poll")
    assert service.running(), service.stderr()
    dovecot.append(imap_account, later[:1])
    wait_for(lambda: stored(db) == 4 or not service.running(), "mail announced by IDLE")
    dovecot.append(imap_account, later[1:])
    wait_for(lambda: stored(db) == 5 or not service.running(), "more mail announced by IDLE")
    service.signal(signal.SIGTERM)
    result = service.finish(timeout=60)

    assert result.returncode == 0, result.stderr
    no_traceback(result)
    assert_exactly_once(db, message_ids(first + later))
    assert_marked_unread(dovecot, imap_account, 5)


def test_run_idle_survives_a_server_restart(dovecot_factory, imap_config, cli):
    server = dovecot_factory()
    account = server.fresh_account()
    mails = customer_mails(2, tag="idle-restart")
    server.append(account, mails[:1])
    # poll_seconds is also the pause after a broken IDLE: keep the test short.
    config = imap_config(account, worker={"poll_seconds": 1})
    db = store_path(config)

    service = cli(config, "run", "--idle")
    wait_for(lambda: stored(db) == 1 or not service.running(), "the first poll")
    server.restart()
    server.append(account, mails[1:])
    wait_for(lambda: stored(db) == 2 or not service.running(), "mail after the restart")
    service.signal(signal.SIGTERM)
    result = service.finish(timeout=60)

    assert result.returncode == 0, result.stderr
    no_traceback(result)
    assert_exactly_once(db, message_ids(mails))
    assert_marked_unread(server, account, 2)


def test_a_missing_folder_is_a_config_error(dovecot, imap_account, imap_config):
    config = imap_config(imap_account, imap={"folder": "NoSuchFolder"})

    result = run(config, "run", "--once")

    assert result.returncode == 2
    assert "NoSuchFolder" in result.stderr
    no_traceback(result)


def test_imap_source_raises_our_errors(dovecot, imap_account):
    """Library exceptions never leak: a refused login is ours, with the exit status 4."""
    from responder.config import ImapSettings
    from responder.errors import AuthenticationError

    settings = ImapSettings(host=imap_account.host, port=imap_account.port, security="plain",
                            username=imap_account.username)
    with pytest.raises(AuthenticationError) as refused:
        ImapSource(settings, password="wrong").open()
    assert isinstance(refused.value, ResponderError)
    assert refused.value.exit_status == 4
