"""The review page's defences in detail: passwords, sessions, the session key, `next`,
escaping of hostile mail, and the pure helpers (test client only, no servers)."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from responder.errors import ConfigError
from responder.web.app import create_app, format_age, format_when, safe_next
from responder.web.attachments import list_parts
from responder.web.auth import (
    csrf_matches,
    hash_password,
    needs_rehash,
    secret_file_path,
    verify_password,
)
from tests.mails import raw_mail
from tests.test_web import (
    IMG,
    PASSWORD,
    PHOTO,
    SCRIPT,
    SECRET_ENV,
    USER,
    Site,
    build_site,
    csrf,
    login,
)


@pytest.fixture(autouse=True)
def _no_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def app(site: Site):
    return create_app(site.config)


@pytest.fixture
def client(app):
    """A test client logged in as USER."""
    client = app.test_client()
    assert login(client).status_code == 302
    return client


# -- passwords ------------------------------------------------------------------


def test_passwords_are_argon2id_hashes_that_verify() -> None:
    stored = hash_password("s3cret passphrase")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret passphrase")
    assert not verify_password(stored, "s3cret passphrasE")
    assert not verify_password("not a hash", "anything")
    assert not needs_rehash(stored)


def test_login_rehashes_a_hash_made_with_weaker_parameters(app, site: Site) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with site.store() as store:
        store.set_user(USER, weak)
    assert needs_rehash(weak)
    assert login(app.test_client()).status_code == 302
    with site.store() as store:
        stronger = store.user_hash(USER)
    assert stronger != weak
    assert not needs_rehash(stronger)
    assert verify_password(stronger, PASSWORD)


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(client, site: Site) -> None:
    assert client.get("/").status_code == 200
    with site.store() as store:
        store.set_user(USER, hash_password("a brand new password"))
    assert client.get("/").status_code == 302


# -- the session key ----------------------------------------------------------------

def test_the_session_key_is_made_once_beside_the_store_with_mode_0600(site: Site) -> None:
    first = create_app(site.config)
    path = secret_file_path(site.config)
    assert path == Path(site.config.store.path + ".web-secret")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first.secret_key) == 64
    # A restart reads the same key, so a session cookie stays valid.
    browser = first.test_client()
    login(browser)
    second = create_app(site.config)
    assert second.secret_key == first.secret_key
    cookie = browser.get_cookie("responder_session")
    other = second.test_client()
    other.set_cookie("responder_session", cookie.value)
    assert other.get("/").status_code == 200


def test_a_configured_session_key_wins_and_must_be_long_enough(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "k" * 40)
    assert create_app(site.config).secret_key == "k" * 40
    assert not secret_file_path(site.config).exists()
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ConfigError, match="at least 16"):
        create_app(site.config)


# -- CSRF and next ---------------------------------------------------------------------

def test_csrf_tokens_compare_exactly() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd")
    assert not csrf_matches("abc", None)
    assert not csrf_matches(None, None)
    assert not csrf_matches("", "")
    assert not csrf_matches("abc", "ab\u00e7")


@pytest.mark.parametrize("target,expected", [
    ("/", "/"),
    ("/drafts/3", "/drafts/3"),
    ("/?state=all&flag=missing_evidence", "/?state=all&flag=missing_evidence"),
    ("", None),
    (None, None),
    ("drafts/3", None),
    ("//evil.example/", None),
    ("/\\evil.example", None),
    ("https://evil.example/", None),
    ("javascript:alert(1)", None),
    ("/\r\nSet-Cookie: x=1", None),
    ("/" + "a" * 3000, None),
])
def test_next_must_be_a_local_path(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(app, target: str) -> None:
    response = login(app.test_client(), next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# -- hostile mail ------------------------------------------------------------------------

def test_hostile_mail_is_escaped_text_everywhere(client, site: Site) -> None:
    draft = site.ids["xss"]
    pages = [client.get("/").text, client.get("/?state=all").text,
             client.get(f"/drafts/{draft}").text]
    for page in pages:
        assert "<script" not in page.lower()
        assert "<img src=x" not in page
        assert "onerror=alert(1)&gt;" in page
    detail = pages[-1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "alert(2)" not in detail  # the HTML part's script is not even shown as text
    # The payload file name is text in the list and an escaped alt attribute, never markup.
    assert 'alt="&lt;img src=x onerror=alert(1)&gt;.png"' in detail


def test_attachment_download_names_are_safe(client, site: Site) -> None:
    response = client.get(f"/drafts/{site.ids['xss']}/attachments/0")
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    raw = raw_mail(attachments=[("../../etc/passwd", "application/octet-stream", b"x"),
                                ("\x00\x1f", "application/octet-stream", b"y")])
    names = [p.download_name for p in list_parts(raw)]
    assert names == ["etc_passwd", "attachment-2"]


def test_list_parts_matches_what_triage_calls_attachments() -> None:
    raw = raw_mail(body="see photo", html="<p>see photo</p>",
                   inline_images=[("logo", PHOTO)],
                   attachments=[(f"{SCRIPT}.png", "image/png", PHOTO),
                                ("notes.txt", "text/plain", b"hello")])
    parts = list_parts(raw)
    assert [(p.filename, p.content_type, p.inline_image) for p in parts] == [
        ("logo.png", "image/png", True),
        (f"{SCRIPT}.png", "image/png", True),
        ("notes.txt", "text/plain", False),
    ]
    assert parts[1].data == PHOTO and parts[1].size == len(PHOTO)


# -- the pure helpers -------------------------------------------------------------------

@pytest.mark.parametrize("iso,expected", [
    ("2026-03-02T12:00:00+00:00", "just now"),
    ("2026-03-02T11:59:00+00:00", "1 min ago"),
    ("2026-03-02T09:00:00+00:00", "3 h ago"),
    ("2026-02-27T12:00:00+00:00", "3 d ago"),
    ("2026-03-02T12:00:30", "just now"),
    ("2026-03-02T13:00:00+00:00", "just now"),  # a clock skew never shows a negative age
    ("junk", "junk"),
])
def test_format_age(iso: str, expected: str) -> None:
    assert format_age(iso, datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)) == expected


def test_format_when() -> None:
    assert format_when("2026-03-02T12:05:33+00:00") == "2026-03-02 12:05 UTC"
    assert format_when("2026-03-02T14:05:33+02:00") == "2026-03-02 12:05 UTC"


def test_the_queue_flag_filter_lists_the_flags_in_the_store(client) -> None:
    page = client.get("/").text
    options = re.findall(r'<option value="([a-z_]+)"', page.split('name="flag"')[1])
    assert "missing_evidence" in options


def test_a_csrf_token_is_bound_to_its_session(app, client) -> None:
    """A token taken from one session is worthless in another."""
    stolen = csrf(client)
    other = app.test_client()
    login(other)
    response = other.post("/logout", data={"csrf_token": stolen})
    assert response.status_code == 400


def test_the_login_form_keeps_payloads_out_of_markup(app) -> None:
    response = login(app.test_client(), name=IMG, password="x")
    assert response.status_code == 401
    assert IMG not in response.text
    assert 'value="&lt;img src=x onerror=alert(1)&gt;"' in response.text
