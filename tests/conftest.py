"""Shared fixtures: the shared test data, a triager on the built model, real-component checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from responder.classifier import load_model
from responder.drafting import Drafter
from responder.triage import Triager, TriageSettings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RESPONDER_SHARED", ROOT.parent / "shared"))
SAMPLES = SHARED / "samples"
REALMAIL = SHARED / "realmail"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip when a real component is missing on a developer machine; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI=true: a missing real component is a failure")
    pytest.skip(f"{what} is missing")


def require_program(name: str, *candidates: str) -> str:
    for candidate in (name, *candidates):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    require(False, f"the program {name}")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    require(SAMPLES.is_dir(), f"the shared samples folder {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def sample_labels(samples_dir: Path) -> list[dict]:
    lines = (samples_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def realmail_dir() -> Path:
    require(REALMAIL.is_dir(), f"the shared realmail folder {REALMAIL}")
    return REALMAIL


@pytest.fixture(scope="session")
def model():
    return load_model(ROOT / "models" / "model.json")


@pytest.fixture(scope="session")
def drafter() -> Drafter:
    return Drafter(ROOT / "templates")


@pytest.fixture(scope="session")
def triager(model, drafter) -> Triager:
    return Triager(
        load_model=lambda: model,
        drafter=drafter,
        settings=TriageSettings(own_addresses=("support@kiwamibox.example",)),
    )


# -- a real IMAP server: throw-away Dovecots (tests/dovecot.py) ------------------------------

@pytest.fixture(scope="module")
def dovecot():
    """One Dovecot per test module. Tests share it but not mailboxes: each takes a fresh
    account (`imap_account`). A missing Dovecot skips here and fails under CI=true."""
    from dovecot import Dovecot, make_root

    executable = require_program("dovecot", "/usr/sbin/dovecot")
    server = Dovecot(make_root(), executable=executable)
    # Made before start: an account added to a running Dovecot takes up to a second.
    server.add_spare_users(30)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot_factory():
    """Start private Dovecots, for tests that stop, restart or break their server."""
    from dovecot import Dovecot, make_root

    executable = require_program("dovecot", "/usr/sbin/dovecot")
    servers: list[Dovecot] = []

    def start(spare_users: int = 2) -> Dovecot:
        server = Dovecot(make_root(), executable=executable)
        servers.append(server)
        server.add_spare_users(spare_users)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.cleanup()


@pytest.fixture
def imap_account(dovecot):
    """An empty mailbox on the module's Dovecot that no other test uses."""
    return dovecot.fresh_account()


@pytest.fixture
def imap_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a responder config for an IMAP account; returns the file's path.

        path = imap_config(account, imap={"batch_size": 50}, worker={"retry_max_seconds": 5})

    The store is tmp_path/responder.db. The password goes into an environment
    variable named in `[imap] password_env`, set for this test and the
    subprocesses it starts, never into the file.
    """
    from dovecot import responder_config

    def write(account, *, name: str = "responder.toml", **sections) -> Path:
        env_name = f"IMAP_TEST_PASSWORD_{account.username.upper()}"
        monkeypatch.setenv(env_name, account.password)
        path = tmp_path / name
        path.write_text(responder_config(account, store=tmp_path / "responder.db",
                                         password_env=env_name, **sections),
                        encoding="utf-8")
        return path

    return write


# -- a real SMTP server: aiosmtpd (tests/smtp.py) -------------------------------------------

@pytest.fixture
def smtp_server():
    """`(recorder, port)` of an aiosmtpd server on 127.0.0.1 that keeps every mail."""
    from aiosmtpd.controller import Controller

    from tests.smtp import Recorder, free_port

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()
