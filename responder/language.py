"""Is a mail written in English? A small, fast check on scripts and function words (pure).

Our templates are English, so the only question is "English or not". Mail in
a non-Latin script is caught by its letters; Latin-script mail by counting
the most common function words of English against those of the European
languages our customers write in. Short mails default to English: "cancel
#58213" is not evidence of anything else. `tests/test_language.py` checks it
on every sample and on the corpus; it needs no model download and costs
microseconds, where library detectors cost a model load at every cron start.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_ENGLISH = frozenset(
    """the and to of a i is it you that in my for was on this have with not be are
    but your can at me we please just so do what if or from will an as get be has
    had would no there they when been hi hello thanks thank order box any know still
    could did does about up out one all them were which how dear regards""".split()
)
# Function words of other languages, minus any that are also English words.
_OTHER = {
    "fr": "le la les des est une pour pas que qui dans sur avec mais vous nous je suis mon ma mes "
    "ce cette bonjour merci commande colis au aux du et été avez être",
    "es": "el los las una para por que con pero está estoy mi mis su hola gracias pedido "
    "paquete muy del al es y ya sido han quiero",
    "de": "der die das und ist nicht ich sie mit für auf ein eine den dem bitte danke "
    "bestellung paket habe wurde noch meine mein hallo",
    "it": "il gli della che per non sono una con ma mio mia ciao grazie ordine pacco ho "
    "è stato ancora del",
    "pt": "o os uma para com não que meu minha obrigado olá pedido pacote ainda foi está "
    "você muito",
    "nl": "het een en van niet ik dat met voor zijn mijn bestelling pakket nog hallo dank bedankt",
    "pl": "nie jest się na że do mam moje zamówienie paczka dzień dobry dziękuję czy",
    "sv": "och att det är jag inte med för min mitt har hej tack beställning paket",
}
_OTHER_WORDS = {
    lang: frozenset(words.split()) - _ENGLISH for lang, words in _OTHER.items()
}

_NON_LATIN_SCRIPTS = (
    "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC", "ARABIC", "HEBREW", "THAI",
    "DEVANAGARI", "GREEK", "BENGALI", "TAMIL", "GEORGIAN", "ARMENIAN",
)


def _non_latin_share(text: str) -> float:
    if text.isascii():  # most mail: no need to look at each letter
        return 0.0
    letters = 0
    foreign = 0
    for char in text[:2000]:
        if char.isalpha():
            letters += 1
            if ord(char) > 0x24F:
                name = unicodedata.name(char, "")
                if name.startswith(_NON_LATIN_SCRIPTS):
                    foreign += 1
    return foreign / letters if letters else 0.0


def detect_language(text: str) -> str:
    """'en', another ISO 639-1 code, or 'xx' for a non-Latin script we do not name."""
    if _non_latin_share(text) > 0.3:
        return "xx"
    words = [w.lower() for w in _WORD.findall(text[:3000])]
    english = sum(1 for w in words if w in _ENGLISH)
    best_lang, best = "en", 0
    for lang, vocabulary in _OTHER_WORDS.items():
        hits = sum(1 for w in words if w in vocabulary)
        if hits > best:
            best_lang, best = lang, hits
    if best >= 3 and best > english:
        return best_lang
    return "en"

