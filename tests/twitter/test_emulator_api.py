"""The X emulator's v2 API: shapes, paging, exact errors, metrics rules, limits, writes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.twitter import APP_TOKEN

from .x_helpers import authorize

PROBLEM = "application/problem+json"


def call(emulator, method, path, token=APP_TOKEN, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, emulator.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def token(emulator, config, owner_token) -> str:
    return owner_token["access_token"]


def test_timeline_pages_newest_first_with_meta(emulator):
    rival = emulator.user_id("rivalroasters")
    seen, token, pages = [], None, 0
    while True:
        params = {"max_results": 100, **({"pagination_token": token} if token else {})}
        body = call(emulator, "GET", f"/2/users/{rival}/tweets", params=params).json()
        pages += 1
        ids = [t["id"] for t in body["data"]]
        assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}  # default fields only
        assert body["meta"]["newest_id"] == ids[0] and body["meta"]["oldest_id"] == ids[-1]
        assert body["meta"]["result_count"] == len(ids)
        seen += ids
        token = body["meta"].get("next_token")
        if not token:
            break
    assert pages == 2 and len(seen) == 160 == len(set(seen))
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)
    newer = call(emulator, "GET", f"/2/users/{rival}/tweets",
                 params={"since_id": seen[5], "until_id": seen[0], "max_results": 5}).json()
    assert [t["id"] for t in newer["data"]] == seen[1:5]
    empty = call(emulator, "GET", f"/2/users/{rival}/tweets", params={"since_id": seen[0]}).json()
    assert empty == {"meta": {"result_count": 0}}


def test_previous_token_pages_back(emulator):
    rival = emulator.user_id("rivalroasters")
    first = call(emulator, "GET", f"/2/users/{rival}/tweets", params={"max_results": 5}).json()
    second = call(emulator, "GET", f"/2/users/{rival}/tweets",
                  params={"max_results": 5, "pagination_token": first["meta"]["next_token"]}).json()
    back = call(emulator, "GET", f"/2/users/{rival}/tweets",
                params={"max_results": 5, "pagination_token": second["meta"]["previous_token"]}).json()
    assert back["data"] == first["data"]
    bad = call(emulator, "GET", f"/2/users/{rival}/tweets", params={"pagination_token": "zzz"}).json()
    assert bad["errors"][0]["message"] == "The `pagination_token` query parameter value [zzz] is not valid"


def test_user_lookup_fields_and_expansions(emulator):
    rival = emulator.user_id("rivalroasters")
    body = call(emulator, "GET", f"/2/users/{rival}", params={
        "user.fields": "public_metrics,most_recent_tweet_id,verified,created_at",
        "expansions": "most_recent_tweet_id"}).json()
    assert body["data"]["public_metrics"]["tweet_count"] == 160 and body["data"]["verified"] is True
    assert body["includes"]["tweets"][0]["id"] == body["data"]["most_recent_tweet_id"]
    assert body["data"]["created_at"] == "2011-05-20T00:00:00.000Z"


def test_fields_expansions_and_the_post_fields_alias(emulator):
    owner = emulator.user_id("acmecoffee")
    params = {"post.fields": "created_at,author_id,public_metrics,conversation_id,referenced_tweets",
              "expansions": "author_id,referenced_tweets.id", "user.fields": "username", "max_results": 5}
    body = call(emulator, "GET", f"/2/users/{owner}/mentions", params=params).json()
    tweet = body["data"][0]
    assert tweet["created_at"].endswith("Z") and len(tweet["created_at"]) == len("2021-01-06T18:40:40.000Z")
    assert set(tweet["public_metrics"]) == {"retweet_count", "reply_count", "like_count", "quote_count",
                                            "bookmark_count", "impression_count"}
    assert {u["id"] for u in body["includes"]["users"]} >= {t["author_id"] for t in body["data"]}
    replies = [t for t in body["data"] if t.get("referenced_tweets")]
    assert replies and body["includes"]["tweets"]


def test_invalid_parameters_get_xs_exact_messages(emulator):
    owner = emulator.user_id("acmecoffee")
    response = call(emulator, "GET", f"/2/users/{owner}/tweets",
                    params={"max_results": "0", "tweet.fields": "created_at,colour", "since_id": "abc"})
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert body["detail"] == "One or more parameters to your request was invalid."
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert {"parameters": {"max_results": ["0"]},
            "message": "The `max_results` query parameter value [0] is not between 5 and 100"} in body["errors"]
    messages = [e["message"] for e in body["errors"]]
    assert "The `since_id` query parameter value [abc] does not match ^[0-9]{1,19}$" in messages
    assert any(m.startswith("The `tweet.fields` query parameter value [colour] is not one of [") for m in messages)
    too_long = call(emulator, "GET", "/2/users/by/username/abcdefghijklmnop").json()
    assert too_long["errors"][0]["message"] == \
        "The `username` query parameter value [abcdefghijklmnop] does not match ^[A-Za-z0-9_]{1,15}$"
    unknown = call(emulator, "GET", f"/2/users/{owner}/mentions", params={"exclude": "replies"}).json()
    assert unknown["errors"][0]["message"].startswith("The query parameter [exclude] is not one of [id,")


def test_failed_lookups_are_http_200_with_errors(emulator):
    missing = call(emulator, "GET", "/2/users/by/username/nobody_here")
    assert missing.status_code == 200
    assert missing.json() == {"errors": [{
        "value": "nobody_here", "detail": "Could not find user with username: [nobody_here].",
        "title": "Not Found Error", "resource_type": "user", "parameter": "username",
        "resource_id": "nobody_here", "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    suspended = call(emulator, "GET", "/2/users/by/username/spambot9000").json()
    assert suspended["errors"][0]["detail"] == "User has been suspended: [spambot9000]."
    ids = emulator.tweet_ids("rivalroasters")[:2]
    emulator.control("DELETE", f"/tweets/{ids[1]}")
    partial = call(emulator, "GET", "/2/tweets", params={"ids": ",".join(ids)})
    assert partial.status_code == 200
    body = partial.json()
    assert [t["id"] for t in body["data"]] == [ids[0]]
    assert body["errors"][0]["resource_id"] == ids[1] and body["errors"][0]["title"] == "Not Found Error"
    locked = call(emulator, "GET", f"/2/users/{emulator.user_id('lockedlucy')}/tweets").json()
    assert locked["errors"][0]["type"] == "https://api.twitter.com/2/problems/not-authorized-for-resource"


def test_non_public_metrics_only_for_the_owners_recent_tweets(emulator, token):
    own = emulator.tweet_ids("acmecoffee")
    recent, old = own[0], own[-1]  # the newest is an hour old; the oldest about 90 days
    customer_tweet = emulator.tweet_ids("jane_doe")[0]
    params = {"ids": f"{recent},{old},{customer_tweet}", "tweet.fields": "non_public_metrics,public_metrics"}
    body = call(emulator, "GET", "/2/tweets", token=token, params=params).json()
    assert [t["id"] for t in body["data"]] == [recent]
    # What X's reference lists, and nothing more (no "engagements").
    assert set(body["data"][0]["non_public_metrics"]) == {"impression_count", "url_link_clicks",
                                                          "user_profile_clicks"}
    refused = {e["resource_id"]: e for e in body["errors"]}
    assert set(refused) == {old, customer_tweet}
    assert refused[old]["type"] == "https://api.twitter.com/2/problems/not-authorized-for-field"
    app_only = call(emulator, "GET", "/2/tweets", params=params)
    assert app_only.status_code == 403 and app_only.json()["title"] == "Unsupported Authentication"
    owner = emulator.user_id("acmecoffee")
    timeline = call(emulator, "GET", f"/2/users/{owner}/tweets", token=token,
                    params={"tweet.fields": "non_public_metrics,created_at", "max_results": 100}).json()
    # Tweets older than 30 days are silently dropped from a timeline page.
    assert 0 < timeline["meta"]["result_count"] < 100 and "next_token" in timeline["meta"]
    assert all("non_public_metrics" in t for t in timeline["data"])


def test_rate_limit_headers_and_per_endpoint_windows(emulator, token):
    owner = emulator.user_id("acmecoffee")
    first = call(emulator, "GET", f"/2/users/{owner}/mentions", token=token)
    assert first.headers["x-rate-limit-limit"] == "300"
    assert first.headers["x-rate-limit-remaining"] == "299"
    assert 0 < int(first.headers["x-rate-limit-reset"]) - time.time() <= 900
    emulator.control("POST", "/rate_limit", endpoint="GET /2/users/:id/mentions", user="acmecoffee", remaining=0)
    limited = call(emulator, "GET", f"/2/users/{owner}/mentions", token=token)
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    assert limited.json() == {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                              "status": 429}
    other = call(emulator, "GET", f"/2/users/{owner}/tweets", token=token)
    assert other.status_code == 200 and other.headers["x-rate-limit-limit"] == "900"
    dm = call(emulator, "GET", "/2/dm_events", token=token)
    assert dm.headers["x-rate-limit-limit"] == "15"


def test_forced_failures(emulator):
    emulator.control("POST", "/fail", status=503, count=2)
    for _ in range(2):
        failed = call(emulator, "GET", "/2/users/by/username/acmecoffee")
        assert failed.status_code == 503 and failed.json()["title"] == "Service Unavailable"
    assert call(emulator, "GET", "/2/users/by/username/acmecoffee").status_code == 200
    emulator.control("POST", "/fail", status=429, count=1, endpoint="GET /2/users/by/username/:username")
    limited = call(emulator, "GET", "/2/users/by/username/acmecoffee")
    assert limited.status_code == 429 and "x-rate-limit-reset" in limited.headers
    assert emulator.counts()["GET /2/users/by/username/:username"] == 4


def test_daily_caps_are_reported_on_the_capped_post_endpoints(emulator, token):
    created = call(emulator, "POST", "/2/tweets", token=token, json={"text": "Counting my posts"})
    assert created.status_code == 201
    assert created.headers["x-app-limit-24hour-limit"] == "10000"
    assert created.headers["x-app-limit-24hour-remaining"] == "9999"
    assert 0 < int(created.headers["x-app-limit-24hour-reset"]) - time.time() <= 86400
    assert created.headers["x-rate-limit-remaining"] == "99"  # the 15-minute window, as before
    lookup = call(emulator, "GET", "/2/users/by/username/acmecoffee")
    assert not any(h.startswith(("x-app-limit-24hour", "x-user-limit-24hour")) for h in lookup.headers)
    # A forced refusal on a daily-capped endpoint is the day running out, not the window.
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/tweets")
    capped = call(emulator, "POST", "/2/tweets", token=token, json={"text": "One more"})
    assert capped.status_code == 429 and capped.headers["x-app-limit-24hour-remaining"] == "0"
    assert capped.headers["x-rate-limit-remaining"] == "99"
    assert capped.headers["x-app-limit-24hour-reset"] == created.headers["x-app-limit-24hour-reset"]
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/tweets", daily=False)
    windowed = call(emulator, "POST", "/2/tweets", token=token, json={"text": "One more"})
    assert windowed.headers["x-rate-limit-remaining"] == "0"
    assert windowed.headers["x-app-limit-24hour-remaining"] == "9999"
    jane = emulator.user_id("jane_doe")
    emulator.control("POST", "/fail", status=429, count=1,
                     endpoint="POST /2/dm_conversations/with/:participant_id/messages")
    dm = call(emulator, "POST", f"/2/dm_conversations/with/{jane}/messages", token=token, json={"text": "hi"})
    assert dm.status_code == 429 and dm.headers["x-user-limit-24hour-remaining"] == "0"
    assert dm.headers["x-user-limit-24hour-limit"] == "1440" and dm.headers["x-app-limit-24hour-limit"] == "15000"


def test_malformed_answers_on_demand(emulator, token):
    emulator.control("POST", "/malformed", endpoint="GET /2/users/me", body={"errors": [{"title": "odd"}]}, count=2)
    for _ in range(2):
        odd = call(emulator, "GET", "/2/users/me", token=token)
        assert odd.status_code == 200 and odd.json() == {"errors": [{"title": "odd"}]}
        assert odd.headers["x-rate-limit-limit"] == "75"  # otherwise an ordinary answer
    assert call(emulator, "GET", "/2/users/me", token=token).json()["data"]["username"] == "acmecoffee"
    assert emulator.counts()["GET /2/users/me"] >= 3
    # The call itself still happens: a garbled answer to a post that was created.
    emulator.control("POST", "/malformed", endpoint="POST /2/tweets", body=[1, 2])
    garbled = call(emulator, "POST", "/2/tweets", token=token, json={"text": "Did this post?"})
    assert garbled.status_code == 200 and garbled.json() == [1, 2]
    newest = emulator.control("GET", f"/tweets/{emulator.tweet_ids('acmecoffee')[0]}")
    assert newest["text"] == "Did this post?"
    refused = requests.post(f"{emulator.url}/_control/malformed", json={"endpoint": "GET /nowhere"}, timeout=10)
    assert refused.status_code == 400


def test_create_reply_delete_and_duplicates(emulator, token):
    created = call(emulator, "POST", "/2/tweets", token=token, json={"text": "Fresh roast today"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert data == {"edit_history_tweet_ids": [data["id"]], "id": data["id"], "text": "Fresh roast today"}
    assert int(data["id"]) > int(emulator.tweet_ids("acmecoffee")[1])  # ids grow with time
    duplicate = call(emulator, "POST", "/2/tweets", token=token, json={"text": "Fresh roast today"})
    assert duplicate.status_code == 403 and duplicate.json() == {
        "title": "Forbidden", "type": "about:blank", "status": 403,
        "detail": "You are not allowed to create a Tweet with duplicate content."}
    customer = emulator.tweet_ids("jane_doe")[0]
    reply = call(emulator, "POST", "/2/tweets", token=token,
                 json={"text": "Thanks!", "reply": {"in_reply_to_tweet_id": customer}}).json()["data"]
    assert reply["text"] == "@jane_doe Thanks!"
    assert reply["id"] in emulator.control("GET", "/users/jane_doe/tweets")["mentions"]
    deleted = call(emulator, "DELETE", f"/2/tweets/{data['id']}", token=token)
    assert deleted.json() == {"data": {"deleted": True}}
    gone = call(emulator, "POST", "/2/tweets", token=token,
                json={"text": "Hello?", "reply": {"in_reply_to_tweet_id": data["id"]}})
    assert gone.status_code == 403 and "deleted or not visible" in gone.json()["detail"]
    not_mine = call(emulator, "DELETE", f"/2/tweets/{customer}", token=token)
    assert not_mine.status_code == 403


def test_like_hide_and_direct_messages(emulator, token):
    owner = emulator.user_id("acmecoffee")
    customer_tweet = emulator.tweet_ids("mia_reads")[0]
    assert call(emulator, "POST", f"/2/users/{owner}/likes", token=token,
                json={"tweet_id": customer_tweet}).json() == {"data": {"liked": True}}
    assert owner in emulator.control("GET", f"/tweets/{customer_tweet}")["liked_by"]
    assert call(emulator, "DELETE", f"/2/users/{owner}/likes/{customer_tweet}",
                token=token).json() == {"data": {"liked": False}}
    reply = next(i for i in emulator.control("GET", "/users/acmecoffee/tweets")["mentions"]
                 if emulator.control("GET", f"/tweets/{i}").get("in_reply_to_user_id") == owner)
    assert call(emulator, "PUT", f"/2/tweets/{reply}/hidden", token=token,
                json={"hidden": True}).json() == {"data": {"hidden": True}}
    assert emulator.control("GET", f"/tweets/{reply}")["hidden"] is True
    elsewhere = emulator.tweet_ids("rivalroasters")[0]
    assert call(emulator, "PUT", f"/2/tweets/{elsewhere}/hidden", token=token,
                json={"hidden": True}).status_code == 403
    jane = emulator.user_id("jane_doe")
    sent = call(emulator, "POST", f"/2/dm_conversations/with/{jane}/messages", token=token, json={"text": "Hi!"})
    assert sent.status_code == 201
    assert sent.json()["data"]["dm_conversation_id"] == "-".join(sorted((owner, jane), key=int))
    events = call(emulator, "GET", "/2/dm_events", token=token, params={"max_results": 2}).json()
    assert events["data"][0] == {"id": sent.json()["data"]["dm_event_id"], "event_type": "MessageCreate",
                                 "text": "Hi!"}
    assert events["meta"]["result_count"] == 2 and "next_token" in events["meta"]


def test_dm_events_cover_thirty_days_and_need_a_user(emulator, token):
    body = call(emulator, "GET", "/2/dm_events", token=token,
                params={"dm_event.fields": "sender_id,created_at,dm_conversation_id"}).json()
    assert body["meta"]["result_count"] == 9  # the 45-day-old message is beyond X's 30 days
    assert all({"sender_id", "created_at", "dm_conversation_id"} <= set(e) for e in body["data"])
    assert call(emulator, "GET", "/2/dm_events").json()["title"] == "Unsupported Authentication"


def test_missing_scope_is_forbidden(emulator, config):
    reader = authorize(emulator, config, scopes=("tweet.read", "users.read"))["access_token"]
    response = call(emulator, "POST", "/2/tweets", token=reader, json={"text": "hi"})
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM


def test_recent_search(emulator, token):
    owner = emulator.user_id("acmecoffee")
    body = call(emulator, "GET", "/2/tweets/search/recent", token=token,
                params={"query": f"from:{owner} OR @acmecoffee", "max_results": 100,
                        "tweet.fields": "author_id,created_at"}).json()
    week = time.time() - 7 * 86400
    assert body["data"] and all(t["author_id"] == owner or "@acmecoffee" in t["text"].lower()
                                for t in body["data"])
    assert all(t["created_at"] >= time.strftime("%Y-%m-%dT%H:%M", time.gmtime(week)) for t in body["data"])
    old = emulator.tweet_ids("acmecoffee")[-1]
    too_old = call(emulator, "GET", "/2/tweets/search/recent", token=token,
                   params={"query": "@acmecoffee", "since_id": old})
    assert too_old.status_code == 400 and "since_id" in too_old.json()["errors"][0]["message"]
    bad = call(emulator, "GET", "/2/tweets/search/recent", token=token, params={"query": "near:lisbon"})
    assert bad.status_code == 400 and "invalid operator" in bad.json()["errors"][0]["message"]


def test_control_api_counts_and_resets(emulator):
    call(emulator, "GET", "/2/users/by/username/acmecoffee")
    counts = emulator.control("GET", "/requests")
    assert counts["endpoints"] == {"GET /2/users/by/username/:username": 1}
    assert counts["paths"] == {"GET /2/users/by/username/acmecoffee": 1}
    before = emulator.tweet_ids("acmecoffee")
    emulator.control("POST", "/tweets", author="jane_doe", text="Just a test")
    emulator.control("POST", "/reset")
    assert emulator.tweet_ids("acmecoffee") == before and emulator.counts() == {}
    assert "Just a test" not in str(emulator.control("GET", "/users/jane_doe/tweets"))


def test_streamdesk_emulate_twitter_serves_the_emulator():
    command = [str(Path(sys.executable).with_name("streamdesk")), "emulate", "twitter", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        url = re.search(r"http://[\d.:]+", process.stdout.readline()).group(0)
        found = requests.get(f"{url}/2/users/by/username/acmecoffee", timeout=10,
                             headers={"Authorization": f"Bearer {APP_TOKEN}"})
        assert found.json()["data"]["username"] == "acmecoffee"
    finally:
        process.terminate()
        process.wait(10)
