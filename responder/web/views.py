"""The review page's views: login, the queue, one draft, and the review actions.

Views call the store and the triager, nothing else. Every action is a POST
that redirects back (post/redirect/get) with a flash message; the actor in
the audit log is the logged-in user's name.
"""

from __future__ import annotations

import io
import re

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from responder.classifier import CATEGORIES
from responder.errors import ResponderError, ReviewError
from responder.parsing import UnreadableMessage, parse_message
from responder.store import ReviewItem, State
from responder.web.app import csrf_token, get_store, safe_next, web_state
from responder.web.attachments import get_part, list_parts
from responder.web.auth import (
    dummy_hash,
    hash_fingerprint,
    hash_password,
    needs_rehash,
    new_csrf_token,
    verify_password,
)

bp = Blueprint("web", __name__)

STATES = tuple(s.value for s in State)
_FLAG = re.compile(r"^[a-z_]{1,40}$")
MAX_NAME = 100
MAX_REASON = 1000


def _text(value: str) -> str:
    """Form text as the store keeps it: browsers send textarea lines with CRLF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _item_or_404(draft_id: int) -> ReviewItem:
    try:
        return get_store().get_item(draft_id)
    except ReviewError:
        abort(404)


def _back_to(draft_id: int) -> Response:
    return redirect(url_for("web.detail", draft_id=draft_id))


# -- login ------------------------------------------------------------------

@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for it on every page; answer without a redirect to the login page.
    return Response(status=204)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user:
            return redirect(target or url_for("web.queue"))
        csrf_token()
        return render_template("login.html", next=target or "")
    name = request.form.get("name", "").strip()[:MAX_NAME]
    password = request.form.get("password", "")
    store = get_store()
    stored = store.user_hash(name) if name else None
    # An unknown name costs one verification too, so timing does not tell names apart.
    ok = verify_password(stored or dummy_hash(), password) and stored is not None
    if not ok:
        flash("Wrong name or password.", "error")
        return render_template("login.html", next=target or "", name=name), 401
    if needs_rehash(stored):
        stored = hash_password(password)
        store.set_user(name, stored)
    # A fresh session (and CSRF token) at login: nothing set before it carries over.
    session.clear()
    session.permanent = True
    session["user"] = name
    session["pw"] = hash_fingerprint(stored)
    session["csrf"] = new_csrf_token()
    return redirect(target or url_for("web.queue"))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("Logged out.", "ok")
    return redirect(url_for("web.login"))


# -- queue ------------------------------------------------------------------

@bp.get("/")
def queue() -> str:
    store = get_store()
    state = request.args.get("state", State.PENDING.value)
    if state not in (*STATES, "all"):
        state = State.PENDING.value
    category = request.args.get("category", "")
    if category not in CATEGORIES:
        category = ""
    flag = request.args.get("flag", "")
    if not _FLAG.match(flag):
        flag = ""
    items = store.list_items(state=None if state == "all" else state,
                             category=category or None, flag=flag or None)
    counts = store.state_counts()
    return render_template(
        "queue.html", items=items, counts=counts, total=sum(counts.values()), states=STATES,
        state=state, category=category, flag=flag, categories=CATEGORIES,
        flags=store.draft_flags(), here=request.full_path,
    )


@bp.post("/approve")
def bulk_approve() -> Response:
    back = safe_next(request.form.get("back")) or url_for("web.queue")
    try:
        ids = sorted({int(v) for v in request.form.getlist("ids")})
    except ValueError:
        abort(400, description="draft ids must be numbers")
    if not ids:
        flash("Select at least one draft to approve.", "error")
        return redirect(back)
    store = get_store()
    approved: list[int] = []
    problems: list[str] = []
    for draft_id in ids:
        try:
            store.approve(draft_id, g.user)
        except ReviewError as exc:
            problems.append(str(exc))
        else:
            approved.append(draft_id)
    if problems:
        flash("Not approved: " + "; ".join(problems), "error")
    if approved:
        _send_now(approved)
    return redirect(back)


def _send_now(ids: list[int]) -> None:
    """Send just-approved drafts at once when SMTP is configured; flash the outcome."""
    config = web_state().config
    what = f"Draft {ids[0]}" if len(ids) == 1 else f"{len(ids)} drafts"
    if not config.smtp.host:
        flash(f"{what} approved; will be sent by the worker.", "ok")
        return
    from responder.sender import send_approved

    try:
        result = send_approved(config, get_store(), only=set(ids))
    except ResponderError as exc:
        flash(f"{what} approved, but sending failed: {exc}. The worker will retry.", "error")
        return
    if result.sent == len(ids):
        flash(f"{what} approved and sent.", "ok")
        return
    parts = [f"sent {result.sent}"]
    if result.failed:
        parts.append(f"failed {result.failed} (will be retried)")
    if result.refused:
        parts.append(f"refused {result.refused} (automatic or own address; rejected)")
    if result.held:
        parts.append(f"held {result.held} (reply cap reached)")
    if result.in_doubt:
        parts.append(f"in doubt {result.in_doubt} (check the Sent folder)")
    if len(parts) == 1:
        parts.append("the rest waits for its retry time")
    flash(f"{what} approved: " + ", ".join(parts) + ".", "error")


# -- one draft --------------------------------------------------------------

def _headers(item: ReviewItem, parsed) -> list[tuple[str, str]]:
    if parsed is None:
        sender = f"{item.sender_name} <{item.sender_address}>" if item.sender_name else (
            item.sender_address)
        return [("From", sender), ("Subject", item.subject),
                ("Message-ID", item.message_id or "")]
    return [(label, parsed.header(label) or "")
            for label in ("From", "To", "Date", "Subject", "Message-ID")]


@bp.get("/drafts/<int:draft_id>")
def detail(draft_id: int) -> str:
    store = get_store()
    item = _item_or_404(draft_id)
    raw = store.raw_message(item.message)
    parsed = None
    parts = []
    if raw is not None:
        try:
            parsed = parse_message(raw)
            parts = list_parts(raw)
        except UnreadableMessage:
            parsed = None
    in_doubt = (item.state == State.APPROVED and item.send_started_at is not None
                and item.sent_at is None)
    return render_template(
        "detail.html", item=item, headers=_headers(item, parsed),
        newest=item.newest_text if parsed is None else parsed.newest_text,
        full_text="" if parsed is None else parsed.full_text, parts=parts,
        history=store.audit_log(draft_id), categories=CATEGORIES, in_doubt=in_doubt,
        has_raw=raw is not None,
    )


@bp.get("/drafts/<int:draft_id>/attachments/<int:index>")
def attachment(draft_id: int, index: int) -> Response:
    item = _item_or_404(draft_id)
    raw = get_store().raw_message(item.message)
    if raw is None:
        abort(404)
    part = get_part(raw, index)
    if part is None:
        abort(404)
    response = send_file(
        io.BytesIO(part.data),
        # Only the four raster formats, checked against their signatures, show inline;
        # SVG, HTML and the rest download as opaque bytes that no browser renders.
        mimetype=part.content_type if part.inline_image else "application/octet-stream",
        as_attachment=not part.inline_image,
        download_name=part.download_name,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if some browser rendered it as a document, it would run sandboxed, script-free.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/drafts/<int:draft_id>/edit")
def edit(draft_id: int) -> Response:
    body = _text(request.form.get("body", ""))
    try:
        get_store().edit(draft_id, g.user, body)
    except ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash("Draft saved.", "ok")
    return _back_to(draft_id)


@bp.post("/drafts/<int:draft_id>/approve")
def approve(draft_id: int) -> Response:
    body = request.form.get("body")
    try:
        get_store().approve(draft_id, g.user, None if body is None else _text(body),
                            override_limit=request.form.get("override_limit") == "1")
    except ReviewError as exc:
        flash(str(exc), "error")
        return _back_to(draft_id)
    _send_now([draft_id])
    return redirect(url_for("web.queue"))


@bp.post("/drafts/<int:draft_id>/category")
def change_category(draft_id: int) -> Response:
    category = request.form.get("category", "")
    if category not in CATEGORIES:
        abort(400, description="unknown category")
    store = get_store()
    item = _item_or_404(draft_id)
    raw = store.raw_message(item.message)
    try:
        if raw is None:
            raise ReviewError("the mail was too large to keep; edit the text by hand")
        try:
            parsed = parse_message(raw)
        except UnreadableMessage as exc:
            raise ReviewError(f"the mail cannot be read ({exc}); edit the text by hand") from exc
        verdict = web_state().triager().classify(parsed, category=category)
        store.edit(draft_id, g.user, verdict.draft or "", category=category,
                   flags=verdict.flags)
    except ResponderError as exc:
        flash(f"Category not changed: {exc}", "error")
    else:
        flash(f"Category set to {category.replace('_', ' ')}; the reply was re-drafted "
              "from its template.", "ok")
    return _back_to(draft_id)


@bp.post("/drafts/<int:draft_id>/reject")
def reject(draft_id: int) -> Response:
    reason = _text(request.form.get("reason", "")).strip()[:MAX_REASON]
    try:
        get_store().reject(draft_id, g.user, reason)
    except ReviewError as exc:
        flash(f"Not rejected: {exc}", "error")
        return _back_to(draft_id)
    flash(f"Draft {draft_id} rejected.", "ok")
    return redirect(url_for("web.queue"))


@bp.post("/drafts/<int:draft_id>/release")
def release(draft_id: int) -> Response:
    try:
        get_store().release_in_doubt(draft_id, g.user)
    except ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Draft {draft_id} may be sent once more.", "ok")
    return _back_to(draft_id)
