"""The text features of the classifier, shared by training and inference (pure).

Training hands these analyzers to scikit-learn's TfidfVectorizer; inference
(`classifier.py`) applies the same analyzers with the saved vocabulary and
idf weights, so the two agree exactly without importing scikit-learn at run
time. `tests/test_training.py` checks that agreement.

Digits are folded to `0`: order numbers and dates say nothing about the
category, and folding keeps them from filling the vocabulary.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})

CHAR_NGRAMS = (3, 4, 5)


def normalize(text: str) -> str:
    return _DIGITS.sub("0", text.lower().translate(_APOSTROPHES))


def tokens(text: str) -> list[str]:
    """Word tokens of normalized text: `"I don't like it"` -> `["i", "don't", "like", "it"]`."""
    return _TOKEN.findall(normalize(text))


# Words after these are marked `neg_`, so that "it is not broken, just the
# wrong size" does not read as a damage claim.
NEGATIONS = frozenset(
    "not no never nothing none nor without isn't wasn't aren't weren't don't didn't doesn't "
    "haven't hasn't won't can't cannot".split()
)
NEGATION_SPAN = 3


def mark_negation(words: list[str]) -> list[str]:
    """`["not", "broken", "at", "all"]` -> `["not", "neg_broken", "neg_at", "neg_all"]`."""
    out: list[str] = []
    left = 0
    for word in words:
        if word in NEGATIONS:
            left = NEGATION_SPAN
            out.append(word)
        elif left:
            out.append("neg_" + word)
            left -= 1
        else:
            out.append(word)
    return out


def word_ngrams(words: list[str]) -> list[str]:
    """Unigrams and bigrams of already negation-marked words."""
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def word_features(text: str) -> list[str]:
    """Word unigrams and bigrams, negation-marked."""
    return word_ngrams(mark_negation(tokens(text)))


def char_features_of_word(word: str) -> list[str]:
    """Character 3- to 5-grams of one word padded with spaces (like sklearn's char_wb)."""
    padded = f" {word} "
    out = []
    for n in CHAR_NGRAMS:
        if len(padded) < n:
            break
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def char_features(text: str) -> list[str]:
    out: list[str] = []
    for word in tokens(text):
        out.extend(char_features_of_word(word))
    return out


ANALYZERS = {"word": word_features, "char": char_features}


def model_text(subject: str, body: str) -> str:
    """The classifier's input: the subject, then the newest text."""
    return f"{subject}\n{body}".strip()
