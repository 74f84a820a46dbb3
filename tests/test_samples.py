"""`responder classify` on the shared samples: contract-valid lines and the issue's promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from responder.classifier import CATEGORIES

ACTIONS = {"draft", "human", "skip"}
KNOWN_FLAGS = {"missing_evidence", "low_confidence", "auto_generated", "bulk", "bounce",
               "non_english", "multiple_intents", "own_address", "unreadable", "oversized"}


def classify(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "responder", "classify", *paths],
                          capture_output=True, text=True, timeout=300)


def test_samples_contract_and_promises(samples_dir: Path, sample_labels: list[dict]) -> None:
    result = classify(str(samples_dir))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(v["file"]).name for v in lines] == sorted(lab["file"] for lab in sample_labels)
    verdicts = {Path(v["file"]).name: v for v in lines}
    for v in lines:
        assert set(v) == {"file", "message_id", "category", "confidence", "action", "flags",
                          "draft"}
        assert v["category"] in CATEGORIES and v["action"] in ACTIONS
        assert 0.0 <= v["confidence"] <= 1.0
        assert set(v["flags"]) <= KNOWN_FLAGS
        assert v["draft"] is None or "{{" not in v["draft"]
        if v["action"] == "draft":
            assert v["draft"] and v["category"] != "other"
    for label in sample_labels:
        v = verdicts[label["file"]]
        assert (v["action"] == "skip") == (label["action"] == "skip"), label["file"]
        if label["missing_evidence"] is True:
            assert "missing_evidence" in v["flags"] and v["action"] == "human", label["file"]
        if label["missing_evidence"] is False:
            assert "missing_evidence" not in v["flags"], label["file"]
        if label["action"] != "skip" and v["action"] == "draft":
            assert v["category"] == label["category"], f"wrong draft for {label['file']}"
        if label["category"] == "other" and label["action"] != "skip":
            assert v["action"] == "human", label["file"]
        if label["lang"] != "en" and label["action"] != "skip":
            assert "non_english" in v["flags"] and v["action"] == "human", label["file"]
    english = [lab for lab in sample_labels if lab["action"] != "skip" and lab["lang"] == "en"]
    right = sum(1 for lab in english if verdicts[lab["file"]]["category"] == lab["category"])
    assert right / len(english) >= 0.9


def test_classify_bad_path_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = classify(str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_classify_reads_folders_recursively_and_skips_notes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "0001").write_bytes(b"From: a@b.example\nSubject: cancel\n\ncancel it\n")
    (tmp_path / "b.eml").write_bytes(b"")  # unreadable: still a verdict
    (tmp_path / ".hidden").write_bytes(b"From: a@b.example\n\nx\n")
    for name in ("notes.md", "x.json", "labels.jsonl"):
        (tmp_path / name).write_text("{}")
    result = classify(str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(v["file"]).name for v in lines] == ["b.eml", "0001"]
    assert lines[0]["action"] == "human" and lines[0]["flags"] == ["unreadable"]
