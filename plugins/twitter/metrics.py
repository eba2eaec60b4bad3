"""Post- and page-level figures from X.

Per post, ``public_metrics`` give impressions (``impression_count``) and the engagement
counts to anyone. ``non_public_metrics`` (link and profile clicks) exist only for the
connected account's own posts younger than 30 days, so they are asked for only for
those, in a second lookup. X has no reach (unique viewers) for posts or accounts, no
engagements total (X's reference lists only impression_count, url_link_clicks and
user_profile_clicks as non-public metrics), nor account-level impressions: those figures
say "not provided by X" with no value — never a made-up 0. A post deleted since it was
crawled still gets its figures, every one without a value and with a note saying so.
"""
from __future__ import annotations

import time
from dataclasses import replace

from streamdesk_contract.values import Credentials, Figure, ServiceConfig, StreamRef

from .client import XClient, lookup_failed
from .convert import created_at

#: X API v2: the version every figure is read with.
API_VERSION = "2"
NOT_PROVIDED = "not provided by X"
PRIVATE_ONLY = "X provides this only for your own posts from the last 30 days"
GONE = "the post no longer exists on X"
WITHHELD = "X does not show this post to Streamdesk (its account is protected)"
#: A day's margin under X's 30 days, so a post does not age out between two calls.
PRIVATE_DAYS = 29
BATCH = 100

#: (figure name, public_metrics key)
PUBLIC = (("impressions", "impression_count"), ("likes", "like_count"), ("reposts", "retweet_count"),
          ("replies", "reply_count"), ("quotes", "quote_count"), ("bookmarks", "bookmark_count"))
#: (figure name, non_public_metrics key)
PRIVATE = (("link_clicks", "url_link_clicks"), ("profile_clicks", "user_profile_clicks"))
#: Post figures X does not provide at all.
ABSENT = ("engagements", "reach")
#: (figure name, user public_metrics key)
ACCOUNT = (("followers", "followers_count"), ("following", "following_count"), ("posts", "tweet_count"),
           ("listed", "listed_count"))


def _lookup(client: XClient, ids: list[str], fields: str) -> dict:
    return client.get("/2/tweets", "GET /2/tweets", {"ids": ",".join(ids), "tweet.fields": fields},
                      scope="tweet.read")


def post_figures(client: XClient, stream: StreamRef, story_ids: list[str], user_context: bool) -> list[Figure]:
    """Figures of each post in ``story_ids`` (100 per lookup)."""
    figures: list[Figure] = []
    for start in range(0, len(story_ids), BATCH):
        ids = story_ids[start:start + BATCH]
        body = _lookup(client, ids, "public_metrics,author_id,created_at")
        tweets = {t["id"]: t for t in body.get("data") or []}
        refused = {e.get("resource_id"): e for e in body.get("errors") or [] if isinstance(e, dict)}
        horizon = time.time() - PRIVATE_DAYS * 86400
        eligible = [
            t["id"] for t in tweets.values()
            if user_context and stream.authorized and t.get("author_id") == stream.page_id
            and created_at(t).timestamp() >= horizon
        ]
        private: dict[str, dict] = {}
        if eligible:
            extra = _lookup(client, eligible, "non_public_metrics")
            private = {t["id"]: t.get("non_public_metrics") or {} for t in extra.get("data") or []}
        for tweet_id in ids:
            tweet = tweets.get(tweet_id)
            if tweet is None:  # X answered with an error for it: deleted (or protected)
                figures.extend(_missing(tweet_id, refused.get(tweet_id)))
            else:
                figures.extend(_post(tweet, private.get(tweet_id)))
    return figures


def _missing(tweet_id: str, error: dict | None) -> list[Figure]:
    """Every figure of a post X no longer shows, without a value and with a note why."""
    protected = str((error or {}).get("type", "")).endswith("/not-authorized-for-resource")
    note = WITHHELD if protected else GONE
    out = [Figure(name, None, f"public_metrics.{key}", "post", tweet_id, note) for name, key in PUBLIC]
    out += [Figure(name, None, f"non_public_metrics.{key}", "post", tweet_id, note) for name, key in PRIVATE]
    out += [Figure(name, None, None, "post", tweet_id, note) for name in ABSENT]
    return out


def _post(tweet: dict, private: dict | None) -> list[Figure]:
    public = tweet.get("public_metrics") or {}
    out = [
        Figure(name, public.get(key), f"public_metrics.{key}", "post", tweet["id"],
               None if key in public else NOT_PROVIDED)
        for name, key in PUBLIC
    ]
    for name, key in PRIVATE:
        if private and key in private:
            out.append(Figure(name, private[key], f"non_public_metrics.{key}", "post", tweet["id"]))
        else:
            note = PRIVATE_ONLY if private is None else NOT_PROVIDED
            out.append(Figure(name, None, f"non_public_metrics.{key}", "post", tweet["id"], note))
    out += [Figure(name, None, None, "post", tweet["id"], NOT_PROVIDED) for name in ABSENT]
    return out


def page_figures(client: XClient, stream: StreamRef) -> list[Figure]:
    """Figures of the account itself; impressions and reach are not provided by X."""
    body = client.get(f"/2/users/{stream.page_id}", "GET /2/users/:id", {"user.fields": "public_metrics"},
                      scope="users.read")
    if "data" not in body:
        raise lookup_failed(body, f"The X account {stream.handle or stream.page_id}")
    public = body["data"].get("public_metrics") or {}
    out = [Figure(name, public.get(key), f"public_metrics.{key}", "page", stream.page_id,
                  None if key in public else NOT_PROVIDED) for name, key in ACCOUNT]
    out.append(Figure("impressions", None, None, "page", stream.page_id, NOT_PROVIDED))
    out.append(Figure("reach", None, None, "page", stream.page_id, NOT_PROVIDED))
    return out


def metrics(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
            story_ids) -> list[Figure]:
    """Figures for the posts ``story_ids`` of ``stream`` and for the account itself,
    each read with X API v2 (:data:`API_VERSION`). X has no daily account figures:
    followers are a reading of now, and page views are not provided."""
    client = XClient.for_credentials(config, credentials)
    ids = [str(i) for i in dict.fromkeys(story_ids or ())]
    figures = post_figures(client, stream, ids, credentials is not None) + page_figures(client, stream)
    return [replace(f, api_version=API_VERSION) for f in figures]
