"""Corpus to model artifact: TF-IDF + logistic regression, calibrated and thresholded.

The only module that imports scikit-learn. Reproducible: fixed seeds and
a deterministic solver, so the same corpus and library versions give the
same model, byte for byte.

Steps:
1. five-fold stratified cross-validation (vectorizers fitted inside each fold)
   gives out-of-fold scores for every example;
2. a temperature fitted on those scores calibrates the softmax;
3. per-category thresholds on the calibrated out-of-fold probabilities keep
   the share of wrong confident drafts under `WRONG_DRAFT_CAP` while
   drafting as much as possible;
4. the final model is fitted on the whole corpus and written as JSON + npz,
   with a model card (`models/README.md`) holding the cross-validated figures.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from responder.classifier import CATEGORIES, FORMAT, arrays_path, content_digest
from responder.corpus import corpus_digest, load_corpus
from responder.features import char_features, word_features

SEED = 20261126
FOLDS = 5
C_VALUES = (5.0, 10.0, 20.0)
# Word features weigh more: chosen by cross-validation (macro-F1 0.930 against 0.924).
BLOCK_WEIGHTS = {"word": 1.5, "char": 1.0}
# Out-of-fold error allowed among one category's drafts, and the cap on wrong
# drafts as a share of all mail. The product's goal is 1% of customer mail;
# the corpus is written to be harder than real mail (a third of it mixes in
# other categories' words), but unseen mail may differ, so we keep a margin.
CATEGORY_ERROR_TARGET = 0.015
WRONG_DRAFT_CAP = 0.008
# A floor under every threshold: the folds never hold mail from outside the shop
# ("took the attached photo of a girl..." reads 0.95 like a damage claim).
MIN_THRESHOLD = 0.9
DRAFTABLE = tuple(c for c in CATEGORIES if c != "other")


@dataclass
class TrainReport:
    model_path: Path
    examples: int
    per_category: dict[str, int]
    metrics: dict


def _vectorizers() -> dict[str, TfidfVectorizer]:
    common = {"sublinear_tf": True, "min_df": 2, "lowercase": False, "dtype": np.float64}
    return {
        "word": TfidfVectorizer(analyzer=word_features, **common),
        "char": TfidfVectorizer(analyzer=char_features, **common),
    }


def _fit_transform(texts: list[str]) -> tuple[dict[str, TfidfVectorizer], object]:
    from scipy.sparse import hstack

    vectorizers = _vectorizers()
    blocks = [vectorizers[name].fit_transform(texts) * BLOCK_WEIGHTS[name] for name in vectorizers]
    return vectorizers, hstack(blocks).tocsr()


def _transform(vectorizers: dict[str, TfidfVectorizer], texts: list[str]) -> object:
    from scipy.sparse import hstack

    blocks = [vectorizers[name].transform(texts) * BLOCK_WEIGHTS[name] for name in vectorizers]
    return hstack(blocks).tocsr()


def _classifier(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, solver="lbfgs", random_state=SEED)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def out_of_fold_scores(texts: list[str], y: np.ndarray, c: float) -> np.ndarray:
    scores = np.zeros((len(texts), len(CATEGORIES)))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
        vectorizers, x_train = _fit_transform([texts[i] for i in train_idx])
        model = _classifier(c).fit(x_train, y[train_idx])
        x_test = _transform(vectorizers, [texts[i] for i in test_idx])
        scores[test_idx] = model.decision_function(x_test)
    return scores


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    best_t, best_nll = 1.0, float("inf")
    for t in np.round(np.arange(0.2, 4.01, 0.05), 2):
        probs = _softmax(scores, float(t))
        nll = -float(np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12)))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def choose_thresholds(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Per-category draft thresholds on calibrated out-of-fold probabilities.

    Each category gets the lowest threshold at which at most
    `CATEGORY_ERROR_TARGET` of its drafts are wrong; then all are raised
    together until wrong drafts are at most `WRONG_DRAFT_CAP` of all mail.
    """
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    grid = [round(float(t), 2) for t in np.arange(MIN_THRESHOLD, 0.991, 0.01)]
    thresholds: dict[str, float] = {"other": 1.0}  # `other` is never drafted
    for index, category in enumerate(CATEGORIES):
        if category == "other":
            continue
        thresholds[category] = grid[-1]
        for t in grid:
            drafted = (pred == index) & (conf >= t)
            wrong = int((drafted & (y != index)).sum())
            if wrong <= CATEGORY_ERROR_TARGET * max(int(drafted.sum()), 1):
                thresholds[category] = t
                break
    while draft_figures(probs, y, thresholds)["wrong_draft_share"] > WRONG_DRAFT_CAP:
        raised = {c: min(grid[-1], round(t + 0.01, 2)) if c != "other" else t
                  for c, t in thresholds.items()}
        if raised == thresholds:
            break
        thresholds = raised
    return thresholds


def draft_figures(probs: np.ndarray, y: np.ndarray, thresholds: dict[str, float]) -> dict:
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    limits = np.array([thresholds[c] for c in CATEGORIES])
    drafted = conf >= limits[pred]
    return {
        "drafted_share": round(float(drafted.mean()), 4),
        "drafted_right_share": round(float((drafted & (pred == y)).mean()), 4),
        "wrong_draft_share": round(float((drafted & (pred != y)).mean()), 4),
    }


def coverage_curve(probs: np.ndarray, y: np.ndarray) -> list[dict]:
    """Drafted share against precision of drafts, for one global threshold."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    draftable = pred != CATEGORIES.index("other")
    rows = []
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98):
        drafted = draftable & (conf >= t)
        count = int(drafted.sum())
        precision = float((pred[drafted] == y[drafted]).mean()) if count else 1.0
        rows.append({
            "threshold": t,
            "coverage": round(count / len(y), 4),
            "precision": round(precision, 4),
            "wrong_share": round(float((drafted & (pred != y)).mean()), 4),
        })
    return rows


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def train(corpus_dir: Path, model_path: Path, card_path: Path | None = None) -> TrainReport:
    examples = load_corpus(corpus_dir)
    texts = [e.text for e in examples]
    y = np.array([CATEGORIES.index(e.category) for e in examples])

    by_c = {}
    for c in C_VALUES:
        scores = out_of_fold_scores(texts, y, c)
        by_c[c] = (float(f1_score(y, scores.argmax(axis=1), average="macro")), scores)
    best_c = max(C_VALUES, key=lambda c: (round(by_c[c][0], 4), -c))
    oof_scores = by_c[best_c][1]

    temperature = fit_temperature(oof_scores, y)
    probs = _softmax(oof_scores, temperature)
    thresholds = choose_thresholds(probs, y)
    pred = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=range(len(CATEGORIES)), zero_division=0
    )
    metrics = {
        "folds": FOLDS,
        "C": best_c,
        "macro_f1_by_C": {str(c): round(v[0], 4) for c, v in by_c.items()},
        "accuracy": round(float((pred == y).mean()), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "per_category": {
            c: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                "f1": round(float(f), 4), "support": int(s)}
            for c, p, r, f, s in zip(CATEGORIES, precision, recall, f1, support, strict=True)
        },
        "at_thresholds": draft_figures(probs, y, thresholds),
        "coverage_curve": coverage_curve(probs, y),
    }

    vectorizers, x_all = _fit_transform(texts)
    final = _classifier(best_c).fit(x_all, y)
    blocks = []
    arrays: dict[str, np.ndarray] = {}
    for name, vectorizer in vectorizers.items():
        vocabulary = [""] * len(vectorizer.vocabulary_)
        for feature, column in vectorizer.vocabulary_.items():
            vocabulary[column] = feature
        blocks.append({"name": name, "vocabulary": vocabulary, "weight": BLOCK_WEIGHTS[name]})
        arrays[f"idf_{name}"] = vectorizer.idf_.astype(np.float64)
    arrays["coef"] = final.coef_.astype(np.float64)
    arrays["intercept"] = final.intercept_.astype(np.float64)

    model_path.parent.mkdir(parents=True, exist_ok=True)
    npz_path = arrays_path(model_path)
    _write_npz(npz_path, arrays)
    meta = {
        "format": FORMAT,
        "labels": list(CATEGORIES),
        "blocks": blocks,
        "temperature": temperature,
        "thresholds": thresholds,
        "default_threshold": max(thresholds[c] for c in DRAFTABLE),
        "seed": SEED,
        "corpus_sha256": corpus_digest(corpus_dir),
        "corpus_examples": len(examples),
        "versions": _versions(),
        "metrics": metrics,
        "arrays_sha256": hashlib.sha256(npz_path.read_bytes()).hexdigest(),
    }
    meta["content_sha256"] = content_digest(meta)
    model_path.write_text(json.dumps(meta, ensure_ascii=True, separators=(",", ":")) + "\n")

    per_category = {c: int((y == i).sum()) for i, c in enumerate(CATEGORIES)}
    if card_path is not None:
        card_path.write_text(model_card(meta, per_category))
    return TrainReport(model_path, len(examples), per_category, metrics)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez stamps zip entries with the current time; fix it for reproducible bytes."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.save(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def model_card(meta: dict, per_category: dict[str, int]) -> str:
    m = meta["metrics"]
    lines = [
        "# Model card: the shipped category classifier",
        "",
        "Written by `responder train`; do not edit by hand. Rebuild with `make model`.",
        "",
        f"- Model: TF-IDF (word 1-2-grams, character 3-5-grams within words, sublinear tf)"
        f" and multinomial logistic regression, C={m['C']}, temperature {meta['temperature']}.",
        f"- Corpus: {meta['corpus_examples']} examples written for this project"
        f" (`models/corpus/`, SHA-256 `{meta['corpus_sha256'][:16]}...`), labelled by"
        " `models/LABELLING.md`.",
        f"- Seed {meta['seed']}; " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + ".",
        "",
        "## Corpus size per category",
        "",
        "| category | examples |",
        "|---|---|",
        *[f"| `{c}` | {n} |" for c, n in per_category.items()],
        "",
        f"## Cross-validated figures ({m['folds']}-fold, out-of-fold predictions)",
        "",
        f"Accuracy {m['accuracy']}, macro-F1 {m['macro_f1']}"
        f" (macro-F1 by C: {m['macro_f1_by_C']}).",
        "",
        "| category | precision | recall | F1 | support | draft threshold |",
        "|---|---|---|---|---|---|",
        *[
            f"| `{c}` | {v['precision']} | {v['recall']} | {v['f1']} | {v['support']} |"
            f" {meta['thresholds'][c] if c != 'other' else 'never drafted'} |"
            for c, v in m["per_category"].items()
        ],
        "",
        "At these thresholds, out of fold: "
        f"{m['at_thresholds']['drafted_share']:.1%} of mail drafted, "
        f"{m['at_thresholds']['drafted_right_share']:.1%} drafted under the right category, "
        f"{m['at_thresholds']['wrong_draft_share']:.2%} under a wrong one.",
        "",
        "## Coverage against precision (one global threshold, `other` never drafted)",
        "",
        "| threshold | drafted share | precision of drafts | wrong drafts (share of all) |",
        "|---|---|---|---|",
        *[
            f"| {r['threshold']} | {r['coverage']:.1%} | {r['precision']:.2%} |"
            f" {r['wrong_share']:.2%} |"
            for r in m["coverage_curve"]
        ],
        "",
    ]
    return "\n".join(lines)
