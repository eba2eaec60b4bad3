"""The emulator's Graph API responses against the shapes of provider-apis.md section A."""
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from emulators.facebook import APP_ID, APP_SECRET

from .conftest import ACME, ALEX, BLUEBIRD, DELI, SAM

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
APP = f"{APP_ID}|{APP_SECRET}"


def error_of(response, status, code, subcode=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error.get("error_subcode") == subcode, error
    assert error["type"] in ("OAuthException", "GraphMethodException") and error["fbtrace_id"]
    return error


def test_page_by_id_and_username_with_picture(fb):
    fields = "id,name,username,link,fan_count,followers_count,category,picture"
    by_name = fb.get("bluebirdcoffee", APP, fields=fields).json()
    assert by_name == fb.get(BLUEBIRD, APP, fields=fields).json()
    assert by_name["id"] == BLUEBIRD and by_name["link"] == "https://www.facebook.com/bluebirdcoffee"
    assert set(by_name["picture"]["data"]) == {"height", "is_silhouette", "url", "width"}
    assert isinstance(by_name["fan_count"], int)
    assert fb.get(DELI, APP).json() == {"name": "Corner Deli of Springfield", "id": DELI}  # default fields


def test_unknown_objects_aliases_and_fields(fb):
    error = error_of(fb.get("99999999999", APP), 400, 100, 33)
    assert error["type"] == "GraphMethodException" and "does not exist" in error["message"]
    error_of(fb.get("no.such.page", APP), 400, 803)
    nonexisting = error_of(fb.get(BLUEBIRD, APP, fields="id,colour"), 400, 100)
    assert nonexisting["message"] == "(#100) Tried accessing nonexisting field (colour) on node type (Page)"


def test_pages_search_ranks_and_limits_fields(fb):
    body = fb.get("pages/search", APP, q="blue bottle", fields="id,name,location,link").json()
    assert body["data"][0]["name"] == "Blue Bottle Bakery"
    assert {"id", "name", "location", "link"} == set(body["data"][0])
    assert fb.get("pages/search", APP, q="zzzz-nothing").json() == {"data": []}
    error_of(fb.get("pages/search", APP, q="coffee", fields="fan_count"), 400, 100)


def test_feed_time_paging_forward_backward_and_last_page(fb):
    fields = "id,created_time,updated_time,message,from{id,name}"
    first = fb.get(f"{ACME}/feed", APP, fields=fields, limit=100).json()
    assert len(first["data"]) == 100 and set(first["paging"]) == {"previous", "next"}
    assert all(TIME.match(p["created_time"]) for p in first["data"])
    times = [p["created_time"] for p in first["data"]]
    assert times == sorted(times, reverse=True)
    next_link = first["paging"]["next"]
    assert next_link.startswith(fb.graph + f"/{ACME}/feed?")  # links use the emulator's base URL
    query = parse_qs(urlsplit(next_link).query)
    assert {"until", "__paging_token", "access_token", "fields", "limit"} <= set(query)
    second = fb.http.get(next_link).json()
    assert len(second["data"]) == 80 and "next" not in second["paging"]  # 180 stories: no next on the last page
    ids = [p["id"] for p in first["data"] + second["data"]]
    assert len(set(ids)) == 180
    back = fb.http.get(second["paging"]["previous"]).json()
    assert [p["id"] for p in back["data"]] == [p["id"] for p in first["data"]]
    newer = fb.get(f"{ACME}/feed", APP, since=query["until"][0], limit=100).json()["data"]
    assert len(newer) == 100  # since is inclusive of the boundary story


def test_post_fields_of_provider_apis(fb):
    token = fb.page_token()
    fields = ("id,message,created_time,updated_time,permalink_url,from{id,name},story,"
              "attachments{media_type,type,title,url,media,target},full_picture,status_type,shares{count},"
              "is_hidden,is_published")
    posts = fb.get(f"{BLUEBIRD}/posts", token, fields=fields, limit=100).json()["data"]
    photo = next(p for p in posts if p["status_type"] == "added_photos")
    assert {"id", "created_time", "updated_time", "permalink_url", "from", "story", "attachments",
            "full_picture", "status_type", "is_hidden", "is_published"} <= set(photo)
    assert set(photo["attachments"]["data"][0]) == {"media_type", "type", "title", "url", "media", "target"}
    assert photo["from"] == {"id": BLUEBIRD, "name": "Bluebird Coffee"}
    shared = [p for p in posts if "shares" in p]
    assert shared and all(set(p["shares"]) == {"count"} and p["shares"]["count"] > 0 for p in shared)
    error_of(fb.get(f"{BLUEBIRD}/posts", token, fields="id,type"), 400, 12)  # removed in v3.3


def test_posts_exclude_visitor_posts_and_feed_includes_them(fb):
    token = fb.page_token()
    feed = fb.get(f"{BLUEBIRD}/feed", token, fields="from{id}", limit=100).json()["data"]
    posts = fb.get(f"{BLUEBIRD}/posts", token, fields="from{id}", limit=100).json()["data"]
    assert any(p["from"]["id"] != BLUEBIRD for p in feed)
    assert all(p["from"]["id"] == BLUEBIRD for p in posts)


def test_comments_cursor_paging_summary_and_nested_fields(fb):
    token = fb.page_token()
    story = next(p for p in fb.state.world.posts(BLUEBIRD) if len(fb.state.world.comments(p.id)) > 100)
    body = fb.get(f"{story.id}/comments", token, filter="stream", order="chronological", summary="true",
                  limit=50, fields="id,message,created_time,from,like_count,comment_count,parent,is_hidden").json()
    assert len(body["data"]) == 50 and set(body["paging"]["cursors"]) == {"before", "after"}
    assert body["summary"] == {"order": "ranked", "total_count": len(fb.state.world.comments(story.id)),
                               "can_comment": True}
    assert "previous" not in body["paging"] and body["paging"]["next"].startswith(fb.graph)
    page_two = fb.http.get(body["paging"]["next"]).json()
    assert "previous" in page_two["paging"] and page_two["data"][0]["id"] != body["data"][0]["id"]
    nested = fb.get(f"{story.id}", token, fields="id,comments.limit(0).summary(true),"
                                                  "reactions.summary(true).limit(0)").json()
    assert nested["comments"]["data"] == [] and nested["comments"]["summary"]["total_count"] > 0
    assert set(nested["reactions"]["summary"]) == {"total_count", "viewer_reaction"}
    deep = fb.get(f"{BLUEBIRD}/feed", token, limit=2,
                  fields="id,comments.filter(stream).limit(3).summary(true){id,parent{id},from{name}}").json()
    assert all("summary" in p["comments"] for p in deep["data"])


def test_commenters_are_hidden_from_other_tokens(fb):
    story = next(p for p in fb.state.world.posts(ACME) if fb.state.world.comments(p.id))
    public = fb.get(f"{story.id}/comments", APP, fields="id,from,message").json()["data"]
    assert public and all("from" not in c for c in public)


def test_insights_current_metrics_and_retired_ones(fb):
    token = fb.page_token()
    page = fb.get(f"{BLUEBIRD}/insights", token, metric="page_media_view,page_total_media_view_unique",
                  period="days_28").json()
    row = page["data"][0]
    assert set(row) == {"name", "period", "values", "title", "description", "id"}
    assert row["id"] == f"{BLUEBIRD}/insights/page_media_view/days_28"
    assert all(TIME.match(v["end_time"]) and isinstance(v["value"], int) for v in row["values"])
    assert set(page["paging"]) == {"previous", "next"}
    story = fb.state.world.posts(BLUEBIRD)[0]
    post = fb.get(f"{story.id}/insights", token, metric="post_media_view,post_total_media_view_unique").json()
    views, viewers = (r["values"][0]["value"] for r in post["data"])
    assert post["data"][0]["period"] == "lifetime" and viewers < views
    for retired in ("post_impressions", "page_impressions", "page_fans", "post_impressions_unique"):
        metric = f"page_media_view,{retired}"
        error = error_of(fb.get(f"{BLUEBIRD}/insights", token, metric=metric), 400, 100)
        assert error["message"] == "(#100) The value must be a valid insights metric"
    error_of(fb.get(f"{BLUEBIRD}/insights", token, metric="page_media_view", since="2026-01-01",
                    until="2026-06-01"), 400, 100)
    error_of(fb.get(f"{BLUEBIRD}/insights", APP, metric="page_media_view"), 400, 190)  # a page token is needed


def test_conversations_with_messages(fb):
    token = fb.page_token()
    body = fb.get(f"{BLUEBIRD}/conversations", token, platform="messenger",
                  fields="id,updated_time,link,snippet,message_count,unread_count,participants,"
                         "messages{id,created_time,from,to,message}").json()
    convo = body["data"][0]
    assert convo["id"].startswith("t_") and TIME.match(convo["updated_time"])
    message = convo["messages"]["data"][0]
    assert message["id"].startswith("m_") and set(message["from"]) == {"name", "email", "id"}
    assert message["from"]["email"].endswith("@facebook.com") and "data" in message["to"]
    updated = [c["updated_time"] for c in body["data"]]
    assert updated == sorted(updated, reverse=True)
    error_of(fb.get(f"{BLUEBIRD}/conversations", APP), 403, 210)


def test_writes_publish_comment_like_hide_delete(fb):
    token = fb.page_token()
    post = fb.post(f"{BLUEBIRD}/feed", token, message="Opening at 8 tomorrow").json()
    assert re.fullmatch(rf"{BLUEBIRD}_\d+", post["id"])
    error = error_of(fb.post(f"{BLUEBIRD}/feed", token, message="Opening at 8 tomorrow"), 400, 506)
    assert error["error_user_title"] == "Duplicate Post"
    comment = fb.post(f"{post['id']}/comments", token, message="See you!").json()
    assert comment["id"].startswith(post["id"].split("_")[1] + "_")
    reply = fb.post(f"{comment['id']}/comments", token, message="Thanks").json()
    got = fb.get(reply["id"], token, fields="parent{id}").json()
    assert got["parent"]["id"] == comment["id"]
    assert fb.post(f"{comment['id']}/likes", token).json() == {"success": True}
    assert fb.post(comment["id"], token, is_hidden="true").json() == {"success": True}
    assert fb.get(comment["id"], token, fields="is_hidden").json()["is_hidden"] is True
    assert fb.http.delete(f"{fb.graph}/{post['id']}", params={"access_token": token}).json() == {"success": True}
    error_of(fb.get(post["id"], token), 400, 100, 33)


def test_writes_need_permissions_and_tasks(fb):
    editor = fb.page_token(BLUEBIRD, SAM)  # no MANAGE, but CREATE_CONTENT and MODERATE
    assert "id" in fb.post(f"{BLUEBIRD}/feed", editor, message="Editor post").json()
    limited = fb.page_token(BLUEBIRD, ALEX, permissions=["pages_show_list", "pages_read_engagement"])
    error = error_of(fb.post(f"{BLUEBIRD}/feed", limited, message="x"), 403, 200)
    assert "pages_manage_posts" in error["message"]
    analyst = fb.page_token("108374650192837", ALEX)  # Alex only analyses Riverside Bikes
    error = error_of(fb.post("108374650192837/feed", analyst, message="x"), 403, 200)
    assert "administrative permission" in error["message"]
    error_of(fb.post(f"{BLUEBIRD}/feed", APP, message="x"), 403, 210)


@pytest.mark.parametrize("kind,code,status", [("rate_limit", 4, 403), ("rate_limit", 17, 400),
                                              ("rate_limit", 32, 400), ("rate_limit", 613, 400),
                                              ("transient", 1, 500), ("transient", 2, 500)])
def test_forced_faults_use_graph_codes_and_usage_headers(fb, kind, code, status):
    fb.control("faults", kind=kind, code=code, count=2, regain_minutes=3)
    for _ in range(2):
        response = fb.get(BLUEBIRD, APP)
        error = error_of(response, status, code)
        assert error["is_transient"] is True
    if kind == "rate_limit":
        assert json.loads(response.headers["x-app-usage"])["call_count"] == 100
    assert fb.get(BLUEBIRD, APP).status_code == 200


def test_server_errors_and_page_usage_header(fb):
    token = fb.page_token()
    fb.control("faults", kind="server", status=503, count=1)
    response = fb.get(BLUEBIRD, token)
    assert response.status_code == 503 and response.headers["Content-Type"].startswith("text/html")
    assert "x-business-use-case-usage" not in fb.get(BLUEBIRD, token).headers  # too few calls yet
    fb.control("usage", bucket=BLUEBIRD, call_count=3)
    ok = fb.get(BLUEBIRD, token)
    usage = json.loads(ok.headers["x-business-use-case-usage"])
    assert set(usage[BLUEBIRD][0]) == {"type", "call_count", "total_cputime", "total_time",
                                       "estimated_time_to_regain_access"}
    assert ok.headers["facebook-api-version"] == "v25.0"


def test_token_errors(fb):
    token = fb.user_token()
    error_of(fb.get("me"), 400, 104)
    error_of(fb.get("me", "not-a-token"), 400, 190)
    page_token = fb.page_token()
    fb.control("tokens/expire", user_id=ALEX)
    assert "Session has expired" in error_of(fb.get("me", token), 400, 190, 463)["message"]
    assert fb.get("me", page_token).status_code == 200  # page tokens outlive the user token's expiry
    fb.control(f"people/{ALEX}/password")
    error_of(fb.get("me", page_token), 400, 190, 460)
    fresh = fb.user_token()
    fb.control("tokens/revoke", user_id=ALEX)
    error_of(fb.get("me", fresh), 400, 190, 458)


def test_permission_revoked_through_control(fb):
    token = fb.page_token()
    assert fb.get(f"{BLUEBIRD}/feed", token).status_code == 200
    fb.control("permissions/revoke", user_id=ALEX, permission="pages_read_user_content")
    error = error_of(fb.get(f"{BLUEBIRD}/feed", token), 403, 10)
    assert "'pages_read_user_content'" in error["message"]


def test_appsecret_proof_is_checked_when_sent(fb):
    token = fb.user_token()
    error_of(fb.get("me", token, appsecret_proof="0" * 64), 400, 100)


def test_control_counts_calls_per_path_and_reset_restores_seed(fb):
    fb.get(BLUEBIRD, APP)
    fb.get(BLUEBIRD, APP)
    fb.get(f"{ACME}/feed", APP)
    assert fb.calls() == {f"GET /v25.0/{BLUEBIRD}": 2, f"GET /v25.0/{ACME}/feed": 1}
    before = fb.get(f"{BLUEBIRD}/feed", APP, limit=5).json()
    fb.control("posts", page_id=BLUEBIRD, message="New")
    assert fb.get(f"{BLUEBIRD}/feed", APP, limit=5).json() != before
    fb.reset()
    assert fb.total_calls() == 0 and fb.get(f"{BLUEBIRD}/feed", APP, limit=5).json() == before
