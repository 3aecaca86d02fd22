"""One-click survey links for e-mail: ``GET /survey/{token}?r=N&e=EXPIRY&s=SIG`` records a rating.

Each link is signed (HMAC over the survey's token, the answer and the expiry) and expires
with the survey. The page thanks the customer and asks for an optional comment, which it
POSTs back with the same signed fields. A stale, replayed or expired link says so and
changes nothing; the first answer always wins (the same guard as in the chat).

The e-mail channel renders a ``survey:`` button with :func:`survey_button_link`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.http_helpers import read_limited
from core.pipeline import utcnow
from core.settings import Settings
from core.surveys import answers
from core.surveys.links import OPT_OUT, expired, signature, survey_token
from core.surveys.service import LinkResult, SurveyService
from core.surveys.settings import link_secret, load_survey_settings
from core.surveys.texts import language

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 16 * 1024
_SECRETS: dict[tuple[str, str], bytes] = {}

PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2430}
textarea{width:100%;min-height:7rem;font:inherit}button{margin-top:.6rem;padding:.5rem 1.2rem;font:inherit}</style>
</head><body><h1>{{ title }}</h1><p>{{ message }}</p>
{% if form %}<form method="post" action="{{ form.action }}">
{% for name, value in form.fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<label for="comment">{{ words.comment_label }}</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<button type="submit">{{ words.send }}</button></form>{% endif %}
</body></html>
"""
)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Thank you",
        "thanks": "Thank you for your feedback!",
        "rated": "You rated our help with {ticket} {rating} out of 5.",
        "comment_label": "Anything you'd like to add? (optional)",
        "send": "Send",
        "commented": "Thank you, we've passed your comment on to the team.",
        "already": "You've already answered this survey. Your answer is kept as it was. Thank you!",
        "closed": "This survey has closed, so nothing was changed. Write to us any time if you need help.",
        "opted_out": "You won't receive satisfaction surveys from us any more.",
        "invalid": "This survey link is not valid. Please use the link from the latest e-mail.",
    },
    "zh": {
        "title": "谢谢",
        "thanks": "感谢您的反馈！",
        "rated": "您对工单 {ticket} 的服务评分为 {rating}/5。",
        "comment_label": "还有什么想告诉我们的吗？（可选）",
        "send": "提交",
        "commented": "谢谢，我们已将您的意见转达给团队。",
        "already": "您已经回答过这份调查，原有回答保持不变。谢谢！",
        "closed": "这份调查已结束，未做任何更改。如需帮助，欢迎随时联系我们。",
        "opted_out": "我们以后不会再向您发送满意度调查。",
        "invalid": "此调查链接无效，请使用最新邮件中的链接。",
    },
}


def survey_link(settings: Settings, survey_id: int, token: str, rating: int | str) -> str:
    """The signed link that records ``rating`` (1–5, or ``"optout"``) for a survey.

    Args:
        settings: Helpline's settings (public URL, survey expiry, link secret).
        survey_id: The survey (its id is in the button's action ``survey:<id>:<n>``).
        token: The survey's token (:func:`core.surveys.links.survey_token`).
        rating: The answer the link records.

    """
    surveys = load_survey_settings(settings.section("surveys"))
    secret = _secret(settings)
    if token != survey_token(secret, survey_id):
        raise ValueError(f"the token does not belong to survey {survey_id}")
    expires = int(time.time() + surveys.expires_after.total_seconds())
    answer = str(rating)
    query = urlencode({"r": answer, "e": expires, "s": signature(secret, token, answer, expires)})
    return f"{settings.http.public_url.rstrip('/')}/survey/{token}?{query}"


def survey_button_link(settings: Settings, action: str) -> str | None:
    """The link for a survey button's action (``survey:<id>:<n>``, ``survey:optout:<id>``), else ``None``."""
    if not action.startswith(answers.PREFIX):
        return None
    parts = action[len(answers.PREFIX) :].split(":")
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    if parts[0] == answers.OPT_OUT:
        survey_id, answer = int(parts[1]), OPT_OUT
    elif parts[0].isdigit() and _known(parts[1]) and parts[1] != OPT_OUT:
        survey_id, answer = int(parts[0]), parts[1]
    else:
        return None  # skip/reopen belong to the chat; e-mail answers with a comment instead
    return survey_link(settings, survey_id, survey_token(_secret(settings), survey_id), answer)


def _secret(settings: Settings) -> bytes:
    surveys = load_survey_settings(settings.section("surveys"))
    configured = surveys.secret.get_secret_value() if surveys.secret else ""
    key = (settings.data_dir, configured)
    if key not in _SECRETS:
        _SECRETS[key] = link_secret(settings, surveys)
    return _SECRETS[key]


def survey_routes(service: SurveyService) -> list[BaseRoute]:
    """The landing page's routes, served by Helpline's HTTP app."""

    async def landing(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            body = await read_limited(request, MAX_FORM_BYTES)
            if body is None:
                return _page("en", "invalid", status=413)
            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
        else:
            fields = dict(request.query_params)
        answer, expires, sig = fields.get("r", ""), fields.get("e", ""), fields.get("s", "")
        if not _known(answer) or not service.link_is_valid(token, answer, expires, sig):
            return _page("en", "invalid", status=400)
        if expired(expires, utcnow()):
            return _result(await service.closed(token), status=410)
        if request.method == "POST":
            comment = fields.get("comment", "").strip()
            if not comment:
                return _page((await service.closed(token)).language, "thanks")
            return _result(await service.comment_by_link(token, comment))
        if answer == OPT_OUT:
            return _result(await service.opt_out_by_link(token))
        result = await service.rate_by_link(token, int(answer))
        form = {"action": f"/survey/{token}", "fields": {"r": answer, "e": expires, "s": sig}}
        return _result(result, form=form if result.outcome == "rated" else None)

    return [Route("/survey/{token}", landing, methods=["GET", "POST"])]


def _known(answer: str) -> bool:
    return answer == OPT_OUT or (len(answer) == 1 and answer in "12345")


def _result(result: LinkResult, *, status: int = 200, form: Mapping[str, Any] | None = None) -> Response:
    if result.outcome == "unknown":
        return _page("en", "invalid", status=404)
    return _page(result.language, result.outcome, status=status, form=form, result=result)


def _page(
    lang: str,
    outcome: str,
    *,
    status: int = 200,
    form: Mapping[str, Any] | None = None,
    result: LinkResult | None = None,
) -> Response:
    words = WORDS[language(lang)]
    message = words[outcome].format(
        ticket=result.ticket if result else "", rating=result.rating if result else ""
    )
    html = PAGE.render(lang=language(lang), title=words["title"], message=message, form=form, words=words)
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    return HTMLResponse(html, status_code=status, headers=headers)
