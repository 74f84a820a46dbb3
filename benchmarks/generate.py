"""Write N varied, realistic support emails to a folder, deterministically from a seed.

    .venv/bin/python benchmarks/generate.py [--count 10000] [--seed 2026] [--out DIR]

The mail is what Kiwami Box's support inbox receives: customers asking to
cancel, return or exchange, chasing late parcels, disliking an item, stuck in
customs or reporting damage, in plain text or HTML, with quoted history,
Outlook header blocks, forwarded carrier notices, signatures, photos, HEIC
files, PDFs and inline logos, in several charsets and transfer encodings;
plus auto-replies, newsletters and bounces. Sizes are skewed like a real
inbox: most mails are a few KB, a few carry 20-200 KB photos; the mean is
about 9 KB. Files are `000000.eml`, `000001.eml`, ...; `.manifest.json` in the
folder (hidden, so `responder classify DIR` skips it) records the count, the
seed, a hash of this generator and what was written, so `run.py` regenerates
only when one of them changed. Built with the stdlib `email` package (compat32
objects, explicit boundaries, so the output does not depend on global state).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import quopri
import random
import shutil
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench-data" / "mail"
DEFAULT_COUNT = 10_000
DEFAULT_SEED = 2026
SUPPORT = "support@kiwamibox.example"
SUPPORT_NAME = "Kiwami Box Support"
BASE_DATE = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

# -- who writes ---------------------------------------------------------------
# (display name, mailbox, domain, language)
PEOPLE: list[tuple[str, str, str, str]] = [
    ("Maria Gonzalez", "maria.gonzalez", "gmail.com", "en"),
    ("Rachel Thompson", "rachel.t", "outlook.com", "en"),
    ("Jonas Becker", "jonas.becker", "web.de", "de"),
    ("Jürgen Hofmann", "j.hofmann", "gmx.de", "de"),
    ("Natalia Wiśniewska", "natalia.wisniewska", "gmail.com", "en"),
    ("Chloé Lefèvre", "chloe.lefevre", "orange.fr", "fr"),
    ("Amélie Dubois", "amelie.d", "free.fr", "fr"),
    ("José Martínez", "jmartinez", "hotmail.es", "es"),
    ("Lucía Fernández", "lucia.fdz", "yahoo.es", "es"),
    ("Becca Lewis", "becca.lewis", "icloud.com", "en"),
    ("Raj Patel", "raj", "patelgrocers.co.uk", "en"),
    ("Marta Rossi", "marta.rossi", "libero.it", "en"),
    ("Liam O'Brien", "liam.obrien", "eircom.net", "en"),
    ("Sophie Martin", "sophie.martin", "gmail.com", "en"),
    ("Daniel Kim", "dkim88", "gmail.com", "en"),
    ("Priya Sharma", "priya.sharma", "yahoo.in", "en"),
    ("Emma Johansson", "emma.johansson", "telia.se", "en"),
    ("Tom Baker", "tbaker", "btinternet.com", "en"),
    ("Ana Souza", "ana.souza", "uol.com.br", "en"),
    ("Kevin Nguyen", "kevin.nguyen", "comcast.net", "en"),
    ("Olivia Brown", "olivia.b", "outlook.com", "en"),
    ("Mohammed Al-Farsi", "m.alfarsi", "gmail.com", "en"),
    ("山田 花子", "hanako.yamada", "docomo.ne.jp", "ja"),
    ("佐藤 健", "ken.sato", "yahoo.co.jp", "ja"),
    ("鈴木 美咲", "misaki.suzuki", "gmail.com", "ja"),
    ("Ольга Иванова", "olga.ivanova", "mail.ru", "ru"),
    ("Дмитрий Смирнов", "d.smirnov", "yandex.ru", "ru"),
    ("Zoë Müller", "zoe.mueller", "bluewin.ch", "de"),
]

ITEMS = [
    "matcha KitKat box", "sakura tea set", "tenugui towel", "ceramic rice bowl",
    "sake set", "ramune bottles", "tabi socks", "furoshiki cloth", "daruma doll",
    "chopsticks set", "Pocky assortment", "yuzu candies", "Snack Box Deluxe",
    "maneki-neko figure", "hojicha sampler", "kokeshi doll", "onigiri mould set",
]
CARRIERS = [
    ("Deutsche Post", "Germany"), ("Royal Mail", "the UK"), ("USPS", "the US"),
    ("Canada Post", "Canada"), ("Correos", "Spain"), ("La Poste", "France"),
    ("PostNL", "the Netherlands"), ("Australia Post", "Australia"),
    ("Correios", "Brazil"), ("An Post", "Ireland"), ("PostNord", "Sweden"),
]

# -- what they write: fragments with {item} {order} {days} {carrier} {country} --
FRAGMENTS: dict[str, dict[str, list[str]]] = {
    "cancel_order": {
        "en": [
            "I placed order {order} by accident last night, my daughter was playing on my "
            "phone. Please cancel it, nothing needs to be sent.",
            "Could you please cancel my order {order}? I found the {item} cheaper locally and "
            "I don't need it any more. It hasn't shipped yet as far as I can see.",
            "I was charged twice, I think I clicked the button twice because the page was so "
            "slow. Please cancel the second order {order} and refund it.",
            "It's been {days} days and the website still says Processing for {order}. I'm done "
            "waiting. Cancel it and put the money back on my card.",
            "Please cancel my subscription order {order}, I am moving house next week and "
            "won't be at this address.",
            "I ordered the wrong size of {item}. Can you cancel {order} before it ships? I'll "
            "place a new order with the right one.",
        ],
        "de": [
            "Bitte stornieren Sie meine Bestellung {order}. Ich habe sie aus Versehen zweimal "
            "aufgegeben. Vielen Dank für Ihre Hilfe.",
        ],
        "es": [
            "Hola, quiero cancelar el pedido {order}, lo hice por error. Gracias de antemano.",
        ],
        "ja": [
            "注文番号{order}をキャンセルしたいです。間違えて注文してしまいました。よろしくお願いします。",
        ],
    },
    "return_exchange": {
        "en": [
            "The {item} in my order came in size M but I ticked L on the website, my "
            "confirmation email clearly says L. It's still in the plastic. Can I swap it?",
            "What is your return policy? Can I send back things that are still sealed? The "
            "{item} from {order} is unopened.",
            "I received the {item} in the wrong colour, I ordered the blue one and got pink. "
            "Could I exchange it? Happy to post it back if you tell me where.",
            "Hi, I'd like to return the {item} from order {order} for a refund. It doesn't "
            "fit in my kitchen. How do I do that?",
            "You sent me two of the {item} and none of the hojicha I paid for. Can you send "
            "the right thing and I'll return the extra one?",
        ],
        "fr": [
            "Bonjour, j'ai reçu le {item} mais ce n'est pas la bonne taille. Est-ce que je "
            "peux l'échanger contre une taille plus grande ? Merci beaucoup.",
        ],
        "ru": [
            "Здравствуйте! Мне прислали {item} не того размера. Можно ли обменять? Заказ {order}.",
        ],
    },
    "shipping_delay": {
        "en": [
            "My parcel {order} still hasn't arrived. The tracking hasn't changed in {days} "
            "days, it just says 'In transit'. Is it lost?",
            "Where is my order?? I paid for it three weeks ago. Order {order}. The Japan Post "
            "tracking stopped at 'Dispatched from Sorting Office'.",
            "Hello, the estimated delivery for {order} was last week and nothing came. "
            "{carrier} says they have no record of it. Can you check?",
            "It was supposed to be a birthday present for my son and the birthday is on "
            "Saturday. Any chance {order} arrives in time? Tracking shows it left Japan {days} "
            "days ago.",
            "The tracking number you sent doesn't work on the {carrier} website. Order "
            "{order}. Can you send me the right one?",
            "hi just checking on {order}, been a while. no rush but want to know it's on its "
            "way",
        ],
        "de": [
            "Mein Paket {order} ist seit {days} Tagen unterwegs und die Sendungsverfolgung "
            "zeigt nichts Neues. Können Sie bitte nachfragen?",
        ],
        "es": [
            "Mi paquete {order} todavía no ha llegado, ya han pasado {days} días. ¿Pueden "
            "revisar el envío por favor?",
        ],
        "ja": [
            "注文{order}の荷物がまだ届きません。追跡番号で確認しても{days}日間更新がありません。確認していただけますか。",
        ],
        "ru": [
            "Добрый день. Посылка {order} идёт уже {days} дней, трек не обновляется. "
            "Подскажите, пожалуйста, что делать?",
        ],
    },
    "unwanted_item": {
        "en": [
            "Honestly I don't like the {item}, it looks nothing like the photos on the site. "
            "Can I get a refund?",
            "The {item} in this month's box is not for me, I don't drink green tea. Could you "
            "swap it for something else next time or refund that part?",
            "I received the box today and my kids hate the taste of the yuzu candies. Can I "
            "send them back?",
            "Not really what I expected. The {item} is much smaller than I thought. I'd like my "
            "money back please.",
        ],
        "fr": [
            "Je n'aime pas du tout le {item}, il ne ressemble pas aux photos. Puis-je être "
            "remboursée ?",
        ],
    },
    "customs_held": {
        "en": [
            "I got a card from {carrier} saying I must pay import tax before they give me the "
            "parcel {order}. Nobody told me this when I ordered. Is this normal? Can you pay it?",
            "My order {order} is held by customs in {country}, they say they need an invoice. "
            "Can you send me one?",
            "The tracking now says 'Held by customs' and it's been like that {days} days. Do I "
            "need to send them something?",
            "Customs is asking for my tax number for the package {order} otherwise they return "
            "it to Japan!!! I put it in the address line when I ordered.",
            "{carrier} wants a customs declaration with the value of each item in {order}. "
            "The form on the box just says 'gift'. What should I tell them?",
        ],
        "de": [
            "Der Zoll hält mein Paket {order} fest und verlangt eine Rechnung. Können Sie mir "
            "bitte eine Rechnung schicken?",
        ],
        "ru": [
            "Моя посылка {order} задержана на таможне. Они просят инвойс. Пришлите, пожалуйста.",
        ],
        "ja": [
            "税関で荷物{order}が止められています。インボイスが必要だそうです。送っていただけますか。",
        ],
    },
    "damaged_item": {
        "en": [
            "My box arrived today ({order}) and three of the six ramune bottles are broken. "
            "There was glass and soda all over the bottom of the box. Photo attached.",
            "The parcel came today but the {item} is cracked, one piece has a crack all the "
            "way down. I have put pictures on this email. Can you send a replacement?",
            "my kitkats are all melted into one big green brick. matcha ones. what do i do now",
            "The {item} I ordered was delivered broken in two. The bubble wrap was very thin. "
            "I would like to exchange it for a new one.",
            "SOY SAUCE BOTTLE EXPLODED IN THE BOX EVERYTHING IS SOAKED AND SMELLS. THE {item} "
            "IS RUINED TOO. I WANT MY MONEY BACK",
            "The box was crushed on one corner and the {item} inside is bent. See the photos.",
        ],
        "de": [
            "Das Paket {order} kam heute an, aber die {item} ist zerbrochen. Fotos anbei. "
            "Bitte schicken Sie Ersatz.",
        ],
        "ja": [
            "本日届いた荷物{order}ですが、{item}が割れていました。写真を添付します。交換をお願いできますか。",
        ],
        "ru": [
            "Посылка {order} пришла повреждённой, {item} разбит. Фото прилагаю.",
        ],
    },
    "other": {
        "en": [
            "Do you do wholesale or trade pricing? We'd be looking at 20-30 boxes a month to "
            "start, mixed flavours. Could you send a price list?",
            "do u guys ship to chile??",
            "Can I skip the March box on my subscription? Want to keep April onwards as normal.",
            "Got it yesterday, everything perfect!! The little handwritten note was such a nice "
            "touch. We'll be ordering again for her birthday in June.",
            "WELCOME10 says invalid at checkout. I just signed up for the newsletter an hour "
            "ago. Is it not active yet?",
            "Is the matcha in the {item} ceremonial grade or culinary? Asking for a gift.",
            "How do I change the delivery address on my account? I moved last month.",
        ],
        "ja": [
            "ギフト用のラッピングはできますか。友達の誕生日に送りたいです。",
        ],
    },
}
CATEGORY_WEIGHTS = {
    "cancel_order": 14, "return_exchange": 12, "shipping_delay": 24, "unwanted_item": 8,
    "customs_held": 11, "damaged_item": 14, "other": 17,
}
SECOND_INTENT = [
    "Also, where is my other parcel {order2}? It's been {days} days.",
    "And while I'm writing: could you cancel my next box {order2}?",
    "Also one of the cups was chipped, I can send a photo.",
]
GREETINGS = {
    "en": ["Hi,", "Hello,", "Hello Kiwami Box team,", "Dear Sir or Madam,", "Hi there,",
           "Good morning,", "", "Hey,"],
    "de": ["Hallo,", "Sehr geehrte Damen und Herren,", "Guten Tag,"],
    "fr": ["Bonjour,", "Bonjour Madame, Monsieur,"],
    "es": ["Hola,", "Buenos días,"],
    "ja": ["Kiwami Box ご担当者様", "お世話になっております。"],
    "ru": ["Здравствуйте!", "Добрый день!"],
}
CLOSINGS = {
    "en": ["Thanks,", "Thank you,", "Best regards,", "Cheers,", "Kind regards,",
           "Thanks in advance", "Many thanks and greetings", ""],
    "de": ["Viele Grüße", "Mit freundlichen Grüßen"],
    "fr": ["Cordialement,", "Merci d'avance,"],
    "es": ["Saludos,", "Un saludo,"],
    "ja": ["よろしくお願いいたします。"],
    "ru": ["Спасибо!", "С уважением,"],
}
SIGNATURES = [
    "Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for Android",
    "-- \n{name}\n{phone}", "-- \n{name}\nPatel Grocers Ltd | 14 Market St, Leeds\n{phone}",
    "Von meinem iPhone gesendet", "Envoyé de mon iPhone",
]
SUBJECTS = {
    "cancel_order": ["cancel order {order} please", "Order {order}", "Cancellation",
                     "Storno / cancellation of order {order}", "please cancel!!"],
    "return_exchange": ["exchange {item}?", "Return policy", "Wrong size", "Order {order}",
                        "Wrong colour received"],
    "shipping_delay": ["Where is my order?", "Order {order} not arrived", "tracking",
                       "Re: Your Kiwami Box order has shipped", "Still waiting for {order}"],
    "unwanted_item": ["refund?", "Not what I expected", "{item}", "Return unwanted item"],
    "customs_held": ["customs fee??", "Held by customs - order {order}", "URGENT!!!",
                     "Customs invoice needed", "Import tax"],
    "damaged_item": ["broken {item}", "Order {order} - arrived damaged", "help",
                     "Damaged parcel", "URGENT!!!"],
    "other": ["wholesale pricing?", "", "Skip March box", "Promo code", "Question",
              "Thank you!"],
}
NATIVE_SUBJECTS = {
    "de": "Frage zu meiner Bestellung {order} – dringend",
    "fr": "Problème avec ma commande {order} – échange",
    "es": "Consulta sobre mi pedido {order} – urgente",
    "ja": "注文{order}について（お問い合わせ）",
    "ru": "Вопрос по заказу {order}",
}
OUR_REPLY = (
    "Dear {first},\n\nThank you for contacting Kiwami Box. Your order {order} was handed to "
    "Japan Post on {date} and is on its way. International parcels usually arrive within "
    "{days} business days, though customs in your country can add a few more.\n\nYou can "
    "follow it here: https://trackings.post.japanpost.jp/services/srv/search/?requestNo1="
    "{tracking}\n\nKind regards,\nKiwami Box Support"
)
CARRIER_NOTICES = [
    "Dear customer,\n\nYour item {tracking} from JAPAN has arrived at the {carrier} "
    "international mail centre. Import VAT and a handling fee of {fee} are due before "
    "delivery. Please pay online within 20 days, after which the item will be returned to "
    "the sender.\n\nThis is an automated message, please do not reply.",
    "Notice of arrival\n\nItem number: {tracking}\nStatus: Held by customs\nReason: commercial "
    "invoice required\n\nPlease provide the invoice showing the value of each item. Items "
    "without documents are held for 30 days.\n\n{carrier} Customs Service",
    "Your parcel {tracking} could not be delivered because nobody was home. We will try "
    "again on the next working day. You can also collect it from your local post office.",
]
NEWSLETTER_SHOPS = [
    ("Tokyo Treat News", "news@tokyotreat.example"), ("Japan Candy Store", "hello@jcs.example"),
    ("Kiwami Box Newsletter", "newsletter@kiwamibox.example"), ("Zenpop", "info@zenpop.example"),
]
CHARSETS_BY_LANG = {
    "en": [("utf-8", 72), ("iso-8859-1", 10), ("windows-1252", 15), ("us-ascii", 3)],
    "de": [("utf-8", 50), ("iso-8859-1", 30), ("windows-1252", 20)],
    "fr": [("utf-8", 50), ("iso-8859-1", 25), ("windows-1252", 25)],
    "es": [("utf-8", 50), ("iso-8859-1", 30), ("windows-1252", 20)],
    "ja": [("iso-2022-jp", 40), ("shift_jis", 25), ("utf-8", 35)],
    "ru": [("koi8-r", 55), ("utf-8", 45)],
}
ENCODINGS_BY_CHARSET = {
    "utf-8": [("quoted-printable", 40), ("base64", 30), ("8bit", 30)],
    "iso-8859-1": [("quoted-printable", 60), ("8bit", 40)],
    "windows-1252": [("quoted-printable", 70), ("8bit", 30)],
    "iso-2022-jp": [("7bit", 70), ("base64", 30)],
    "shift_jis": [("base64", 60), ("8bit", 40)],
    "koi8-r": [("8bit", 50), ("base64", 30), ("quoted-printable", 20)],
    "us-ascii": [("7bit", 100)],
}
OUTLOOK_STYLE = (
    "<style><!--\n@font-face {font-family:\"Cambria Math\"; panose-1:2 4 5 3 5 4 6 3 2 4;}\n"
    "@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}\n"
    "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; "
    "font-family:\"Calibri\",sans-serif;}\na:link, span.MsoHyperlink {mso-style-priority:99; "
    "color:#0563C1; text-decoration:underline;}\nspan.EmailStyle17 {mso-style-type:personal-"
    "compose; font-family:\"Calibri\",sans-serif; color:windowtext;}\n.MsoChpDefault "
    "{mso-style-type:export-only; font-family:\"Calibri\",sans-serif;}\n@page WordSection1 "
    "{size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}\ndiv.WordSection1 "
    "{page:WordSection1;}\n--></style>"
)


# -- helpers ----------------------------------------------------------------------------
def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def usable_charset(text: str, charset: str) -> str:
    """`charset` if it can carry `text`, else UTF-8 (a client would do the same)."""
    try:
        text.encode(charset)
        return charset
    except UnicodeEncodeError:
        return "utf-8"


def text_part(text: str, subtype: str, charset: str, cte: str) -> Message:
    """A text/* part whose payload is already encoded, so we choose charset and CTE exactly."""
    data = text.replace("\n", "\r\n").encode(charset) if cte == "base64" else text.encode(charset)
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="{charset}"'
    if cte == "base64":
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif cte == "quoted-printable":
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    else:
        if cte == "8bit" and data.isascii():
            cte = "7bit"
        part["Content-Transfer-Encoding"] = cte
        part.set_payload(data)  # bytes: kept as surrogate escapes, written back raw
    return part


def binary_part(data: bytes, ctype: str, filename: str, *, inline: bool = False,
                content_id: str | None = None) -> Message:
    part = Message()
    part["Content-Type"] = f'{ctype}; name="{filename}"'
    part["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    part["Content-Transfer-Encoding"] = "base64"
    if content_id:
        part["Content-ID"] = f"<{content_id}>"
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    return part


def multipart(subtype: str, parts: list[Message], rng: random.Random,
              extra: str = "") -> Message:
    msg = Message()
    boundary = f"{rng.getrandbits(96):024x}"
    msg["Content-Type"] = f'multipart/{subtype}; boundary="{boundary}"{extra}'
    for part in parts:
        msg.attach(part)
    return msg


def fake_image(rng: random.Random, kind: str, size: int) -> bytes:
    """Random-ish bytes with the right magic number: base64 costs what a real photo costs."""
    head = {
        "jpeg": b"\xff\xd8\xff\xe1\x00\x5eExif\x00\x00MM\x00*",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    }[kind]
    block = rng.randbytes(4096)
    # Repeat a random block with a varying byte: cheap, and as incompressible as a photo
    # for our purposes (base64 size is all that matters to the parser).
    chunks = [head]
    filled = len(head)
    while filled < size:
        chunk = bytes([rng.randrange(256)]) + block[: min(4095, size - filled - 1)]
        chunks.append(chunk)
        filled += len(chunk)
    return b"".join(chunks)[:size]


def photo_size(rng: random.Random) -> int:
    """20-200 KB, log-uniform: most phone photos a mail client shrank are small."""
    return int(20_000 * 10 ** rng.random())


def address_header(name: str, addr: str, charset: str) -> str:
    if name.isascii():
        return formataddr((name, addr))
    return formataddr((name, addr), charset=usable_charset(name, charset))


def header_value(text: str, charset: str) -> str | Header:
    return text if text.isascii() else Header(text, usable_charset(text, charset))


class Writer:
    """Builds one message at a time from a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # -- the words ----------------------------------------------------------------------
    def fill(self, template: str, slots: dict[str, str]) -> str:
        return template.format(**slots)

    def slots(self) -> dict[str, str]:
        rng = self.rng
        carrier, country = rng.choice(CARRIERS)
        order_style = rng.randrange(4)
        number = rng.randrange(1000, 99999)
        order = (f"KB-{number}", f"#{number}", f"{number}", f"KB{number}")[order_style]
        return {
            "order": order, "order2": f"KB-{rng.randrange(1000, 99999)}",
            "item": rng.choice(ITEMS), "days": str(rng.randrange(3, 40)),
            "carrier": carrier, "country": country,
            "tracking": f"{rng.choice('ERCLV')}{rng.choice('ABGJM')}"
                        f"{rng.randrange(10**8, 10**9)}JP",
            "fee": f"{rng.randrange(5, 60)},{rng.randrange(10, 99)} EUR",
        }

    def customer_text(self, category: str, lang: str, name: str,
                      slots: dict[str, str]) -> str:
        rng = self.rng
        options = FRAGMENTS[category].get(lang) or FRAGMENTS[category]["en"]
        if lang not in FRAGMENTS[category]:
            lang = "en"
        body = [self.fill(rng.choice(options), slots)]
        if lang == "en" and rng.random() < 0.25:
            body.append(self.fill(rng.choice(options), slots))
        if lang == "en" and category != "other" and rng.random() < 0.08:
            body.append(self.fill(rng.choice(SECOND_INTENT), slots))
        paragraphs = body if rng.random() < 0.6 else [" ".join(body)]
        if rng.random() < 0.5 and lang in ("en", "de", "fr", "es"):
            paragraphs = ["\n".join(textwrap.wrap(p, 72)) for p in paragraphs]
        lines = []
        greeting = rng.choice(GREETINGS[lang])
        if greeting:
            lines += [greeting, ""]
        lines += "\n\n".join(paragraphs).split("\n")
        closing = rng.choice(CLOSINGS[lang])
        first = name.split()[0] if lang not in ("ja",) else name
        lines += ["", closing, first] if closing else ["", first]
        if rng.random() < 0.3:
            phone = f"+{rng.randrange(1, 99)} {rng.randrange(100, 999)} {rng.randrange(10**6)}"
            sig = rng.choice(SIGNATURES).format(name=name, phone=phone)
            lines += ["", sig]
        return "\n".join(lines) + "\n"

    # -- the parts ----------------------------------------------------------------------
    def body_parts(self, text: str, html: str | None, charset: str,
                   html_only: bool = False) -> Message:
        rng = self.rng
        cte = weighted(rng, ENCODINGS_BY_CHARSET[charset])
        if html_only and html is not None:
            return text_part(html, "html", charset, cte)
        plain = text_part(text, "plain", charset, cte)
        if html is None:
            return plain
        html_cte = cte if cte != "7bit" or html.isascii() else "base64"
        return multipart("alternative", [plain, text_part(html, "html", charset, html_cte)], rng)

    def to_html(self, newest: str, quoted: str | None, outlook: bool) -> str:
        def paras(text: str) -> str:
            out = []
            for line in text.split("\n"):
                line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                cls = ' class="MsoNormal"' if outlook else ""
                out.append(f"<p{cls}>{line or '&nbsp;'}</p>" if outlook
                           else f"<div>{line or '<br>'}</div>")
            return "\n".join(out)

        if outlook:
            head = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
                    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                    f'<meta name="Generator" content="Microsoft Word 15">{OUTLOOK_STYLE}</head>'
                    '<body lang="EN-GB" link="#0563C1"><div class="WordSection1">')
            tail = "</div></body></html>"
            history = (f'<div id="divRplyFwdMsg" dir="ltr"><hr>{paras(quoted)}</div>'
                       if quoted else "")
            return f"{head}\n{paras(newest)}\n{history}{tail}"
        history = ""
        if quoted:
            history = ('<br><div class="gmail_quote"><blockquote class="gmail_quote" '
                       'style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                       f'rgb(204,204,204);padding-left:1ex">{paras(quoted)}</blockquote></div>')
        return f'<div dir="ltr">\n{paras(newest)}\n</div>{history}\n'

    # -- the envelope -------------------------------------------------------------------
    def headers(self, msg: Message, *, sender: tuple[str, str], subject: str | Header,
                when: datetime, msgid_domain: str, charset: str, extra: dict[str, str]) -> None:
        rng = self.rng
        name, addr = sender
        domain = addr.rsplit("@", 1)[1]
        top = Message()
        top["Return-Path"] = f"<{addr}>" if "Return-Path" not in extra else extra["Return-Path"]
        top["Delivered-To"] = SUPPORT
        for hop in range(rng.randrange(1, 4)):
            host = f"mail-{rng.choice('abcdefgh')}{rng.randrange(1, 60)}.{domain}"
            ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            stamp = format_datetime(when - timedelta(seconds=5 * hop + rng.randrange(3)))
            top["Received"] = (f"from {host} ({host} [{ip}]) by mx{hop + 1}.kiwamibox.example "
                               f"(Postfix) with ESMTPS id {rng.getrandbits(40):010X} for "
                               f"<{SUPPORT}>; {stamp}")
        if domain in ("gmail.com", "outlook.com", "yahoo.co.jp") and rng.random() < 0.7:
            sig = base64.b64encode(rng.randbytes(180)).decode()
            top["DKIM-Signature"] = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; "
                                     f"s=20230601; t={int(when.timestamp())}; "
                                     "h=to:subject:message-id:date:from:mime-version; "
                                     f"bh={base64.b64encode(rng.randbytes(32)).decode()}; "
                                     f"b={sig}")
        top["From"] = address_header(name, addr, charset) if name else addr
        top["To"] = extra.pop("To", f"Kiwami Box Support <{SUPPORT}>")
        if subject is not None:
            top["Subject"] = subject
        top["Date"] = format_datetime(when)
        top["Message-ID"] = f"<{rng.getrandbits(120):030x}@{msgid_domain}>"
        for key, value in extra.items():
            if key != "Return-Path":
                top[key] = value
        top["MIME-Version"] = "1.0"
        for key, value in msg.items():
            top[key] = value
        # Swap the body's Content-* headers under the envelope built above.
        for key in list(msg.keys()):
            del msg[key]
        for key, value in top.items():
            msg[key] = value

    # -- the kinds of mail --------------------------------------------------------------
    def customer(self, when: datetime) -> tuple[Message, str]:
        rng = self.rng
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        name, local, domain, lang = rng.choice(PEOPLE)
        if lang != "en" and rng.random() < 0.5:
            lang = "en"  # most of our non-English customers write English
        slots = self.slots()
        text = self.customer_text(category, lang, name, slots)
        newest = text
        preferred = weighted(rng, CHARSETS_BY_LANG[lang])
        if lang in NATIVE_SUBJECTS and rng.random() < 0.7:
            subject_text = self.fill(NATIVE_SUBJECTS[lang], slots)
        else:
            subject_text = self.fill(rng.choice(SUBJECTS[category]), slots)
        extra: dict[str, str] = {}
        kind = "plain"
        quoted: str | None = None
        outlook = domain in ("outlook.com", "hotmail.es") or rng.random() < 0.1
        history = rng.random()
        if history < 0.22:
            kind = "reply"
            first = name.split()[0]
            ours = self.fill(OUR_REPLY, {**slots, "first": first,
                                         "date": (when - timedelta(days=9)).strftime("%d %B")})
            stamp = format_datetime(when - timedelta(days=2, hours=rng.randrange(24)))
            if outlook:
                quoted = (f"From: {SUPPORT_NAME} <{SUPPORT}>\nSent: {stamp}\n"
                          f"To: {name} <{local}@{domain}>\nSubject: RE: {subject_text}\n\n{ours}")
                text = f"{text}\n\n{'_' * 32}\n{quoted}"
            else:
                quoted = "\n".join(f"> {line}" if line else ">" for line in ours.split("\n"))
                if rng.random() < 0.4:
                    earlier = self.customer_text(category, "en", name, slots)
                    quoted += (f"\n>\n> On {stamp}, {name} <{local}@{domain}> wrote:\n"
                               + "\n".join(f">> {line}" for line in earlier.split("\n")))
                text = (f"{text}\n\nOn {stamp}, {SUPPORT_NAME} <{SUPPORT}> wrote:\n{quoted}")
            subject_text = f"{'RE' if outlook else 'Re'}: {subject_text}"
            parent = f"<{rng.getrandbits(100):025x}@kiwamibox.example>"
            extra["In-Reply-To"] = parent
            extra["References"] = parent
        elif history < 0.30:
            kind = "forward"
            carrier = slots["carrier"]
            notice = self.fill(rng.choice(CARRIER_NOTICES), slots)
            short = rng.choice(["is this normal?", "What do I do with this?",
                                "See below. Can you help?", "???", "fyi"])
            stamp = format_datetime(when - timedelta(hours=rng.randrange(2, 72)))
            quoted = (f"---------- Forwarded message ---------\nFrom: {carrier} "
                      f"<noreply@{carrier.lower().replace(' ', '')}.example>\nDate: {stamp}\n"
                      f"Subject: Your item {slots['tracking']}\nTo: <{local}@{domain}>\n\n{notice}")
            text, newest = f"{short}\n\n{quoted}", short
            subject_text = f"Fwd: Your item {slots['tracking']}"
        charset = usable_charset(text, preferred)
        if charset == "windows-1252" and rng.random() < 0.7:
            text, newest = text.replace("'", "\u2019"), newest.replace("'", "\u2019")
        subject = header_value(subject_text, charset)
        if not subject_text.isascii() and rng.random() < 0.03:
            # Raw 8-bit subject: some clients still send them.
            subject = subject_text.encode("utf-8").decode("ascii", "surrogateescape")

        shape = rng.random()
        html = self.to_html(newest, quoted, outlook) if shape < 0.48 else None
        body = self.body_parts(text, html, charset, html_only=0.44 <= shape < 0.48)

        attachments: list[Message] = []
        related: list[Message] = []
        p = rng.random()
        photo_chance = {"damaged_item": 0.2, "customs_held": 0.04,
                        "return_exchange": 0.03}.get(category, 0.003)
        if p < photo_chance:
            for n in range(rng.choice((1, 1, 1, 1, 2, 3))):
                style = rng.random()
                if style < 0.6:
                    fname = f"IMG_{when:%Y%m%d}_{rng.randrange(100000, 999999)}.jpg"
                    attachments.append(binary_part(fake_image(rng, "jpeg", photo_size(rng)),
                                                   "image/jpeg", fname))
                elif style < 0.8:
                    fname = f"IMG_{rng.randrange(1000, 9999)}.HEIC"
                    attachments.append(binary_part(fake_image(rng, "heic", photo_size(rng)),
                                                   "application/octet-stream", fname))
                else:
                    fname = f"Screenshot_{when:%Y-%m-%d}-{n}.png"
                    attachments.append(binary_part(fake_image(rng, "png", photo_size(rng)),
                                                   "image/png", fname))
            kind += "+photos"
        elif p < photo_chance + (0.06 if category == "customs_held" else 0.008):
            fname = rng.choice(["invoice_{order}.pdf", "customs_notice.pdf", "receipt.pdf"])
            data = fake_image(rng, "pdf", rng.randrange(15_000, 120_000))
            attachments.append(binary_part(data, "application/pdf",
                                           fname.format(order=slots["order"].strip("#"))))
            kind += "+pdf"
        if html is not None and (outlook or local == "raj") and rng.random() < 0.35:
            cid = f"image001.png@01DA{rng.getrandbits(32):08X}"
            related.append(binary_part(fake_image(rng, "png", rng.randrange(2_000, 9_000)),
                                       "image/png", "image001.png", inline=True, content_id=cid))
            kind += "+logo"
        if related:
            body = multipart("related", [body, *related], rng, '; type="multipart/alternative"')
        msg = multipart("mixed", [body, *attachments], rng) if attachments else body
        extra_headers = {**extra}
        if rng.random() < 0.3:
            extra_headers["X-Mailer"] = rng.choice(["iPhone Mail (21E236)", "Microsoft Outlook "
                                                    "16.0", "Thunderbird 115.10.1", "Mailspring"])
        self.headers(msg, sender=(name, f"{local}@{domain}"), subject=subject, when=when,
                     msgid_domain=domain, charset=charset, extra=extra_headers)
        return msg, f"{category}:{kind}:{charset}"

    def auto_reply(self, when: datetime) -> tuple[Message, str]:
        rng = self.rng
        name, local, domain, _lang = rng.choice(PEOPLE)
        until = (when + timedelta(days=rng.randrange(3, 20))).strftime("%A %d %B")
        text = (f"Thank you for your email. I am currently out of the office until {until} "
                "with limited access to email. I will reply when I am back.\n\nFor anything "
                f"urgent please contact reception.\n\n{name}")
        subject = rng.choice(["Automatic reply: Your Kiwami Box order has shipped",
                              "Out of Office: Re: Order update", "Abwesenheitsnotiz: Ihre "
                              "Bestellung", "Auto: Your order"])
        body = self.body_parts(text, None, "utf-8")
        extra = {}
        if rng.random() < 0.8:
            extra["Auto-Submitted"] = "auto-replied"
            extra["X-Auto-Response-Suppress"] = "All"
        self.headers(body, sender=(name, f"{local}@{domain}"), subject=header_value(
            subject, "utf-8"), when=when, msgid_domain=domain, charset="utf-8", extra=extra)
        return body, "auto_reply"

    def newsletter(self, when: datetime) -> tuple[Message, str]:
        rng = self.rng
        shop, addr = rng.choice(NEWSLETTER_SHOPS)
        rows = []
        plain_rows = []
        for _ in range(rng.randrange(8, 45)):
            item = rng.choice(ITEMS)
            price = f"{rng.randrange(3, 60)}.{rng.randrange(0, 99):02d}"
            rows.append(f'<tr><td style="padding:12px;border-bottom:1px solid #eee">'
                        f'<img src="https://cdn.example/{rng.getrandbits(48):012x}.jpg" '
                        f'width="120" alt="{item}"></td><td style="padding:12px;font-family:'
                        f'Helvetica,Arial,sans-serif;font-size:15px;color:#333">'
                        f'<b>{item.title()}</b><br>Now only ${price} &mdash; '
                        f'<a href="https://shop.example/p/{rng.getrandbits(32):08x}?utm_source='
                        f'newsletter&amp;utm_medium=email">Shop now</a></td></tr>')
            plain_rows.append(f"* {item.title()} - now only ${price}")
        html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{margin:0}"
                "</style></head><body><table width=\"100%\" cellpadding=\"0\" "
                f"cellspacing=\"0\"><tr><td><h1>{shop}: this week's picks</h1></td></tr>"
                + "".join(rows) + "<tr><td style=\"font-size:11px;color:#999\">You receive "
                "this because you subscribed. <a href=\"https://shop.example/u\">Unsubscribe"
                "</a></td></tr></table></body></html>")
        text = f"{shop}: this week's picks\n\n" + "\n".join(plain_rows) + "\n\nUnsubscribe: "
        body = self.body_parts(text, html, "utf-8")
        extra = {
            "List-Unsubscribe": f"<mailto:unsubscribe@{addr.split('@')[1]}>, "
                                f"<https://shop.example/u/{rng.getrandbits(64):016x}>",
            "List-Id": f"<weekly.{addr.split('@')[1]}>",
            "Precedence": "bulk",
        }
        self.headers(body, sender=(shop, addr), subject=header_value(
            rng.choice(["New flavours just landed 🍵", "This week's picks", "Last chance: 20% off",
                        "Sakura season is here 🌸"]), "utf-8"),
            when=when, msgid_domain=addr.split("@")[1], charset="utf-8", extra=extra)
        return body, "newsletter"

    def bounce(self, when: datetime) -> tuple[Message, str]:
        rng = self.rng
        name, local, domain, _lang = rng.choice(PEOPLE)
        rcpt = f"{local}@{domain}"
        explanation = (f"This is the mail system at host mx1.kiwamibox.example.\n\nI'm sorry to "
                       "have to inform you that your message could not be delivered to one or "
                       f"more recipients.\n\n<{rcpt}>: host mx.{domain} said: 550 5.1.1 "
                       "User unknown (in reply to RCPT TO command)\n")
        status = Message()
        status["Content-Type"] = "message/delivery-status"
        per_msg = Message()
        per_msg["Reporting-MTA"] = "dns; mx1.kiwamibox.example"
        per_msg["Arrival-Date"] = format_datetime(when)
        per_rcpt = Message()
        per_rcpt["Final-Recipient"] = f"rfc822; {rcpt}"
        per_rcpt["Action"] = "failed"
        per_rcpt["Status"] = "5.1.1"
        per_rcpt["Diagnostic-Code"] = "smtp; 550 5.1.1 User unknown"
        status.set_payload([per_msg, per_rcpt])
        original = text_part(self.fill(OUR_REPLY, {**self.slots(), "first": name.split()[0],
                                                   "date": "3 May"}), "plain", "utf-8",
                             "quoted-printable")
        self.headers(original, sender=(SUPPORT_NAME, SUPPORT), subject="Re: Your order",
                     when=when - timedelta(minutes=1), msgid_domain="kiwamibox.example",
                     charset="utf-8", extra={"To": rcpt})
        returned = Message()
        returned["Content-Type"] = "message/rfc822"
        returned.attach(original)
        report = multipart("report", [text_part(explanation, "plain", "us-ascii", "7bit"),
                                      status, returned], rng,
                           "; report-type=delivery-status")
        self.headers(report, sender=("Mail Delivery System", "MAILER-DAEMON@mx1.kiwamibox.example"),
                     subject="Undelivered Mail Returned to Sender", when=when,
                     msgid_domain="mx1.kiwamibox.example", charset="utf-8",
                     extra={"Return-Path": "<>", "Auto-Submitted": "auto-replied"})
        return report, "bounce"

    def message(self, index: int) -> tuple[bytes, str]:
        when = (BASE_DATE + timedelta(minutes=7 * index + self.rng.randrange(7))).astimezone(
            timezone(timedelta(hours=self.rng.choice((-5, 0, 1, 2, 9)))))
        roll = self.rng.random()
        if roll < 0.04:
            msg, kind = self.auto_reply(when)
        elif roll < 0.085:
            msg, kind = self.newsletter(when)
        elif roll < 0.11:
            msg, kind = self.bounce(when)
        else:
            msg, kind = self.customer(when)
        buffer = io.BytesIO()
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(msg)
        return buffer.getvalue(), kind


def generator_digest() -> str:
    """Changes whenever this file changes, so stale data is regenerated."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / ".manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(out: Path, count: int, seed: int) -> bool:
    manifest = read_manifest(out)
    return bool(manifest) and manifest.get("count") == count and manifest.get(
        "seed") == seed and manifest.get("generator") == generator_digest()


def generate(out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> dict:
    """Write `count` messages to `out` (emptied first); return the manifest written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    writer = Writer(seed)
    kinds: Counter[str] = Counter()
    sizes: list[int] = []
    for index in range(count):
        raw, kind = writer.message(index)
        (out / f"{index:06d}.eml").write_bytes(raw)
        kinds[kind.split(":")[0] if ":" in kind else kind] += 1
        for facet in kind.split(":")[1].split("+")[1:] if ":" in kind else ():
            kinds[f"with {facet}"] += 1
        if ":" in kind:
            kinds[f"charset {kind.rsplit(':', 1)[1]}"] += 1
        sizes.append(len(raw))
    sizes.sort()
    manifest = {
        "count": count, "seed": seed, "generator": generator_digest(),
        "bytes": sum(sizes), "mean_bytes": round(sum(sizes) / max(1, count)),
        "median_bytes": sizes[len(sizes) // 2] if sizes else 0,
        "p95_bytes": sizes[int(len(sizes) * 0.95)] if sizes else 0,
        "max_bytes": sizes[-1] if sizes else 0,
        "kinds": dict(sorted(kinds.items())),
    }
    (out / ".manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", "-n", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate(args.out, args.count, args.seed)
    print(f"wrote {manifest['count']} messages, {manifest['bytes'] / 1e6:.1f} MB "
          f"(mean {manifest['mean_bytes']} B, median {manifest['median_bytes']} B, "
          f"p95 {manifest['p95_bytes']} B, max {manifest['max_bytes']} B) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    for kind, n in manifest["kinds"].items():
        print(f"  {kind:<28} {n:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
