"""E-mail to people (expired streams). Sent through ``SMTP_URL``; logged when it is unset."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from .config import Settings

log = logging.getLogger(__name__)


class MailError(Exception):
    """The SMTP server refused or could not be reached."""


def send(settings: Settings, to: list[str], subject: str, body: str) -> bool:
    """Send one plain-text e-mail to ``to``; returns False when SMTP is not configured."""
    if not to:
        return False
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(to)
    # Provider data (a page name) may carry line breaks, which a header cannot.
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)
    if not settings.smtp_url:
        log.warning("SMTP_URL is not set; e-mail to %s not sent: %s", ", ".join(to), subject)
        return False
    url = urlsplit(settings.smtp_url)
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
    return True
