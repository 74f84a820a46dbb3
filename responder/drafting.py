"""Reply drafts: the policy text from Jinja2 templates, and the reply's headers (pure).

One template per category in `templates/` (plain text, StrictUndefined), put
together by `_reply.txt`: greeting by name, the order number when the mail
gives one, one paragraph per intent, sign-off. `build_reply()` turns an
approved body into a proper reply message: `In-Reply-To`, `References`,
`Re: ` once, our `From`, a fresh `Message-ID` on our domain, and no CR or LF
from customer input in any header (CVE-2024-6923).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

import jinja2

from responder.errors import TemplateError

_ORDER_PATTERNS = (
    re.compile(r"\bKB[-\s]?(\d{4,7})\b", re.IGNORECASE),
    re.compile(
        r"\b(?:order|commande|pedido|bestellung|ordine|zamówienie)\s*"
        r"(?:number|no\.?|nr\.?|num(?:ber|éro|ero)?|id)?\s*[:#]?\s*#?\s*(\d{4,8})\b",
        re.IGNORECASE,
    ),
    re.compile(r"#\s?(\d{4,8})\b"),
)
_GENERIC_NAMES = frozenset(
    "support info admin customer customers service team office sales noreply no-reply "
    "hello contact mail user".split()
)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "mx"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|r|rif)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def find_order_number(*texts: str) -> str | None:
    """The first order number in the texts: `KB-10482` or `#58213`."""
    for pattern in _ORDER_PATTERNS:
        for text in texts:
            match = pattern.search(text or "")
            if match:
                digits = match.group(1)
                return f"KB-{digits}" if pattern is _ORDER_PATTERNS[0] else f"#{digits}"
    return None


def greeting_name(display_name: str) -> str | None:
    """A name to greet by, from the From header's display name, or None."""
    name = " ".join(_CONTROL.sub(" ", display_name or "").split())
    if not name or "@" in name or any(ch.isdigit() for ch in name):
        return None
    if "," in name:  # "Hollis, Megan"
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}".strip()
    words = [w for w in name.replace('"', "").split() if w]
    if not words or words[0].lower().strip(".") in _GENERIC_NAMES:
        return None
    if words[0].lower().strip(".") in _TITLES:
        return " ".join(words[:1] + words[-1:]) if len(words) > 1 else None
    first = words[0]
    if first.islower() or first.isupper():
        first = first.capitalize()
    return first[:60]


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftContext:
    """What a template may use. Every field is always present (StrictUndefined)."""

    category: str
    also: tuple[str, ...] = ()
    greeting_name: str | None = None
    order_number: str | None = None
    missing_evidence: bool = False
    shop_name: str = "Kiwami Box"
    signature: str = "Kiwami Box Support"


class Drafter:
    """Renders drafts from a template folder; build once, render many."""

    def __init__(self, template_dir: Path) -> None:
        if not (template_dir / "_reply.txt").is_file():
            raise TemplateError(f"{template_dir}: no _reply.txt template in this folder")
        self.template_dir = template_dir
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text mail; HTML escaping would corrupt it
            keep_trailing_newline=True,
        )

    def render(self, context: DraftContext) -> str:
        topics = [context.category, *[c for c in context.also if c != context.category]]
        try:
            text = self.env.get_template("_reply.txt").render(
                topics=topics,
                category=context.category,
                greeting_name=context.greeting_name,
                order_number=context.order_number,
                missing_evidence=context.missing_evidence,
                shop_name=context.shop_name,
                signature=context.signature,
            )
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template for {context.category!r}: {exc}") from exc
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip() + "\n"


def clean_header(value: str | None, limit: int = 900) -> str:
    """A header value with every CR, LF and other control character removed."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def reply_subject(subject: str) -> str:
    """`Re: ` exactly once before the original subject."""
    base = _REPLY_PREFIX.sub("", clean_header(subject))
    return f"Re: {base}" if base else "Re: your message"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyHeaders:
    """The original's identifiers a reply needs; all values may come from a stranger."""

    to_address: str
    to_name: str = ""
    subject: str = ""
    message_id: str | None = None
    references: tuple[str, ...] = ()


def new_message_id(domain: str) -> str:
    return make_msgid(domain=clean_header(domain, 200) or None)


def build_reply(
    original: ReplyHeaders,
    body: str,
    *,
    from_address: str,
    from_name: str,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """The reply message, ready for SMTP. Pure: the caller supplies the Message-ID."""
    reply = EmailMessage()
    reply["From"] = formataddr((clean_header(from_name, 200), clean_header(from_address, 320)))
    reply["To"] = formataddr((clean_header(original.to_name, 200),
                              clean_header(original.to_address, 320)))
    reply["Subject"] = reply_subject(original.subject)
    reply["Date"] = format_datetime(date or datetime.now(UTC))
    reply["Message-ID"] = clean_header(message_id, 300)
    if original.message_id:
        parent = clean_header(original.message_id, 300)
        reply["In-Reply-To"] = parent
        chain = [clean_header(r, 300) for r in original.references if r][-20:]
        if parent not in chain:
            chain.append(parent)
        reply["References"] = " ".join(chain)
    reply.set_content(body)
    return reply
