"""Weekly reports: an admin has a topic's dashboard e-mailed every week, on a weekday
and hour (UTC), to chosen people — the account's users and/or other addresses.

The cron pass (:func:`enqueue_due_reports`) finds the due schedules and claims them in
one conditional UPDATE of ``next_send_at``, so of two cron processes only one queues a
schedule; the job (:func:`send_job`) builds the e-mail from the analytics dashboard of
the week before (figures, changes against the week before that, top posts) and sends
it through :mod:`webapp.mail`, then sets the next week's time.
"""
from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import redis

from . import queue
from .formvalues import int_or_none
from .jobs import claim_due, with_database
from .mail import MailError, render, send
from .models import ReportSchedule, Topic, User, utcnow
from .runtime import runtime

log = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RECIPIENTS = 50
#: Posts listed in a report.
TOP_POSTS = 5
#: Characters of a post's text shown in a report.
TEXT_PREVIEW = 140
#: A job sends one report; SMTP to fifty people fits well within this.
JOB_TIMEOUT = 300
#: Not a full RFC 5322 parser: one @, no spaces or separators, a dot in the domain. It
#: catches the typos a form gets; the SMTP server has the last word.
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+")


class ReportError(ValueError):
    """A schedule that cannot be stored; the message says which value and why."""


@dataclass(frozen=True)
class Choice:
    """A schedule's fields as checked from its form."""

    user_ids: list[int]
    addresses: list[str]
    weekday: int
    hour: int
    enabled: bool

    @property
    def recipients(self) -> str:
        """As :attr:`ReportSchedule.recipients` keeps them."""
        return "\n".join([f"user:{i}" for i in self.user_ids] + self.addresses)


def next_time(weekday: int, hour: int, after: datetime.datetime) -> datetime.datetime:
    """The first ``weekday`` at ``hour``:00 UTC strictly after ``after``."""
    at = datetime.datetime.combine(after.date(), datetime.time(hour))
    at += datetime.timedelta(days=(weekday - at.weekday()) % 7)
    return at if at > after else at + datetime.timedelta(days=7)


def _number(value: str, label: str, limit: int) -> int:
    number = int_or_none((value or "").strip(), below=limit)
    if number is None:
        raise ReportError(f"Choose {label}.")
    return number


def check(account_id: int, user_ids: Iterable[str], addresses: str, weekday: str, hour: str,
          enabled: bool = True) -> Choice:
    """The schedule's fields from its form: ``user_ids`` the ticked people of the
    account, ``addresses`` other e-mail addresses (separated by commas, spaces or
    lines). ReportError says what is wrong."""
    ids = [i for i in dict.fromkeys(str(v).strip() for v in user_ids) if i]
    if any(int_or_none(i) is None for i in ids):
        raise ReportError("Choose people from the list.")
    people = {u.id: u.email.lower() for u in User.select(User.id, User.email)
              .where(User.account == account_id, User.id.in_([int(i) for i in ids]))} if ids else {}
    if len(people) != len(ids):
        raise ReportError("One of the people chosen is not in your account (any more): choose from the list.")
    known, others = set(people.values()), []
    for address in re.split(r"[\s,;]+", addresses or ""):
        if not address:
            continue
        if len(address) > 254 or not _ADDRESS.fullmatch(address):
            raise ReportError(f"“{address[:60]}” is not an e-mail address (like name@example.com).")
        if address.lower() not in known:
            known.add(address.lower())
            others.append(address)
    count = len(people) + len(others)
    if not count:
        raise ReportError("Choose at least one person or enter an e-mail address to send the report to.")
    if count > MAX_RECIPIENTS:
        raise ReportError(f"A report can go to at most {MAX_RECIPIENTS} addresses; this one has {count}.")
    return Choice([int(i) for i in ids], others, _number(weekday, "a weekday", 7),
                  _number(hour, "an hour from 0 to 23 (UTC)", 24), enabled)


def recipients(schedule: ReportSchedule) -> list[str]:
    """The addresses a schedule's report goes to now: its people who are still in the
    account (one query) and its other addresses."""
    ids = schedule.user_ids
    people = [u.email for u in User.select(User.email).where(User.account == schedule.account_id,
                                                             User.id.in_(ids)).order_by(User.email)] if ids else []
    taken = {a.lower() for a in people}
    return people + [a for a in schedule.addresses if a.lower() not in taken]


def of_topic(topic: Topic) -> list[ReportSchedule]:
    """The topic's schedules, oldest first."""
    return list(ReportSchedule.select().where(ReportSchedule.topic == topic.id,
                                              ReportSchedule.account == topic.account_id)
                .order_by(ReportSchedule.id))


def get(topic: Topic, schedule_id: int) -> ReportSchedule | None:
    """One schedule of the topic (None for another topic's or account's)."""
    return ReportSchedule.get_or_none((ReportSchedule.id == schedule_id) & (ReportSchedule.topic == topic.id)
                                      & (ReportSchedule.account == topic.account_id))


def _times(choice: Choice, now: datetime.datetime | None = None) -> datetime.datetime | None:
    return next_time(choice.weekday, choice.hour, now or utcnow()) if choice.enabled else None


def create(admin: User, topic: Topic, choice: Choice) -> ReportSchedule:
    """Store a new schedule for ``topic``, first due at its next weekday and hour."""
    return ReportSchedule.create(account=topic.account_id, topic=topic.id, recipients=choice.recipients,
                                 weekday=choice.weekday, hour=choice.hour, enabled=choice.enabled,
                                 created_by=admin.id, next_send_at=_times(choice))


def update(schedule: ReportSchedule, choice: Choice) -> None:
    """Change a schedule; its next time follows the new weekday and hour."""
    ReportSchedule.update(recipients=choice.recipients, weekday=choice.weekday, hour=choice.hour,
                          enabled=choice.enabled, next_send_at=_times(choice)).where(
        ReportSchedule.id == schedule.id).execute()


def delete(schedule: ReportSchedule) -> None:
    """Remove a schedule (reports already sent stay in the outbox)."""
    schedule.delete_instance()


# --- sending ---------------------------------------------------------------------------

def job_id(schedule_id: int) -> str:
    """The queue's id of a schedule's job: one queued or running at a time."""
    return f"report-{schedule_id}"


@with_database
def enqueue_due_reports() -> int:
    """Cron: queue a job for each enabled schedule that is due. The due schedules are
    claimed in one statement (:func:`jobs.claim_due`: ``next_send_at`` moves past the
    queued-job TTL): a second cron pass, or another cron process at the same moment,
    finds none of them due. The job sets the real next time; should queueing fail, the
    claims go back. Each job is told the time of this pass: its report covers the week
    before the day it was due, even when the worker gets to it after midnight."""
    claimed: list[int] = []
    passed = utcnow().isoformat()
    try:
        with claim_due(ReportSchedule, ReportSchedule.next_send_at,
                       ReportSchedule.enabled == True) as rows:  # noqa: E712
            claimed = [schedule_id for schedule_id, in rows]
            if not claimed:
                return 0
            with queue.connected(runtime().settings.redis_url) as client:
                return sum(queue.enqueue_once(client, "default", "webapp.reports.send_job", schedule_id, passed,
                                              job_id=job_id(schedule_id), job_timeout=JOB_TIMEOUT)
                           for schedule_id in claimed)
    except (redis.RedisError, queue.QueueUnavailable) as exc:
        log.warning("could not queue weekly reports %s: %s", claimed, exc)
        return 0


@with_database
def send_job(schedule_id: int, queued_at: str | None = None) -> str:
    """The job: send the schedule's report for the week before ``queued_at`` (the cron
    pass's ISO time; None: now) and plan the next one (``gone`` when the schedule was
    deleted or disabled meanwhile)."""
    schedule = ReportSchedule.get_or_none(ReportSchedule.id == schedule_id)
    if schedule is None or not schedule.enabled:
        return "gone"
    now = utcnow()
    try:
        send_report(runtime(), schedule, datetime.datetime.fromisoformat(queued_at) if queued_at else now)
        outcome = "sent"
    except MailError as exc:
        # Not retried: some recipients may have it already. The outbox shows the failure.
        log.error("weekly report %s could not be sent: %s", schedule_id, exc)
        outcome = "failed"
    ReportSchedule.update(last_sent_at=now, next_send_at=next_time(schedule.weekday, schedule.hour, now)).where(
        ReportSchedule.id == schedule_id, ReportSchedule.enabled == True).execute()  # noqa: E712
    return outcome


def report_week(now: datetime.datetime) -> "DateRange":  # noqa: F821 (analytics is imported when used)
    """The seven whole days before the day of ``now`` (the report's week)."""
    from .analytics import DateRange

    end = now.date() - datetime.timedelta(days=1)
    return DateRange(end - datetime.timedelta(days=6), end, 7)


def _week_args(week) -> str:
    """The query string of the dashboard showing exactly the report's week (a custom
    range: the preset "last 7 days" would end today, not on the week's last day)."""
    return urlencode({"range": "custom", "from": week.start.isoformat(), "to": week.end.isoformat()})


def send_report(rt, schedule: ReportSchedule, now: datetime.datetime | None = None) -> int:
    """Build the schedule's e-mail for the week before ``now`` and send it to each of
    its recipients (``rt``: a :class:`~webapp.streams.Runtime`, for the settings and the
    services' names); returns how many it went to. MailError when the server fails."""
    topic = Topic.get_by_id(schedule.topic_id)
    text, html, subject = build(rt, topic, report_week(now or utcnow()))
    addresses = recipients(schedule)
    send(rt.settings, addresses, subject, text, html=html, account_id=schedule.account_id)
    return len(addresses)


def build(rt, topic: Topic, week) -> tuple[str, str, str]:
    """The text, HTML and subject of ``topic``'s report for ``week``: the topic
    dashboard's figures with their change against the week before, and the top posts
    linking to the story view (``PUBLIC_URL``)."""
    from . import analytics

    streams = analytics.topic_streams(topic)
    labels = {s.service: rt.label(s.service) for s in streams if rt.plugins.get(s.service)}
    dashboard = analytics.topic_dashboard(topic, week, labels, streams=streams)
    posts = analytics.top_posts(streams, week, "engagements", TOP_POSTS)
    public = rt.settings.public_url.rstrip("/")
    rows = [_row(figure) for figure in dashboard.figures.values()]
    top = [dict(text=_preview(p.story.text), stream=p.stream.name, engagements=_number_text(p.engagements),
                views=_number_text(p.views), when=p.story.created_at.strftime("%Y-%m-%d %H:%M"),
                url=f"{public}/topics/{topic.id}/stories/{p.story.id}") for p in posts]
    period = f"{week.start.isoformat()} – {week.end.isoformat()}"
    context = dict(topic=topic.name, period=period, rows=rows, posts=top,
                   dashboard_url=f"{public}/analytics/topics/{topic.id}?{_week_args(week)}", settings_url=f"{public}/account/topics/{topic.id}/reports")
    text, html = render("weekly_report", **context)
    return text, html, f"Streamdesk weekly report: {topic.name} ({period})"


def _number_text(value, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value:.1f} %"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _row(figure) -> dict:
    """One figure of the dashboard as the report's table shows it."""
    change = figure.change
    if change.absolute is None:
        difference = "—"
    else:
        sign = "+" if change.absolute > 0 else "−" if change.absolute < 0 else "±"
        unit = " pt" if figure.percent else ""
        difference = f"{sign}{_number_text(abs(change.absolute))}{unit}"
        if change.percent is not None:
            difference += f" ({'+' if change.percent > 0 else '−' if change.percent < 0 else '±'}" \
                          f"{abs(change.percent):.1f} %)"
    return dict(label=figure.label, value=_number_text(figure.current, figure.percent),
                previous=_number_text(figure.previous, figure.percent), change=difference,
                note=None if figure.provided else figure.note, basis=figure.basis,
                trend=(change.absolute or 0) if change.absolute is not None else None)


def _preview(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TEXT_PREVIEW else text[:TEXT_PREVIEW - 1] + "…"
