"""A throw-away Dovecot for the IMAP tests, and realistic customer mail to fill it.

    server = Dovecot(make_root())          # config, Maildirs, sockets, log: all under root
    account = server.add_user("support", "s3cret")
    server.start()                         # `dovecot -F` on a free 127.0.0.1 port
    server.append(account, [customer_mail(i) for i in range(1000)])
    server.restart()                       # same port, same Maildirs
    server.stop()

Plain-text login without TLS, on loopback only. The config is written for the
installed Dovecot: 2.3 and 2.4 differ in most setting names, so the version is
read from `dovecot --version` (the 2.4 variant follows the 2.3-to-2.4 upgrade
notes; this machine runs 2.3).

As root (CI), Dovecot refuses to run login and mail processes as root, so
they run as unprivileged system users (dovenull, dovecot, else nobody), and
the Maildirs belong to the mail user. Those users must be able to reach the
files, which a pytest tmp_path (under a 0700 folder) does not allow, and unix
socket paths must stay under 108 bytes: `make_root()` makes a short 0755
folder in the system temp folder. As another user, every process runs as
that user and the login processes are not chrooted.
"""

from __future__ import annotations

import grp
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import imapclient
import imapclient.exceptions

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Account:
    """What a client needs to log in to one mailbox of the test server."""

    host: str
    port: int
    username: str
    password: str


def dovecot_version(executable: str = "dovecot") -> tuple[int, int]:
    """(major, minor) of the installed Dovecot, e.g. (2, 3) from '2.3.19.1 (9b53102964)'."""
    out = subprocess.run([executable, "--version"], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    match = re.match(r"\s*(\d+)\.(\d+)", out)
    if match is None:
        raise RuntimeError(f"cannot read the Dovecot version from {out!r}")
    return int(match.group(1)), int(match.group(2))


def free_port() -> int:
    """A TCP port that was free a moment ago (Dovecot binds it, so a race stays possible)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def make_root() -> Path:
    """A short, world-traversable folder for one server; the caller removes it."""
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    root.chmod(0o755)
    return root


@dataclass(frozen=True, slots=True)
class _Identities:
    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int
    chroot_login: bool


def _identities() -> _Identities:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(os.getegid()).gr_name
        # An unprivileged master cannot switch users or chroot: everything runs as us.
        return _Identities(me.pw_name, group, me.pw_name, me.pw_uid, me.pw_gid, False)

    def first_user(*names: str) -> pwd.struct_passwd:
        for name in names:
            try:
                return pwd.getpwnam(name)
            except KeyError:
                continue
        raise RuntimeError(f"none of the users {', '.join(names)} exists; Dovecot needs one "
                           "unprivileged user")

    internal = first_user("dovecot", "nobody")
    login = first_user("dovenull", "nobody")
    mail = first_user("nobody")
    return _Identities(internal.pw_name, grp.getgrgid(internal.pw_gid).gr_name, login.pw_name,
                       mail.pw_uid, mail.pw_gid, True)


def _services(port: int, chroot: str) -> str:
    """The service blocks, the same in Dovecot 2.3 and 2.4 syntax."""
    return f"""service imap-login {{
{chroot}  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service imap-urlauth-login {{
{chroot}}}
protocol imap {{
  # Tests open several connections at once (worker, IDLE watcher, APPEND).
  mail_max_userip_connections = 100
}}
service anvil {{
  # Auth cannot open this socket, so it turns the login penalty off: after a failed
  # login (the wrong-password test) every login from 127.0.0.1 would wait 2-15 s.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _config_23(root: Path, port: int, ids: _Identities) -> str:
    chroot = "" if ids.chroot_login else "  chroot =\n"
    return f"""# Written by tests/dovecot.py for one test run (Dovecot 2.3 syntax).
protocols = imap
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/state
instance_name = responder-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login answers at once: the wrong-password test need not wait 2 s.
auth_failure_delay = 0
default_internal_user = {ids.internal_user}
default_internal_group = {ids.internal_group}
default_login_user = {ids.login_user}
first_valid_uid = 1
first_valid_gid = {min(ids.mail_gid, 1)}
mail_uid = {ids.mail_uid}
mail_gid = {ids.mail_gid}
mail_location = maildir:{root}/mail/%u
mail_home = {root}/home/%u
# Throw-away mail: no fsync, so loading a backlog of 1,000 messages takes a moment.
mail_fsync = never
# IDLE notices new mail through inotify; this is the fallback when it cannot.
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
""" + _services(port, chroot)


def _config_24(root: Path, port: int, ids: _Identities) -> str:
    chroot = "" if ids.chroot_login else "  chroot =\n"
    return f"""# Written by tests/dovecot.py for one test run (Dovecot 2.4 syntax).
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/state
instance_name = responder-test-{port}
log_path = {root}/dovecot.log
ssl = no
auth_allow_cleartext = yes
auth_allow_weak_schemes = yes
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {ids.internal_user}
default_internal_group = {ids.internal_group}
default_login_user = {ids.login_user}
first_valid_uid = 1
first_valid_gid = {min(ids.mail_gid, 1)}
mail_uid = {ids.mail_uid}
mail_gid = {ids.mail_gid}
mail_driver = maildir
mail_path = {root}/mail/%{{user}}
mail_home = {root}/home/%{{user}}
mail_fsync = never
mailbox_idle_check_interval = 1s
namespace inbox {{
  inbox = yes
}}
passdb passwd-file {{
  passwd_file_path = {root}/passwd
}}
userdb passwd-file {{
  passwd_file_path = {root}/passwd
}}
""" + _services(port, chroot)


def _die_with_parent() -> None:
    """Runs in the child before exec: Linux then sends Dovecot SIGTERM when the test
    process dies, so a killed pytest leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() is then the only way out


class Dovecot:
    """One Dovecot master process (`dovecot -F`), a child of the test process."""

    def __init__(self, root: Path, *, executable: str = "dovecot",
                 port: int | None = None) -> None:
        self.root = root
        self.executable = executable
        self.host = HOST
        self.port = port or free_port()
        self._port_chosen = port is None
        self.conf = root / "dovecot.conf"
        self.passwd = root / "passwd"
        self.log = root / "dovecot.log"
        self.users: dict[str, str] = {}
        self._spare: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None
        self._ids = _identities()
        self._version = dovecot_version(executable)

    # -- setup ---------------------------------------------------------------------
    def add_user(self, username: str, password: str, *, timeout: float = 10.0) -> Account:
        """Add a mailbox (the Maildir appears at the first login).

        Dovecot rereads a changed passwd-file at most once a second, so on a
        running server this waits until the new login works."""
        if ":" in username + password or "\n" in username + password:
            raise ValueError("a passwd-file field cannot hold ':' or a newline")
        self.users[username] = password
        self._write_passwd()
        account = self.account(username)
        if self.running:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.connect(account).logout()
                    break
                except imapclient.exceptions.LoginError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        return account

    def add_spare_users(self, count: int, password: str = "spare-secret") -> None:
        """Accounts made before start(), handed out by fresh_account() without waiting."""
        for _ in range(count):
            name = f"user{len(self.users):03d}"
            self.users[name] = password
            self._spare.append(name)
        self._write_passwd()

    def fresh_account(self) -> Account:
        """An account no test has used yet: a spare one, else a new one."""
        if self._spare:
            return self.account(self._spare.pop(0))
        return self.add_user(f"user{len(self.users):03d}", "fresh-secret")

    def account(self, username: str) -> Account:
        return Account(self.host, self.port, username, self.users[username])

    def _write_passwd(self) -> None:
        # uid, gid and home are left empty: mail_uid, mail_gid and mail_home set them,
        # because Dovecot refuses uid 0 from a userdb.
        lines = [f"{user}:{{PLAIN}}{password}::::::" for user, password in self.users.items()]
        tmp = self.passwd.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.chmod(0o644)  # the auth process runs as the internal user
        tmp.replace(self.passwd)

    def _write_config(self) -> None:
        template = _config_24 if self._version >= (2, 4) else _config_23
        self.conf.write_text(template(self.root, self.port, self._ids), encoding="utf-8")
        for name in ("mail", "home"):
            folder = self.root / name
            folder.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                os.chown(folder, self._ids.mail_uid, self._ids.mail_gid)
        if not self.passwd.exists():
            self._write_passwd()

    # -- life cycle ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and return once it greets clients."""
        if self.running:
            return
        attempts = 3 if self._port_chosen else 1
        for attempt in range(attempts):
            self._write_config()
            with open(self.root / "dovecot.out", "ab") as out:
                self.process = subprocess.Popen(
                    [self.executable, "-F", "-c", str(self.conf)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    # Its own process group: stop() can reap every Dovecot child.
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            try:
                self.wait_until_accepting(timeout)
                # From now on the port is part of every client's config: keep it.
                self._port_chosen = False
                return
            except RuntimeError:
                self._kill()
                # Another program may have taken the port we picked: pick again.
                if attempt + 1 == attempts or "Address already in use" not in self.log_tail():
                    raise
                self.port = free_port()

    def wait_until_accepting(self, timeout: float = 20.0) -> None:
        """Block until a connection gets the IMAP greeting; RuntimeError if Dovecot exits."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                status = None if self.process is None else self.process.returncode
                raise RuntimeError(f"dovecot exited (status {status}):\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as conn:
                    if conn.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not accept connections on port {self.port} "
                                   f"within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the master, which ends its children and exits; SIGKILL if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._kill()

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            # Children left behind (say, an imap process still writing) must not keep
            # the port or the Maildir busy for the next start.
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()

    def restart(self, timeout: float = 20.0) -> None:
        """Stop, then start again on the same port with the same Maildirs."""
        self.stop(timeout)
        self.start(timeout)

    def cleanup(self) -> None:
        """Stop and remove every file of this server."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("dovecot.out", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- clients ---------------------------------------------------------------------
    def connect(self, account: Account, timeout: float = 30.0) -> imapclient.IMAPClient:
        """A logged-in client; the caller logs out."""
        client = imapclient.IMAPClient(account.host, port=account.port, ssl=False,
                                       timeout=timeout)
        client.login(account.username, account.password)
        return client

    def append(self, account: Account, messages: Iterable[bytes], folder: str = "INBOX",
               *, chunk: int = 200) -> int:
        """Load messages over one connection with MULTIAPPEND (one round trip per chunk);
        creates the folder if needed. Returns how many were appended."""
        client = self.connect(account)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            pending: list[bytes] = []
            count = 0
            for message in messages:
                pending.append(message)
                if len(pending) == chunk:
                    client.multiappend(folder, pending)
                    count += len(pending)
                    pending = []
            if pending:
                client.multiappend(folder, pending)
                count += len(pending)
            return count
        finally:
            client.logout()

    def flags(self, account: Account, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """{uid: flags} of every message in the folder, read without changing them."""
        client = self.connect(account)
        try:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return {uid: tuple(data[b"FLAGS"])
                    for uid, data in client.fetch(uids, ["FLAGS"]).items()}
        finally:
            client.logout()


# -- test mail ------------------------------------------------------------------------

_FIRST = ("Megan", "Tomás", "Aiko", "Priya", "Jonas", "Chloé", "Kwame", "Sofia", "Liam",
          "Hana", "Mateo", "Ingrid", "Ravi", "Zoë", "Daniel", "Yuki")
_LAST = ("Holloway", "García", "Tanaka", "Sharma", "Becker", "Dubois", "Mensah", "Rossi",
         "O'Brien", "Kim", "Fernández", "Larsen", "Patel", "Novak", "Okafor", "Suzuki")
_DOMAINS = ("mailbox.example", "post.example", "inbox.example", "kmail.example")
_ITEMS = ("the spring snack box", "the matcha KitKat bundle", "the sake set",
          "the furoshiki", "the ceramic tea bowl", "the ramen sampler", "the mochi box",
          "the chopstick set")

# (subject, body) per kind; {name} {order} {item} {days} are filled in.
_MAIL: dict[str, tuple[tuple[str, str], ...]] = {
    "cancel": (
        ("Cancel order {order} please",
         "Hi there,\n\nI placed order {order} last night ({item}) and I need to cancel it, "
         "sorry! My sister already bought me the same box.\n\nThe order page still says "
         "processing, so I hope it hasn't gone out yet. Please cancel it and refund my "
         "card.\n\nThanks so much,\n{name}"),
        ("Please cancel my order",
         "Hello,\n\nCould you cancel order {order}? I ordered {item} by mistake twice.\n\n"
         "Best regards,\n{name}"),
    ),
    "late": (
        ("Where is my parcel? Order {order}",
         "Hi,\n\nMy order {order} should have arrived {days} days ago and the tracking has "
         "not moved since it left Osaka. Is it lost? It was a birthday present.\n\n{name}"),
        ("still waiting for my box",
         "Hello Kiwami Box,\n\nit has been {days} days and my order {order} is still not "
         "here. The tracking link just says in transit. Can you check what is going on?\n\n"
         "Thanks,\n{name}"),
    ),
    "damage": (
        ("{order} arrived broken",
         "Hi,\n\nThe parcel came today but {item} is cracked, one piece is broken right "
         "through. I have attached photos of the box and the damage.\n\nCan you send a "
         "replacement?\n\n{name}"),
        ("damaged item in my order",
         "Hello,\n\n{item} in order {order} was crushed when it arrived, the box was "
         "dented on one corner. What should I do?\n\nRegards,\n{name}"),
    ),
    "return": (
        ("Return for order {order}",
         "Hi,\n\nI would like to return {item} from order {order}, it is not what I "
         "expected. It is unopened. How do I send it back?\n\nThank you,\n{name}"),
        ("exchange size?",
         "Hello, can I exchange {item} from order {order} for a different one? Thanks, "
         "{name}"),
    ),
    "customs": (
        ("Parcel held at customs - {order}",
         "Hi,\n\nI got a letter that my parcel for order {order} is held at customs and "
         "they want me to pay import duty. Is that right? Nobody told me about fees.\n\n"
         "{name}"),
    ),
    "other": (
        ("Question about gift wrapping",
         "Hi!\n\nDo you offer gift wrapping with a handwritten card? I want to send "
         "{item} to a friend.\n\nCheers,\n{name}"),
    ),
    # Mail a person did not write: screening must skip it, with no draft.
    "auto_reply": (
        ("Out of office: Re: your order {order}",
         "Thank you for your email. I am out of the office until Monday with limited access "
         "to email. For anything urgent please contact my colleague.\n\n{name}"),
    ),
}
KINDS: tuple[str, ...] = tuple(_MAIL)


def customer_mail(index: int, *, kind: str | None = None, tag: str = "t",
                  size: int = 0) -> bytes:
    """One small customer mail, CRLF line ends, as a mail client would send it.

    The same (index, tag) always gives the same bytes; the Message-ID
    `<{tag}.{index}@...>` differs between indexes and tags. `kind` defaults to
    one of KINDS in turn; `size` pads the body with a base64 attachment until
    the message reaches about that many bytes (oversized mail)."""
    rng = random.Random(f"{tag}:{index}")
    kind = kind or KINDS[index % len(KINDS)]
    subject, body = rng.choice(_MAIL[kind])
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    name = f"{first} {last}"
    domain = rng.choice(_DOMAINS)
    ascii_first = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    address = f"{ascii_first.lower()}.{index}@{domain}"
    fields = {"name": first, "order": f"KB-{20000 + index}", "item": rng.choice(_ITEMS),
              "days": rng.randint(5, 30)}
    date = datetime(2026, 4, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=index)
    headers = [
        f"From: {name} <{address}>",
        "To: Kiwami Box Support <support@kiwamibox.example>",
        f"Subject: {subject.format(**fields)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{tag}.{index}.{rng.getrandbits(40):x}@{domain}>",
        "MIME-Version: 1.0",
    ]
    if kind == "auto_reply":
        headers.append("Auto-Submitted: auto-replied")
    text = body.format(**fields)
    if size <= 0:
        headers += ["Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: 8bit"]
        return _crlf(headers, text.splitlines())
    boundary = f"=={tag}{index}=="
    headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx"
    lines = [f"--{boundary}", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit", "", *text.splitlines(), f"--{boundary}",
             "Content-Type: image/jpeg; name=photo.jpg",
             "Content-Disposition: attachment; filename=photo.jpg",
             "Content-Transfer-Encoding: base64", ""]
    lines += [line] * (size // (len(line) + 2) + 1)
    lines.append(f"--{boundary}--")
    return _crlf(headers, lines)


def _crlf(headers: Sequence[str], lines: Sequence[str]) -> bytes:
    return ("\r\n".join([*headers, "", *lines]) + "\r\n").encode("utf-8")


def customer_mails(count: int, *, tag: str = "t", start: int = 0) -> list[bytes]:
    return [customer_mail(i, tag=tag) for i in range(start, start + count)]


# -- a responder config for it ------------------------------------------------------------

def responder_config(account: Account, *, store: Path, password_env: str,
                     **sections: dict[str, object]) -> str:
    """The TOML of a responder config that polls `account`; `sections` override keys,
    e.g. `imap={"batch_size": 50}`. The password stays in the environment variable."""
    settings: dict[str, dict[str, object]] = {
        "source": {"kind": "imap"},
        "imap": {"host": account.host, "port": account.port, "security": "plain",
                 "username": account.username, "password_env": password_env,
                 "folder": "INBOX", "batch_size": 100, "timeout_seconds": 10.0},
        "store": {"path": str(store)},
        # Retries stay short so that a test of an outage ends in seconds, not minutes.
        "worker": {"retry_max_seconds": 60, "send_after_poll": False},
    }
    for section, values in sections.items():
        settings.setdefault(section, {}).update(values)
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no TOML for {value!r}")
