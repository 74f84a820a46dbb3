"""Hostile real mail from other projects' test suites: every message gets a verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from responder.cli import iter_message_files


def test_every_realmail_message_gets_a_verdict(realmail_dir: Path, triager) -> None:
    files = iter_message_files([str(realmail_dir)])
    assert len(files) > 300
    actions: Counter[str] = Counter()
    for path in files:
        result = triager.triage(path.read_bytes())  # must not raise
        actions[result.verdict.action] += 1
        assert result.verdict.category
    assert sum(actions.values()) == len(files)
    assert actions["skip"] > 20  # the bounces and reports among them


@pytest.mark.slow
def test_classify_realmail_exits_zero(realmail_dir: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "responder", "classify", str(realmail_dir)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(iter_message_files([str(realmail_dir)]))
