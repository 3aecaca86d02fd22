"""Putting surveys and follow-ups together: the ticket service's listener and the job handlers."""

from __future__ import annotations

from collections.abc import Callable

from conversations.database import Database
from conversations.survey_answers import REOPEN_JOB
from core.jobs import JobRunner
from core.settings import Settings
from core.surveys.follow_ups import FollowUpService
from core.surveys.scheduling import AUTO_SOLVE_JOB, REMINDER_JOB, SURVEY_JOB, FollowUpScheduler
from core.surveys.service import SurveyService
from core.surveys.settings import SurveySettings, link_secret, load_survey_settings
from core.tickets import TicketService


def follow_up_scheduler(settings: Settings) -> FollowUpScheduler:
    """The listener a :class:`TicketService` needs so solving or waiting queues follow-ups.

    Raises:
        SettingsError: The ``surveys`` section is invalid.

    """
    return FollowUpScheduler(load_survey_settings(settings.section("surveys")))


def register_follow_up_jobs(
    runner: JobRunner,
    db: Database,
    settings: Settings,
    tickets: TicketService,
    on_queued: Callable[[], None] | None = None,
) -> SurveyService:
    """Register the ``survey``, ``reopen_ticket``, ``reminder`` and ``auto_solve`` handlers.

    Returns the survey service (the survey links' HTTP routes use it).

    Raises:
        SettingsError: The ``surveys`` section is invalid, or the link secret cannot be kept.

    """
    surveys: SurveySettings = load_survey_settings(settings.section("surveys"))
    service = SurveyService(db, surveys, tickets, link_secret(settings, surveys), on_queued=on_queued)
    follow_ups = FollowUpService(db, surveys, tickets, on_queued=on_queued)
    runner.register(SURVEY_JOB, service.send_due, completes=True)
    runner.register(REOPEN_JOB, service.reopen_requested)
    runner.register(REMINDER_JOB, follow_ups.remind, completes=True)
    runner.register(AUTO_SOLVE_JOB, follow_ups.auto_solve, completes=True)
    return service
