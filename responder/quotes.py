"""Find the newest text in a plain-text body: cut quoted replies, forwards and signatures.

The label of a mail follows what the customer wrote this time, so the thread
below it ("On Tue, Yuki wrote: > ...") and their signature must not reach the
classifier. Forwarded mail is kept apart: a one-line "is this normal?" above a
forwarded customs notice needs the notice to be understood.
"""

from __future__ import annotations

import re

# A line that starts the quoted thread of a reply, in the languages customers write.
_REPLY_HEADER = re.compile(
    r"""^\s*(
        (on|am|le|el|il|op|em|w\ dniu|den|på|i)\b.{0,300}
            (wrote|schrieb|a\ écrit|escribió|ha\ scritto|schreef|escreveu
             |pisze|skrev|kirjoitti)\s*:?\s*$
      | .{0,200}\b(wrote|schrieb|a\ écrit|escribió|escreveu)\s*:\s*$
      | (am|le|el)\b.{0,100}\b(schrieb|a\ écrit|escribió)\b.{0,200}:\s*$
      | -{2,}\s*(original\ message|ursprüngliche\ nachricht|message\ d'origine
                 |mensaje\ original)\s*-{2,}
      | _{20,}\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_FORWARD_HEADER = re.compile(
    r"""^\s*(
        -{3,}\s*(forwarded\ message|weitergeleitete\ nachricht|message\ transféré
                 |mensaje\ reenviado)\s*-{3,}
      | begin\ forwarded\ message\s*:
      | -{3,}\s*original\ message\s*-{3,}\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Outlook puts the quoted mail's headers in the body: From:/Sent:/To:/Subject:.
_OUTLOOK_FROM = re.compile(r"^\s*\*?(from|von|de|da|van)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(sent|date|gesendet|envoyé|enviado|to|an|à|para|subject|betreff|objet|asunto)\s*:",
    re.IGNORECASE,
)
_WRAPPED_REPLY_START = re.compile(r"^\s*(on|am|le|el)\b", re.IGNORECASE)
_SIGNATURE = re.compile(
    r"""^\s*(
        --\s*$
      | sent\ from\ my\ \w+
      | sent\ from\ (yahoo\ mail|outlook|mail\ for\ windows|samsung)
      | get\ outlook\ for\ \w+
      | von\ meinem\ \w+\ gesendet
      | envoyé\ de\ mon\ \w+
      | enviado\ desde\ mi\ \w+
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_outlook_block(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[index]):
        return False
    following = lines[index + 1 : index + 5]
    return sum(1 for line in following if _OUTLOOK_NEXT.match(line)) >= 2


def split_newest_text(body: str) -> tuple[str, str]:
    """(newest text, forwarded text) of a plain-text body.

    >>> split_newest_text("Swap the socks?\\n\\nOn Tue, Yuki wrote:\\n> Dear Ines")
    ('Swap the socks?', '')
    """
    if not body:
        return "", ""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    forwarded = ""
    for index, line in enumerate(lines):
        if _FORWARD_HEADER.match(line):
            forwarded = "\n".join(
                rest for rest in lines[index + 1 :] if not rest.startswith(">")
            ).strip()
            break
        if _REPLY_HEADER.match(line) or (
            # Clients wrap long "On ..., X <x@y> wrote:" lines in two.
            len(line) > 30
            and index + 1 < len(lines)
            and _WRAPPED_REPLY_START.match(line)
            and _REPLY_HEADER.match(f"{line} {lines[index + 1]}")
        ):
            break
        if _is_outlook_block(lines, index):
            break
        if _SIGNATURE.match(line) and kept:
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    newest = "\n".join(kept).strip()
    while "\n\n\n" in newest:
        newest = newest.replace("\n\n\n", "\n\n")
    return newest, forwarded[:20_000]
