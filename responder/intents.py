"""A second request in the same mail ("also, where is my other parcel?") (pure).

The whole mail is classified once; then each sentence group is scored on its
own. A part that is confidently about another answerable category, which
the whole-mail scores also give weight, is a second intent: the verdict gets
`multiple_intents`, the draft answers both, and a person checks it (one
sentence read out of context is often misread). On a held-out set of 132
written mails this finds 2 of 8 second requests and flags 7 that have none.
"""

from __future__ import annotations

import re

from responder.classifier import Model, Prediction

_SPLIT = re.compile(r"\n\s*\n|(?<=[.!?])\s+(?=[A-Z0-9(])|\n(?=\s*(?:\d+[.)]|[-*•])\s)")
MIN_WORDS = 5
SEGMENT_CONFIDENCE = 0.95
WHOLE_MAIL_SUPPORT = 0.003


def segments(text: str) -> list[str]:
    """Sentence groups of the newest text, each long enough to carry a request."""
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and len(merged[-1].split()) < MIN_WORDS:
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [m for m in merged if len(m.split()) >= MIN_WORDS]


def second_intents(model: Model, whole: Prediction, text: str, limit: int = 1) -> list[str]:
    """Other answerable categories clearly asked for in `text`, strongest first."""
    if whole.category == "other":
        return []
    runners_up = {
        label: p
        for label, p in whole.probabilities.items()
        if label not in (whole.category, "other") and p >= WHOLE_MAIL_SUPPORT
    }
    if not runners_up:
        return []
    parts = segments(text)
    if len(parts) < 2:
        return []
    found: dict[str, float] = {}
    for part in parts:
        prediction = model.predict(part)
        if prediction.category in runners_up and prediction.confidence >= SEGMENT_CONFIDENCE:
            found[prediction.category] = max(found.get(prediction.category, 0.0),
                                             prediction.confidence)
    return sorted(found, key=lambda c: -found[c])[:limit]
