"""Token health: each connected profile's state in one word, its last successful call,
its permissions with what they enable, and the streams that use it — for its owner in
Connected profiles, and for admins on the Status page."""
import datetime

from conftest import PASSWORD, csrf_token, login
from test_streams import add, connect

from webapp.accounts import create_user
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import ConnectedProfile, Stream, Topic, utcnow
from webapp.plugins import Plugins
from webapp.renewal import health
from webapp.streams import Runtime


def test_the_owner_sees_state_last_call_permissions_and_streams(admin_client, emulator, account, environ):
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    add(admin_client, Topic.create(account=account, name="Brand"), "twitter", "owned", owner)
    assert crawl(Runtime(load_settings(environ), Plugins()), Stream.get()) == "active"
    html = admin_client.get("/personal/connected-profiles").get_data(as_text=True)
    assert "Renews automatically</span>" in html  # X's refresh token renews it
    profile = ConnectedProfile.get()
    assert f"Last successful call: <time datetime=\"{profile.last_success_at.isoformat()}Z\">" in html
    assert "lets Streamdesk publish posts and replies" in html
    assert "Used by 1 stream:" in html and "(Brand)" in html


def test_one_word_never_two_contradicting_ones(admin, db):
    plugins = Plugins()
    profile = ConnectedProfile.create(user=admin, service="twitter", external_id="1", name="A", access_token="t",
                                      refresh_token="r", expires_at=utcnow() + datetime.timedelta(hours=2))
    assert health(plugins, profile).state == "renews automatically"
    profile.status = "expired"
    assert health(plugins, profile).state == "expired"  # never "expired" and "renewed automatically"
    fb = ConnectedProfile.create(user=admin, service="facebook", external_id="2", name="B", access_token="t",
                                 expires_at=utcnow() + datetime.timedelta(days=40, hours=1))
    assert health(plugins, fb).state == "expires in 40 days"
    fb.declined = "read_insights"
    state = health(plugins, fb)
    assert state.state == "permission missing"
    assert ("Read Page insights", "read impressions and reach", False) in state.permissions
    fb.declined, fb.expires_at = "", None
    assert health(plugins, fb).state == "healthy"


def test_admins_see_every_profile_of_the_account_on_the_status_page(client, admin, member, account, db):
    ConnectedProfile.create(user=member, service="facebook", external_id="1", name="Member's page person",
                            access_token="t", status="expired")
    login(client, admin.email)
    html = client.get("/account/status").get_data(as_text=True)
    assert "Connected profiles" in html and member.email in html and "Member&#39;s page person" in html
    assert "Expired</span>" in html
    other = create_user(account, "m2@acme.test", PASSWORD, "member")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    login(client, other.email)
    assert client.get("/account/status").status_code == 403
