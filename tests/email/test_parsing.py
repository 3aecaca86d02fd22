"""The parser on real-world mail (CPython's and flanker's test messages) and on our own charset fixtures."""

from __future__ import annotations

import base64
import json
from email.header import Header
from pathlib import Path

import pytest

from adapters.email_parsing import parse_email
from adapters.email_text import decode_text, html_to_text, new_text
from tests.shared_data import shared_path


def shared_messages() -> list[Path]:
    root = shared_path("email")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".txt", ".eml"))


def test_every_shared_message_parses_to_text_or_a_reason() -> None:
    messages = shared_messages()
    assert len(messages) >= 90
    without_text = 0
    for path in messages:
        parsed = parse_email(path.read_bytes())
        assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">"), path
        assert len(parsed.message_id) <= 255
        # Everything must be storable as JSON in either database.
        json.dumps([parsed.subject, parsed.text, parsed.body, parsed.headers, parsed.problems]).encode()
        assert "\x00" not in parsed.text + parsed.body
        if not parsed.text:
            without_text += 1
            assert parsed.problems, f"{path}: no text and no recorded reason"
    assert without_text < len(messages) // 4


def test_the_same_bytes_give_the_same_made_up_message_id() -> None:
    path = shared_path("email", "cpython", "msg_02.txt")
    first, second = parse_email(path.read_bytes()), parse_email(path.read_bytes())
    assert first.message_id == second.message_id
    assert first.message_id.endswith("@helpline.invalid>")
    assert any("no Message-ID" in p for p in first.problems)


def test_shared_samples_with_known_content() -> None:
    russian = parse_email(shared_path("email", "flanker", "8bitmime.eml").read_bytes())
    assert "Превел" in russian.text
    bilingual = parse_email(shared_path("email", "flanker", "bilingual-simple.eml").read_bytes())
    assert "Как ты поживаешь" in bilingual.subject
    assert "по-русски" in bilingual.text
    german = parse_email(shared_path("email", "flanker", "long-header.eml").read_bytes())
    assert "Die heiße Zypernsonne quälte Max und Victoria" in german.subject
    iphone = parse_email(shared_path("email", "flanker", "iphone.eml").read_bytes())
    [photo] = iphone.attachments
    assert (photo.name, photo.mime_type, photo.refused) == ("photo.JPG", "image/jpeg", None)
    assert photo.size > 1000
    yahoo = parse_email(shared_path("email", "flanker", "russian-attachment-yahoo.eml").read_bytes())
    assert yahoo.attachments[0].name is not None and yahoo.attachments[0].name.startswith("Картинка")
    html_only = parse_email(shared_path("email", "flanker", "long-links.eml").read_bytes())
    assert "text read from HTML" in html_only.problems and "<" not in html_only.text
    dsn = parse_email(shared_path("email", "flanker", "bounce", "zed.eml").read_bytes())
    assert dsn.report_type == "delivery-status"


def _message(body: bytes, charset: str | None, *, subject: str = "Help", extra: str = "") -> bytes:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    head = (
        "From: Customer <customer@example.com>\r\nTo: support@helpline.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n{extra}\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("您好，我昨天提现了一笔USDT，到现在还没有到账，请帮我查一下。", "gb2312"),
        ("您好，我昨天提现了一笔USDT，到现在还没有到账，请帮我查一下。", "gbk"),
        ("您好，我昨天提现了一笔USDT，到现在还没有到账，请帮我查一下。𠀀", "gb18030"),
        ("您好，我昨天提現了一筆USDT，到現在還沒有到賬，請幫我查一下。", "big5"),
        ("こんにちは。昨日出金したUSDTがまだ届いていません。", "iso-2022-jp"),
        ("Bonjour, mon dépôt n'est pas arrivé, merci de vérifier.", "iso-8859-1"),
        ("Hello 👋 my deposit is missing", "utf-8"),
    ],
)
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_charsets_declared_or_not(text: str, charset: str, declared: bool) -> None:
    parsed = parse_email(_message(text.encode(charset), charset if declared else None))
    assert parsed.text == text


def test_a_wrong_declaration_is_detected() -> None:
    text = "您好，我的充值还没有到账，已经等了两个小时了，请帮忙看一下。"
    parsed = parse_email(_message(text.encode("gbk"), "us-ascii"))
    assert parsed.text == text
    assert any("read as gb18030" in p for p in parsed.problems)


def test_rfc2047_headers_and_base64_body() -> None:
    subject = Header("提现未到账 withdrawal", "utf-8").encode()
    name = Header("张三", "gb2312").encode()
    body = base64.b64encode("我的提現還沒到".encode("big5")).decode()
    data = (
        f"From: {name} <zhang@example.com>\r\nSubject: {subject}\r\nMessage-ID: <z@example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=big5\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
    ).encode()
    parsed = parse_email(data)
    assert parsed.subject == "提现未到账 withdrawal"
    assert (parsed.from_name, parsed.from_address) == ("张三", "zhang@example.com")
    assert parsed.text == "我的提現還沒到"


def test_undeclared_8bit_in_a_header() -> None:
    data = _message(b"body", "utf-8", subject="")
    data = data.replace(b"Subject: \r\n", "Subject: 充值问题\r\n".encode("gbk"))
    assert parse_email(data).subject == "充值问题"


def test_alternative_prefers_plain_text_and_html_is_sanitised() -> None:
    both = (
        b"From: a@example.com\r\nMessage-ID: <alt@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML version</p>\r\n--b--\r\n"
    )
    assert parse_email(both).text == "Plain version"
    html = (
        "<html><head><style>p {color: red}</style><title>x</title></head><body>"
        "<p>My deposit <b>is missing</b></p><script>alert('x')</script>"
        '<a href="https://explorer.example.com/tx/1">the transaction</a>'
        "<img src=x onerror=alert(1)><br>Thanks</body></html>"
    )
    text = html_to_text(html)
    assert text == "My deposit is missing\nthe transaction (https://explorer.example.com/tx/1)\nThanks"


def test_attachments_are_described_and_dangerous_ones_refused() -> None:
    def part(name: str, kind: str, size: int) -> str:
        payload = base64.b64encode(b"x" * size).decode()
        return (
            f'--b\r\nContent-Type: {kind}\r\nContent-Disposition: attachment; filename="{name}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{payload}\r\n"
        )

    data = (
        "From: a@example.com\r\nMessage-ID: <att@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nSee the screenshot\r\n"
        + part("screenshot.png", "image/png", 300)
        + part("invoice.pdf.exe", "application/octet-stream", 100)
        + part("huge.zip", "application/zip", 3000)
        + "--b--\r\n"
    ).encode()
    parsed = parse_email(data, max_attachment_bytes=2000)
    assert parsed.text == "See the screenshot"
    found = {a.name: (a.mime_type, a.size, a.refused) for a in parsed.attachments}
    assert found["screenshot.png"] == ("image/png", 300, None)
    assert found["invoice.pdf.exe"][2] == "dangerous file type (.exe)"
    assert found["huge.zip"][2] == "larger than 2000 bytes (3000)"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Still nothing.\n\nOn Mon, 1 Jan 2024 at 10:00, Support <s@x.com> wrote:\n> Please wait",
            "Still nothing.",
        ),
        (
            "Still nothing.\n\nOn Mon, 1 Jan 2024 at 10:00, Acme Support <s@x.com>\nwrote:\n> x",
            "Still nothing.",
        ),
        ("还是没到账\n\n在 2024年1月1日 10:00，客服 <s@x.com> 写道：\n> 请稍等", "还是没到账"),
        ("Here it is\n\n-----Original Message-----\nFrom: Support\nSent: Monday", "Here it is"),
        ("Here\n\nFrom: Support <s@x.com>\nSent: Monday, 1 January\nTo: me\nSubject: Re: x", "Here"),
        ("My txid is abc\n\n-- \nJohn Smith\nACME Corp", "My txid is abc"),
        ("My txid is abc\n\nSent from my iPhone", "My txid is abc"),
        ("> only a quote\n> nothing new", "> only a quote\n> nothing new"),
        ("From: my wallet I sent 5 BTC\nthen nothing", "From: my wallet I sent 5 BTC\nthen nothing"),
    ],
)
def test_quotes_and_signatures_are_cut(body: str, expected: str) -> None:
    assert new_text(body) == expected


def test_the_full_body_is_kept_beside_the_new_text() -> None:
    body = "Thanks!\n\nOn Tue, 2 Jan 2024, Support <s@x.com> wrote:\n> Your ticket HL-1001\n"
    parsed = parse_email(_message(body.encode(), "utf-8"))
    assert parsed.text == "Thanks!"
    assert "> Your ticket HL-1001" in parsed.body


def test_garbage_never_raises() -> None:
    for data in (
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary",
        b"\r\n" * 100,
    ):
        parsed = parse_email(data)
        assert parsed.message_id.endswith("@helpline.invalid>")


def test_decode_text_reports_detection() -> None:
    assert decode_text("你好".encode(), None) == ("你好", "utf_8", False)
    text, codec, detected = decode_text("充值没到账，请帮忙".encode("gbk"), None)
    assert (text, codec, detected) == ("充值没到账，请帮忙", "gb18030", True)
