"""E-mail to people (expired connections, weekly reports). Sent through ``SMTP_URL``, one message per
recipient, and kept in the outbox either way: without ``SMTP_URL`` (sandbox mode) the
outbox is where admins read what they would have received."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .config import Settings

log = logging.getLogger(__name__)


class MailError(Exception):
    """The SMTP server refused or could not be reached."""


def send(settings: Settings, to: list[str], subject: str, body: str, html: str | None = None,
         account_id: int | None = None) -> bool:
    """Send a plain-text e-mail (with an HTML alternative when ``html`` is given) to each
    of ``to`` separately, so recipients do not see each other's addresses. Each message
    is recorded in the outbox of ``account_id``. Returns False when SMTP is not
    configured; raises MailError when the server fails (after recording the failure)."""
    from .models import OutboxEmail

    # Provider data (a page name) may carry line breaks, which a header cannot.
    subject = " ".join(subject.split())
    failure = None
    for recipient in to:
        message = _message(settings, recipient, subject, body, html)
        error = None
        if not settings.smtp_url:
            log.warning("SMTP_URL is not set; e-mail to %s kept in the outbox, not sent: %s", recipient, subject)
        else:
            try:
                _deliver(settings.smtp_url, message)
            except MailError as exc:
                error, failure = str(exc), exc
        OutboxEmail.create(account=account_id, recipient=recipient, subject=subject, text=body, html=html,
                           delivered=bool(settings.smtp_url) and error is None, error=error)
    if failure is not None:
        raise failure
    return bool(to) and bool(settings.smtp_url)


def render(name: str, **context) -> tuple[str, str]:
    """The text and HTML parts of the e-mail ``templates/email/<name>.txt|.html``.

    Jobs have no Flask app: e-mails use a Jinja environment of their own, escaping the
    HTML part (page names are provider data)."""
    env = _templates()
    return env.get_template(f"{name}.txt").render(**context), env.get_template(f"{name}.html").render(**context)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    folder = Path(__file__).with_name("templates") / "email"
    return Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def _message(settings: Settings, recipient: str, subject: str, body: str, html: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _deliver(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    try:
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 25), timeout=20) as smtp:
            if url.scheme == "smtp" and smtp.has_extn("starttls"):
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot send e-mail through {url.hostname}:{url.port}: {exc}") from None
