"""Inbound e-mail parsing: real-world samples in, exact parsed values out.

Pure Python (no database). The samples under ``samples/`` are modelled on real mail: an
iPhone Mail photo report, a Gmail reply in a thread, an HTML-only Outlook reply, an Exchange
out-of-office, a Gmail vacation responder, a Postfix bounce, a Thunderbird reply in
ISO-8859-1, a Mailman list post, a Thunderbird mail with a PDF, a forward with winmail.dat,
and two broken messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townhall.intake.email_in import (
    EmailAttachment,
    EmailTooLarge,
    ParsedEmail,
    email_automatic_reason,
    email_new_text,
    email_parse,
    html_to_text,
    reference_find,
    reply_address_make,
    reply_address_parse,
)

SAMPLES = Path(__file__).parent / "samples"
SECRET = "s3cret-for-tests"


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.eml").read_bytes()


def parse(name: str) -> ParsedEmail:
    parsed = email_parse(sample(name))
    assert "X-Townhall-Parse-Error" not in parsed.headers
    return parsed


def automatic(headers: str, own_domains: Sequence[str] = ()) -> str:
    msg = BytesParser(policy=policy.default).parsebytes(headers.encode() + b"\n\nbody\n")
    return email_automatic_reason(msg, own_domains=own_domains)


# ---------------------------------------------------------------------------------------
# The samples


def test_iphone_photo_report_in_multipart_related() -> None:
    parsed = parse("apple_mail_inline_photo")

    assert parsed.from_address == "Maria.Lopez@example.net"
    assert parsed.from_name == "María López"
    assert parsed.to == ("intake@example.gov",)
    assert parsed.subject == "Pothole on Elm Street near no. 42"
    assert parsed.message_id == "6E0F8B2A-1C3D-4E5F-A6B7-C8D9E0F1A2B3@example.net"
    assert parsed.in_reply_to == ""
    assert parsed.references == ()
    assert parsed.date == datetime(2026, 3, 3, 13, 41, 12, tzinfo=UTC)
    assert parsed.date is not None and parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.text == (
        "Hello,\n\n"
        "There is a deep pothole on Elm Street in front of no. 42, about 40 cm wide. "
        "A cyclist nearly fell this morning.\n\n"
        "Photo attached.\n\n"
        "María\n\n"
        "Sent from my iPhone"
    )
    assert parsed.new_text == (
        "Hello,\n\n"
        "There is a deep pothole on Elm Street in front of no. 42, about 40 cm wide. "
        "A cyclist nearly fell this morning.\n\n"
        "Photo attached.\n\n"
        "María"
    )
    [photo] = parsed.attachments
    assert photo.filename == "IMG_0412.jpeg"
    assert photo.content_type == "image/jpeg"
    assert photo.inline is True
    assert photo.content_id == "3B7C9D1E-2F4A-4B6C-8D0E-1F2A3B4C5D6E"
    assert photo.data[:3] == b"\xff\xd8\xff" and photo.data[-2:] == b"\xff\xd9"
    assert len(photo.data) == 632
    assert parsed.automatic == ""
    assert parsed.language_hint == ""
    assert parsed.headers["X-Mailer"] == "iPhone Mail (22D82)"
    assert parsed.headers["Received"].startswith("from mail-out.example.net")


def test_the_photo_is_a_valid_jpeg() -> None:
    from io import BytesIO

    from PIL import Image

    [photo] = parse("apple_mail_inline_photo").attachments
    with Image.open(BytesIO(photo.data)) as image:
        assert (image.format, image.size) == ("JPEG", (8, 6))


def test_crlf_line_endings_parse_the_same() -> None:
    lf = parse("apple_mail_inline_photo")
    crlf = email_parse(sample("apple_mail_inline_photo").replace(b"\n", b"\r\n"))
    assert crlf.text == lf.text
    assert crlf.attachments == lf.attachments
    assert crlf.subject == lf.subject


def test_gmail_reply_threads_by_headers_and_drops_the_quoted_history() -> None:
    parsed = parse("gmail_reply_thread")

    assert parsed.from_address == "j.okafor@gmail.com"
    assert parsed.from_name == "James Okafor"
    assert parsed.to == ("case+th-26-004211.gg7j6bmc3z@reply.example.gov",)
    assert parsed.subject == "Re: Your report TH-26-004211 has been updated"
    assert parsed.message_id == "CAF3x9Q+abcDEF1234567_zYxWvU0T-s8R@mail.gmail.com"
    assert parsed.in_reply_to == "update.TH-26-004211.1@example.gov"
    assert parsed.references == (
        "ack.TH-26-004211@example.gov",
        "update.TH-26-004211.1@example.gov",
    )
    assert parsed.date == datetime(2026, 3, 4, 9, 15, 32, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.text == (
        "Thanks for the update. The hole is getting bigger though – it's now\n"
        "about half a metre across, and water collects in it when it rains.\n\n"
        "Could someone put a cone there until it’s fixed?\n\n"
        "James\n\n"
        "On Tue, Mar 3, 2026 at 4:05\u202fPM Testville Council <\n"
        "notifications@example.gov> wrote:\n\n"
        "> Hello James,\n"
        ">\n"
        "> Your report TH-26-004211 (Pothole) was assigned to Public Works.\n"
        ">\n"
        "> You can follow it at https://testville.example.gov/r/TH-26-004211\n"
        ">\n"
        "> --\n"
        "> Testville Council\n"
        ">"
    )
    assert parsed.new_text == (
        "Thanks for the update. The hole is getting bigger though – it's now\n"
        "about half a metre across, and water collects in it when it rains.\n\n"
        "Could someone put a cone there until it’s fixed?\n\n"
        "James"
    )
    assert parsed.attachments == ()
    assert parsed.automatic == ""
    assert reference_find(parsed.subject, prefix="TH") == "TH-26-004211"
    assert reply_address_parse(parsed.to[0], secret=SECRET) == "TH-26-004211"
    assert parsed.headers["Authentication-Results"].startswith("mx.example.gov; dkim=pass")


def test_gmail_html_alternative_reads_the_same() -> None:
    # The HTML alternative (used when there is no plain part) gives the same new text: its
    # quoted history is a <blockquote>, which becomes "> " lines.
    msg = BytesParser(policy=policy.default).parsebytes(sample("gmail_reply_thread"))
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    text = html_to_text(html_part.get_content())
    assert text.endswith("> --\n> Testville Council")
    assert email_new_text(text) == (
        "Thanks for the update. The hole is getting bigger though – it's now about half a "
        "metre across, and water collects in it when it rains.\n\n"
        "Could someone put a cone there until it’s fixed?\n\n"
        "James"
    )


def test_outlook_html_only_reply() -> None:
    parsed = parse("outlook_html_only")

    assert parsed.from_address == "robert.harris@example.org"
    assert parsed.from_name == "Harris, Robert"
    assert parsed.to == ("intake@example.gov", "linda.chen@example.org")
    assert parsed.subject == "RE: Your report TH-26-004187 has been received"
    assert parsed.message_id == (
        "DM6PR04MB6575A1B2C3D4E5F6A7B8C9D0E1F2@DM6PR04MB6575.namprd04.prod.outlook.com"
    )
    assert parsed.in_reply_to == "ack.TH-26-004187@example.gov"
    assert parsed.references == ("ack.TH-26-004187@example.gov",)
    assert parsed.date == datetime(2026, 3, 2, 21, 33, 10, tzinfo=UTC)
    new_text = (
        "Hello,\n\n"
        "The streetlight I reported is still out, and now a second one on the same block has "
        "failed too. Details below:\n\n"
        "Pole number | Location\n"
        "SL-0412 | Oak Ave & 3rd St\n"
        "SL-0415 | Oak Ave & 4th St\n\n"
        "It’s very dark at night and people walk their dogs there. See my earlier report.\n\n"
        "Regards,\n"
        "Robert Harris\n"
        "Tel. (617) 555-0142"
    )
    assert parsed.new_text == new_text
    assert parsed.text == new_text + (
        "\n\n"
        "From: Testville Council <notifications@example.gov>\n"
        "Sent: Monday, March 2, 2026 2:10 PM\n"
        "To: Harris, Robert <robert.harris@example.org>\n"
        "Subject: Your report TH-26-004187 has been received\n\n"
        "Hello Robert,\n\n"
        "Thank you for your report TH-26-004187 (Streetlight out). We will let you know when "
        "it is fixed."
    )
    assert "font-family" not in parsed.text and "&nbsp;" not in parsed.text
    assert parsed.attachments == ()
    assert parsed.automatic == ""
    assert parsed.language_hint == "en-US"
    assert reference_find(parsed.subject, prefix="TH") == "TH-26-004187"


def test_exchange_out_of_office_is_automatic() -> None:
    parsed = parse("outlook_out_of_office")

    assert parsed.automatic == "auto-submitted: auto-replied"
    assert parsed.subject == "Automatic reply: Your report TH-26-004187 has been updated"
    assert parsed.from_address == "robert.harris@example.org"
    assert parsed.in_reply_to == "update.TH-26-004187.2@example.gov"
    assert parsed.text == (
        "I am out of the office until Monday, March 9, with limited access to e-mail.\n\n"
        "For urgent matters please contact Linda Chen at linda.chen@example.org or "
        "(617) 555-0100.\n\n"
        "Robert"
    )
    assert parsed.language_hint == "en-US"
    assert parsed.headers["Auto-Submitted"] == "auto-replied"
    assert parsed.headers["X-Auto-Response-Suppress"] == "All"


def test_exchange_out_of_office_without_auto_submitted_still_is() -> None:
    raw = sample("outlook_out_of_office").replace(b"Auto-Submitted: auto-replied\n", b"")
    assert email_parse(raw).automatic == "x-auto-response-suppress: all"


def test_gmail_vacation_responder_is_automatic() -> None:
    parsed = parse("gmail_vacation")

    assert parsed.automatic == "auto-submitted: auto-replied"
    assert parsed.subject == "Away until March 16"
    assert parsed.text == "Hi, I'm travelling until March 16 and will answer when I'm back.\n\nAna"
    assert parsed.in_reply_to == "update.TH-26-004190.3@example.gov"
    assert parsed.headers["Precedence"] == "bulk"


def test_gmail_vacation_with_only_precedence_bulk_is_automatic() -> None:
    raw = sample("gmail_vacation").replace(b"Auto-Submitted: auto-replied\n", b"")
    assert email_parse(raw).automatic == "precedence: bulk"


def test_postfix_bounce() -> None:
    parsed = parse("postfix_bounce")

    assert parsed.automatic == "bounce: delivery-status report"
    assert parsed.from_address == "MAILER-DAEMON@mx.example.gov"
    assert parsed.from_name == ""
    assert parsed.to == ("notifications@example.gov",)
    assert parsed.subject == "Undelivered Mail Returned to Sender"
    assert parsed.message_id == "20260303100002.3F2A41C0E2@mx.example.gov"
    assert parsed.date == datetime(2026, 3, 3, 10, 0, 2, tzinfo=UTC)
    assert parsed.text.startswith("This is the mail system at host mx.example.gov.\n\n")
    assert parsed.text.endswith(
        "<maria.lopez@example.net>: host mx.example.net[203.0.113.25] said: 550 5.1.1\n"
        "    <maria.lopez@example.net>: Recipient address rejected: User unknown in\n"
        "    virtual mailbox table (in reply to RCPT TO command)"
    )
    # The returned message's text is not part of the bounce's text.
    assert "We have received your report" not in parsed.text
    status, returned = parsed.attachments
    assert (status.filename, status.content_type, status.inline) == (
        "attachment-1.txt",
        "message/delivery-status",
        False,
    )
    assert status.data.startswith(b"Reporting-MTA: dns; mx.example.gov\n")
    assert b"Final-Recipient: rfc822; maria.lopez@example.net\n" in status.data
    assert b"Status: 5.1.1\n" in status.data
    assert (returned.filename, returned.content_type) == ("attachment-2.eml", "message/rfc822")
    assert returned.data.startswith(b"Return-Path: <notifications@example.gov>\n")
    assert b"Message-ID: <177253200000.1234.5f3c2a1b9e8d7c6b5a4f3e2d1c0b9a88@example.gov>" in (
        returned.data
    )


def test_bounce_without_a_report_is_caught_by_its_sender() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        b"To: notifications@example.gov\n"
        b"Subject: Mail delivery failed: returning message to sender\n\n"
        b"This message was created automatically by mail delivery software.\n"
    )
    assert email_parse(raw).automatic == "mailer-daemon sender"


def test_spanish_latin1_reply() -> None:
    parsed = parse("spanish_latin1_reply")

    assert parsed.from_address == "jmpena@example.es"
    assert parsed.from_name == "José María Peña"
    assert parsed.to == ("case+th-26-004199.2dyncatm72@reply.example.gov",)
    # Two RFC 2047 words split inside the reference, joined without a space.
    assert parsed.subject == "Re: Farola fundida en la calle Cañada [TH-26-004199]"
    assert parsed.message_id == "5a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9@example.es"
    assert parsed.in_reply_to == "ack.TH-26-004199@example.gov"
    assert parsed.date == datetime(2026, 3, 3, 18, 2, 11, tzinfo=UTC)
    assert parsed.text == (
        "Buenas tardes:\n\n"
        "La farola sigue sin funcionar y la calle está muy oscura por la noche.\n"
        "¿Podrían enviar a alguien esta semana?\n\n"
        "Gracias,\n"
        "José María\n\n"
        "El 02/03/2026 a las 18:30, Ayuntamiento de Testville escribió:\n"
        "> Hola José María:\n"
        ">\n"
        "> Hemos recibido su aviso TH-26-004199 (Farola fundida). Le avisaremos\n"
        "> cuando esté resuelto.\n"
        ">\n"
        "> Ayuntamiento de Testville"
    )
    assert parsed.new_text == (
        "Buenas tardes:\n\n"
        "La farola sigue sin funcionar y la calle está muy oscura por la noche.\n"
        "¿Podrían enviar a alguien esta semana?\n\n"
        "Gracias,\n"
        "José María"
    )
    assert parsed.language_hint == "es-ES"
    assert parsed.automatic == ""
    assert reference_find(parsed.subject, prefix="TH") == "TH-26-004199"
    assert reply_address_parse(parsed.to[0], secret=SECRET) == "TH-26-004199"


def test_mailing_list_post_is_automatic() -> None:
    parsed = parse("mailing_list")

    assert parsed.automatic == "list mail"
    assert parsed.from_address == "carlos.ruiz@example.com"
    assert parsed.to == ("vecinos@lists.example.org", "intake@example.gov")
    assert parsed.subject == "[Vecinos] Street cleaning schedule for March"
    assert parsed.headers["List-Id"] == "Vecinos del Barrio Norte <vecinos.lists.example.org>"
    assert parsed.text.startswith("Hi all,\n\nThe council's street cleaning")


def test_thunderbird_mail_with_a_pdf() -> None:
    parsed = parse("thunderbird_pdf_attachment")

    assert parsed.from_address == "ana.wright@example.com"
    assert parsed.to == ("intake@example.gov", "blockassoc@example.org")
    assert parsed.subject == "Request for a street party permit on Maple Road"
    assert parsed.date == datetime(2026, 3, 6, 15, 12, 45, tzinfo=UTC)
    # format=flowed: the soft line breaks are joined; 8-bit UTF-8 body.
    body = (
        "Hello,\n\n"
        "We would like to close Maple Road between no. 2 and no. 30 on Saturday 13 June from "
        "12:00 to 20:00 for our annual street party, next to Café Lumière. The filled-in "
        "application form is attached.\n\n"
        "Thank you,"
    )
    assert parsed.text == body + "\n\n--\nAna Wright\nMaple Road Block Association"
    assert parsed.new_text == body
    [pdf] = parsed.attachments
    assert pdf == EmailAttachment(
        filename="Street party – application.pdf",  # RFC 2231
        content_type="application/pdf",
        data=pdf.data,
        inline=False,
        content_id="",
    )
    assert pdf.data.startswith(b"%PDF-1.4\n") and pdf.data.endswith(b"%%EOF\n")
    assert hashlib.sha256(pdf.data).hexdigest() == (
        "9393043d2d8a199cf8037bbe0b349be426a500f3b00795797e17620afd658c96"
    )
    assert parsed.language_hint == "en-US"


def test_forward_as_attachment_keeps_the_forwarded_text_and_winmail() -> None:
    parsed = parse("forwarded_with_winmail")

    forwarded = (
        "Forwarding a complaint my neighbour sent me, she has no e-mail of her own.\n\n"
        "---------- Forwarded message ---------\n"
        'From: "Kowalski, Ewa" <ewa.kowalski@example.org>\n'
        "Date: Sun, 08 Mar 2026 22:41:07 +0000\n"
        "Subject: Noise from the construction site\n"
        "To: Priya Shah <priya.shah@example.com>\n\n"
        "They started the concrete pumps at 5:30 this morning again on Birch Road.\n"
        "It’s the third Sunday in a row."
    )
    assert parsed.text == forwarded
    assert parsed.new_text == forwarded  # a forward is new to us
    [winmail] = parsed.attachments
    assert (winmail.filename, winmail.content_type, winmail.inline) == (
        "winmail.dat",
        "application/ms-tnef",
        False,
    )
    assert winmail.data.startswith(b"\x78\x9f\x3e\x22")  # the TNEF signature
    assert parsed.automatic == ""


def test_broken_boundary_is_recovered() -> None:
    parsed = parse("malformed_broken_boundary")

    assert parsed.from_address == ""
    assert parsed.from_name == ""
    assert parsed.to == ("intake@example.gov",)
    assert parsed.subject == "Bin not emptied =?utf-8?B?invalid!!?="  # bad base64 kept as is
    assert parsed.message_id == ""  # "no angle brackets here" is not an id
    assert parsed.date is None
    # The second part says UTF-8 but is Latin-1.
    assert parsed.text == (
        "The bin on Cedar Lane wasn't emptied — third week in a row.\n\n"
        "The Café on the corner complained too."
    )
    assert parsed.attachments == ()
    assert parsed.automatic == ""


def test_message_without_headers() -> None:
    parsed = parse("malformed_no_headers")

    assert parsed == ParsedEmail(
        from_address="",
        from_name="",
        to=(),
        subject="",
        message_id="",
        in_reply_to="",
        references=(),
        date=None,
        text="the gate of Riverside Park is broken and swings into the road\nplease send someone",
        new_text="the gate of Riverside Park is broken and swings into the road\n"
        "please send someone",
        attachments=(),
        automatic="",
        language_hint="",
        headers=parsed.headers,
    )
    assert dict(parsed.headers) == {}


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.eml")), ids=lambda p: p.stem)
def test_every_sample_parses_cleanly(path: Path) -> None:
    parsed = email_parse(path.read_bytes())
    assert "X-Townhall-Parse-Error" not in parsed.headers
    assert parsed.date is None or parsed.date.tzinfo is not None
    for value in (parsed.text, parsed.new_text, parsed.subject, *parsed.headers.values()):
        value.encode("utf-8")  # no surrogates
        assert "\r" not in value and "\x00" not in value


# ---------------------------------------------------------------------------------------
# Details of the parse


def test_too_large() -> None:
    with pytest.raises(EmailTooLarge):
        email_parse(b"x" * 101, max_bytes=100)
    assert email_parse(b"Subject: ok\n\nx", max_bytes=100).subject == "ok"
    assert issubclass(EmailTooLarge, ValueError)


def test_recipients_are_to_cc_and_delivery_headers_deduplicated_and_lower_cased() -> None:
    parsed = email_parse(
        b"From: a@example.net\n"
        b'To: Intake <Intake@Example.gov>, "Doe, J" <j.doe@example.net>\n'
        b"Cc: undisclosed-recipients:;\n"
        b"Delivered-To: intake@example.gov\n"
        b"X-Original-To: case+TH-26-000001.abc@reply.example.gov\n\nhi\n"
    )
    assert parsed.to == (
        "intake@example.gov",
        "j.doe@example.net",
        "case+th-26-000001.abc@reply.example.gov",
    )


def test_attachment_names_are_sanitised_or_generated() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nSee attached.\n"
        b"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
        b'filename="..\\\\..\\\\windows\\\\evil.exe"\n\nMZ\n'
        b"--b\nContent-Type: image/png\nContent-ID: <logo@x>\n\n\x89PNG\n"
        b'--b\nContent-Type: text/plain; name="notes.txt"\n\nnot the body\n'
        b"--b--\n"
    )
    parsed = email_parse(raw)
    assert parsed.text == "See attached."
    assert [(a.filename, a.content_type, a.inline, a.content_id) for a in parsed.attachments] == [
        ("evil.exe", "application/octet-stream", False, ""),
        ("image-2.png", "image/png", True, "logo@x"),
        ("notes.txt", "text/plain", False, ""),
    ]


def test_html_only_alternative_and_a_plain_alternative_prefers_plain() -> None:
    raw = (
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\n\n"  # empty plain part: not chosen
        b"--b\nContent-Type: text/html\n\n<p>From the <b>HTML</b></p>\n"
        b"--b--\n"
    )
    assert email_parse(raw).text == "From the HTML"


def test_unknown_and_missing_charsets() -> None:
    assert email_parse(b"Content-Type: text/plain; charset=x-nope\n\ncaf\xc3\xa9").text == "café"
    assert email_parse(b"Content-Type: text/plain\n\ncaf\xe9 \x93ok\x94").text == "café “ok”"
    assert email_parse(b"Content-Type: text/plain; charset=base64\n\nabc").text == "abc"
    assert (
        email_parse(b"Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4").text
        == "Привет"
    )


def test_raw_utf8_headers() -> None:
    parsed = email_parse("From: Zoë <zoe@example.net>\nSubject: Árbol caído\n\nx".encode())
    assert (parsed.from_name, parsed.subject) == ("Zoë", "Árbol caído")


def test_date_without_zone_is_utc() -> None:
    parsed = email_parse(b"Date: Tue, 3 Mar 2026 10:00:00 -0000\n\nx")
    assert parsed.date == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert email_parse(b"Date: Tue, 3 Mar 2026 10:00:00 +9900\n\nx").date is None


def test_deep_nesting_does_not_blow_up() -> None:
    depth = 3000
    raw = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    raw += b"Content-Type: text/plain\n\nhello\n"
    parsed = email_parse(raw)
    assert "X-Townhall-Parse-Error" not in parsed.headers


# ---------------------------------------------------------------------------------------
# Machine mail


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: a@example.net\nSubject: Pothole", ""),
        ("From: a@example.net\nAuto-Submitted: no", ""),
        ("From: a@example.net\nAuto-Submitted: no (a person wrote this)", ""),
        ("From: a@example.net\nAuto-Submitted: auto-generated", "auto-submitted: auto-generated"),
        (
            "From: a@example.net\nAuto-Submitted: Auto-Replied; owner",
            "auto-submitted: auto-replied",
        ),
        ("From: a@example.net\nX-Autoreply: yes", "x-autoreply header"),
        ("From: a@example.net\nX-Autorespond: Vacation", "x-autorespond header"),
        (
            "From: a@example.net\nX-Auto-Response-Suppress: OOF, AutoReply",
            ("x-auto-response-suppress: autoreply, oof"),
        ),
        ("From: a@example.net\nX-Auto-Response-Suppress: DR, RN, NRN", ""),
        ("From: a@example.net\nPrecedence: junk", "precedence: junk"),
        ("From: a@example.net\nPrecedence: auto_reply", "precedence: auto_reply"),
        ("From: a@example.net\nPrecedence: first-class", ""),
        ("From: a@example.net\nList-Unsubscribe: <mailto:leave@lists.example.org>", "list mail"),
        (
            "From: a@example.net\nContent-Type: multipart/report; "
            "report-type=disposition-notification; boundary=x",
            "receipt: disposition-notification report",
        ),
        ("From: a@example.net\nX-Failed-Recipients: b@example.org", "bounce: x-failed-recipients"),
        ("From: a@example.net\nReturn-Path: <>", "null return-path"),
        ("From: a@example.net\nReturn-Path: <a@example.net>", ""),
        ("From: postmaster@example.net", "mailer-daemon sender"),
        ("From: MAILER-DAEMON", "mailer-daemon sender"),
        ("From: Shop <no-reply@shop.example>", "no-reply sender"),
        ("From: Shop <DoNotReply@shop.example>", "no-reply sender"),
        ("From: x@example.net\nSender: noreply@forms.example", "no-reply sender"),
        # The subject alone is not enough: a person may write "Out of office hours noise".
        ("From: a@example.net\nSubject: Out of office hours noise from the bar", ""),
        ("From: a@example.net\nSubject: Automatic reply: Your report", ""),
        (
            "From: a@example.net\nSubject: Automatic reply: Your report\n"
            "X-Auto-Response-Suppress: DR",
            "auto-reply subject + x-auto-response-suppress",
        ),
        (
            "From: a@example.net\nSubject: Respuesta automática: Su aviso\n"
            "X-MS-Exchange-Inbox-Rules-Loop: a@example.net",
            "auto-reply subject + exchange inbox rule",
        ),
        (
            "From: Mail Delivery Subsystem <bounces@relay.example>\n"
            "Subject: Delivery Status Notification (Failure)",
            "auto-reply subject + mail-system sender",
        ),
        ("From: a@example.net\nX-Townhall-Loop: testville", "loop: our own mail"),
    ],
)
def test_automatic_reasons(headers: str, reason: str) -> None:
    assert automatic(headers) == reason


def test_own_domains_are_a_loop() -> None:
    headers = "From: Testville Council <Notifications@Example.GOV>"
    assert automatic(headers, own_domains=["example.gov"]) == "loop: sent from our own domain"
    assert automatic(headers, own_domains=["reply.example.gov"]) == ""
    assert automatic("From: a@sub.example.gov", own_domains=["example.gov"]) == ""
    parsed = email_parse(sample("gmail_reply_thread"), own_domains=["gmail.com"])
    assert parsed.automatic == "loop: sent from our own domain"


def test_bounce_report_wins_over_auto_submitted() -> None:
    # Postfix also sets Auto-Submitted: auto-replied on its bounces.
    assert b"Auto-Submitted: auto-replied" in sample("postfix_bounce")
    assert parse("postfix_bounce").automatic == "bounce: delivery-status report"


def test_our_own_notification_comes_back_as_automatic() -> None:
    # What townhall.notify's EmailChannel sends, bounced back to us by a forward rule.
    from townhall.notify.channels import EmailChannel, OutgoingMessage

    outgoing = OutgoingMessage(
        key="case:1:ack:email",
        channel="email",
        to="maria@example.net",
        subject="Your report TH-26-004211 has been received",
        body="Hello",
        html_body="<p>Hello</p>",
        unsubscribe_url="https://testville.example.gov/u/abc",
    )
    mail = EmailChannel(from_email="Testville <notifications@example.gov>").build(outgoing)
    parsed = email_parse(mail.message().as_bytes())
    if "X-Townhall-Loop" in mail.extra_headers:
        assert parsed.automatic == "loop: our own mail"
    else:
        assert parsed.automatic == "auto-submitted: auto-generated"
    assert parsed.text == "Hello"


# ---------------------------------------------------------------------------------------
# HTML to text


def test_html_to_text() -> None:
    html = (
        "<html><head><title>Newsletter</title><style>p{color:red}</style>"
        "<script>var x = '<p>no</p>';</script></head><body>"
        "<div>Hi&nbsp;there,<br><br>line <b>bold</b> <a href='https://x.example'>link text</a>"
        " &amp; &lt;angle&gt; &eacute;&#233;&#x263a;</div>"
        "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>"
        "<p>Para\n  graph</p><h2>Head</h2>"
        "<table><tr><td>Location</td><td>Main St</td></tr><tr><td></td><td>x</td></tr></table>"
        "<blockquote>quoted<br>two</blockquote>"
        "<pre>  code\n    indented</pre>"
        "<span style='display: none'>preheader</span><div hidden>hidden</div>"
        "<!-- a comment --><noscript>shown</noscript> end</body></html>"
    )
    assert html_to_text(html) == (
        "Hi there,\n\n"
        "line bold link text & <angle> éé☺\n\n"
        "- one\n"
        "- two\n"
        "  1. a\n"
        "  2. b\n\n"
        "Para graph\n\n"
        "Head\n\n"
        "Location | Main St\n"
        "x\n\n"
        "> quoted\n"
        "> two\n\n"
        "  code\n"
        "    indented\n\n"
        "shown end"
    )


def test_html_to_text_outlook_paragraphs_and_gmail_divs() -> None:
    outlook = (
        '<p class="MsoNormal">Hello,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<p class="MsoNormal">Line one<o:p></o:p></p><p class="MsoNormal">Line two</p>'
        "<![if !supportLists]><p class=MsoListParagraph>1. item</p><![endif]>"
    )
    assert html_to_text(outlook) == "Hello,\n\nLine one\nLine two\n1. item"
    gmail = '<div dir="ltr">One<div>Two</div><div><br></div><div>Three</div></div>'
    assert html_to_text(gmail) == "One\nTwo\n\nThree"


def test_html_to_text_on_broken_html() -> None:
    assert html_to_text("<p>unclosed <b>bold <i>both</p> after") == "unclosed bold both\n\nafter"
    assert html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000) == "deep"
    assert html_to_text("") == ""
    pasted = '<p>See photo:</p><img src="data:image/png;base64,' + "A" * 3_000_000 + '"><p>End</p>'
    assert html_to_text(pasted) == "See photo:\n\nEnd"
    assert html_to_text("<<<>>>&&&;") == "<<<>>>&&&;"


# ---------------------------------------------------------------------------------------
# New text of a reply


@pytest.mark.parametrize(
    ("text", "new"),
    [
        (
            "Fixed now, thanks.\n\n-----Original Message-----\nFrom: Council\nSent: Monday\n"
            "Subject: x\n\nold text",
            "Fixed now, thanks.",
        ),
        (
            "Still broken.\n\n________________________________\nFrom: Testville Council "
            "<n@example.gov>\nSent: Monday, March 2, 2026 2:10 PM\nTo: Me\nSubject: x\n\nold",
            "Still broken.",
        ),
        (
            "Sigue roto.\n\nDe: Ayuntamiento <n@example.gov>\nEnviado: lunes, 2 de marzo\n"
            "Para: Yo\nAsunto: x\n\nviejo",
            "Sigue roto.",
        ),
        (
            "Merci.\n\nLe mar. 3 mars 2026 à 10:14, Mairie <n@example.gov> a écrit :\n> ancien",
            "Merci.",
        ),
        ("Danke.\n\nAm 03.03.2026 um 10:14 schrieb Stadt <n@example.gov>:\n> alt", "Danke."),
        ("Looks good.\n\n-- \nJane Doe\nMaple Road", "Looks good."),
        ("Here's the photo.\n\nSent from my iPhone\n\n> old", "Here's the photo."),
        ("Aquí está.\n\nEnviado desde mi iPhone", "Aquí está."),
        ("Thanks\n\nGet Outlook for Android", "Thanks"),
        # Answers between quotes are kept.
        (
            "On Tue, Mar 3, 2026 at 9:12 AM Council <n@example.gov> wrote:\n"
            "> Which side of the street?\nThe north side.\n> Is it blocking traffic?\nYes.",
            "The north side.\nYes.",
        ),
        # Not reply headers: ordinary sentences.
        ("El vecino me escribió: que no funciona.", "El vecino me escribió: que no funciona."),
        ("On Monday the truck came and wrote:", "On Monday the truck came and wrote:"),
        (
            "I sent from my phone because the website was down.",
            "I sent from my phone because the website was down.",
        ),
        (
            "From: the corner of Elm St\nto the school, the sidewalk is broken.",
            "From: the corner of Elm St\nto the school, the sidewalk is broken.",
        ),
        (
            "From: 5th Avenue\nDate: since Monday\nProblem: the lights are out.",
            "From: 5th Avenue\nDate: since Monday\nProblem: the lights are out.",
        ),
        (
            "On Main St, 12 cars parked and a neighbour wrote:\nthe fence is down.",
            "On Main St, 12 cars parked and a neighbour wrote:\nthe fence is down.",
        ),
        # A Gmail inline forward keeps its header block.
        (
            "See below.\n\n---------- Forwarded message ---------\nFrom: Ewa <e@example.org>\n"
            "Date: Sun, Mar 8, 2026 at 10:41 PM\nSubject: Noise\n\nLoud pumps.",
            "See below.\n\n---------- Forwarded message ---------\nFrom: Ewa <e@example.org>\n"
            "Date: Sun, Mar 8, 2026 at 10:41 PM\nSubject: Noise\n\nLoud pumps.",
        ),
        ("", ""),
    ],
)
def test_new_text(text: str, new: str) -> None:
    assert email_new_text(text) == new


def test_outlook_forward_keeps_the_forwarded_message() -> None:
    text = (
        "FYI\n\n________________________________\nFrom: Ewa <e@example.org>\n"
        "Sent: Sunday, March 8, 2026 10:41 PM\nTo: Me\nSubject: Noise\n\nLoud pumps."
    )
    assert email_new_text(text, forwarded=True) == text
    assert email_new_text(text) == "FYI"
    raw = b"From: me@example.net\nSubject: FW: Noise\n\n" + text.encode()
    assert email_parse(raw).new_text == text


# ---------------------------------------------------------------------------------------
# References and reply addresses


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Re: Your report TH-26-004211 has been updated", "TH-26-004211"),
        ("[TH-26-004211] pothole", "TH-26-004211"),
        ("about th-26-004211.", "TH-26-004211"),
        ("Ref: TH 26 004211", "TH-26-004211"),
        ("TH-26-0042119999", "TH-26-0042119999"),
        ("first TH-25-000001 then TH-26-000002", "TH-25-000001"),
        ("TH-26-04211", None),  # 5 digits
        ("XTH-26-004211", None),
        ("TH-26-004211X", None),
        ("TH--26-004211", None),
        ("TH-2026-004211", None),
        ("TH-26-٠٠٤٢١١", None),  # non-ASCII digits
        ("case+TH26004211", None),
        ("", None),
    ],
)
def test_reference_find(text: str, found: str | None) -> None:
    assert reference_find(text, prefix="TH") == found


def test_reference_find_escapes_the_prefix() -> None:
    assert reference_find("see C.S-26-000123", prefix="C.S") == "C.S-26-000123"
    assert reference_find("see CXS-26-000123", prefix="C.S") is None
    with pytest.raises(ValueError, match="prefix"):
        reference_find("TH-26-004211", prefix="")


def test_reply_address_round_trip() -> None:
    address = reply_address_make("TH-26-004211", domain="reply.example.gov", secret=SECRET)
    assert address == "case+TH-26-004211.gg7j6bmc3z@reply.example.gov"
    assert reply_address_parse(address, secret=SECRET) == "TH-26-004211"
    # Mail systems may change the case of the whole address.
    assert reply_address_parse(address.lower(), secret=SECRET) == "TH-26-004211"
    assert reply_address_parse(address.upper(), secret=SECRET) == "TH-26-004211"
    assert reply_address_parse(f"Testville <{address}>", secret=SECRET) == "TH-26-004211"
    assert reply_address_parse(address, secret=SECRET, domain="Reply.Example.gov") == "TH-26-004211"


@pytest.mark.parametrize(
    "address",
    [
        "case+TH-26-004212.gg7j6bmc3z@reply.example.gov",  # another case, same signature
        "case+TH-26-004211.gg7j6bmc3y@reply.example.gov",  # one character off
        "case+TH-26-004211.gg7j6bmc3@reply.example.gov",  # truncated
        "case+TH-26-004211@reply.example.gov",  # no signature
        "case+TH-26-004211.@reply.example.gov",
        "TH-26-004211.gg7j6bmc3z@reply.example.gov",  # no prefix
        "case+TH-26-004211.gg7j6bmc3z",  # no domain
        "case+TH-26-004211.ǵg7j6bmc3z@reply.example.gov",
        "intake@example.gov",
        "",
        "<>",
    ],
)
def test_reply_address_refuses_forgeries(address: str) -> None:
    assert reply_address_parse(address, secret=SECRET) is None


def test_reply_address_secret_domain_and_prefix() -> None:
    address = reply_address_make("TH-26-004211", domain="reply.example.gov", secret=SECRET)
    assert reply_address_parse(address, secret="another-secret") is None
    assert reply_address_parse(address, secret="") is None  # not configured: nothing verifies
    assert reply_address_parse(address, secret=SECRET, domain="example.gov") is None
    custom = reply_address_make(
        "TH-26-004211", domain="r.example.gov", secret=SECRET, local_prefix="reply-"
    )
    assert custom.startswith("reply-TH-26-004211.")
    assert reply_address_parse(custom, secret=SECRET, local_prefix="reply-") == "TH-26-004211"
    assert reply_address_parse(custom, secret=SECRET) is None
    with pytest.raises(ValueError, match="secret"):
        reply_address_make("TH-26-004211", domain="reply.example.gov", secret="")
    with pytest.raises(ValueError, match="reference"):
        reply_address_make("TH 26 004211", domain="reply.example.gov", secret=SECRET)
    with pytest.raises(ValueError, match="domain"):
        reply_address_make("TH-26-004211", domain="a@b", secret=SECRET)


# ---------------------------------------------------------------------------------------
# Never raises


def _check_parse(raw: bytes) -> None:
    parsed = email_parse(raw)
    assert "X-Townhall-Parse-Error" not in parsed.headers, parsed.headers
    for value in (
        parsed.text,
        parsed.new_text,
        parsed.subject,
        parsed.from_address,
        parsed.from_name,
        *parsed.to,
        *parsed.headers.values(),
    ):
        value.encode("utf-8")
    assert parsed.date is None or parsed.date.tzinfo is not None


@given(st.binary(max_size=3000))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check_parse(raw)


_SAMPLE_BYTES = [p.read_bytes() for p in sorted(SAMPLES.glob("*.eml"))]


@given(
    st.sampled_from(_SAMPLE_BYTES),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.binary(max_size=40)),
        min_size=1,
        max_size=6,
    ),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mangled_samples_never_raise(raw: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(raw)
    for position, length, insert in edits:
        at = position % (len(data) + 1)
        data[at : at + length] = insert
    _check_parse(bytes(data))


@given(
    st.lists(
        st.sampled_from(
            [
                b"From: ",
                b"To: ",
                b"Subject: ",
                b"Date: ",
                b"Content-Type: ",
                b"multipart/mixed; boundary=b",
                b"multipart/alternative; boundary=b",
                b"message/rfc822",
                b"text/html",
                b"text/plain; charset=",
                b"utf-8",
                b"Content-Transfer-Encoding: ",
                b"base64",
                b"quoted-printable",
                b"=?utf-8?q?",
                b"=?",
                b"?=",
                b"<",
                b">",
                b"@",
                b'"',
                b"\n",
                b"\n\n",
                b"--b\n",
                b"--b--\n",
                b"<p>",
                b"<br>",
                b"\xff\xe9",
                b"=E9",
                b"x",
            ]
        ),
        max_size=60,
    )
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mime_shaped_noise_never_raises(pieces: list[bytes]) -> None:
    _check_parse(b"".join(pieces))
