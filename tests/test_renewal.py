"""Tokens that cannot renew themselves: their owner is warned a week and a day before
they expire, once each, by e-mail (a real SMTP server) and on the Topics page."""
import datetime

import pytest
from conftest import PASSWORD, csrf_token, login, mail_part

from webapp.accounts import create_user
from webapp.config import load_settings
from webapp.models import ConnectedProfile, OutboxEmail, utcnow
from webapp.plugins import Plugins
from webapp.renewal import warn, warn_expiring_profiles, warnings_due
from webapp.streams import Runtime


@pytest.fixture
def rt(environ, smtp_server):
    return Runtime(load_settings({**environ, "SMTP_URL": smtp_server.url}), Plugins())


def profile(user, service="facebook", days=5.0, refresh_token=None):
    return ConnectedProfile.create(user=user, service=service, external_id="1", name="Alex Rivera",
                                   access_token="token", refresh_token=refresh_token,
                                   expires_at=utcnow() + datetime.timedelta(days=days))


def send_due(rt, now=None):
    due = warnings_due(rt.plugins, now)
    for p, number in due:
        warn(rt, p, number, now)
    return [(p.id, number) for p, number in due]


def test_a_week_and_a_day_before_once_each(rt, admin, smtp_server):
    mine = profile(admin)
    assert send_due(rt) == [(mine.id, 1)]
    assert send_due(rt) == []  # the next hourly pass sends nothing more
    mail = smtp_server.messages[0]
    assert mail.recipients == [admin.email] and mail["Subject"] == "Streamdesk: your Facebook connection expires in 4 days"
    assert "does not let Streamdesk renew it by itself" in mail_part(mail) and "/personal/connected-profiles" in mail_part(mail, "html")
    day_before = mine.expires_at - datetime.timedelta(hours=20)
    assert send_due(rt, day_before) == [(mine.id, 2)]
    assert send_due(rt, day_before) == []
    assert len(smtp_server.messages) == 2 and "expires tomorrow" in smtp_server.messages[1]["Subject"]
    # Linked again: a new expiry date, and the warnings start afresh.
    ConnectedProfile.update(expires_at=utcnow() + datetime.timedelta(days=6)).execute()
    assert send_due(rt) == [(mine.id, 1)]


def test_tokens_that_renew_or_are_far_off_are_not_warned(rt, admin, member, smtp_server):
    profile(admin, service="twitter", refresh_token="refresh")  # X renews it at the next crawl
    profile(member, days=30)
    ConnectedProfile.create(user=member, service="twitter", external_id="2", name="Old", access_token="t",
                            status="expired", expires_at=utcnow() + datetime.timedelta(days=2))
    assert send_due(rt) == []
    assert smtp_server.messages == []


def test_the_owner_sees_a_notice_on_the_topics_page(client, admin, account):
    profile(admin, days=3.5)
    other = create_user(account, "other@acme.test", PASSWORD, "admin")
    login(client, admin.email)
    html = client.get("/topics").get_data(as_text=True)
    assert "Your Facebook connection (Alex Rivera) expires in 3 days and cannot renew itself." in html
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    login(client, other.email)
    assert "cannot renew itself" not in client.get("/topics").get_data(as_text=True)


def test_the_cron_job_sends_through_the_outbox(admin, environ, monkeypatch):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    profile(admin, days=0.5)
    assert warn_expiring_profiles() == 1
    assert OutboxEmail.get().subject == "Streamdesk: your Facebook connection expires tomorrow"
