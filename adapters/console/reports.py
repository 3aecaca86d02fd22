"""The reports page: satisfaction, volume per channel, response and resolution times, deflection."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.console import charts
from adapters.console.auth import Form, Viewer, guarded
from adapters.console.context import Console
from conversations import console_reports as rq

PERIODS = (7, 30, 90)
# Upper bounds (seconds) of the response-time buckets, with their labels.
BUCKETS = ((900, "< 15m"), (3600, "< 1h"), (4 * 3600, "< 4h"), (24 * 3600, "< 24h"), (None, "≥ 24h"))


def routes(console: Console) -> list[BaseRoute]:
    """``/reports?days=7|30|90``."""

    async def reports(request: Request, viewer: Viewer, form: Form) -> Response:
        raw = request.query_params.get("days", "30")
        days = int(raw) if raw.isdigit() and int(raw) in PERIODS else 30
        now = console.clock()
        since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        async with console.db.reader() as session:
            ratings = await rq.csat(session, since)
            volume = await rq.daily_volume(session, since)
            times = await rq.ticket_times(session, since)
            started, handed = await rq.deflection(session, since)
        context: dict[str, Any] = {"viewer": viewer, "days": days, "periods": PERIODS, "since": since}
        context.update(_csat(ratings))
        context.update(_volume(volume, since, now))
        context.update(_times(times))
        context["started"], context["handed"] = started, handed
        context["deflection_chart"] = charts.share(
            started - handed,
            started,
            label="Conversations the bot handled alone",
            part_label="bot only",
            rest_label="handed to a person",
        )
        return console.render(request, "reports.html", context)

    return [Route("/reports", guarded(console, "reports", reports), methods=["GET"])]


def _csat(ratings: dict[int, int]) -> dict[str, Any]:
    answered = sum(ratings.values())
    satisfied = ratings.get(4, 0) + ratings.get(5, 0)
    return {
        "answered": answered,
        "csat_percent": 100 * satisfied / answered if answered else None,
        "csat_average": sum(r * n for r, n in ratings.items()) / answered if answered else None,
        "csat_chart": charts.bars(
            [(f"{r} ★", ratings.get(r, 0)) for r in range(1, 6)], label="Survey ratings"
        ),
    }


def _volume(rows: Sequence[tuple[str, str, int]], since: datetime, now: datetime) -> dict[str, Any]:
    days: list[str] = []
    day = since
    while day.date() <= now.date():
        days.append(day.date().isoformat())
        day += timedelta(days=1)
    channels = sorted({channel for _, channel, _ in rows})
    series = {channel: [0] * len(days) for channel in channels}
    position = {d: i for i, d in enumerate(days)}
    for d, channel, count in rows:
        if d in position:
            series[channel][position[d]] += count
    totals = {channel: sum(values) for channel, values in series.items()}
    return {
        "volume_chart": charts.stacked(days, series, label="Customer messages per day and channel"),
        "volume_totals": totals,
    }


def _times(rows: Sequence[tuple[datetime, datetime | None, datetime | None]]) -> dict[str, Any]:
    first = [(f - c).total_seconds() for c, f, _ in rows if f is not None]
    solved = [(s - c).total_seconds() for c, _, s in rows if s is not None]
    return {
        "tickets_opened": len(rows),
        "first_response": _summary(first),
        "resolution": _summary(solved),
        "first_response_chart": charts.bars(
            _buckets(first), label="Time to first response", color=charts.PALETTE[2]
        ),
        "resolution_chart": charts.bars(
            _buckets(solved), label="Time to resolution", color=charts.PALETTE[4]
        ),
    }


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {"count": len(values), "median": statistics.median(ordered), "p90": p90}


def _buckets(values: list[float]) -> list[tuple[str, float]]:
    counts = [0] * len(BUCKETS)
    for value in values:
        for index, (limit, _) in enumerate(BUCKETS):
            if limit is None or value < limit:
                counts[index] += 1
                break
    return [(name, float(count)) for (_, name), count in zip(BUCKETS, counts, strict=True)]
