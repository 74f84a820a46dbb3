"""Staff passwords and the review page's secrets: Argon2id hashes, session key, CSRF tokens.

`hash_password(pw) -> "$argon2id$v=19$m=65536,t=3,p=4$..."` is what
`responder user add` stores; `verify_password(hash, pw) -> bool` never raises.
The session signing key comes from the file or environment variable named in
`[web]`, else from `<store path>.web-secret`, made once (mode 0600) so that a
restart keeps everyone logged in.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from responder.config import Config, read_secret
from responder.errors import ConfigError

log = logging.getLogger(__name__)

MIN_SECRET_CHARS = 16
# One hasher with argon2-cffi's defaults (Argon2id, RFC 9106 low-memory profile); when a
# later release raises them, `needs_rehash` tells login to store a stronger hash.
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`, in the PHC string format."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches; False for a wrong password or a malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        # VerifyMismatchError is a VerificationError; a broken hash in the store must
        # read as "no", never as a server error on the login page.
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's defaults."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password, verified for unknown names so that a login for a
    name that does not exist takes as long as one with a wrong password."""
    return hash_password(secrets.token_hex(16))


def hash_fingerprint(password_hash: str) -> str:
    """A short digest of a user's stored hash, kept in the session: a new password
    (or a removed user) ends every session that was opened with the old one."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def secret_file_path(config: Config) -> Path:
    return Path(config.store.path + ".web-secret")


def session_secret(config: Config) -> str:
    """The key that signs session cookies: configured, or made once beside the store."""
    web = config.web
    configured = read_secret(web.secret_key_env, web.secret_key_file)
    if configured is not None:
        if len(configured) < MIN_SECRET_CHARS:
            raise ConfigError(f"the web session key (from [web] secret_key_file or "
                              f"${web.secret_key_env}) needs at least {MIN_SECRET_CHARS} "
                              "characters")
        return configured
    path = secret_file_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two servers starting at once must not each write their own key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32) + "\n")
        log.info("made a new session key in %s", path)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the web session key {path}: {exc.strerror}") from exc
    if len(key) < MIN_SECRET_CHARS:
        raise ConfigError(f"{path}: the web session key is too short; delete the file "
                          "and a new one is made")
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
