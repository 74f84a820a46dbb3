"""HTML mail bodies to plain text, dropping quoted history, scripts and styles (pure)."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCK = frozenset(
    "address article aside blockquote br dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
# Containers that mail clients use for the quoted thread below a reply.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipping, quoting)
        self.quote_started = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in ("br", "hr"):
                self.parts.append("\n")
            return
        attr = {k: (v or "") for k, v in attrs}
        skipping = tag in _SKIP
        css = attr.get("class", "").lower()
        ident = attr.get("id", "").lower()
        quoting = (
            tag == "blockquote"
            or any(q in css for q in _QUOTE_CLASSES)
            or any(ident.startswith(q) for q in _QUOTE_IDS)
        )
        self.stack.append((tag, skipping, quoting))
        self.skip_depth += skipping
        self.quote_depth += quoting
        if quoting:
            self.quote_started = True
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        # Pop to the matching open tag; broken HTML leaves tags unclosed.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _name, skipping, quoting in self.stack[index:]:
                    self.skip_depth -= skipping
                    self.quote_depth -= quoting
                del self.stack[index:]
                break
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.quote_depth or self.quote_started:
            # Everything after the first quote container is history too.
            return
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, up to the first quoted-history container."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient, but be total
        pass
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
