"""Configuration: one-line errors naming key and file, env overrides, documented settings."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from responder.config import declared_settings, load_config
from responder.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "responder.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[imap]\nhots = 'x'\n",
         r"responder\.toml: unknown key \[imap\] hots \(did you mean 'host'\?\)"),
        ("[imapp]\nhost = 'x'\n", r"unknown section \[imapp\] \(did you mean 'imap'\?\)"),
        ("[imap]\nport = 'abc'\n", r"\[imap\] port must be an integer"),
        ("[imap]\nsecurity = 'ssl'\n", r"\[imap\] security must be one of tls, starttls, plain"),
        ("[source]\nkind = 'imap'\n", r"\[imap\] host is required"),
        ("[imap\n", r"not valid TOML"),
    ],
)
def test_config_errors_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config(write(tmp_path, text), env={})
    assert "\n" not in str(info.value)
    assert str(tmp_path / "responder.toml") in str(info.value) or "TOML" not in message


def test_env_overrides_file_and_paths_resolve_against_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[imap]\nhost = 'a.example'\nport = 143\n[store]\npath = 'q.db'\n")
    config = load_config(path, env={"RESPONDER_IMAP_HOST": "b.example"})
    assert config.imap.host == "b.example" and config.imap.port == 143
    assert config.store.path == str(tmp_path / "q.db")
    with pytest.raises(ConfigError, match="RESPONDER_IMAP_PORT must be an integer"):
        load_config(path, env={"RESPONDER_IMAP_PORT": "x"})


def test_example_config_documents_every_setting() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    for section, key, default, _help in declared_settings():
        assert key in example.get(section, {}), f"config.example.toml lacks [{section}] {key}"
        assert example[section][key] == default, f"[{section}] {key} differs from its default"
    load_config(ROOT / "config.example.toml", env={})


def test_readme_shows_the_two_commands_and_every_subcommand() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    for command in ("classify", "train", "evaluate", "run --once", "run --idle", "review list",
                    "review show", "review approve", "review reject", "send", "serve",
                    "user add"):
        assert f"responder {command}" in readme, command
    for section, key, _default, _help in declared_settings():
        if section in ("imap", "store"):
            assert re.search(rf"\b{key}\b", readme), f"README does not mention [{section}] {key}"


def test_wrong_config_key_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[store]\npaht = 'x'\n")
    result = subprocess.run([sys.executable, "-m", "responder", "-c", str(path), "review",
                             "list"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "paht" in result.stderr
