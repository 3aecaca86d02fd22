"""``helpline report [--json] [--since DATE]``: support figures from the database as tables.

Satisfaction (CSAT: share of 4–5 ratings, and the mean) overall and per channel, ticket
category, agent and ISO week; survey response rate; first-response and resolution times
(median, 90th percentile); deflection (conversations the bot handled without a ticket).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import orjson

from conversations.database import Database
from core.pipeline import utcnow
from core.reports import Csat, Report, Timing, build_report
from core.settings import Settings

RunAsync = Callable[[Coroutine[Any, Any, None]], None]
DEFAULT_DAYS = 30


def add_report_command(subparsers: argparse._SubParsersAction[Any], run_async: RunAsync) -> None:
    """Add ``report`` to the ``helpline`` parser.

    Args:
        subparsers: The ``helpline`` command's sub-command group.
        run_async: Runs a coroutine to completion.

    """
    report = subparsers.add_parser("report", help="satisfaction, response times and deflection")
    report.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help=f"from this UTC day on, YYYY-MM-DD (default: the last {DEFAULT_DAYS} days)",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(settings: Settings, args: argparse.Namespace) -> int:
        run_async(report_command(settings, args.since, args.json, sys.stdout))
        return 0

    report.set_defaults(handler=handle)


async def report_command(settings: Settings, since: datetime | None, as_json: bool, out: TextIO) -> None:
    """Compute the report from the configured database and print it."""
    now = utcnow()
    if since is None:
        since = (now - timedelta(days=DEFAULT_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    db = Database(settings.database.url, **settings.database.options())
    try:
        report = await build_report(db, since, now)
    finally:
        await db.dispose()
    if as_json:
        out.write(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write(render(report))


def render(report: Report) -> str:
    """The report as plain-text tables."""
    lines = [f"Helpline report: {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC", ""]
    lines += ["Satisfaction (CSAT: share of 4-5 ratings)"]
    rows = [_csat_row("all", report.csat)]
    for title, groups in (
        ("channel", report.csat_by_channel),
        ("category", report.csat_by_category),
        ("agent", report.csat_by_agent),
        ("week", report.csat_by_week),
    ):
        rows += [_csat_row(f"{title} {g.group}", g) for g in groups]
    lines += [*_table(("group", "answered", "CSAT", "mean"), rows), "", "Surveys"]
    surveys = [(str(report.surveys_sent), str(report.surveys_answered), _percent(report.response_rate))]
    lines += [*_table(("sent", "answered", "response rate"), surveys), ""]
    lines += [f"Tickets opened: {report.tickets_opened}"]
    times = [_time_row("first response", report.first_response), _time_row("resolution", report.resolution)]
    lines += [*_table(("time", "tickets", "median", "p90"), times), ""]
    lines += ["Deflection (conversations the bot handled without a ticket or a person)"]
    deflection = [(str(report.conversations), str(report.deflected), _percent(report.deflection))]
    lines += _table(("conversations", "bot only", "deflection"), deflection)
    return "\n".join(lines) + "\n"


def _csat_row(group: str, csat: Csat) -> tuple[str, ...]:
    mean = f"{csat.mean:.2f}" if csat.mean is not None else "-"
    return (group, str(csat.answered), _percent(csat.satisfied_share), mean)


def _time_row(name: str, timing: Timing) -> tuple[str, ...]:
    return (name, str(timing.count), _duration(timing.median_seconds), _duration(timing.p90_seconds))


def _percent(share: float | None) -> str:
    return f"{100 * share:.1f}%" if share is not None else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    return [line(header), "  ".join("-" * w for w in widths)] + [line(row) for row in rows]


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-03-01") from None
