"""Settings: one TOML file, validated once into frozen dataclasses, with env overrides.

Every setting is declared once below, with its type, default and help; the
loader, the environment overrides (`RESPONDER_<SECTION>_<KEY>`, for example
`RESPONDER_IMAP_HOST`) and the test that checks `config.example.toml` all
read these declarations. A wrong, unknown or ill-typed key is a one-line
`ConfigError` naming the key and the file.

Relative paths in a config file are relative to the file's folder; with no
file they are relative to the working directory, except the model and the
templates, which default to the ones in the project.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responder.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "RESPONDER_CONFIG"
DEFAULT_CONFIG_NAME = "responder.toml"


def setting(default: Any, help: str, *, choices: tuple[str, ...] = (), path: bool = False) -> Any:
    meta = {"help": help, "choices": choices, "path": path}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ResponderSettings:
    support_address: str = setting("support@kiwamibox.example",
                                   "Our support address: mail from it is never answered.")
    own_addresses: list = setting([], "Other addresses of ours that must never be answered.")
    shop_name: str = setting("Kiwami Box", "The shop's name, used in drafts.")
    signature: str = setting("Kiwami Box Support", "The sign-off under every draft.")
    log_level: str = setting("INFO", "Logging level.",
                             choices=("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class SourceSettings:
    kind: str = setting("maildir", "Where mail comes from: a local Maildir or an IMAP account.",
                        choices=("maildir", "imap"))


@dataclass(frozen=True)
class MaildirSettings:
    path: str = setting("demo/inbox", "The Maildir folder read when source.kind is maildir.",
                        path=True)


@dataclass(frozen=True)
class ImapSettings:
    host: str = setting("", "IMAP server host name.")
    port: int = setting(993, "IMAP port: 993 for tls, 143 for starttls or plain.")
    security: str = setting("tls", "tls (implicit), starttls, or plain (local testing only).",
                            choices=("tls", "starttls", "plain"))
    username: str = setting("", "IMAP login name.")
    password_env: str = setting("RESPONDER_IMAP_PASSWORD",
                                "Environment variable that holds the IMAP password.")
    password_file: str = setting("", "File that holds the IMAP password (wins over the env).",
                                 path=True)
    folder: str = setting("INBOX", "The folder to triage.")
    batch_size: int = setting(500, "Messages fetched per IMAP FETCH and committed together.")
    max_message_bytes: int = setting(25_000_000,
                                     "Larger messages get a human verdict without parsing.")
    keyword: str = setting("$Triaged", "Keyword set on triaged mail, where the server allows it.")
    move_to: str = setting("", "Move triaged mail to this folder; empty keeps it in place.")
    timeout_seconds: float = setting(30.0, "Network timeout for one IMAP command.")
    idle_seconds: int = setting(600, "Re-issue IDLE after this long (servers drop it at 29 min).")


@dataclass(frozen=True)
class StoreSettings:
    path: str = setting("responder.db", "The SQLite database: messages, verdicts, drafts.",
                        path=True)


@dataclass(frozen=True)
class ModelSettings:
    path: str = setting("", "The model artifact (.json; the .npz lies beside it). "
                        "Empty: the project's models/model.json.", path=True)


@dataclass(frozen=True)
class DraftingSettings:
    templates: str = setting("", "Folder of reply templates. Empty: the project's templates/.",
                             path=True)


@dataclass(frozen=True)
class WorkerSettings:
    poll_seconds: int = setting(60, "Interval between polls of `responder run`.")
    retry_max_seconds: int = setting(300, "Longest wait between retries when the server is down.")
    send_after_poll: bool = setting(True, "Send approved replies at the end of each poll.")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = setting("", "SMTP server host name; empty disables sending.")
    port: int = setting(587, "SMTP port: 587 for starttls, 465 for tls, 25 for plain.")
    security: str = setting("starttls", "starttls, tls (implicit), or plain (local testing only).",
                            choices=("tls", "starttls", "plain"))
    username: str = setting("", "SMTP login; empty sends without authentication.")
    password_env: str = setting("RESPONDER_SMTP_PASSWORD",
                                "Environment variable that holds the SMTP password.")
    password_file: str = setting("", "File that holds the SMTP password.", path=True)
    from_address: str = setting("", "Our From address; empty: responder.support_address.")
    from_name: str = setting("Kiwami Box Support", "Display name of our From address.")
    message_id_domain: str = setting("kiwamibox.example", "Domain of our replies' Message-IDs.")
    sent_folder: str = setting("", "IMAP folder to append a copy of each reply to; empty: none.")
    timeout_seconds: float = setting(30.0, "Network timeout for SMTP.")
    max_per_recipient: int = setting(3, "Replies to one address per window, unless staff override.")
    window_hours: int = setting(24, "The window of max_per_recipient, in hours.")
    retry_seconds: int = setting(60, "First wait before retrying a failed send; doubles each time.")


@dataclass(frozen=True)
class WebSettings:
    host: str = setting("127.0.0.1", "Address the review page listens on.")
    port: int = setting(8025, "Port of the review page.")
    secret_key_env: str = setting("RESPONDER_WEB_SECRET",
                                  "Environment variable with the session signing key.")
    secret_key_file: str = setting("", "File with the session signing key; if neither is set, "
                                   "one is made and kept beside the store.", path=True)
    threads: int = setting(4, "Worker threads of the WSGI server.")
    secure_cookies: bool = setting(False, "Mark session cookies Secure: set when a TLS proxy "
                                   "serves the page.")


@dataclass(frozen=True)
class Config:
    responder: ResponderSettings = field(default_factory=ResponderSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    maildir: MaildirSettings = field(default_factory=MaildirSettings)
    imap: ImapSettings = field(default_factory=ImapSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    drafting: DraftingSettings = field(default_factory=DraftingSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    web: WebSettings = field(default_factory=WebSettings)
    source_file: str = ""  # the file this was read from, "" for defaults

    @property
    def model_path(self) -> Path:
        return Path(self.model.path) if self.model.path else PROJECT_ROOT / "models/model.json"

    @property
    def templates_path(self) -> Path:
        return Path(self.drafting.templates) if self.drafting.templates else (
            PROJECT_ROOT / "templates"
        )

    @property
    def own_addresses(self) -> tuple[str, ...]:
        addresses = [self.responder.support_address, self.smtp.from_address,
                     *self.responder.own_addresses]
        return tuple(sorted({a.strip().lower() for a in addresses if a and a.strip()}))

    @property
    def from_address(self) -> str:
        return self.smtp.from_address or self.responder.support_address


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config) if f.name != "source_file"}
_SECTION_CLASSES = {f.name: f.default_factory for f in dataclasses.fields(Config)
                    if f.name != "source_file"}


def declared_settings() -> list[tuple[str, str, Any, str]]:
    """(section, key, default, help) of every setting, in declaration order."""
    out = []
    for section, cls in _SECTION_CLASSES.items():
        for f in dataclasses.fields(cls):
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            out.append((section, f.name, default, f.metadata["help"]))
    return out


def _coerce(value: Any, default: Any, where: str) -> Any:
    expected = type(default)
    if expected is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false",
                                                        "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if expected is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if expected is list:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def find_config_file(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.is_file() else None


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, validate and resolve the configuration; raise `ConfigError` on any mistake."""
    env = dict(os.environ) if env is None else env
    file = find_config_file(str(path) if path else None)
    data: dict[str, Any] = {}
    base = Path.cwd()
    label = "defaults"
    if file is not None:
        label = str(file)
        if not file.is_file():
            raise ConfigError(f"{file}: no such config file")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        base = file.resolve().parent

    for section, values in data.items():
        if section not in _SECTION_CLASSES:
            raise ConfigError(f"{label}: unknown section [{section}]"
                              f"{_suggest(section, list(_SECTION_CLASSES))}")
        if not isinstance(values, dict):
            raise ConfigError(f"{label}: [{section}] must be a table of settings")

    sections: dict[str, Any] = {}
    for section, cls in _SECTION_CLASSES.items():
        given = dict(data.get(section, {}))
        names = [f.name for f in dataclasses.fields(cls)]
        for key in given:
            if key not in names:
                raise ConfigError(f"{label}: unknown key [{section}] {key}"
                                  f"{_suggest(key, names)}")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            env_name = f"RESPONDER_{section}_{f.name}".upper()
            if env_name in env:
                value = _coerce(env[env_name], default, f"environment variable {env_name}")
                origin_base = Path.cwd()
            elif f.name in given:
                value = _coerce(given[f.name], default, f"{label}: [{section}] {f.name}")
                origin_base = base
            else:
                value = default
                origin_base = Path.cwd()
            choices = f.metadata["choices"]
            if choices and value not in choices:
                raise ConfigError(f"{label}: [{section}] {f.name} must be one of "
                                  f"{', '.join(choices)}; got {value!r}")
            if f.metadata["path"] and value:
                value = str((origin_base / Path(value).expanduser()).resolve())
            values[f.name] = value
        sections[section] = cls(**values)
    config = Config(**sections, source_file=str(file or ""))
    if config.source.kind == "imap" and not config.imap.host:
        raise ConfigError(f"{label}: [imap] host is required when [source] kind is imap")
    return config


def read_secret(env_name: str, file_name: str, env: dict[str, str] | None = None) -> str | None:
    """A password from its file (first line) or its environment variable, or None."""
    env = os.environ if env is None else env
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise ConfigError(f"cannot read the password file {file_name}: {exc}") from exc
    value = env.get(env_name) if env_name else None
    return value or None
