"""The model artifact: loads without scikit-learn, refuses tampering, rebuilds reproducibly,
and scores exactly as scikit-learn does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from responder.classifier import CATEGORIES, load_model
from responder.corpus import load_corpus
from responder.errors import ModelError

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "model.json"


def copy_model(tmp_path: Path) -> Path:
    shutil.copy(MODEL, tmp_path / "model.json")
    shutil.copy(MODEL.with_suffix(".npz"), tmp_path / "model.npz")
    return tmp_path / "model.json"


def test_shipped_model_metadata(model) -> None:
    meta = model.meta
    assert meta["labels"] == list(CATEGORIES)
    assert set(meta["thresholds"]) == set(CATEGORIES)
    assert meta["metrics"]["folds"] == 5 and "macro_f1" in meta["metrics"]
    assert {"numpy", "scikit-learn", "python"} <= set(meta["versions"])
    assert len(meta["corpus_sha256"]) == 64


def test_inference_does_not_import_sklearn(samples_dir: Path) -> None:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['responder', 'classify', {str(samples_dir / 's001.eml')!r}]\n"
        "try:\n    runpy.run_module('responder', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('SKLEARN' if any(m.startswith('sklearn') for m in sys.modules) else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip().endswith("CLEAN"), out.stdout + out.stderr


def test_tampered_arrays_are_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    data = bytearray((tmp_path / "model.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "model.npz").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.npz.*responder train"):
        load_model(path)


def test_edited_metadata_is_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    meta = json.loads(path.read_text())
    meta["thresholds"]["cancel_order"] = 0.1
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"model\.json.*modified.*responder train"):
        load_model(path)


def test_missing_model_names_the_rebuild_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="responder train"):
        load_model(tmp_path / "model.json")


def test_pickles_are_never_loaded(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    np.savez(tmp_path / "model.npz", coef=np.array([object()], dtype=object))
    with pytest.raises(ModelError):
        load_model(path)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """Thirty examples per category: enough to train in seconds."""
    folder = tmp_path_factory.mktemp("corpus")
    examples = load_corpus(ROOT / "models" / "corpus")
    rows: dict[str, list[str]] = {}
    for e in examples:
        if len(rows.setdefault(e.category, [])) < 30:
            rows[e.category].append(json.dumps({"subject": e.subject, "body": e.body,
                                                "category": e.category, "also": list(e.also)}))
    (folder / "small.jsonl").write_text("\n".join(sum(rows.values(), [])) + "\n")
    return folder


@pytest.mark.slow
def test_training_is_reproducible_and_matches_sklearn(small_corpus: Path, tmp_path: Path) -> None:
    from responder import training

    first, second = tmp_path / "a" / "model.json", tmp_path / "b" / "model.json"
    training.train(small_corpus, first)
    training.train(small_corpus, second)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".npz").read_bytes() == second.with_suffix(".npz").read_bytes()

    model = load_model(first)
    texts = [e.text for e in load_corpus(small_corpus)]
    y = np.array([CATEGORIES.index(e.category) for e in load_corpus(small_corpus)])
    vectorizers, x = training._fit_transform(texts)
    reference = training._classifier(model.meta["metrics"]["C"]).fit(x, y)
    probe = texts[:20] + ["my parcel is late and customs want money", "", "¿dónde está?"]
    expected = reference.decision_function(training._transform(vectorizers, probe))
    got = np.array([model.decision_scores(t) for t in probe])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
