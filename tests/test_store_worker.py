"""The store's transactions and dedupe keys, and the worker over a local Maildir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from responder.errors import ReviewError
from responder.sources import MaildirSource
from responder.store import FolderState, Incoming, State, Store
from responder.worker import PollLock, Worker
from tests.mails import raw_mail


def incoming(location: str, content_hash: str, message_id: str | None = None,
             action: str = "draft") -> Incoming:
    return Incoming(
        location=location, content_hash=content_hash, size=10, raw=b"x", message_id=message_id,
        sender_name="Ana", sender_address="ana@mail.example", subject="s", newest_text="t",
        category="cancel_order", confidence=0.99, action=action, flags=(), also=(),
        language="en", draft="Dear Ana," if action != "skip" else None,
    )


def test_migrations_are_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.schema_versions() == [1]
    with Store(tmp_path / "s.db") as store:  # reopening applies nothing twice
        assert store.schema_versions() == [1]


def test_dedupe_by_location_hash_and_message_id(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        state = FolderState(folder="imap://u@h/INBOX", uidvalidity=7, last_uid=3)
        assert store.record_batch([incoming("L1", "h1", "<a@x>"), incoming("L2", "h2")],
                                  state) == (2, 0)
        assert store.folder_state("imap://u@h/INBOX") == state
        # same location again; a copy with the same bytes; the same Message-ID re-delivered
        new, dup = store.record_batch([incoming("L1", "h1", "<a@x>"), incoming("L3", "h1"),
                                       incoming("L4", "h9", "<a@x>")])
        assert (new, dup) == (0, 3)
        assert store.counts() == {"messages": 2, "locations": 4, "drafts": 2}


def test_skip_verdicts_get_no_draft(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.record_batch([incoming("L1", "h1", action="skip")])
        assert store.counts()["drafts"] == 0


def test_review_transitions_and_audit(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.record_batch([incoming("L1", "h1"), incoming("L2", "h2")])
        store.edit(1, "yuki", "Dear Ana, edited")
        store.approve(1, "yuki")
        assert store.get_item(1).state == State.APPROVED
        assert store.get_item(1).body == "Dear Ana, edited"
        with pytest.raises(ReviewError, match="approved"):
            store.approve(1, "yuki")
        with pytest.raises(ReviewError, match="reason"):
            store.reject(2, "yuki", "  ")
        store.reject(2, "ken", "customer already called")
        item = store.get_item(2)
        assert item.state == State.REJECTED and item.reject_reason == "customer already called"
        log = store.audit_log(1)
        assert [e["action"] for e in log] == ["edit", "approve"]
        assert log[0]["detail"] == {"before": "Dear Ana,", "after": "Dear Ana, edited"}
        assert store.state_counts() == {"pending": 0, "approved": 1, "sent": 0, "rejected": 1}


def test_send_bookkeeping_never_allows_a_second_send(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.record_batch([incoming("L1", "h1")])
        store.approve(1, "yuki")
        first = store.begin_send(1, "<r1@kiwamibox.example>")
        with pytest.raises(ReviewError, match="already being sent"):
            store.begin_send(1, "<r2@kiwamibox.example>")
        assert store.due_for_sending() == [] and len(store.in_doubt()) == 1
        store.release_in_doubt(1, "yuki")
        # A retry keeps the Message-ID of the first attempt.
        assert store.begin_send(1, "<r3@kiwamibox.example>") == first
        store.finish_send(1)
        assert store.get_item(1).state == State.SENT and store.due_for_sending() == []


def make_maildir(root: Path, mails: list[bytes]) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for index, raw in enumerate(mails):
        (root / "new" / f"17000000{index:02d}.M{index}.test").write_bytes(raw)
    return root


MAILS = [
    raw_mail(subject="Cancel order KB-10001", body="Please cancel my order KB-10001, it has "
             "not shipped yet. I ordered the wrong box."),
    raw_mail(subject="Automatic reply: hello", body="I am away",
             headers={"Auto-Submitted": "auto-replied"}),
    raw_mail(subject="Broken teacup", body="The teacup arrived broken in two pieces."),
    b"",  # an unreadable file still gets a verdict
]


def test_worker_processes_each_message_once(tmp_path: Path, triager) -> None:
    inbox = make_maildir(tmp_path / "inbox", MAILS)
    with Store(tmp_path / "s.db") as store:
        worker = Worker(source=MaildirSource(inbox), store=store, triager=triager,
                        lock_path=tmp_path / "s.db.lock")
        first = worker.run_once()
        assert (first.new, first.duplicates) == (4, 0)
        assert first.table[("other", "skip")]["count"] == 1
        assert first.table[("other", "human")]["flags"] == {"unreadable": 1}
        assert worker.run_once().new == 0
        assert store.counts()["messages"] == 4 and store.counts()["drafts"] == 3
        broken = store.list_items(flag="missing_evidence")
        assert len(broken) == 1 and "pictures or a video" in broken[0].body


def test_second_poll_is_locked_out(tmp_path: Path, triager) -> None:
    inbox = make_maildir(tmp_path / "inbox", MAILS[:1])
    lock = PollLock(tmp_path / "s.db.lock")
    assert lock.acquire()
    try:
        with Store(tmp_path / "s.db") as store:
            worker = Worker(source=MaildirSource(inbox), store=store, triager=triager,
                            lock_path=tmp_path / "s.db.lock")
            assert worker.run_once().locked_out
    finally:
        lock.release()


def test_run_once_cli_prints_the_summary_table(tmp_path: Path) -> None:
    inbox = make_maildir(tmp_path / "inbox", MAILS)
    config = tmp_path / "c.toml"
    config.write_text(f"[maildir]\npath = '{inbox}'\n[store]\npath = 's.db'\n")
    run = [sys.executable, "-m", "responder", "-c", str(config)]
    result = subprocess.run([*run, "run", "--once"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "cancel_order" in result.stdout and "auto_generated 1" in result.stdout
    listed = subprocess.run([*run, "review", "list", "--json"], capture_output=True, text=True,
                            timeout=60)
    import json

    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 3
    assert {"id", "message_id", "category", "action", "flags", "state"} <= set(rows[0])


def _wait_for(predicate, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the safety timeout")
        time.sleep(0.1)


@pytest.mark.slow
def test_scheduled_run_polls_again_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal

    inbox = make_maildir(tmp_path / "inbox", MAILS[:1])
    config = tmp_path / "c.toml"
    config.write_text(f"[maildir]\npath = '{inbox}'\n[store]\npath = 's.db'\n"
                      "[worker]\npoll_seconds = 1\n")

    def messages() -> int:
        if not (tmp_path / "s.db").exists():
            return 0
        with Store(tmp_path / "s.db") as store:
            return store.counts()["messages"]

    process = subprocess.Popen([sys.executable, "-m", "responder", "-c", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: messages() == 1)
        (inbox / "new" / "1800000000.M9.test").write_bytes(MAILS[2])
        _wait_for(lambda: messages() == 2)  # picked up by a later scheduled poll
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "SIGTERM" in err


def test_missing_maildir_is_a_config_error_not_an_outage(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[maildir]\npath = '{tmp_path / 'nope'}'\n[store]\npath = 's.db'\n")
    result = subprocess.run([sys.executable, "-m", "responder", "-c", str(config), "run",
                             "--once"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "[maildir] path" in result.stderr
