"""Subcommands that touch the store, the mailbox and the web: run, review, send, serve, user."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from responder.classifier import CATEGORIES
from responder.config import Config
from responder.errors import ConfigError, ResponderError, ReviewError
from responder.store import State, Store

log = logging.getLogger("responder")


def open_store(config: Config) -> Store:
    return Store(config.store.path)


def make_source(config: Config):
    if config.source.kind == "imap":
        from responder.mailbox import ImapSource

        return ImapSource(config.imap)
    from responder.sources import MaildirSource

    return MaildirSource(Path(config.maildir.path), batch_size=config.imap.batch_size,
                         max_bytes=config.imap.max_message_bytes)


def make_worker(config: Config, store: Store, stop=None, progress=None):
    from responder.cli import make_triager
    from responder.worker import Worker

    after_poll = None
    if config.smtp.host and config.worker.send_after_poll:
        def after_poll() -> int:
            from responder.sender import send_approved

            return send_approved(config, store).sent

    return Worker(
        source=make_source(config),
        store=store,
        triager=make_triager(config),
        lock_path=Path(config.store.path + ".lock"),
        retry_max_seconds=config.worker.retry_max_seconds,
        after_poll=after_poll,
        stop=stop,
        progress=progress,
    )


def format_table(report) -> str:
    rows = sorted(report.table.items())
    lines = [f"{'category':<16} {'action':<6} {'count':>5}  flags",
             f"{'-' * 16} {'-' * 6} {'-' * 5}  {'-' * 30}"]
    for (category, action), row in rows:
        flags = ", ".join(f"{f} {n}" for f, n in sorted(row["flags"].items())) or "-"
        lines.append(f"{category:<16} {action:<6} {row['count']:>5}  {flags}")
    total = sum(row["count"] for _, row in rows)
    lines.append(f"{'total':<16} {'':<6} {total:>5}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    if args.once:
        bar = None
        if sys.stderr.isatty():  # a backlog shows its progress on a terminal
            from tqdm import tqdm

            bar = tqdm(unit="msg", desc="triage", file=sys.stderr, leave=False)
        try:
            with open_store(config) as store:
                report = make_worker(config, store, progress=bar.update if bar else None
                                     ).run_once()
        finally:
            if bar is not None:
                bar.close()
        if report.locked_out:
            print("responder: another poll is running; nothing to do", file=sys.stderr)
            return 0
        print(format_table(report))
        print(report.summary_line())
        return 0
    from responder.scheduler import run_forever

    return run_forever(config, idle=args.idle)


def cmd_review_list(args: argparse.Namespace, config: Config) -> int:
    with open_store(config) as store:
        items = store.list_items(state=args.state, category=args.category, flag=args.flag)
    if args.json:
        for item in items:
            print(json.dumps(item.summary(), ensure_ascii=False))
        return 0
    print(f"{'id':>5}  {'state':<8} {'category':<16} {'conf':>5}  {'sender':<30} flags")
    for item in items:
        print(f"{item.id:>5}  {item.state:<8} {item.category:<16} {item.confidence:>5.2f}  "
              f"{item.sender_address[:30]:<30} {','.join(item.flags)}")
    return 0


def cmd_review_show(args: argparse.Namespace, config: Config) -> int:
    with open_store(config) as store:
        item = store.get_item(args.id)
        history = store.audit_log(args.id)
    print(f"Draft {item.id} [{item.state}]  category {item.category} "
          f"(confidence {item.confidence:.2f}, action {item.action})")
    print(f"Flags:   {', '.join(item.flags) or '-'}")
    print(f"From:    {item.sender_name} <{item.sender_address}>")
    print(f"Subject: {item.subject}")
    print(f"Received {item.received_at}")
    if item.reject_reason:
        print(f"Rejected: {item.reject_reason}")
    print("\n--- customer's newest text " + "-" * 40)
    print(item.newest_text or "(empty)")
    print("\n--- draft " + "-" * 57)
    print(item.body or "(no draft: write one with `responder review approve --edit`)")
    for entry in history:
        print(f"[{entry['at']}] {entry['actor']} {entry['action']}")
    return 0


def _edit_in_editor(text: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
        name = tmp.name
    try:
        result = subprocess.run([*editor.split(), name], check=False)
        if result.returncode != 0:
            raise ReviewError(f"the editor {editor!r} exited with status {result.returncode}; "
                              "nothing was approved")
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ReviewError(f"cannot start the editor {editor!r}; set $EDITOR") from exc
    finally:
        os.unlink(name)


def _actor(args: argparse.Namespace) -> str:
    return args.actor or os.environ.get("USER") or getpass.getuser() or "cli"


def cmd_review_approve(args: argparse.Namespace, config: Config) -> int:
    with open_store(config) as store:
        body = None
        if args.edit:
            body = _edit_in_editor(store.get_item(args.id).body)
        store.approve(args.id, _actor(args), body, override_limit=args.override_limit)
    print(f"draft {args.id} approved")
    return 0


def cmd_review_reject(args: argparse.Namespace, config: Config) -> int:
    with open_store(config) as store:
        store.reject(args.id, _actor(args), args.reason)
    print(f"draft {args.id} rejected")
    return 0


def cmd_review_release(args: argparse.Namespace, config: Config) -> int:
    with open_store(config) as store:
        store.release_in_doubt(args.id, _actor(args))
    print(f"draft {args.id} may be sent once more")
    return 0


def cmd_send(args: argparse.Namespace, config: Config) -> int:
    from responder.sender import send_approved

    if not config.smtp.host:
        raise ConfigError(f"{config.source_file or 'defaults'}: [smtp] host is not set; "
                          "nothing can be sent")
    with open_store(config) as store:
        result = send_approved(config, store)
    print(f"sent {result.sent}, failed {result.failed}, refused {result.refused}, "
          f"held in doubt {result.in_doubt}")
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from responder.web.server import serve

    serve(config)
    return 0


def cmd_user_add(args: argparse.Namespace, config: Config) -> int:
    from responder.web.auth import hash_password

    password = os.environ.get("RESPONDER_NEW_PASSWORD") if args.password_env else None
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.name}: ")
            if password != getpass.getpass("again: "):
                raise ResponderError("the passwords differ; nothing changed")
    if len(password) < 8:
        raise ResponderError("a password needs at least 8 characters")
    with open_store(config) as store:
        store.set_user(args.name, hash_password(password))
    print(f"user {args.name} can now log in")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the store-backed subcommands to the `responder` parser."""
    p = sub.add_parser("run", help="poll the inbox: once (cron) or on a schedule")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one poll, then exit (for cron)")
    mode.add_argument("--idle", action="store_true", help="wait for mail with IMAP IDLE")
    p.set_defaults(func=cmd_run)

    review = sub.add_parser("review", help="the review queue")
    rsub = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    p = rsub.add_parser("list", help="list drafts")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--state", choices=[s.value for s in State])
    p.add_argument("--category", choices=CATEGORIES)
    p.add_argument("--flag", help="only drafts with this flag, e.g. missing_evidence")
    p.set_defaults(func=cmd_review_list)
    p = rsub.add_parser("show", help="the customer's mail, the flags and the draft")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_review_show)
    p = rsub.add_parser("approve", help="approve a draft for sending")
    p.add_argument("id", type=int)
    p.add_argument("--edit", action="store_true", help="edit the draft in $EDITOR first")
    p.add_argument("--override-limit", action="store_true",
                   help="send even past the per-recipient reply cap")
    p.add_argument("--actor", help="name recorded in the audit log (default: $USER)")
    p.set_defaults(func=cmd_review_approve)
    p = rsub.add_parser("reject", help="reject a draft; it is never sent")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.add_argument("--actor")
    p.set_defaults(func=cmd_review_reject)
    p = rsub.add_parser("release", help="allow one more send of a reply held in doubt "
                        "after a crash (check the Sent folder first)")
    p.add_argument("id", type=int)
    p.add_argument("--actor")
    p.set_defaults(func=cmd_review_release)

    p = sub.add_parser("send", help="send approved replies that are not yet sent")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("serve", help="the staff review page")
    p.set_defaults(func=cmd_serve)

    user = sub.add_parser("user", help="staff accounts of the review page")
    usub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    p = usub.add_parser("add", help="add a user or set a new password "
                        "(asked for, or read from stdin)")
    p.add_argument("name")
    p.add_argument("--password-env", action="store_true",
                   help="read the password from $RESPONDER_NEW_PASSWORD")
    p.set_defaults(func=cmd_user_add)
