"""Support reports from the database: satisfaction, survey response, response times, deflection.

CSAT is the share of 4–5 ratings among answered surveys, with the mean rating, overall and
per channel, ticket category, agent (the ticket's assignee) and ISO week of the answer.
Times are per ticket opened in the period: first response (opened → first agent reply)
and resolution (opened → solved), as median and 90th percentile. Deflection is the share
of conversations the bot handled alone: no ticket, never handed to a person.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from conversations import console_reports as shared
from conversations import report_queries as rq
from conversations.database import Database

SATISFIED = (4, 5)


@dataclass(frozen=True, slots=True)
class Csat:
    """Satisfaction of one group of answered surveys."""

    group: str
    answered: int
    satisfied_share: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class Timing:
    """A distribution of durations in seconds."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """Every figure of ``helpline report`` for one period."""

    since: datetime
    until: datetime
    csat: Csat
    csat_by_channel: tuple[Csat, ...]
    csat_by_category: tuple[Csat, ...]
    csat_by_agent: tuple[Csat, ...]
    csat_by_week: tuple[Csat, ...]
    surveys_sent: int
    surveys_answered: int
    response_rate: float | None
    tickets_opened: int
    first_response: Timing
    resolution: Timing
    conversations: int
    deflected: int
    deflection: float | None

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-compatible data (times ISO 8601, shares 0–1)."""
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        return data


async def build_report(db: Database, since: datetime, until: datetime) -> Report:
    """Compute the report for everything at or after ``since`` (``until`` is when it was made)."""
    async with db.reader() as session:
        distribution = await shared.csat(session, since)
        rated = await rq.rated_surveys(session, since)
        sent, answered = await rq.survey_response(session, since)
        times = await shared.ticket_times(session, since)
        started, handed = await shared.deflection(session, since)
    first = [(f - c).total_seconds() for c, f, _ in times if f is not None]
    solved = [(s - c).total_seconds() for c, _, s in times if s is not None]
    deflected = started - handed
    return Report(
        since=since,
        until=until,
        csat=csat_of("all", distribution),
        csat_by_channel=_grouped(rated, lambda r: r.channel),
        csat_by_category=_grouped(rated, lambda r: r.category or "(none)"),
        csat_by_agent=_grouped(rated, lambda r: r.agent or "(unassigned)"),
        csat_by_week=_grouped(rated, lambda r: iso_week(r.answered_at)),
        surveys_sent=sent,
        surveys_answered=answered,
        response_rate=answered / sent if sent else None,
        tickets_opened=len(times),
        first_response=timing(first),
        resolution=timing(solved),
        conversations=started,
        deflected=deflected,
        deflection=deflected / started if started else None,
    )


def csat_of(group: str, ratings: Mapping[int, int]) -> Csat:
    """CSAT of a rating distribution (rating → count)."""
    answered = sum(ratings.values())
    if not answered:
        return Csat(group, 0, None, None)
    satisfied = sum(ratings.get(r, 0) for r in SATISFIED)
    mean = sum(r * n for r, n in ratings.items()) / answered
    return Csat(group, answered, satisfied / answered, mean)


def timing(values: Iterable[float]) -> Timing:
    """Median and 90th percentile (the nearest-rank value the console's page shows too)."""
    ordered = sorted(values)
    if not ordered:
        return Timing(0, None, None)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return Timing(len(ordered), statistics.median(ordered), p90)


def iso_week(moment: datetime) -> str:
    """``2025-W09``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _grouped(rated: Sequence[rq.RatedSurvey], key: Callable[[rq.RatedSurvey], str]) -> tuple[Csat, ...]:
    groups: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for survey in rated:
        groups[key(survey)][survey.rating] += 1
    return tuple(csat_of(name, groups[name]) for name in sorted(groups))
