"""Survey ratings in an e-mail reply become one-click links; chat-only buttons stay labels."""

from __future__ import annotations

from adapters.email_outgoing import ReplyHeaders, compose
from adapters.survey_links import survey_button_link
from conversations.values import Button, OutboundMessage
from core.settings import load_settings


def test_rating_buttons_are_signed_links_and_others_are_listed() -> None:
    settings = load_settings(
        {"HELPLINE_SURVEYS__SECRET": "s3cret", "HELPLINE_HTTP__PUBLIC_URL": "https://help.example.com"}
    )
    message = OutboundMessage(
        message_id=7,
        idempotency_key="helpline-7",
        channel="email",
        thread_key="<root@example.com>",
        text="How did we do?",
        buttons=(
            Button("★★★★★", "survey:12:5"),
            Button("Skip", "survey:skip:12"),
            Button("No more surveys", "survey:optout:12"),
        ),
    )
    headers = ReplyHeaders(
        sender=("Support", "support@example.com"),
        recipient=("Ann", "ann@example.org"),
        subject="Re: deposit [#HL-1001]",
        message_id="<helpline-7@example.com>",
        in_reply_to="<root@example.com>",
        references=("<root@example.com>",),
    )
    body = compose(
        message, headers, link_for=lambda action: survey_button_link(settings, action)
    ).get_content()
    [rating] = [line for line in body.splitlines() if line.startswith("- ★★★★★")]
    assert "https://help.example.com/survey/" in rating
    assert "- Skip" in body and "survey/" not in body.split("- Skip")[1].splitlines()[0]
    assert any(line.startswith("- No more surveys: https://") for line in body.splitlines())
