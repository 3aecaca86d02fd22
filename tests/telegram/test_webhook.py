"""Webhook mode: Helpline registers its URL and secret, and serves updates on its own HTTP server."""

from __future__ import annotations

import json
import logging

import pytest

from tests.shared_data import shared_path
from tests.telegram.conftest import SECRET, SQLITE_ONLY, Start
from tests.telegram.updates import CUSTOMER, text_update


@SQLITE_ONLY
async def test_the_webhook_is_registered_with_its_secret_and_answers(start_helpline: Start) -> None:
    helpline = await start_helpline("webhook")
    api = helpline.api
    assert api.webhook is not None
    assert api.webhook["url"] == helpline.webhook_url
    assert api.webhook["secret_token"] == SECRET
    assert "callback_query" in api.webhook["allowed_updates"]
    assert not api.of("getUpdates")

    answer = await api.deliver(text_update("hello", message_id=60))
    assert answer.status_code == 200
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    assert "support assistant" in api.sent(CUSTOMER)[0].params["text"]


async def test_a_wrong_or_missing_secret_gets_403_and_nothing_is_stored(start_helpline: Start) -> None:
    helpline = await start_helpline("webhook")
    assert helpline.webhook_url is not None
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret"}):
        answer = await helpline.api.post(helpline.webhook_url, text_update("hello", message_id=61), headers)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "forbidden"
    assert await helpline.messages() == []
    assert not helpline.api.sent()


async def test_redelivered_webhook_updates_are_stored_once(start_helpline: Start) -> None:
    helpline = await start_helpline("webhook")
    api = helpline.api
    first = text_update("hello", message_id=62)
    assert (await api.deliver(first)).status_code == 200
    assert (await api.deliver(first)).status_code == 200
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    assert len(await helpline.messages("in")) == 1


@SQLITE_ONLY
async def test_bad_bodies_get_a_clear_answer(start_helpline: Start, caplog: pytest.LogCaptureFixture) -> None:
    helpline = await start_helpline("webhook")
    assert helpline.webhook_url is not None
    caplog.set_level(logging.WARNING, "adapters.telegram_channel")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    api = helpline.api
    not_json = await api.post(helpline.webhook_url, b"{oops", headers)
    unreadable = await api.post(helpline.webhook_url, {"update_id": 5, "message": []}, headers)
    not_update = await api.post(helpline.webhook_url, [1, 2], headers)
    assert not_json.status_code == 400
    assert unreadable.status_code == 200 and "cannot be read" in unreadable.json()["ignored"]
    assert not_update.status_code == 200 and "update_id" in not_update.json()["ignored"]
    assert "rejected a webhook update" in caplog.text
    assert await helpline.messages() == []


@SQLITE_ONLY
async def test_telegrams_documentation_samples_are_handled_or_rejected(
    start_helpline: Start, caplog: pytest.LogCaptureFixture
) -> None:
    samples = sorted(shared_path("channels", "telegram").glob("*.json"))
    helpline = await start_helpline("webhook")
    api = helpline.api
    caplog.set_level(logging.INFO, "adapters.telegram_channel")
    for sample in samples:
        answer = await api.deliver(json.loads(sample.read_text()))
        assert answer.status_code == 200, sample.name

    stored = await helpline.until_stored(2)
    # The samples reuse one chat and message id: the first readable one is stored, the edit
    # is recorded against it, the rest are redeliveries of the same message.
    assert stored[0].external_id == "1111111:1365"
    assert stored[1].edit_of_id == stored[0].id and stored[1].text == "Edited text"
    assert "inline_query is not handled" in caplog.text
    assert "chat_instance" in caplog.text  # an old-style button press, refused with the reason
    # Still serving after all of them.
    assert (await api.deliver(text_update("hello", message_id=63))).status_code == 200
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) >= 1)
