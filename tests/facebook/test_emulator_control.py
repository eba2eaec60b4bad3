"""The emulator's cursor paging, usage buckets, and what its control API can force:
Graph's throttling and size errors, damaged 200 answers, the feed's paging style, and
the request log."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from emulators.facebook import APP_ID, APP_SECRET

from .conftest import ACME, ALEX, BLUEBIRD
from .test_emulator_graph import error_of

APP = f"{APP_ID}|{APP_SECRET}"


def walk(fb, path, token, **params) -> list[dict]:
    """Every page of a cursor-paged edge, following ``next`` links to the end."""
    pages = [fb.get(path, token, **params).json()]
    while "next" in pages[-1].get("paging", {}):
        assert len(pages) < 50
        pages.append(fb.http.get(pages[-1]["paging"]["next"]).json())
    return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 6, 7])
def test_last_cursor_page_has_no_next_link(fb, limit):
    token = fb.page_token()
    world = fb.state.world
    story = next(p for p in world.posts(BLUEBIRD) if len(world.comments(p.id)) == 6)
    convo = min(world.conversations(BLUEBIRD), key=lambda c: len(c.messages))
    user = fb.user_token(ALEX)
    cases = [(f"{story.id}/comments", token, {"filter": "stream"}, 6),
             (f"{BLUEBIRD}/conversations", token, {}, len(world.conversations(BLUEBIRD))),
             (f"{convo.id}/messages", token, {}, len(convo.messages)),
             ("me/accounts", user, {}, 3),
             ("pages/search", APP, {"q": "coffee"}, 2)]
    for path, who, params, total in cases:
        pages = walk(fb, path, who, limit=limit, **params)
        ids = [item["id"] for page in pages for item in page["data"]]
        assert len(ids) == len(set(ids)) == total, path
        assert all(len(page["data"]) == limit for page in pages[:-1]), path
        assert "next" not in pages[-1].get("paging", {}), path  # the last page never offers more
        assert all(page["data"] for page in pages), path          # and no empty page is reached


def test_usage_counts_each_call_toward_its_own_bucket(fb):
    token = fb.page_token()
    for _ in range(50):
        assert fb.get(BLUEBIRD, token).ok
    page_usage = json.loads(fb.get(BLUEBIRD, token).headers["x-business-use-case-usage"])[BLUEBIRD][0]
    assert page_usage["call_count"] == 51 * 100 // 4800  # the page's daily quota
    # Page-token calls are not the app's, whose usage stays under the point where Graph
    # starts sending its header at all.
    assert "x-app-usage" not in fb.get(ACME, APP).headers


def test_faults_can_target_one_path(fb):
    fb.fault("rate_limit", code=32, path=f"/v25.0/{ACME}/feed", count=2)
    assert fb.get(ACME, APP).ok  # another path is not hit
    error_of(fb.get(f"{ACME}/feed", APP), 400, 32)
    error_of(fb.get(f"{ACME}/feed", APP), 400, 32)
    assert fb.get(f"{ACME}/feed", APP).ok


def test_reduce_data_and_posting_too_fast_answers(fb):
    fb.fault("reduce_data")
    error = error_of(fb.get(f"{ACME}/feed", APP, limit=100), 500, 1)
    assert error["message"] == "Please reduce the amount of data you're asking for, then retry your request"
    token = fb.page_token()
    fb.fault("posting_too_fast", path=f"/v25.0/{BLUEBIRD}/feed")
    error = error_of(fb.post(f"{BLUEBIRD}/feed", token, message="again"), 400, 368, 1390008)
    assert error["error_user_title"] == "You Can't Use This Feature Right Now" and "too fast" in error["error_user_msg"]


@pytest.mark.parametrize("code", [80001, 80006, 80009])
def test_business_use_case_limits_carry_the_regain_time(fb, code):
    token = fb.page_token()
    fb.fault("rate_limit", code=code, regain_minutes=12)
    response = fb.get(BLUEBIRD, token)
    error = error_of(response, 400, code)
    assert error["is_transient"] is True and "too many calls" in error["message"]
    usage = json.loads(response.headers["x-business-use-case-usage"])[BLUEBIRD][0]
    assert usage["estimated_time_to_regain_access"] == 12 and usage["call_count"] == 100
    assert usage["type"] == ("messenger" if code == 80006 else "pages")


def test_malformed_answers_damage_a_real_200_body(fb):
    fb.fault("malformed", path=f"/v25.0/{ACME}/feed", field="created_time")
    body = fb.get(f"{ACME}/feed", APP, fields="id,created_time", limit=3).json()
    assert [set(p) for p in body["data"]] == [{"id"}] * 3
    fb.fault("malformed", path=f"/v25.0/{ACME}/feed", field="id", value=None, next_drop=["until"])
    damaged = fb.get(f"{ACME}/feed", APP, fields="id", limit=3)
    assert damaged.status_code == 200 and all(p["id"] is None for p in damaged.json()["data"])
    assert "until" not in parse_qs(urlsplit(damaged.json()["paging"]["next"]).query)
    token = fb.page_token()
    fb.fault("malformed", path=f"/v25.0/{BLUEBIRD}", within="feed", field="updated_time", value="soon")
    node = fb.get(BLUEBIRD, token, fields="feed.limit(2){id,updated_time}").json()
    assert [p["updated_time"] for p in node["feed"]["data"]] == ["soon", "soon"]
    fb.fault("malformed", path="/v25.0/me/permissions", body={"data": "granted"})
    assert fb.get("me/permissions", fb.user_token()).json() == {"data": "granted"}
    assert fb.get(f"{ACME}/feed", APP, fields="id", limit=1).json()["data"][0]["id"]  # one call each only
    assert fb.http.post(f"{fb.url}/_control/faults", json={"kind": "garbled"}).status_code == 400


def test_feed_paging_can_switch_to_cursors(fb):
    fb.control("paging", feed="cursor")
    pages = walk(fb, f"{ACME}/feed", APP, fields="id", limit=100)
    assert [len(p["data"]) for p in pages] == [100, 80]
    assert set(parse_qs(urlsplit(pages[0]["paging"]["next"]).query)) >= {"after", "limit", "fields"}
    assert [p["id"] for page in pages for p in page["data"]] == [p.id for p in fb.state.world.posts(ACME)]
    assert fb.http.post(f"{fb.url}/_control/paging", json={"feed": "pages"}).status_code == 400
    fb.reset()
    first = fb.get(f"{ACME}/feed", APP, fields="id", limit=100).json()
    assert "until" in parse_qs(urlsplit(first["paging"]["next"]).query)  # back to time paging


def test_request_log_masks_secrets_and_names_the_token_kind(fb):
    token = fb.page_token()
    fb.clear_calls()
    fb.http.get(f"{fb.graph}/{BLUEBIRD}/feed", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"})
    fb.get(ACME, APP, fields="id")
    fb.get("oauth/access_token", client_id=APP_ID, client_secret=APP_SECRET, grant_type="client_credentials")
    log = fb.requests()
    assert [(r["path"], r["token"]) for r in log] == [(f"/v25.0/{BLUEBIRD}/feed", "PAGE"), (f"/v25.0/{ACME}", "APP"),
                                                       ("/v25.0/oauth/access_token", None)]
    assert log[0]["query"] == {"limit": "1"} and log[1]["query"] == {"fields": "id", "access_token": "<secret>"}
    assert log[2]["query"]["client_secret"] == "<secret>"
    assert fb.control("calls", "GET")["tokens_in_urls"] == 2


def test_the_clock_moves_forward_only_and_graph_dates_follow_it(fb):
    from email.utils import parsedate_to_datetime

    before = fb.control("clock", "GET")["now"]
    assert fb.control("clock", advance=86400)["now"] >= before + 86400
    date = parsedate_to_datetime(fb.get("/me").headers["Date"]).timestamp()
    assert date >= before + 86400
    refused = fb.http.post(f"{fb.url}/_control/clock", json={"advance": -5})
    assert refused.status_code == 400 and "forward" in refused.json()["error"]
    fb.reset()
    assert fb.control("clock", "GET")["now"] < before + 86400


def test_bulk_posts_are_backdated_evenly(fb):
    from .conftest import BLUEBIRD

    seeded = len(fb.state.world.posts(BLUEBIRD))
    assert fb.control("posts/bulk", page_id=BLUEBIRD, count=1000, spacing=365 * 86400 // 1000)["posts"] == 1000
    posts = fb.control(f"posts?page_id={BLUEBIRD}", "GET")["posts"]
    now = fb.control("clock", "GET")["now"]
    assert len(posts) == seeded + 1000
    assert min(p["created"] for p in posts) <= now - 364 * 86400
    refused = fb.http.post(f"{fb.url}/_control/posts/bulk", json={"page_id": BLUEBIRD, "count": 0})
    assert refused.status_code == 400 and "count" in refused.json()["error"]
