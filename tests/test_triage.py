"""The pipeline on hand-written mails: the verdicts the contract promises."""

from __future__ import annotations

from tests.mails import raw_mail


def test_unsure_guess_about_foreign_mail_goes_to_a_person_as_other(triager) -> None:
    raw = raw_mail(subject="Paket", body="Hallo, mein Paket ist seit drei Wochen unterwegs und "
                   "die Sendungsverfolgung zeigt nichts Neues. Können Sie bitte nachsehen?")
    verdict = triager.triage(raw).verdict
    assert (verdict.category, verdict.action, verdict.flags) == ("other", "human",
                                                                 ("non_english",))


def test_damage_claim_without_photo_asks_for_one(triager) -> None:
    raw = raw_mail(subject="Broken teacup", body="Hi, the teacup arrived in three pieces, the "
                   "box was crushed. Photos attached. What can you do?")
    verdict = triager.triage(raw).verdict
    assert verdict.category == "damaged_item" and verdict.action == "human"
    assert "missing_evidence" in verdict.flags and "pictures or a video" in verdict.draft


def test_damage_claim_with_a_heic_photo_is_drafted(triager) -> None:
    raw = raw_mail(subject="Broken teacup", body="Hi, the teacup arrived in three pieces, the "
                   "box was crushed. Photo attached. What can you do?",
                   attachments=[("IMG_2031.HEIC", "application/octet-stream", b"x" * 90_000)])
    verdict = triager.triage(raw).verdict
    assert verdict.category == "damaged_item" and "missing_evidence" not in verdict.flags


def test_short_question_above_a_forwarded_notice_reads_the_notice(triager) -> None:
    raw = raw_mail(subject="Fwd: Your parcel", body=(
        "Is this normal? Do I have to pay?\n\n---------- Forwarded message ---------\n"
        "From: Post <no-reply@post.example>\n\nYour parcel from JAPAN is held by customs. "
        "Import VAT and a handling fee of 18.40 EUR must be paid before delivery."))
    assert triager.triage(raw).verdict.category == "customs_held"


def test_label_follows_the_newest_text_not_the_quoted_thread(triager) -> None:
    raw = raw_mail(subject="Re: Where is my parcel?", body=(
        "It arrived yesterday, thanks! But the tabi socks are the wrong size, I ordered 25 cm "
        "and got 22 cm. Can I swap them for the right size? They are unopened.\n\n"
        "On Tue, 3 Mar 2026 at 02:14, Kiwami Box <support@kiwamibox.example> wrote:\n"
        "> Your parcel is late; tracking shows it is still in transit in customs."))
    assert triager.triage(raw).verdict.category == "return_exchange"


def test_a_mail_with_no_known_words_is_never_drafted(triager) -> None:
    verdict = triager.triage(raw_mail(subject="64423", body="Blah blah blah")).verdict
    assert verdict.action == "human"


def test_thresholds_never_drop_below_the_floor(model) -> None:
    from responder.training import MIN_THRESHOLD

    assert min(model.thresholds.values()) >= MIN_THRESHOLD
