"""The labelled training corpus in `models/corpus/*.jsonl` (pure reading, no scikit-learn).

Each line: `{"subject": str, "body": str, "category": str, "also": [str, ...]}`.
`models/LABELLING.md` says how examples are labelled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from responder.classifier import CATEGORIES
from responder.errors import ResponderError
from responder.features import model_text


@dataclass(frozen=True, slots=True)
class Example:
    subject: str
    body: str
    category: str
    also: tuple[str, ...]
    source: str  # "file.jsonl:line", for error messages and duplicate reports

    @property
    def text(self) -> str:
        return model_text(self.subject, self.body)


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def corpus_digest(folder: Path) -> str:
    """SHA-256 over the corpus files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in corpus_files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_corpus(folder: Path) -> list[Example]:
    """Every example, validated; a bad line raises naming its file and line."""
    files = corpus_files(folder)
    if not files:
        raise ResponderError(f"{folder}: no *.jsonl corpus files")
    examples: list[Example] = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
                category = row["category"]
                also = tuple(row.get("also", []))
                subject, body = str(row.get("subject", "")), str(row.get("body", ""))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ResponderError(f"{where}: not a corpus example ({exc})") from exc
            if category not in CATEGORIES or any(a not in CATEGORIES for a in also):
                raise ResponderError(f"{where}: unknown category in {category!r} / {also!r}")
            if not (subject.strip() or body.strip()):
                raise ResponderError(f"{where}: empty example")
            examples.append(Example(subject, body, category, also, where))
    return examples
