"""A customer's answer to a survey, stored in the transaction of the turn (or link) that carried it.

Every update is guarded so the first answer wins: a rating is stored only while the survey
has none and has not expired, a comment only once after a rating. A second press of a
button, a replayed link or a redelivered message changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection

from conversations import jobs
from conversations.tables import Contact, Conversation, Survey, TicketEvent, table_of

REOPEN_JOB = "reopen_ticket"
# Ratings at or below this alert the team and offer to reopen the ticket.
LOW_RATING = 2
MAX_COMMENT_CHARS = 2000
ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """What the customer said to a survey.

    Attributes:
        survey_id: The survey (``None`` for an opt-out that names none).
        rating: 1–5.
        comment: Free text after the rating.
        opt_out: Send this contact no more surveys.
        reopen: Reopen the surveyed ticket (offered after a low rating).

    """

    survey_id: int | None
    rating: int | None = None
    comment: str | None = None
    opt_out: bool = False
    reopen: bool = False


@dataclass(frozen=True, slots=True)
class AnswerStored:
    """What an answer changed: ``rating``/``comment`` are true when they were stored now."""

    rating: bool = False
    comment: bool = False
    opted_out: bool = False
    reopen_queued: bool = False


def apply_answer(
    connection: Connection, conversation_id: int, answer: SurveyAnswer, now: datetime
) -> AnswerStored:
    """Store an answer in the connection's transaction, keeping any earlier answer."""
    surveys = table_of(Survey)
    rated = commented = reopen = False
    if answer.survey_id is not None and answer.rating is not None and 1 <= answer.rating <= 5:
        row = connection.execute(
            update(surveys)
            .where(
                surveys.c.id == answer.survey_id,
                surveys.c.conversation_id == conversation_id,
                surveys.c.rating.is_(None),
                or_(surveys.c.expires_at.is_(None), surveys.c.expires_at > now),
            )
            .values(rating=answer.rating, answered_at=now, status=ANSWERED)
            .returning(surveys.c.ticket_id)
        ).first()
        rated = row is not None
        if row is not None:
            kind = "low_rating" if answer.rating <= LOW_RATING else "rated"
            _event(
                connection, row.ticket_id, kind, {"survey_id": answer.survey_id, "rating": answer.rating}, now
            )
    if answer.survey_id is not None and answer.comment:
        text = answer.comment.strip()[:MAX_COMMENT_CHARS]
        row = connection.execute(
            update(surveys)
            .where(
                surveys.c.id == answer.survey_id,
                surveys.c.conversation_id == conversation_id,
                surveys.c.rating.is_not(None),
                surveys.c.comment.is_(None),
            )
            .values(comment=text)
            .returning(surveys.c.ticket_id, surveys.c.rating)
        ).first()
        commented = row is not None
        if row is not None:
            data = {"survey_id": answer.survey_id, "rating": row.rating, "comment": text}
            _event(connection, row.ticket_id, "survey_comment", data, now)
    if answer.opt_out:
        contact = select(table_of(Conversation).c.contact_id).where(
            table_of(Conversation).c.id == conversation_id
        )
        connection.execute(
            update(table_of(Contact))
            .where(table_of(Contact).c.id == contact.scalar_subquery())
            .values(surveys_opt_out=True)
        )
    if answer.reopen and answer.survey_id is not None:
        row = connection.execute(
            select(surveys.c.ticket_id, surveys.c.rating).where(
                surveys.c.id == answer.survey_id, surveys.c.conversation_id == conversation_id
            )
        ).first()
        if row is not None and row.rating is not None and row.rating <= LOW_RATING:
            job = jobs.NewJob(
                REOPEN_JOB,
                {"survey_id": answer.survey_id},
                now,
                conversation_id=conversation_id,
                ticket_id=row.ticket_id,
                dedupe_key=f"reopen:{answer.survey_id}",
            )
            jobs.enqueue_sync(connection, [job], now)
            reopen = True
    return AnswerStored(rated, commented, answer.opt_out, reopen)


def _event(connection: Connection, ticket_id: int, kind: str, data: dict[str, object], now: datetime) -> None:
    connection.execute(
        insert(table_of(TicketEvent)).values(
            ticket_id=ticket_id, kind=kind, actor="customer", data=data, created_at=now
        )
    )
