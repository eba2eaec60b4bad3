"""Account settings → Activity: admins read every action of their account (who, which
stream, what, when, result, provider id), filter by person and stream, and download
CSV; members cannot, and no other account's action ever shows."""
import csv
import io

import pytest

from webapp import engage
from webapp.accounts import create_account
from webapp.models import Action, Stream
from factories import new_stream


@pytest.fixture
def log(account, admin, member, topic):
    own = new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True)
    x = new_stream(topic, service="twitter", page_id="2", name="Bluebird on X", authorized=True)
    rival = create_account("Rivals")
    theirs = Stream.create(account=rival, service="facebook", page_id="9", name="Rival Roasters", authorized=True)

    def act(user, stream, kind, **fields):
        return Action.create(account=stream.account_id, user=user, stream=stream, stream_name=stream.name,
                             service=stream.service, kind=kind,
                             key=engage.new_key(), **fields)

    act(admin, own, "comment", text="Thanks!", status="sent", external_id="1_2_3")
    act(member, x, "like", undo=True, target_id="77", status="failed", error="X rate limited this until 12:00 UTC.")
    act(member, own, "publish", text="=HYPERLINK(\"http://evil\")", status="sent", external_id="1_5")
    act(None, theirs, "delete", target_id="9_1", status="sent")
    return own, x


def test_admins_read_and_filter_the_activity(admin_client, log, member):
    own, x = log
    page = admin_client.get("/account/activity").get_data(as_text=True)
    assert "Activity</a>" in page and "Thanks!" in page and "unlike" in page and "1_2_3" in page
    assert "X rate limited this until 12:00 UTC." in page and "Rival Roasters" not in page
    mine = admin_client.get(f"/account/activity?user={member.id}").get_data(as_text=True)
    assert "Thanks!" not in mine and "unlike" in mine
    on_x = admin_client.get(f"/account/activity?stream={x.id}").get_data(as_text=True)
    assert "unlike" in on_x and "Thanks!" not in on_x
    assert admin_client.get("/account/activity?stream=abc").status_code == 400
    theirs = Stream.get(Stream.name == "Rival Roasters")
    refused = admin_client.get(f"/account/activity?stream={theirs.id}")
    assert refused.status_code == 400 and "no such stream in your account" in refused.get_data(as_text=True)


def test_the_csv_has_every_row_and_no_formula(admin_client, log, member):
    answer = admin_client.get(f"/account/activity/activity.csv?user={member.id}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["person"], r["action"], r["status"]) for r in rows] == [
        ("member@acme.test", "publish", "sent"), ("member@acme.test", "unlike", "failed")]
    assert rows[0]["text"] == "'=HYPERLINK(\"http://evil\")" and rows[0]["provider_id"] == "1_5"


def test_members_cannot_read_the_activity(member_client, log):
    assert member_client.get("/account/activity").status_code == 403
    assert member_client.get("/account/activity/activity.csv").status_code == 403


def test_the_log_outlives_a_removed_stream(admin_client, log, topic):
    from webapp.streams import remove_stream

    own, _ = log
    remove_stream(topic, own.id)
    page = admin_client.get("/account/activity").get_data(as_text=True)
    assert "Thanks!" in page and "Bluebird Coffee <small class=\"muted\">(removed)</small>" in page
    assert Action.get(Action.text == "Thanks!").stream_id is None


def test_the_csv_is_streamed_in_keyset_batches_and_complete(admin_client, log, admin, monkeypatch, caplog):
    from webapp import activity

    own, _ = log
    for n in range(10):
        Action.create(account=own.account_id, user=admin, stream=own, stream_name=own.name, service="facebook",
                      kind="comment", text=f"row {n}", key=engage.new_key(), status="sent")
    monkeypatch.setattr(activity, "CSV_BATCH", 3)
    with caplog.at_level("DEBUG", logger="peewee"):
        answer = admin_client.get("/account/activity/activity.csv")
        assert answer.is_streamed and answer.status_code == 200 and answer.mimetype == "text/csv"
        chunks = list(answer.response)  # the generator, read as the server would send it
    rows = list(csv.DictReader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks))))
    ours = Action.select().where(Action.account == own.account_id).order_by(Action.id.desc())
    assert [r["text"] for r in rows] == [("'" + a.text if a.text.startswith("=") else a.text) if a.text else ""
                                         for a in ours]
    assert len(rows) == 13 and len(chunks) == 5  # 13 rows: chunks of 3 rows (the header rides with the first)
    reads = [r.getMessage() for r in caplog.records if 'FROM "action"' in r.getMessage()]
    assert len(reads) == 5 and all("LIMIT" in q for q in reads), reads  # 3 + 3 + 3 + 3 + 1, by id, no OFFSET
    assert not any("OFFSET" in q for q in reads)
