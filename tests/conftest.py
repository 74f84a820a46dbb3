"""Shared fixtures: the shared test data, a triager on the built model, real-component checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from responder.classifier import load_model
from responder.drafting import Drafter
from responder.triage import Triager, TriageSettings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RESPONDER_SHARED", ROOT.parent / "shared"))
SAMPLES = SHARED / "samples"
REALMAIL = SHARED / "realmail"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip when a real component is missing on a developer machine; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI=true: a missing real component is a failure")
    pytest.skip(f"{what} is missing")


def require_program(name: str, *candidates: str) -> str:
    for candidate in (name, *candidates):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    require(False, f"the program {name}")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    require(SAMPLES.is_dir(), f"the shared samples folder {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def sample_labels(samples_dir: Path) -> list[dict]:
    lines = (samples_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def realmail_dir() -> Path:
    require(REALMAIL.is_dir(), f"the shared realmail folder {REALMAIL}")
    return REALMAIL


@pytest.fixture(scope="session")
def model():
    return load_model(ROOT / "models" / "model.json")


@pytest.fixture(scope="session")
def drafter() -> Drafter:
    return Drafter(ROOT / "templates")


@pytest.fixture(scope="session")
def triager(model, drafter) -> Triager:
    return Triager(
        load_model=lambda: model,
        drafter=drafter,
        settings=TriageSettings(own_addresses=("support@kiwamibox.example",)),
    )
