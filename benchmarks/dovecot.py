"""A throw-away Dovecot IMAP server on a free local port, for the benchmarks.

    with Dovecot() as server:
        server.preload(files)            # before start(): straight into INBOX's new/
        server.start()
        ...  # IMAP at server.host:server.port, login server.user / server.password

Plain auth over an unencrypted socket, one user in a passwd-file, Maildir
storage in a temporary folder that `stop()` removes. `preload` writes message
files into the Maildir's `new/` before the server starts (ten thousand files
in a second or two, where APPEND takes much longer); `append` is there for a
running server. Needs `/usr/sbin/dovecot` (Debian: dovecot-imapd). Run as
root, the mail processes drop to `nobody`, since Dovecot refuses mail access
as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = responder-bench-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_fsync = never
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


class DovecotError(RuntimeError):
    """Dovecot is missing or did not start; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> str | None:
    """Why Dovecot cannot run here, or None when it can."""
    if not Path(DOVECOT).is_file():
        return f"{DOVECOT} is missing (apt-get install dovecot-imapd)"
    return None


class Dovecot:
    """One Dovecot instance with one user and a Maildir in a temporary folder."""

    def __init__(self, *, user: str = "bench", password: str = "bench-password") -> None:
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="responder-bench-dovecot-"))
        os.chmod(self.root, 0o755)
        # Dovecot will not open mail as root; as root we hand the Maildir to nobody.
        self.uid, self.gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        self.process: subprocess.Popen | None = None
        self.config = self.root / "dovecot.conf"
        self._write_config()

    # -- setup -----------------------------------------------------------------------
    def _write_config(self) -> None:
        for sub in ("run", "state", f"home/{self.user}"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        self.config.write_text(CONFIG.format(root=self.root, port=self.port, uid=self.uid,
                                             gid=self.gid))
        self.folder("INBOX")

    def folder(self, name: str) -> Path:
        """The Maildir of folder `name` (Maildir++ layout), created if missing."""
        base = self.root / "mail" / self.user
        path = base if name.upper() == "INBOX" else base / f".{name}"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def preload(self, messages: Iterable[bytes | Path], folder: str = "INBOX") -> int:
        """Put messages straight into `folder`'s new/ (before start()); returns the count."""
        new = self.folder(folder) / "new"
        stamp = int(time.time())
        count = 0
        for count, message in enumerate(messages, start=1):
            raw = message.read_bytes() if isinstance(message, Path) else message
            name = f"{stamp}.M{count}P{os.getpid()}.bench,S={len(raw)}"
            (new / name).write_bytes(raw)
        return count

    # -- life cycle ----------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        reason = available()
        if reason:
            raise DovecotError(reason)
        if self.uid != os.getuid():
            for dirpath, dirnames, filenames in os.walk(self.root / "mail"):
                for name in (*dirnames, *filenames):
                    os.lchown(os.path.join(dirpath, name), self.uid, self.gid)
            os.chown(self.root / "mail", self.uid, self.gid)
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DovecotError(f"dovecot exited with status {self.process.returncode}: "
                                   f"{self._stderr()}{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise DovecotError(f"dovecot did not answer on port {self.port} in {timeout:.0f} s"
                           f"{self.log_tail()}")

    def _stderr(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode("utf-8", "replace").strip()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # the master stops its children on SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- a client ------------------------------------------------------------------------
    def client(self):  # -> imapclient.IMAPClient; imported lazily, as the floors do
        import imapclient

        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=60)
        client.login(self.user, self.password)
        return client

    def append(self, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        """APPEND over one connection to a running server; returns the count."""
        client = self.client()
        count = 0
        try:
            for count, raw in enumerate(messages, start=1):
                client.append(folder, raw)
        finally:
            client.logout()
        return count
