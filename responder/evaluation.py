"""Score verdicts against a labelled folder (`labels.jsonl` as in shared/samples).

Figures: per-category precision, recall and F1 and the confusion matrix on
English customer mail; the share of customer mail drafted under a wrong
category and under the right one; evidence-flag recall; skip precision and
recall; the share of `other` mail routed to a person.
"""

from __future__ import annotations

import json
from pathlib import Path

from responder.classifier import CATEGORIES
from responder.errors import ConfigError
from responder.triage import Triager


def _read_labels(folder: Path) -> list[dict]:
    path = folder / "labels.jsonl"
    if not path.is_file():
        raise ConfigError(f"{folder}: no labels.jsonl in this folder")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON: {exc.msg}") from exc
    return rows


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_folders(folders: list[Path], triager: Triager) -> dict:
    rows = []
    for folder in folders:
        for label in _read_labels(folder):
            path = folder / label["file"]
            if not path.is_file():
                raise ConfigError(f"{path}: listed in labels.jsonl but missing")
            verdict = triager.triage(path.read_bytes()).verdict
            rows.append((label, verdict))

    customer = [(lab, v) for lab, v in rows if lab.get("action") != "skip"]
    english = [(lab, v) for lab, v in customer if lab.get("lang", "en") == "en"]
    confusion = {t: {p: 0 for p in CATEGORIES} for t in CATEGORIES}
    for lab, v in english:
        confusion[lab["category"]][v.category] += 1
    per_category = {}
    f1s = []
    for c in CATEGORIES:
        tp = confusion[c][c]
        fp = sum(confusion[t][c] for t in CATEGORIES if t != c)
        fn = sum(confusion[c][p] for p in CATEGORIES if p != c)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        support = tp + fn
        per_category[c] = {"precision": round(precision, 4), "recall": round(recall, 4),
                           "f1": round(f1, 4), "support": support}
        if support:
            f1s.append(f1)

    drafted = [(lab, v) for lab, v in customer if v.action == "draft"]
    wrong = sum(1 for lab, v in drafted if v.category != lab["category"])
    needs_flag = [(lab, v) for lab, v in customer if lab.get("missing_evidence") is True]
    has_photos = [(lab, v) for lab, v in customer if lab.get("missing_evidence") is False]
    skipped_truth = [v for lab, v in rows if lab.get("action") == "skip"]
    skipped_pred = [(lab, v) for lab, v in rows if v.action == "skip"]
    others = [(lab, v) for lab, v in customer if lab["category"] == "other"]
    multi = [(lab, v) for lab, v in customer if lab.get("also")]
    return {
        "messages": len(rows),
        "customer_messages": len(customer),
        "english_customer_messages": len(english),
        "accuracy_english": _ratio(sum(1 for lab, v in english if v.category == lab["category"]),
                                   len(english)),
        "macro_f1_english": round(sum(f1s) / len(f1s), 4) if f1s else None,
        "per_category": per_category,
        "confusion": confusion,
        "drafted_share": _ratio(len(drafted), len(customer)),
        "drafted_right_share": _ratio(len(drafted) - wrong, len(customer)),
        "wrong_draft_share": _ratio(wrong, len(customer)),
        "wrong_drafts": [lab["file"] for lab, v in drafted if v.category != lab["category"]],
        "evidence_flag_recall": _ratio(
            sum(1 for _, v in needs_flag if "missing_evidence" in v.flags), len(needs_flag)),
        "evidence_false_flags": sum(1 for _, v in has_photos if "missing_evidence" in v.flags),
        "skip_precision": _ratio(sum(1 for lab, _ in skipped_pred if lab.get("action") == "skip"),
                                 len(skipped_pred)),
        "skip_recall": _ratio(sum(1 for v in skipped_truth if v.action == "skip"),
                              len(skipped_truth)),
        "other_to_human_share": _ratio(sum(1 for _, v in others if v.action != "draft"),
                                       len(others)),
        "multiple_intents_recall": _ratio(
            sum(1 for _, v in multi if "multiple_intents" in v.flags), len(multi)),
        "multiple_intents_false_flags": sum(
            1 for lab, v in customer if not lab.get("also") and "multiple_intents" in v.flags),
        "errors": [
            {"file": lab["file"], "label": lab["category"], "got": v.category,
             "action": v.action, "confidence": round(v.confidence, 3), "flags": list(v.flags)}
            for lab, v in customer if v.category != lab["category"]
        ],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def format_report(r: dict) -> str:
    lines = [
        f"messages {r['messages']}, customer {r['customer_messages']}, "
        f"English customer {r['english_customer_messages']}",
        "",
        f"{'category':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>7}",
    ]
    for c, m in r["per_category"].items():
        lines.append(f"{c:<16} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} "
                     f"{m['support']:>7}")
    lines += [
        f"{'macro-F1':<16} {r['macro_f1_english'] or 0:>24.3f}   accuracy "
        f"{_pct(r['accuracy_english'])}",
        "",
        "confusion (rows: label, columns: verdict)",
        " " * 16 + " ".join(f"{c[:6]:>6}" for c in CATEGORIES),
    ]
    for t in CATEGORIES:
        lines.append(f"{t:<16}" + " ".join(f"{r['confusion'][t][p]:>6}" for p in CATEGORIES))
    lines += [
        "",
        f"customer mail drafted:            {_pct(r['drafted_share'])}",
        f"  under the right category:       {_pct(r['drafted_right_share'])}",
        f"  under a wrong category:         {_pct(r['wrong_draft_share'])}"
        + (f"  ({', '.join(r['wrong_drafts'])})" if r["wrong_drafts"] else ""),
        f"evidence flag recall:             {_pct(r['evidence_flag_recall'])}"
        f"  (false flags: {r['evidence_false_flags']})",
        f"skip precision / recall:          {_pct(r['skip_precision'])} / "
        f"{_pct(r['skip_recall'])}",
        f"`other` routed to a person:       {_pct(r['other_to_human_share'])}",
        f"multiple intents recall:          {_pct(r['multiple_intents_recall'])}"
        f"  (false flags: {r['multiple_intents_false_flags']})",
    ]
    if r["errors"]:
        lines += ["", "misclassified:"]
        lines += [f"  {e['file']}: {e['label']} -> {e['got']} ({e['action']}, "
                  f"{e['confidence']}, {','.join(e['flags'])})" for e in r["errors"]]
    return "\n".join(lines)
