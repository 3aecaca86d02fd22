"""The ``x`` settings section: credentials, intake mode, the public-reply policy and limits.

Every key is ``HELPLINE_X__<KEY>`` in the environment (the four OAuth secrets only there).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class XSettings(BaseModel):
    """The ``x`` settings section.

    Attributes:
        enabled: Run the channel.
        consumer_key: The app's API key (OAuth 1.0a consumer key).
        consumer_secret: The app's API key secret; also signs Account Activity webhooks.
        access_token: The support account's access token (user context).
        access_token_secret: Its secret.
        user_id: The support account's numeric id; looked up with ``GET /2/users/me`` when empty.
        intake: ``polling`` (mentions timeline and DM events) or ``webhook`` (Account Activity API).
        poll_dms: Also poll DM events (polling intake).
        poll_interval_seconds: Time between polls when nothing is wrong.
        max_backoff_seconds: Longest wait after repeated failures.
        max_results: Page size of the mentions timeline and DM events (5-100).
        max_pages: Pages read per poll at most (older mentions beyond them are left).
        safe_topics: Knowledge-base topics whose bot answers post without review.
        max_replies_per_thread: Public replies the bot posts in one conversation before every
            further one waits for review (so a reply chain is never answered endlessly).
        dm_link: Add a link that opens a DM with the account to public replies that move the
            conversation to private (a detail-collection form).
        spam_max_mentions: More accounts tagged than this makes a mention spam-like.
        spam_max_hashtags: More hashtags and cashtags than this makes a mention spam-like.
        spam_max_links: More links than this makes a mention spam-like.
        ignore_authors: Account ids or handles (without ``@``) whose mentions are ignored.
        timeout_seconds: Time limit of one API request.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    consumer_key: str = Field("", repr=False)
    consumer_secret: str = Field("", repr=False)
    access_token: str = Field("", repr=False)
    access_token_secret: str = Field("", repr=False)
    user_id: str = Field("", pattern=r"^[0-9]*$")
    intake: Literal["polling", "webhook"] = "polling"
    poll_dms: bool = True
    poll_interval_seconds: float = Field(60.0, gt=0)
    max_backoff_seconds: float = Field(900.0, gt=0)
    max_results: int = Field(100, ge=5, le=100)
    max_pages: int = Field(5, ge=1, le=50)
    safe_topics: tuple[str, ...] = ()
    max_replies_per_thread: int = Field(3, ge=1)
    dm_link: bool = True
    spam_max_mentions: int = Field(5, ge=1)
    spam_max_hashtags: int = Field(6, ge=0)
    spam_max_links: int = Field(2, ge=0)
    ignore_authors: tuple[str, ...] = ()
    timeout_seconds: float = Field(20.0, gt=0)

    def missing(self) -> list[str]:
        """The environment variables still needed before the channel can run."""
        names = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        return [f"HELPLINE_X__{n.upper()}" for n in names if not getattr(self, n)]
