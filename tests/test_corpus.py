"""The training corpus: big enough, labelled with the contract's names, no near-duplicates,
and nothing copied from the held-out samples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from responder.classifier import CATEGORIES
from responder.corpus import load_corpus
from responder.parsing import parse_message

ROOT = Path(__file__).resolve().parent.parent
NEAR_DUPLICATE = 0.9


def _max_similarities(texts: list[str], other: list[str] | None = None) -> np.ndarray:
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit(texts + (other or []))
    a = vectorizer.transform(texts)
    b = vectorizer.transform(other) if other is not None else a
    return (a @ b.T).toarray()


def test_at_least_150_examples_per_category() -> None:
    counts = Counter(e.category for e in load_corpus(ROOT / "models" / "corpus"))
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 150, counts


def test_no_near_duplicates() -> None:
    examples = load_corpus(ROOT / "models" / "corpus")
    sims = _max_similarities([e.text for e in examples])
    np.fill_diagonal(sims, 0)
    pairs = [(examples[i].source, examples[j].source, round(float(sims[i, j]), 3))
             for i, j in zip(*np.where(np.triu(sims) > NEAR_DUPLICATE), strict=True)]
    assert pairs == []


def test_nothing_copied_from_the_samples(samples_dir: Path) -> None:
    samples = []
    for path in sorted(samples_dir.glob("*.eml")):
        msg = parse_message(path.read_bytes())
        if len(msg.newest_text.split()) >= 8:
            samples.append(f"{msg.subject}\n{msg.newest_text}")
    examples = [e.text for e in load_corpus(ROOT / "models" / "corpus")]
    sims = _max_similarities(samples, examples)
    assert float(sims.max()) < 0.8
