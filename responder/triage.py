"""The pipeline, bytes to verdict: parse, screen, classify, check evidence, draft (pure).

`Triager.triage(raw)` is the one function that the CLI, the worker and the
tests all call. It never raises for bad input: mail it cannot read gets a
`human` verdict flagged `unreadable`, so a person sees it and the run goes on.
The model is loaded on first use, so a poll that finds only auto-replies (or
nothing) never pays for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from responder.classifier import Model
from responder.drafting import DraftContext, Drafter, find_order_number, greeting_name
from responder.evidence import has_evidence
from responder.features import model_text
from responder.intents import second_intents
from responder.language import detect_language
from responder.message import ParsedMessage
from responder.parsing import UnreadableMessage, parse_message
from responder.screening import screen

log = logging.getLogger(__name__)

# A new text this short above a forwarded mail is a question about that mail.
SHORT_NEW_TEXT_WORDS = 25


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The contract's verdict for one message (see triage-contract.md)."""

    category: str
    confidence: float
    action: str  # "draft" | "human" | "skip"
    flags: tuple[str, ...] = ()
    draft: str | None = None
    also: tuple[str, ...] = ()
    message_id: str | None = None
    language: str = "en"
    order_number: str | None = None

    def contract(self, file: str) -> dict:
        """The JSON object that `responder classify` prints for this verdict."""
        return {
            "file": file,
            "message_id": self.message_id,
            "category": self.category,
            "confidence": round(self.confidence, 4),
            "action": self.action,
            "flags": list(self.flags),
            "draft": self.draft,
        }


@dataclass(frozen=True, slots=True)
class TriageResult:
    verdict: Verdict
    message: ParsedMessage | None  # None when the bytes could not be read


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageSettings:
    own_addresses: tuple[str, ...] = ()
    shop_name: str = "Kiwami Box"
    signature: str = "Kiwami Box Support"


def unreadable_verdict(reason_flag: str = "unreadable", message_id: str | None = None) -> Verdict:
    """For mail we could not read or chose not to parse (too large): a person looks."""
    return Verdict(category="other", confidence=0.0, action="human", flags=(reason_flag,),
                   message_id=message_id)


@dataclass
class Triager:
    """Holds what triage needs between messages: settings, templates, the lazy model."""

    load_model: Callable[[], Model]
    drafter: Drafter
    settings: TriageSettings = field(default_factory=TriageSettings)
    _model: Model | None = None

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = self.load_model()
        return self._model

    def triage(self, raw: bytes) -> TriageResult:
        try:
            message = parse_message(raw)
        except UnreadableMessage as exc:
            log.info("unreadable message: %s", exc)
            return TriageResult(unreadable_verdict(), None)
        except Exception:  # noqa: BLE001 - a parser bug must not stop the run
            log.exception("parser failed on a message; routing it to a person")
            return TriageResult(unreadable_verdict(), None)
        return TriageResult(self.triage_parsed(message), message)

    def triage_parsed(self, message: ParsedMessage) -> Verdict:
        skip_flags = screen(message, self.settings.own_addresses)
        if skip_flags:
            return Verdict(category="other", confidence=1.0, action="skip",
                           flags=tuple(skip_flags), message_id=message.message_id)
        return self.classify(message)

    def classify(self, message: ParsedMessage, category: str | None = None) -> Verdict:
        """Classify and draft a screened message; `category` overrides the model's choice."""
        newest = message.newest_text
        text = model_text(message.subject, newest)
        if message.forwarded_text and len(newest.split()) < SHORT_NEW_TEXT_WORDS:
            text = f"{text}\n{message.forwarded_text[:3000]}"
        language = detect_language(f"{message.subject}\n{newest}")

        prediction = self.model.predict(text)
        flags: list[str] = []
        if category is None and language != "en" and not prediction.confident:
            # The model reads English: an unsure guess about other-language mail is noise
            # (a German late-parcel mail read as a damage claim), so a person answers it.
            category, confidence, also = "other", prediction.probabilities["other"], ()
        elif category is None:
            category = prediction.category
            confidence = prediction.confidence
            also = tuple(second_intents(self.model, prediction, newest))
            if category != "other" and not prediction.confident:
                flags.append("low_confidence")
        else:
            confidence = prediction.probabilities.get(category, 0.0)
            also = ()
        if also:
            flags.append("multiple_intents")
        if language != "en":
            flags.append("non_english")
        missing_evidence = "damaged_item" in (category, *also) and not has_evidence(
            message.attachments
        )
        if missing_evidence:
            flags.append("missing_evidence")

        # Every flag routes to a person. For `multiple_intents` too: the draft answers
        # both requests, but a second intent read from one sentence is often wrong,
        # and a reply that answers a question nobody asked must not go out in a hurry.
        action = "draft" if category != "other" and not flags else "human"
        order_number = find_order_number(message.subject, newest)
        draft = self.drafter.render(
            DraftContext(
                category=category,
                also=also,
                greeting_name=greeting_name(message.sender_name),
                order_number=order_number,
                missing_evidence=missing_evidence,
                shop_name=self.settings.shop_name,
                signature=self.settings.signature,
            )
        )
        return Verdict(
            category=category,
            confidence=confidence,
            action=action,
            flags=tuple(flags),
            draft=draft,
            also=also,
            message_id=message.message_id,
            language=language,
            order_number=order_number,
        )

