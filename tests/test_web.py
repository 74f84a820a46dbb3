"""The staff review page: Flask test-client checks, then the real thing in Chromium.

Every test builds its store by running the real pipeline (Maildir -> worker
-> triage -> SQLite) over a handful of mails written below. The browser tests
(marked slow) serve the app with waitress on a free local port, send through
a real aiosmtpd server, and drive Debian's Chromium with Playwright.
"""

from __future__ import annotations

import functools
import itertools
import mailbox
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from responder.commands import make_worker
from responder.config import Config, load_config
from responder.store import State, Store
from responder.web.app import CSP, create_app
from responder.web.auth import hash_password
from tests.conftest import ROOT, require
from tests.mails import raw_mail
from tests.smtp import Recorder, free_port

USER = "kim"
PASSWORD = "correct horse battery"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SECRET_ENV = "RESPONDER_WEB_TEST_SECRET"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# -- the mails and the store ------------------------------------------------

def png(width: int = 160, height: int = 120) -> bytes:
    """A real PNG (a colour gradient), so that the browser can draw the thumbnail."""
    rows = b"".join(
        b"\x00" + bytes(itertools.chain.from_iterable(
            (200 - x // 2, 120 + y // 2, 90 + (x + y) // 4) for x in range(width)))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


PHOTO = png()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
FAKE_PNG = b"<html><body><script>alert(4)</script></body></html>"


def customer_mails() -> dict[str, bytes]:
    """name -> raw mail; every Message-ID is `<name@mail.example>`."""
    return {
        "damage": raw_mail(
            subject="My figure arrived broken",
            body="Hello, the box was crushed in transit and the figure inside arrived "
                 "broken, one arm snapped off. Order KB-10234. What can you do?\nAna",
            sender="Ana Lima <ana.lima@mail.example>", message_id="<damage@mail.example>"),
        "photo": raw_mail(
            subject="Broken figure, photo attached",
            body="Hello, my order KB-10871 arrived today and the figure's stand is cracked. "
                 "I attached a photo of the damage. Could you send a replacement?\n"
                 "Thanks, Chloe\n\n> On Monday Kiwami Box wrote:\n> Your order has shipped.",
            sender="Chloe Park <chloe.park@mail.example>", message_id="<photo@mail.example>",
            attachments=[("IMG_2031.png", "image/png", PHOTO)]),
        "cancel": raw_mail(
            subject="Re: Your order KB-10456 is confirmed",
            body="Hi, I ordered this by mistake. Please cancel order KB-10456 before it "
                 "ships and refund me. Thanks, Ben",
            sender="Ben Ito <ben.ito@mail.example>", message_id="<cancel@mail.example>"),
        "exchange": raw_mail(
            subject="Wrong size, can I exchange?",
            body="Hello, the T-shirt from order KB-10502 is too small. Can I exchange it "
                 "for a size L? Best, Dana",
            sender="Dana Roe <dana.roe@mail.example>", message_id="<exchange@mail.example>"),
        "xss": raw_mail(
            subject=f"{SCRIPT} where is my parcel {IMG}",
            body=f"Hi {IMG} my parcel is two weeks late. {SCRIPT}\nOrder KB-10999.\n\n"
                 f"> On Monday Kiwami Box wrote:\n> quoted {SCRIPT}",
            sender="Eve Mallory <eve@mail.example>", message_id="<xss@mail.example>",
            html=f"<p>Hi</p><script>alert(2)</script>{IMG}",
            attachments=[(f"{IMG}.png", "image/png", PHOTO),
                         ("drawing.svg", "image/svg+xml", SVG),
                         ("page.html", "text/html", b"<script>alert(3)</script>"),
                         ("fake.png", "image/png", FAKE_PNG)]),
    }


@functools.cache
def password_hash() -> str:
    """USER's hash, made once: Argon2id is slow on purpose, and every test needs it."""
    return hash_password(PASSWORD)


@dataclass
class Site:
    """A config whose store holds the drafts of `customer_mails()`, and a staff user."""

    config: Config
    ids: dict[str, int]  # mail name -> draft id

    def store(self) -> Store:
        return Store(self.config.store.path)

    def item(self, name: str):
        with self.store() as store:
            return store.get_item(self.ids[name])


def build_site(folder: Path, *, smtp_port: int | None = None) -> Site:
    maildir = mailbox.Maildir(folder / "inbox", create=True)
    for raw in customer_mails().values():
        maildir.add(raw)
    smtp = (f"[smtp]\nhost = '127.0.0.1'\nport = {smtp_port}\nsecurity = 'plain'\n"
            "from_address = 'support@kiwamibox.example'\n" if smtp_port else "")
    path = folder / "responder.toml"
    path.write_text(
        "[source]\nkind = 'maildir'\n[maildir]\npath = 'inbox'\n[store]\npath = 'responder.db'\n"
        f"{smtp}[web]\nhost = '127.0.0.1'\nport = 0\nsecret_key_env = '{SECRET_ENV}'\n",
        encoding="utf-8")
    config = load_config(path, env={})
    with Store(config.store.path) as store:
        report = make_worker(config, store).run_once()
        assert report.new == len(customer_mails())
        store.set_user(USER, password_hash())
        ids = {item.message_id.strip("<>").split("@")[0]: item.id
               for item in store.list_items()}
    assert sorted(ids) == sorted(customer_mails())
    return Site(config=config, ids=ids)


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
    response = login(client)
    assert response.status_code == 302
    return client


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session["csrf"]


def login(client, name: str = USER, password: str = PASSWORD, next_: str = ""):
    client.get("/login")
    return client.post("/login", data={"csrf_token": csrf(client), "name": name,
                                       "password": password, "next": next_})


def flashes(client) -> list[str]:
    """The flash messages waiting in the session (without consuming them)."""
    with client.session_transaction() as session:
        return [message for _kind, message in session.get("_flashes", [])]


# -- login gate ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/?state=sent&flag=missing_evidence", "/drafts/1",
                                  "/drafts/1/attachments/0"])
def test_pages_without_a_session_redirect_to_login(app, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


def test_login_page_and_static_files_need_no_session(app) -> None:
    client = app.test_client()
    assert client.get("/login").status_code == 200
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"


def test_login_with_the_right_password_opens_the_queue(app) -> None:
    client = app.test_client()
    response = login(client, next_="/drafts/2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/drafts/2"
    page = client.get("/")
    assert page.status_code == 200
    assert "Approve selected" in page.text
    assert f'<span class="who">{USER}</span>' in page.text


@pytest.mark.parametrize("name,password", [(USER, "wrong password"), ("nobody", PASSWORD),
                                           ("", "")])
def test_login_with_a_wrong_password_or_name_is_refused(app, name: str, password: str) -> None:
    client = app.test_client()
    response = login(client, name, password)
    assert response.status_code == 401
    assert "Wrong name or password." in response.text
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client) -> None:
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert client.get("/").status_code == 302


# -- CSRF ---------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
        client, site: Site, token: str | None) -> None:
    draft = site.ids["cancel"]
    before = site.item("cancel")
    extra = {} if token is None else {"csrf_token": token}
    posts = [
        (f"/drafts/{draft}/approve", {"body": "forged reply"}),
        (f"/drafts/{draft}/edit", {"body": "forged reply"}),
        (f"/drafts/{draft}/reject", {"reason": "forged"}),
        (f"/drafts/{draft}/category", {"category": "other"}),
        ("/approve", {"ids": [str(draft)]}),
        ("/logout", {}),
    ]
    for path, data in posts:
        response = client.post(path, data={**data, **extra})
        assert response.status_code == 400, path
    assert site.item("cancel") == before
    assert before.state == State.PENDING
    with site.store() as store:
        assert store.audit_log(draft) == []
    assert client.get("/").status_code == 200  # still logged in: the logout was refused too


def test_login_without_the_csrf_token_is_refused(app) -> None:
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"name": USER, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


# -- headers --------------------------------------------------------------------

def test_every_response_carries_the_security_headers(client, site: Site) -> None:
    draft = site.ids["xss"]
    responses = {
        "queue": client.get("/"),
        "detail": client.get(f"/drafts/{draft}"),
        "image": client.get(f"/drafts/{draft}/attachments/0"),
        "download": client.get(f"/drafts/{draft}/attachments/1"),
        "css": client.get("/static/style.css"),
        "missing": client.get("/drafts/9999"),
        "refused": client.post(f"/drafts/{draft}/approve"),
        "login page": client.application.test_client().get("/login"),
        "redirect": client.application.test_client().get("/"),
    }
    for what, response in responses.items():
        headers = response.headers
        if what not in ("image", "download"):
            assert headers["Content-Security-Policy"] == CSP, what
        assert headers["X-Content-Type-Options"] == "nosniff", what
        assert headers["Referrer-Policy"] == "no-referrer", what
    assert "no-store" in responses["detail"].headers["Cache-Control"]
    assert responses["missing"].status_code == 404


def test_the_session_cookie_is_httponly_and_samesite(app) -> None:
    client = app.test_client()
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("responder_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # localhost over http: a Secure cookie would never return


# -- attachments -----------------------------------------------------------------

def test_attachments_are_served_inline_only_as_real_raster_images(client, site: Site) -> None:
    base = f"/drafts/{site.ids['xss']}/attachments"
    image = client.get(f"{base}/0")
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.data == PHOTO
    assert not image.headers["Content-Disposition"].startswith("attachment")
    for index, data in ((1, SVG), (2, b"<script>alert(3)</script>"), (3, FAKE_PNG)):
        download = client.get(f"{base}/{index}")
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "application/octet-stream", index
        assert download.headers["Content-Disposition"].startswith("attachment"), index
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.data == data
    assert client.get(f"{base}/4").status_code == 404
    assert client.get("/drafts/9999/attachments/0").status_code == 404


def test_the_detail_page_lists_headers_text_and_attachments(client, site: Site) -> None:
    page = client.get(f"/drafts/{site.ids['photo']}").text
    assert "&lt;photo@mail.example&gt;" in page
    assert "chloe.park@mail.example" in page
    assert "IMG_2031.png" in page and "image/png" in page
    assert f'<img src="/drafts/{site.ids["photo"]}/attachments/0"' in page
    assert "<details>" in page  # the full text, with the quote, is collapsed
    assert "Your order has shipped." in page


# -- review actions ----------------------------------------------------------------

def test_bulk_approve_without_smtp_leaves_sending_to_the_worker(client, site: Site) -> None:
    chosen = [site.ids["damage"], site.ids["cancel"]]
    response = client.post("/approve", data={"csrf_token": csrf(client), "back": "/?state=all",
                                             "ids": [str(i) for i in chosen]})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?state=all"
    assert flashes(client) == ["2 drafts approved; will be sent by the worker."]
    with site.store() as store:
        for draft in chosen:
            assert store.get_item(draft).state == State.APPROVED
            assert store.audit_log(draft)[-1]["actor"] == USER
        assert store.get_item(site.ids["exchange"]).state == State.PENDING
    # A second approval of the same drafts is reported, not an error page.
    client.post("/approve", data={"csrf_token": csrf(client), "ids": [str(chosen[0])]})
    assert "is approved; this needs pending" in flashes(client)[-1]


def test_bulk_approve_with_nothing_selected_or_junk_ids(client) -> None:
    assert client.post("/approve", data={"csrf_token": csrf(client)}).status_code == 302
    assert flashes(client) == ["Select at least one draft to approve."]
    junk = client.post("/approve", data={"csrf_token": csrf(client), "ids": ["1 OR 1=1"]})
    assert junk.status_code == 400


def test_edit_then_approve_with_the_edited_text(client, site: Site) -> None:
    draft = site.ids["cancel"]
    token = csrf(client)
    client.post(f"/drafts/{draft}/edit", data={"csrf_token": token,
                                               "body": "Dear Ben,\r\nsaved text\r\n"})
    assert site.item("cancel").body == "Dear Ben,\nsaved text\n"
    client.post(f"/drafts/{draft}/approve", data={"csrf_token": token,
                                                  "body": "Dear Ben,\r\nfinal text\r\n"})
    item = site.item("cancel")
    assert (item.state, item.body) == (State.APPROVED, "Dear Ben,\nfinal text\n")
    with site.store() as store:
        assert [e["action"] for e in store.audit_log(draft)] == ["edit", "approve"]


def test_reject_needs_a_reason(client, site: Site) -> None:
    draft = site.ids["exchange"]
    client.post(f"/drafts/{draft}/reject", data={"csrf_token": csrf(client), "reason": "  "})
    assert site.item("exchange").state == State.PENDING
    assert flashes(client)[-1] == "Not rejected: a rejection needs a reason"
    client.post(f"/drafts/{draft}/reject", data={"csrf_token": csrf(client),
                                                 "reason": "answered by phone"})
    item = site.item("exchange")
    assert (item.state, item.reject_reason) == (State.REJECTED, "answered by phone")


def test_changing_the_category_redrafts_from_that_template(client, site: Site) -> None:
    draft = site.ids["exchange"]
    before = site.item("exchange")
    target = "unwanted_item" if before.category != "unwanted_item" else "return_exchange"
    client.post(f"/drafts/{draft}/category", data={"csrf_token": csrf(client),
                                                   "category": target})
    after = site.item("exchange")
    assert after.category == target
    assert after.body and after.body != before.body
    with site.store() as store:
        entry = store.audit_log(draft)[-1]
    assert entry["actor"] == USER
    assert entry["detail"]["category"] == [before.category, target]
    refused = client.post(f"/drafts/{draft}/category", data={"csrf_token": csrf(client),
                                                             "category": "free_money"})
    assert refused.status_code == 400


def test_a_new_category_brings_its_own_flags(client, site: Site) -> None:
    # The exchange mail has no photo: as a damage claim it must ask for one, and say so.
    draft = site.ids["exchange"]
    assert "missing_evidence" not in site.item("exchange").flags
    client.post(f"/drafts/{draft}/category", data={"csrf_token": csrf(client),
                                                   "category": "damaged_item"})
    after = site.item("exchange")
    assert "missing_evidence" in after.flags and "pictures or a video" in after.body
    with site.store() as store:
        assert "missing_evidence" in store.audit_log(draft)[-1]["detail"]["flags"][1]


def test_a_reply_held_in_doubt_can_be_released(client, site: Site) -> None:
    draft = site.ids["cancel"]
    with site.store() as store:  # a crash between the SMTP hand-over and its commit
        store.approve(draft, "ana")
        store.begin_send(draft, "<r1@kiwamibox.example>")
    assert "never finished" in client.get(f"/drafts/{draft}").text
    client.post(f"/drafts/{draft}/release", data={"csrf_token": csrf(client)})
    assert flashes(client)[-1] == f"Draft {draft} may be sent once more."
    item = site.item("cancel")
    assert (item.state, item.send_started_at) == (State.APPROVED, None)
    assert "never finished" not in client.get(f"/drafts/{draft}").text


def test_approve_when_the_smtp_server_is_down_says_so(tmp_path: Path) -> None:
    site = build_site(tmp_path, smtp_port=free_port())  # nothing listens there
    client = create_app(site.config).test_client()
    login(client)
    draft = site.ids["cancel"]
    client.post(f"/drafts/{draft}/approve", data={"csrf_token": csrf(client)})
    assert flashes(client) == [f"Draft {draft} approved: sent 0, failed 1 (will be retried)."]
    item = site.item("cancel")
    assert item.state == State.APPROVED
    assert item.last_error


def test_queue_filters_and_counts(client, site: Site) -> None:
    page = client.get("/?flag=missing_evidence").text
    assert "My figure arrived broken" in page
    assert "Wrong size, can I exchange?" not in page
    assert page.count('class="badge badge-alert flag-missing_evidence"') == 1
    assert re.search(r'Pending <span class="count">5</span>', page)
    cancel = site.item("cancel").category
    page = client.get(f"/?category={cancel}").text
    assert "Your order KB-10456" in page
    assert "My figure arrived broken" not in page
    assert "No drafts here." in client.get("/?state=sent").text


# -- a real SMTP server and waitress --------------------------------------------------

@pytest.mark.slow
def test_bulk_approve_sends_at_once_when_smtp_is_set(tmp_path: Path, smtp_server) -> None:
    recorder, port = smtp_server
    site = build_site(tmp_path, smtp_port=port)
    client = create_app(site.config).test_client()
    login(client)
    chosen = [site.ids["cancel"], site.ids["exchange"]]
    client.post("/approve", data={"csrf_token": csrf(client), "ids": [str(i) for i in chosen]})
    assert flashes(client) == ["2 drafts approved and sent."]
    assert sorted(m["To"].addresses[0].addr_spec for m in recorder.messages()) == [
        "ben.ito@mail.example", "dana.roe@mail.example"]
    assert {site.item(n).state for n in ("cancel", "exchange")} == {State.SENT}


class LiveServer:
    """The app on waitress in a background thread, on a free port of 127.0.0.1.

    The thread runs waitress's loop itself, one short turn at a time, so that the
    shutdown happens in that same thread: closing sockets from another thread while
    select() waits on them races (EBADF).
    """

    def __init__(self, app) -> None:
        from waitress import create_server

        self.map: dict = {}
        self.server = create_server(app, map=self.map, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="waitress", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from waitress import wasyncore

        try:
            while not self.stop.is_set():
                wasyncore.loop(timeout=0.05, map=self.map, count=1)
        finally:
            self.server.task_dispatcher.shutdown(timeout=5)
            wasyncore.close_all(self.map)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "waitress did not stop"


@pytest.mark.slow
def test_responder_serve_answers_on_the_configured_port(site: Site) -> None:
    """`responder serve` as staff run it: waitress, our app, our headers; Ctrl-C stops it."""
    port = free_port()
    env = {**os.environ, "RESPONDER_WEB_PORT": str(port), SECRET_ENV: "k" * 32}
    process = subprocess.Popen(
        [sys.executable, "-m", "responder", "--config", site.config.source_file, "serve"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        response = None
        for _ in range(100):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except OSError:
                if process.poll() is not None:
                    break
                threading.Event().wait(0.1)
        assert response is not None, process.stdout.read().decode() if process.stdout else ""
        with response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"] == CSP
            assert response.headers["Server"] == "responder"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    assert process.returncode == 0


# -- Chromium ---------------------------------------------------------------------------

@dataclass
class Live:
    site: Site
    url: str
    smtp: Recorder


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One site for the browser tests: pipeline-built store, waitress, aiosmtpd. Each test
    acts on its own draft, so the order of the tests does not matter."""
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = None
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv(SECRET_ENV, raising=False)
            site = build_site(tmp_path_factory.mktemp("web"), smtp_port=controller.port)
            server = LiveServer(create_app(site.config))
        yield Live(site=site, url=server.url, smtp=recorder)
    finally:
        if server is not None:
            server.close()
        controller.stop()


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM.exists(), "Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watch:
    """What a page did that it must not: open a dialog, or load anything from elsewhere."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.dialogs: list[str] = []
        self.foreign: list[str] = []

    def on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(self, request) -> None:
        if not request.url.startswith((self.base + "/", "data:")):
            self.foreign.append(request.url)


@pytest.fixture
def context(browser, live: Live):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context, live: Live):
    watch = Watch(live.url)
    page = context.new_page()
    page.on("dialog", watch.on_dialog)
    page.on("request", watch.on_request)
    page.watch = watch
    yield page
    assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"
    assert watch.foreign == [], f"the page loaded from elsewhere: {watch.foreign}"


def browser_login(page, live: Live) -> None:
    page.goto(f"{live.url}/login")
    page.fill("#name", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live.url}/")


@pytest.mark.slow
def test_browser_queue_lists_drafts_and_marks_missing_evidence(page, live: Live) -> None:
    browser_login(page, live)
    damage_row = page.locator(f"#draft-{live.site.ids['damage']}")
    assert damage_row.locator(".badge-alert.flag-missing_evidence").is_visible()
    assert "needs-evidence" in damage_row.get_attribute("class")
    assert page.locator(".badge-alert").count() == 1
    text = page.inner_text("table.queue")
    for subject in ("My figure arrived broken", "Broken figure, photo attached",
                    "Wrong size, can I exchange?"):
        assert subject in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)


@pytest.mark.slow
def test_browser_detail_shows_the_mail_beside_the_draft(page, live: Live) -> None:
    browser_login(page, live)
    page.click(f"#draft-{live.site.ids['photo']} .subject a")
    page.wait_for_url(f"{live.url}/drafts/{live.site.ids['photo']}")
    thumb = page.locator(".thumb img")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 160
    assert "<photo@mail.example>" in page.inner_text(".headers")
    assert not page.locator("details").get_attribute("open")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "detail.png"), full_page=True)


@pytest.mark.slow
def test_browser_edit_and_approve_sends_the_edited_reply(page, live: Live) -> None:
    draft = live.site.ids["cancel"]
    browser_login(page, live)
    page.goto(f"{live.url}/drafts/{draft}")
    edited = page.input_value("#body").replace("Kiwami Box Support",
                                               "Kiwami Box Support (Kim, edited in the browser)")
    assert "edited in the browser" in edited
    page.fill("#body", edited)
    page.click("#approve")
    page.wait_for_url(f"{live.url}/")
    assert f"Draft {draft} approved and sent." in page.inner_text(".flash")

    sent = [m for m in live.smtp.messages() if m["In-Reply-To"] == "<cancel@mail.example>"]
    assert len(sent) == 1
    reply = sent[0]
    assert reply["To"].addresses[0].addr_spec == "ben.ito@mail.example"
    assert reply["Subject"] == "Re: Your order KB-10456 is confirmed"  # "Re: " once
    assert "edited in the browser" in reply.get_content()
    assert live.site.item("cancel").state == State.SENT


@pytest.mark.slow
def test_browser_reject_with_a_reason(page, live: Live) -> None:
    draft = live.site.ids["exchange"]
    browser_login(page, live)
    page.goto(f"{live.url}/drafts/{draft}")
    page.fill("#reason", "customer called; exchange arranged by phone")
    page.click("button.danger")
    page.wait_for_url(f"{live.url}/")
    assert f"Draft {draft} rejected." in page.inner_text(".flash")
    item = live.site.item("exchange")
    assert (item.state, item.reject_reason) == (
        State.REJECTED, "customer called; exchange arranged by phone")
    with live.site.store() as store:
        assert store.audit_log(draft)[-1]["actor"] == USER


@pytest.mark.slow
def test_browser_shows_hostile_mail_as_text(page, live: Live) -> None:
    draft = live.site.ids["xss"]
    browser_login(page, live)
    assert f"{SCRIPT} where is my parcel {IMG}" in page.inner_text("table.queue")
    page.goto(f"{live.url}/drafts/{draft}")
    text = page.inner_text("body")
    for payload in (SCRIPT, IMG, f"{IMG}.png"):
        assert payload in text
    assert page.locator("script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("svg").count() == 0
    page.click("summary")  # the full text too, opened
    assert f"quoted {SCRIPT}" in page.inner_text("details")
    assert page.locator("script").count() == 0
    assert page.watch.dialogs == []


@pytest.mark.slow
def test_browser_without_a_session_lands_on_login_and_comes_back(page, live: Live) -> None:
    draft = live.site.ids["damage"]
    page.goto(f"{live.url}/drafts/{draft}")
    assert urlsplit(page.url).path == "/login"
    assert page.locator("#password").is_visible()
    page.fill("#name", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live.url}/drafts/{draft}")
    assert "Damage claim without photos" in page.inner_text(".alert")


@pytest.mark.slow
def test_browser_post_without_csrf_token_is_refused(page, context, live: Live) -> None:
    draft = live.site.ids["damage"]
    browser_login(page, live)
    before = live.site.item("damage")
    for form in ({"body": "forged"}, {"body": "forged", "csrf_token": "guess"}):
        response = context.request.post(f"{live.url}/drafts/{draft}/approve", form=form)
        assert response.status in (400, 403)
        response = context.request.post(f"{live.url}/approve", form={"ids": str(draft)})
        assert response.status in (400, 403)
    assert live.site.item("damage") == before
    assert before.state == State.PENDING
