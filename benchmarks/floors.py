"""The floors of the benchmarks: what the same work costs without responder, in a fresh process.

    python benchmarks/floors.py parse-default DIR    # policy.default: subject, from, body
    python benchmarks/floors.py parse-compat32 DIR   # compat32: the bare parse
    python benchmarks/floors.py imap-empty HOST PORT USER FOLDER   # login, select, UID search
    python benchmarks/floors.py imap-fetch HOST PORT USER FOLDER BATCH  # every BODY.PEEK[]

The IMAP password is read from $BENCH_IMAP_PASSWORD. Each command prints one
JSON line, `{"messages": N, "seconds": S, "bytes": B}`, where `seconds` is the
time of the work alone; `run.py` also times the whole process from outside.
Imports stay inside the commands, so a floor pays for exactly what it uses.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path


def message_files(folder: Path) -> list[Path]:
    """The files `responder classify FOLDER` reads, in the same (name) order."""
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def _parse_all(folder: Path, parse: Callable[[bytes], object]) -> dict:
    files = message_files(folder)
    started = time.perf_counter()
    size = 0
    for path in files:
        raw = path.read_bytes()
        size += len(raw)
        parse(raw)
    return {"messages": len(files), "seconds": time.perf_counter() - started, "bytes": size}


def parse_default(folder: Path) -> dict:
    """The realistic floor: what reading subject, sender and body costs with policy.default."""
    import email
    from email import policy

    def parse(raw: bytes) -> object:
        msg = email.message_from_bytes(raw, policy=policy.default)
        subject, sender = msg["subject"], msg["from"]
        body = msg.get_body(("plain", "html"))
        return subject, sender, body.get_content() if body is not None else ""

    return _parse_all(folder, parse)


def parse_compat32(folder: Path) -> dict:
    """The bare floor: the compat32 parser builds the MIME tree and decodes nothing."""
    import email

    return _parse_all(folder, email.message_from_bytes)


def _login(host: str, port: str, user: str):
    import imapclient

    client = imapclient.IMAPClient(host, port=int(port), ssl=False, timeout=60)
    client.login(user, os.environ["BENCH_IMAP_PASSWORD"])
    return client


def imap_empty(host: str, port: str, user: str, folder: str) -> dict:
    """What a poll of an empty folder cannot avoid: connect, log in, select, search."""
    started = time.perf_counter()
    client = _login(host, port, user)
    client.select_folder(folder)
    uids = client.search(["UID", "1:*"])
    client.logout()
    return {"messages": len(uids), "seconds": time.perf_counter() - started, "bytes": 0}


def imap_fetch(host: str, port: str, user: str, folder: str, batch: str) -> dict:
    """Every message of `folder` with BODY.PEEK[], `batch` UIDs per FETCH, nothing else."""
    started = time.perf_counter()
    client = _login(host, port, user)
    client.select_folder(folder, readonly=True)
    uids = sorted(client.search(["UID", "1:*"]))
    size = count = 0
    step = int(batch)
    for start in range(0, len(uids), step):
        for data in client.fetch(uids[start : start + step], ["BODY.PEEK[]"]).values():
            size += len(data[b"BODY[]"])
            count += 1
    client.logout()
    return {"messages": count, "seconds": time.perf_counter() - started, "bytes": size}


COMMANDS: dict[str, Callable[..., dict]] = {
    "parse-default": lambda folder: parse_default(Path(folder)),
    "parse-compat32": lambda folder: parse_compat32(Path(folder)),
    "imap-empty": imap_empty,
    "imap-fetch": imap_fetch,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(COMMANDS[argv[0]](*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
