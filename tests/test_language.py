"""The language check: every sample's language as labelled, and the English corpus as English."""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.corpus import load_corpus
from responder.language import detect_language
from responder.parsing import parse_message

ROOT = Path(__file__).resolve().parent.parent


def test_samples_languages_match_labels(samples_dir: Path, sample_labels: list[dict]) -> None:
    wrong = []
    for label in sample_labels:
        if label["action"] == "skip":
            continue
        msg = parse_message((samples_dir / label["file"]).read_bytes())
        english = detect_language(f"{msg.subject}\n{msg.newest_text}") == "en"
        if english != (label["lang"] == "en"):
            wrong.append(label["file"])
    assert wrong == []


def test_corpus_reads_as_english() -> None:
    examples = load_corpus(ROOT / "models" / "corpus")
    not_english = [e.source for e in examples if detect_language(e.text) != "en"]
    assert len(not_english) <= len(examples) // 200, not_english


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bonjour, mon colis est retenu par la douane. Pouvez-vous m'aider ?", "fr"),
        ("Hola, quiero cancelar mi pedido por favor, gracias", "es"),
        ("Hallo, mein Paket ist noch nicht da. Bitte helfen Sie mir.", "de"),
        ("荷物がまだ届いていません。確認してください。", "xx"),
        ("Please cancel #58213", "en"),
        ("see subject", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
