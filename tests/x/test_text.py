"""Tweet length as X counts it, the link allow-list and clean shortening."""

from __future__ import annotations

import html
import re

from adapters.x_intake import IntakeFilter, Mention, strip_leading_handles
from adapters.x_text import MAX_TWEET, drop_foreign_links, fit_reply, shorten, weighted_length
from core.safety import impersonation_warning
from tests.x.fake_x import recorded


def test_urls_count_23_and_cjk_counts_2() -> None:
    long_link = "https://help.example.com/articles/" + "a" * 80
    assert weighted_length(f"See {long_link}") == 4 + 23
    assert weighted_length("充值") == 4
    assert weighted_length("abc") == 3


def test_every_recorded_tweet_fits_by_our_count() -> None:
    # The API's text escapes "&" as "&amp;" and ends with the t.co link of attached media,
    # which X does not count: undone here, every tweet X accepted must fit by our count.
    for name in ("test_client_get_users_mentions.json", "test_asyncclient_get_home_timeline.json"):
        for tweet in recorded(name)[0]["body"]["data"]:
            typed = re.sub(r"\s*https://t\.co/\w+$", "", html.unescape(tweet["text"]))
            assert weighted_length(typed) <= MAX_TWEET, typed


def test_only_allowed_links_stay() -> None:
    text = "Reset it at https://help.example.com/reset, not https://examp1e-support.io/login or evil.com/x."
    assert drop_foreign_links(text, ["example.com"]) == "Reset it at https://help.example.com/reset, not or ."


def test_shortening_keeps_whole_sentences_the_link_and_the_handles() -> None:
    warning = impersonation_warning(["@AcmeSupport"], "en")
    assert weighted_length(warning) > MAX_TWEET
    short = shorten(warning, keep=["@AcmeSupport"])
    assert weighted_length(short) <= MAX_TWEET and "@AcmeSupport" in short
    assert short.endswith(".")

    link = "https://help.example.com/deposits"
    answer = "Deposits need confirmations. " * 20 + f"Details: {link}"
    short = shorten(answer, keep=[link])
    assert weighted_length(short) <= MAX_TWEET and short.endswith(link)

    chinese = impersonation_warning(["@AcmeSupport"], "zh")
    short = shorten(chinese, keep=["@AcmeSupport"])
    assert weighted_length(short) <= MAX_TWEET and "@AcmeSupport" in short and " " not in short[:40]


def test_a_single_long_sentence_is_cut_at_a_word_with_an_ellipsis() -> None:
    short = shorten("word " * 100)
    assert short.endswith("word…") and weighted_length(short) <= MAX_TWEET


def test_a_cut_reply_keeps_its_closing_invitation_and_no_dangling_list_number() -> None:
    steps = "".join(f"{n}. Step number {n} of the long general answer, which goes on.\n" for n in range(1, 9))
    reply = f"Withdrawals leave once confirmed.\n{steps}\nPlease send us a private message (DM). Never post your UID."
    short = fit_reply(reply)
    assert weighted_length(short) <= MAX_TWEET
    assert short.endswith("\n\nPlease send us a private message (DM). Never post your UID.")
    assert not re.search(r"\b\d\.$", short.split("\n\n")[0]), short
    assert fit_reply("Short answer.\n\nDM us.") == "Short answer.\n\nDM us."


def test_reply_prefixes_are_not_the_question() -> None:
    assert strip_leading_handles("@a @b_c, how do I withdraw?") == "how do I withdraw?"
    assert strip_leading_handles(".@Support help") == "help"
    assert strip_leading_handles("@Support") == "@Support"


def test_ignore_reasons() -> None:
    rules = IntakeFilter("1", max_mentions=3, max_hashtags=2, max_links=1, ignore_authors=["@Troll"])

    def reason(text: str, author: str = "2", handle: str = "@alice") -> str | None:
        return rules.reason(Mention(id="9", text=text, author_id=author, author_handle=handle))

    assert reason("RT @x: hello") == "retweet"
    assert reason("hi", author="1") == "own_tweet"
    assert reason("hi", handle="@troll") == "ignored_author"
    assert reason("@s @a @b @c @d hi") == "spam_mentions"
    assert reason("@s #a #b $BTC") == "spam_hashtags"
    assert reason("@s https://a.example.com https://b.example.com") == "spam_links"
    assert reason("@s where is my deposit?") is None
