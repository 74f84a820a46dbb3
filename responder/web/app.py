"""The review page's Flask app factory: sessions, login gate, CSRF, headers, per-request store.

`create_app(config) -> Flask`. Every request opens its own `Store` (SQLite
connections are not shared between threads; opening one is cheap) and
closes it on teardown. Before any view runs, a POST must carry the session's
CSRF token, and every page but /login and /static needs a logged-in user.
Every response carries a strict Content-Security-Policy: the pages use no
script at all, and customer text is only ever shown as escaped text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from responder.config import Config
from responder.store import Store
from responder.web.auth import csrf_matches, hash_fingerprint, new_csrf_token, session_secret

CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Attachments must not be embeddable by other sites that a logged-in reviewer visits.
    "Cross-Origin-Resource-Policy": "same-origin",
}
PUBLIC_ENDPOINTS = frozenset({"web.login", "static", "web.favicon"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_HOURS = 12


@dataclass
class WebState:
    """What the app keeps between requests: the config and the lazily built triager."""

    config: Config
    _triager: object | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def triager(self):
        """The triager, built on first use (loading the model takes a moment)."""
        with self._lock:
            if self._triager is None:
                from responder.cli import make_triager

                self._triager = make_triager(self.config)
            return self._triager


def web_state() -> WebState:
    return current_app.extensions["responder"]


def get_store() -> Store:
    """This request's store, opened on first use."""
    if "store" not in g:
        g.store = Store(web_state().config.store.path)
    return g.store


def csrf_token() -> str:
    """The session's CSRF token, made on first use (the login form needs one too)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = new_csrf_token()
    return token


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: `next` must never send a
    reviewer to another host (`//evil.example`, `/\\evil.example`, `https://...`)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _utc(iso: str) -> datetime | None:
    """A stored ISO timestamp as an aware datetime (the store keeps UTC), or None."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_age(iso: str, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '5 d ago' for an ISO timestamp."""
    then = _utc(iso)
    if then is None:
        return iso or ""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def format_when(iso: str) -> str:
    """'2026-03-02T12:05:33+00:00' -> '2026-03-02 12:05 UTC'."""
    moment = _utc(iso)
    if moment is None:
        return iso or ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def label(value: str) -> str:
    """'missing_evidence' -> 'Missing evidence'."""
    return value.replace("_", " ").capitalize()


def audit_note(entry: dict) -> str:
    """The short tail of one history line: ': wrong address', ' (category a -> b)'."""
    action, detail = entry.get("action"), entry.get("detail") or {}
    if action == "edit":
        if "category" in detail:
            before, after = detail["category"]
            return f" (category {label(before)} → {label(after)}; re-drafted)"
        return " (text changed)"
    if action == "approve":
        notes = ["with edits"] if "after" in detail else []
        if detail.get("override_limit"):
            notes.append("past the reply cap")
        return f" ({', '.join(notes)})" if notes else ""
    if action == "reject":
        return f": {detail.get('reason', '')}"
    if action == "sent":
        return f" as {detail.get('message_id', '')}"
    if action == "send_failed":
        return f": {detail.get('error', '')}"
    return ""


def _current_user() -> str | None:
    """The session's user, if that user still exists with the password the session
    was opened with."""
    name = session.get("user")
    if not isinstance(name, str) or not name:
        return None
    stored = get_store().user_hash(name)
    if stored is None or session.get("pw") != hash_fingerprint(stored):
        return None
    return name


def _login_url_for_this_request() -> str:
    target = request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return url_for("web.login", next=target)


def _before_request() -> Response | None:
    if request.method not in SAFE_METHODS:
        # Checked before anything else, login included: a forged POST changes nothing.
        if not csrf_matches(session.get("csrf"), request.form.get("csrf_token")):
            abort(400, description="The form's security token is missing or stale: "
                                   "reload the page and try again.")
    g.user = _current_user() if request.endpoint != "static" else None
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(_login_url_for_this_request())
    return None


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Pages and attachments hold customer data: keep them out of every cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def _close_store(_exc: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def create_app(config: Config) -> Flask:
    """The review page for `config`; serve it with `responder.web.server.serve`."""
    from responder.web import views

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret(config),
        # Cookies are per host, not per port: a distinct name keeps other local apps'
        # `session` cookies from colliding with ours.
        SESSION_COOKIE_NAME="responder_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The page binds to localhost over plain http by default; a Secure cookie would
        # never come back. A `[web] secure_cookies` setting turns it on behind TLS.
        SESSION_COOKIE_SECURE=config.web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=2_000_000,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["responder"] = WebState(config=config)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["age"] = lambda iso: format_age(iso, datetime.now(UTC))
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["percent"] = lambda x: f"{x * 100:.0f}%"
    app.jinja_env.filters["audit_note"] = audit_note
    app.context_processor(lambda: {"shop_name": config.responder.shop_name,
                                   "sending": bool(config.smtp.host)})
    app.before_request(_before_request)
    app.after_request(_security_headers)
    app.teardown_appcontext(_close_store)
    app.register_blueprint(views.bp)
    return app
