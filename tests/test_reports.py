"""Weekly reports: an admin schedules a topic's dashboard by e-mail to chosen people;
the cron pass queues each due report once (however often it runs), a real RQ worker
sends it through a real SMTP server, with the week's figures, their changes and the top
posts linking back to the app; crawled content stays text; bad recipients are
explained; members and other accounts cannot manage schedules."""
import datetime
import threading
from email.header import decode_header, make_header

import pytest
from conftest import PASSWORD, csrf_token, mail_part
from test_webhooks_facebook import run_jobs

from webapp import reports
from webapp.accounts import create_account, create_user
from webapp.models import OutboxEmail, ReportSchedule, Topic, utcnow
from webapp.runtime import runtime
from factories import figure_days, new_stream, story_at


@pytest.fixture
def environ(environ, smtp_server):
    """The app and its jobs send through the test's SMTP server."""
    return {**environ, "SMTP_URL": smtp_server.url}


@pytest.fixture
def configured(environ, clean_redis, db, monkeypatch):
    """This process configured as a worker (the cron pass and the jobs read it)."""
    for name, value in {**environ, "REDIS_URL": clean_redis}.items():
        monkeypatch.setenv(name, value)
    runtime.cache_clear()
    yield clean_redis
    runtime.cache_clear()


#: Views per day, the fourteen days before today: the week before, then the report's week.
VIEWS = [100] * 7 + [150, 150, 150, 150, 150, 150, None]
FOLLOWERS = [1000 + 10 * n for n in range(14)]


def week_start(today: datetime.date) -> datetime.date:
    """The first day of the report's week: the seven days before today."""
    return today - datetime.timedelta(days=7)


@pytest.fixture
def week(topic, today):
    """A topic with a Facebook page's fortnight of roll-up and the report week's posts."""
    page = new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True)
    rival = new_stream(topic, service="twitter", page_id="2", name="<i>Rival</i> Roasters")
    first = today - datetime.timedelta(days=14)
    figure_days(page, "impressions", first, VIEWS, provider_metric="page_media_view", note="no data yet")
    figure_days(page, "followers", first, FOLLOWERS)
    figure_days(page, "posts_published", first, [1] * 14)
    figure_days(rival, "impressions", first, [None] * 14, note="not provided by X")
    at = datetime.datetime.combine(week_start(today), datetime.time(10))
    posts = [story_at(page, f"1_{n}", at + datetime.timedelta(days=n), views=500 + n, engagements=10 * n + 1,
                      text=f"Post {n} of the week") for n in range(6)]
    posts.append(story_at(rival, "66", at + datetime.timedelta(hours=3), views=None, engagements=45,
                          text="<script>alert('x')</script> Beans & <b>more</b>"))
    story_at(page, "old", at - datetime.timedelta(days=3), engagements=999, text="Last week's post")
    return page, rival, posts


def schedule_form(client, topic, **fields):
    data = {"csrf_token": csrf_token(client, f"/account/topics/{topic.id}/reports"), "weekday": "0", "hour": "8",
            "enabled": "1", **fields}
    return client.post(f"/account/topics/{topic.id}/reports", data=data)


def test_a_due_report_goes_once_to_each_recipient_with_figures_and_top_posts(
        admin_client, admin, member, topic, week, configured, smtp_server, environ, today):
    answer = schedule_form(admin_client, topic, person=[str(admin.id), str(member.id)],
                           addresses="boss@elsewhere.test")
    assert answer.status_code == 303
    schedule = ReportSchedule.get()
    assert sorted(reports.recipients(schedule)) == sorted([admin.email, member.email, "boss@elsewhere.test"])
    assert schedule.next_send_at == reports.next_time(0, 8, schedule.created_at)
    assert reports.enqueue_due_reports() == 0  # not due yet
    ReportSchedule.update(next_send_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    assert reports.enqueue_due_reports() == 1
    assert reports.enqueue_due_reports() == 0  # claimed: a second cron pass queues nothing
    assert run_jobs(configured) == 1
    assert sorted(m.recipients for m in smtp_server.messages) == sorted(
        [[admin.email], [member.email], ["boss@elsewhere.test"]])
    mail = smtp_server.messages[0]
    period = f"{week_start(today).isoformat()} – {(today - datetime.timedelta(days=1)).isoformat()}"
    assert str(make_header(decode_header(mail["Subject"]))) == f"Streamdesk weekly report: Brand ({period})"
    text, html = mail_part(mail), mail_part(mail, "html")
    views_now, views_before = sum(v for v in VIEWS[7:] if v), sum(VIEWS[:7])
    change = views_now - views_before
    assert f"Views: {views_now:,} (week before: {views_before:,}; change: +{change:,} " \
           f"(+{change / views_before * 100:.1f} %))" in text
    assert f"Followers: {FOLLOWERS[-1]:,} (week before: {FOLLOWERS[6]:,}" in text
    assert "Reach: — (week before: —; change: —)" in text  # not provided: a dash, never 0
    # The top five posts of the week by engagements, linked to the story view.
    posts = sorted(week[2], key=lambda s: s.engagements, reverse=True)[:5]
    public = environ["PUBLIC_URL"].rstrip("/")
    for post in posts:
        assert f'href="{public}/topics/{topic.id}/stories/{post.id}"' in html
    assert "Last week's post" not in text and "Post 0 of the week" not in text  # sixth by engagements
    assert html.index("Post 5 of the week") < html.index("Post 4 of the week")
    # "Open the dashboard" shows the topic's analytics for exactly the report's week.
    week_args = f"range=custom&amp;from={week_start(today).isoformat()}&amp;to={(today - datetime.timedelta(days=1)).isoformat()}"
    assert f'href="{public}/analytics/topics/{topic.id}?{week_args}"' in html
    dashboard = admin_client.get(f"/analytics/topics/{topic.id}?{week_args.replace('&amp;', '&')}")
    assert dashboard.status_code == 200 and f"{week_start(today).isoformat()} – " in dashboard.get_data(as_text=True)
    story_path = f"/topics/{topic.id}/stories/{posts[0].id}"
    assert admin_client.get(story_path).status_code == 200  # the link leads to the story
    again = ReportSchedule.get()
    assert again.last_sent_at is not None and again.next_send_at == reports.next_time(0, 8, again.last_sent_at)
    assert reports.enqueue_due_reports() == 0 and run_jobs(configured) == 0  # …and next week's is not due
    assert len(smtp_server.messages) == 3
    assert OutboxEmail.select().where(OutboxEmail.delivered == True).count() == 3  # noqa: E712


def test_crawled_content_is_escaped_in_the_email(admin, topic, week, configured, smtp_server):
    schedule = reports.create(admin, topic, reports.check(admin.account_id, [], "a@b.test", "0", "8"))
    ReportSchedule.update(next_send_at=utcnow()).execute()
    assert reports.enqueue_due_reports() == 1 and run_jobs(configured) == 1
    html = mail_part(smtp_server.messages[0], "html")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Beans &amp; &lt;b&gt;more&lt;/b&gt;" in html
    assert "<script" not in html and "<b>more" not in html
    assert "&lt;i&gt;Rival&lt;/i&gt; Roasters" in html and "<i>Rival" not in html
    assert "<script>alert('x')</script> Beans & <b>more</b>" in mail_part(smtp_server.messages[0])  # text is text
    assert schedule.id == ReportSchedule.get().id


def test_a_report_run_after_midnight_covers_the_week_before_its_cron_pass(admin, topic, week, configured,
                                                                          smtp_server, today):
    reports.create(admin, topic, reports.check(admin.account_id, [], "a@b.test", "0", "8"))
    schedule = ReportSchedule.get()
    # Queued by the pass at 23:59 yesterday, sent by the worker today: still yesterday's report.
    passed = datetime.datetime.combine(today, datetime.time()) - datetime.timedelta(minutes=1)
    assert reports.send_job(schedule.id, passed.isoformat()) == "sent"
    end = today - datetime.timedelta(days=2)
    period = f"{(end - datetime.timedelta(days=6)).isoformat()} – {end.isoformat()}"
    assert str(make_header(decode_header(smtp_server.messages[0]["Subject"]))).endswith(f"({period})")
    assert ReportSchedule.get().next_send_at > utcnow()  # the next one is planned from now


def test_two_cron_passes_at_once_queue_each_due_report_once(admin, topic, configured, smtp_server):
    for n in range(20):
        reports.create(admin, topic, reports.check(admin.account_id, [], f"p{n}@x.test", "0", "8"))
    ReportSchedule.update(next_send_at=utcnow() - datetime.timedelta(hours=1)).execute()
    start, results = threading.Barrier(2), []

    def one_pass():
        start.wait()
        results.append(reports.enqueue_due_reports())

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(results) == 20 and len(results) == 2
    assert run_jobs(configured) == 20
    assert sorted(r for m in smtp_server.messages for r in m.recipients) == sorted(f"p{n}@x.test" for n in range(20))


def test_the_claims_go_back_when_the_queue_is_down(admin, topic, configured, monkeypatch, caplog):
    from stack import free_port

    reports.create(admin, topic, reports.check(admin.account_id, [], "a@b.test", "0", "8"))
    due = utcnow() - datetime.timedelta(minutes=1)
    ReportSchedule.update(next_send_at=due).execute()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    runtime.cache_clear()
    assert reports.enqueue_due_reports() == 0
    assert "could not queue weekly reports" in caplog.text
    assert due <= ReportSchedule.get().next_send_at <= utcnow()  # due again, not claimed for an hour
    monkeypatch.setenv("REDIS_URL", configured)
    runtime.cache_clear()
    assert reports.enqueue_due_reports() == 1  # the next pass queues it


@pytest.mark.parametrize("fields, message", [
    (dict(addresses="pat@example"), "“pat@example” is not an e-mail address (like name@example.com)."),
    (dict(addresses="ok@example.com, <script>@x.test"), "“&lt;script&gt;@x.test” is not an e-mail address"),
    (dict(addresses="  "), "Choose at least one person or enter an e-mail address"),
    (dict(person="999999"), "One of the people chosen is not in your account"),
    (dict(addresses="a@b.test", weekday="7"), "Choose a weekday."),
    (dict(addresses="a@b.test", hour="24"), "Choose an hour from 0 to 23 (UTC)."),
    (dict(addresses=" ".join(f"p{n}@x.test" for n in range(51))), "at most 50 addresses; this one has 51"),
])
def test_bad_recipients_or_times_are_explained(admin_client, topic, fields, message):
    answer = schedule_form(admin_client, topic, **fields)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and message in page and 'role="alert"' in page
    assert ReportSchedule.select().count() == 0
    if "addresses" in fields and fields["addresses"].strip():
        assert fields["addresses"].split(",")[0] in page  # what was typed is kept


def test_another_accounts_person_cannot_be_a_recipient(admin_client, topic):
    stranger = create_user(create_account("Rivals"), "spy@rivals.test", PASSWORD)
    answer = schedule_form(admin_client, topic, person=str(stranger.id))
    assert answer.status_code == 400 and "not in your account" in answer.get_data(as_text=True)


def test_edit_stop_and_delete_a_schedule(admin_client, admin, topic):
    schedule = reports.create(admin, topic, reports.check(admin.account_id, [str(admin.id)], "", "2", "9"))
    token = csrf_token(admin_client, f"/account/topics/{topic.id}/reports")
    page = admin_client.get(f"/account/topics/{topic.id}/reports").get_data(as_text=True)
    assert f'value="{admin.id}" checked' in page and '<option value="2" selected>Wednesday' in page
    path = f"/account/topics/{topic.id}/reports/{schedule.id}"
    answer = admin_client.post(path, data={"csrf_token": token, "addresses": "x@y.test", "weekday": "4", "hour": "17"})
    assert answer.status_code == 303
    changed = ReportSchedule.get_by_id(schedule.id)
    assert (reports.recipients(changed), changed.weekday, changed.hour, changed.enabled, changed.next_send_at) == (
        ["x@y.test"], 4, 17, False, None)  # "every week" unticked: stopped
    assert admin_client.post(f"{path}/delete", data={"csrf_token": token}).status_code == 303
    assert ReportSchedule.select().count() == 0


def test_send_now_sends_the_report_and_keeps_the_schedule(admin_client, admin, topic, week, smtp_server):
    schedule = reports.create(admin, topic, reports.check(admin.account_id, [str(admin.id)], "", "6", "23"))
    token = csrf_token(admin_client, f"/account/topics/{topic.id}/reports")
    answer = admin_client.post(f"/account/topics/{topic.id}/reports/{schedule.id}/send", data={"csrf_token": token},
                               follow_redirects=True)
    assert "The report was sent to 1 address." in answer.get_data(as_text=True)
    assert [m.recipients for m in smtp_server.messages] == [[admin.email]]
    assert "Weekly report: Brand" in mail_part(smtp_server.messages[0])
    assert ReportSchedule.get_by_id(schedule.id).next_send_at == schedule.next_send_at


def test_someone_who_left_the_account_no_longer_receives_it(admin_client, admin, member, topic, smtp_server):
    choice = reports.check(admin.account_id, [str(member.id)], "boss@elsewhere.test", "0", "8")
    schedule = reports.create(admin, topic, choice)
    member.delete_instance()
    token = csrf_token(admin_client, f"/account/topics/{topic.id}/reports")
    admin_client.post(f"/account/topics/{topic.id}/reports/{schedule.id}/send", data={"csrf_token": token})
    assert [m.recipients for m in smtp_server.messages] == [["boss@elsewhere.test"]]


def test_members_cannot_manage_reports(member_client, admin, topic):
    schedule = reports.create(admin, topic, reports.check(admin.account_id, [], "a@b.test", "0", "8"))
    token = csrf_token(member_client, "/topics")
    base = f"/account/topics/{topic.id}/reports"
    assert member_client.get(base).status_code == 403
    for path in (base, f"{base}/{schedule.id}", f"{base}/{schedule.id}/delete", f"{base}/{schedule.id}/send"):
        assert member_client.post(path, data={"csrf_token": token, "addresses": "me@x.test", "weekday": "0",
                                              "hour": "1"}).status_code == 403, path
    assert reports.recipients(ReportSchedule.get()) == ["a@b.test"]


def test_another_accounts_topic_or_schedule_is_not_found(admin_client, admin, topic):
    rival = create_account("Rivals")
    theirs = Topic.create(account=rival, name="Theirs")
    their_admin = create_user(rival, "boss@rivals.test", PASSWORD, role="admin")
    schedule = reports.create(their_admin, theirs, reports.check(rival.id, [], "r@rivals.test", "0", "8"))
    token = csrf_token(admin_client, f"/account/topics/{topic.id}/reports")
    assert admin_client.get(f"/account/topics/{theirs.id}/reports").status_code == 404
    for path in (f"/account/topics/{theirs.id}/reports/{schedule.id}/send",
                 f"/account/topics/{topic.id}/reports/{schedule.id}/send",  # their schedule under our topic
                 f"/account/topics/{topic.id}/reports/{schedule.id}/delete"):
        assert admin_client.post(path, data={"csrf_token": token}).status_code == 404, path
    assert ReportSchedule.select().count() == 1


@pytest.mark.parametrize("after, expected", [
    (datetime.datetime(2026, 12, 7, 7, 59), datetime.datetime(2026, 12, 7, 8)),     # a Monday, before 8
    (datetime.datetime(2026, 12, 7, 8, 0), datetime.datetime(2026, 12, 14, 8)),     # at 8: next week
    (datetime.datetime(2026, 12, 13, 23, 30), datetime.datetime(2026, 12, 14, 8)),  # Sunday night
])
def test_the_next_time_is_the_next_weekday_and_hour(after, expected):
    assert reports.next_time(0, 8, after) == expected
