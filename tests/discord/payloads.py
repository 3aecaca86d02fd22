"""Gateway payloads built on Discord's own documentation samples (``../shared/data``).

Each helper starts from a real example (a message, a slash-command interaction) and
changes only the ids, the place and the words, so discord.py parses what Discord sends.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests.discord import fake_discord as fd
from tests.shared_data import shared_path


@cache
def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(shared_path("channels", "discord", name).read_text(encoding="utf-8"))
    return loaded


def dm_message(message_id: int, content: str, channel_id: int = fd.DM_CHANNEL_ID) -> dict[str, Any]:
    """A DM from Mason (Discord's "Example Message")."""
    data = copy.deepcopy(_sample("message__001_Example_Message.json"))
    data.update(id=str(message_id), channel_id=str(channel_id), content=content)
    return data


def guild_message(
    message_id: int,
    channel_id: int,
    content: str,
    *,
    author_id: int = fd.CUSTOMER_ID,
    name: str = "Mason",
    roles: list[int] = [],  # noqa: B006 - read only
    mention_bot: bool = False,
) -> dict[str, Any]:
    """A message in a server channel or thread, with the author's member data."""
    data = dm_message(message_id, content, channel_id)
    data["author"] = {**data["author"], "id": str(author_id), "username": name}
    data["guild_id"] = str(fd.GUILD_ID)
    member = fd.member(author_id, name, roles)
    del member["user"]
    data["member"] = member
    if mention_bot:
        data["mentions"] = [fd.bot_mention()]
    return data


def _interaction(
    interaction_id: int, channel_id: int, *, guild: bool, roles: list[int], user_id: int, locale: str
) -> dict[str, Any]:
    data = copy.deepcopy(_sample("application-commands__066_Example_Interaction.json"))
    data.update(
        id=str(interaction_id),
        token=f"token-{interaction_id}",
        application_id=str(fd.APP_ID),
        channel_id=str(channel_id),
        locale=locale,
        version=1,
        # Fields Discord added after the documentation sample was written.
        attachment_size_limit=10 * 1024 * 1024,
        authorizing_integration_owners={},
        entitlements=[],
    )
    data["member"].setdefault("flags", 0)
    # Discord now sends the channel as an object (discord.py reads its id from there).
    data["channel"] = {"id": str(channel_id), "type": 0 if guild else 1}
    if guild:
        data["channel"]["guild_id"] = str(fd.GUILD_ID)
        data["member"]["roles"] = [str(r) for r in roles]
        data["member"]["user"]["id"] = str(user_id)
        data["guild_id"] = str(fd.GUILD_ID)
    else:
        data["user"] = data.pop("member")["user"]
        data["user"]["id"] = str(user_id)
        del data["guild_id"]
        del data["guild_locale"]
    return data


def slash(
    interaction_id: int,
    channel_id: int,
    name: str,
    options: dict[str, str] | None = None,
    *,
    guild: bool = False,
    roles: list[int] = [],  # noqa: B006 - read only
    user_id: int = fd.CUSTOMER_ID,
    locale: str = "en-US",
) -> dict[str, Any]:
    """A slash command, on the documentation's "Example Interaction"."""
    data = _interaction(interaction_id, channel_id, guild=guild, roles=roles, user_id=user_id, locale=locale)
    data["data"] = {
        "id": str(interaction_id + 1),
        "name": name,
        "type": 1,
        "options": [{"type": 3, "name": k, "value": v} for k, v in (options or {}).items()],
    }
    return data


def autocomplete(interaction_id: int, channel_id: int, typed: str) -> dict[str, Any]:
    """An autocomplete request for ``/faq question`` (Discord's "Autocomplete" sample shape)."""
    data = slash(interaction_id, channel_id, "faq")
    sample = _sample("application-commands__076_Autocomplete.json")
    option = {**sample["data"]["options"][0], "name": "question", "value": typed}
    data["type"] = sample["type"]
    data["data"] = {**data["data"], "options": [option]}
    return data


def press(
    interaction_id: int,
    message: dict[str, Any],
    custom_id: str,
    *,
    guild: bool = False,
    values: list[str] | None = None,
    user_id: int = fd.CUSTOMER_ID,
) -> dict[str, Any]:
    """A button press (or a select-menu choice) on ``message``."""
    channel_id = int(message["channel_id"])
    data = _interaction(interaction_id, channel_id, guild=guild, roles=[], user_id=user_id, locale="en-US")
    data["type"] = 3
    data["message"] = message
    data["data"] = {"custom_id": custom_id, "component_type": 3 if values is not None else 2}
    if values is not None:
        data["data"]["values"] = values
    return data
