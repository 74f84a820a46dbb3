"""The category classifier at run time: load the artifact, score a text (numpy only).

The artifact is two files written by `responder train`:

    models/model.json   labels, vocabularies, temperature, thresholds, corpus hash,
                        library versions, cross-validated metrics, and two SHA-256
                        sums: of the arrays file and of this JSON's own content
    models/model.npz    idf weights per feature block, coefficients, intercepts

Neither executes code when loaded (`numpy.load(..., allow_pickle=False)`), and
both sums are checked, so an edited or mismatched file is refused with an
error naming it and the command that rebuilds it. scikit-learn is never
imported here: a cron run that reads one email starts in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from responder.errors import ModelError
from responder.features import char_features_of_word, mark_negation, tokens, word_ngrams

FORMAT = "responder-model/1"
MIN_KNOWN_WORDS = 3  # distinct known words below which no prediction counts as confident
REBUILD = "rebuild it with `responder train` (or `make model`)"
CATEGORIES = (
    "cancel_order",
    "return_exchange",
    "shipping_delay",
    "unwanted_item",
    "customs_held",
    "damaged_item",
    "other",
)


def content_digest(meta: dict) -> str:
    """SHA-256 of the metadata's canonical JSON, without the digest field itself."""
    body = {k: v for k, v in meta.items() if k != "content_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Prediction:
    """`category` is the most probable label; `probabilities` covers every label."""

    category: str
    confidence: float
    probabilities: dict[str, float]
    threshold: float

    @property
    def confident(self) -> bool:
        return self.confidence >= self.threshold


class _Block:
    __slots__ = ("name", "index", "idf", "offset", "weight")

    def __init__(self, name: str, vocabulary: list[str], idf: np.ndarray, offset: int,
                 weight: float) -> None:
        self.name = name
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self.idf = idf
        self.offset = offset
        self.weight = weight


class Model:
    """A loaded, verified classifier. Build one with `load_model(path)`."""

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.meta = meta
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self.temperature = float(meta["temperature"])
        self.default_threshold = float(meta["default_threshold"])
        self.thresholds: dict[str, float] = {k: float(v) for k, v in meta["thresholds"].items()}
        self.blocks: list[_Block] = []
        offset = 0
        for spec in meta["blocks"]:
            idf = arrays[f"idf_{spec['name']}"]
            self.blocks.append(_Block(spec["name"], spec["vocabulary"], idf, offset,
                                      float(spec["weight"])))
            offset += len(spec["vocabulary"])
        # Rows are features, so one fancy-index gathers the rows a text touches.
        self.coef_t = np.ascontiguousarray(arrays["coef"].T)
        self.intercept = arrays["intercept"]
        self._char_cache: dict[str, np.ndarray] = {}
        self.word_vocabulary = next(b.index for b in self.blocks if b.name == "word")

    # -- features -------------------------------------------------------
    def _char_columns(self, block: _Block, words: list[str]) -> np.ndarray:
        """Columns of the character n-grams of `words`, one entry per occurrence.

        Words repeat across mails, so each word's columns are computed once and
        cached: per message this is one concatenation instead of a dictionary
        lookup per n-gram.
        """
        cache = self._char_cache
        parts = []
        index = block.index
        for word in words:
            cols = cache.get(word)
            if cols is None:
                found = [index[g] for g in char_features_of_word(word) if g in index]
                cols = np.asarray(found, dtype=np.int64)
                if len(cache) < 200_000:
                    cache[word] = cols
            parts.append(cols)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def _word_columns(self, block: _Block, words: list[str]) -> np.ndarray:
        index = block.index
        found = [index[f] for f in word_ngrams(mark_negation(words)) if f in index]
        return np.asarray(found, dtype=np.int64)

    def decision_scores(self, text: str) -> np.ndarray:
        """Raw linear scores per label, exactly as scikit-learn would compute them."""
        return self._scores(tokens(text))

    def _scores(self, words: list[str]) -> np.ndarray:
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block in self.blocks:
            if block.name == "word":
                occurrences = self._word_columns(block, words)
            else:
                occurrences = self._char_columns(block, words)
            if occurrences.size == 0:
                continue
            cols, counts = np.unique(occurrences, return_counts=True)
            weights = (1.0 + np.log(counts)) * block.idf[cols]
            norm = math.sqrt(float(weights @ weights))
            if norm > 0:
                weights *= block.weight / norm
            columns.append(cols + block.offset)
            values.append(weights)
        if not columns:
            return self.intercept.astype(np.float64).copy()
        rows = self.coef_t[np.concatenate(columns)]
        return self.intercept + np.concatenate(values) @ rows

    def _softmax(self, scores: np.ndarray) -> np.ndarray:
        scores = scores / self.temperature
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

    def probabilities(self, text: str) -> np.ndarray:
        return self._softmax(self.decision_scores(text))

    def predict(self, text: str) -> Prediction:
        words = tokens(text)
        probs = self._softmax(self._scores(words))
        best = int(probs.argmax())
        category = self.labels[best]
        threshold = self.thresholds.get(category, self.default_threshold)
        # With almost no word the model knows ("64423 / Blah blah blah"), the scores are
        # little more than the intercepts, and the softmax is confident about nothing.
        if sum(1 for word in set(words) if word in self.word_vocabulary) < MIN_KNOWN_WORDS:
            threshold = 1.01
        return Prediction(
            category=category,
            confidence=float(probs[best]),
            probabilities={label: float(p) for label, p in zip(self.labels, probs, strict=True)},
            threshold=threshold,
        )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def arrays_path(meta_path: Path) -> Path:
    return meta_path.with_suffix(".npz")


def load_model(path: str | Path) -> Model:
    """Load and verify the artifact at `path` (the .json; the .npz lies beside it)."""
    meta_path = Path(path)
    npz_path = arrays_path(meta_path)
    if not meta_path.is_file():
        raise ModelError(f"{meta_path}: no model file; {REBUILD}")
    if not npz_path.is_file():
        raise ModelError(f"{npz_path}: the model's arrays file is missing; {REBUILD}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path}: not a readable model file ({exc}); {REBUILD}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{meta_path}: not a {FORMAT} artifact; {REBUILD}")
    if meta.get("content_sha256") != content_digest(meta):
        raise ModelError(f"{meta_path}: the file was modified after training; {REBUILD}")
    if meta.get("arrays_sha256") != _sha256_file(npz_path):
        raise ModelError(f"{npz_path}: does not match {meta_path.name} (tampered or from "
                         f"another training run); {REBUILD}")
    if sorted(meta.get("labels", [])) != sorted(CATEGORIES):
        raise ModelError(f"{meta_path}: its labels are not the contract's categories; {REBUILD}")
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        n_features = sum(len(block["vocabulary"]) for block in meta["blocks"])
        coef = arrays["coef"]
        if coef.shape != (len(meta["labels"]), n_features):
            raise ValueError(f"coefficients of shape {coef.shape}")
        for block in meta["blocks"]:
            if arrays[f"idf_{block['name']}"].shape != (len(block["vocabulary"]),):
                raise ValueError(f"idf of block {block['name']} has the wrong length")
        return Model(meta, arrays)
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{npz_path}: inconsistent model ({exc}); {REBUILD}") from exc
