"""The control API (``/_control/…``, JSON) that tests and demos use to steer the emulator:
reset to the seed, read the per-path call counter and the request log, mint/expire/revoke/log out
tokens, revoke a permission, add posts, comments and messages, force rate limits,
outages or malformed answers, set usage, switch the feed's paging style.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, jsonify, request

from . import bulk, webhooks
from .model import Comment, Conversation, Message, Page, Person, Post
from .seed import APP_ID, APP_SECRET
from .state import DELETE, FAULT_KINDS, Fault

bp = Blueprint("control", __name__, url_prefix="/_control")


def _state():
    return current_app.config["FB_STATE"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _fail(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _minutes(raw) -> int | float:
    """Minutes to regain access: whole as Graph sends them, or a fraction (tests)."""
    value = float(raw)
    return int(value) if value.is_integer() else value


def _at(raw, default: datetime) -> datetime:
    if raw in (None, ""):
        return default
    return datetime.fromtimestamp(int(raw), UTC)


@bp.post("/reset")
def reset():
    """Back to the seed (world, tokens, grants, faults, counters)."""
    with _state().lock:
        _state().reset()
    return jsonify({"ok": True})


@bp.get("/calls")
def calls():
    """Graph calls served since the last reset, per ``METHOD /path``, and how many
    carried their access token in the URL."""
    st = _state()
    with st.lock:
        counted = dict(sorted(st.calls.items()))
        in_urls = st.tokens_in_urls
    return jsonify({"total": sum(counted.values()), "calls": counted, "tokens_in_urls": in_urls})


@bp.delete("/calls")
def reset_calls():
    """Zero the call counter and empty the request log (the world is kept)."""
    with _state().lock:
        _state().calls.clear()
        _state().requests.clear()
        _state().tokens_in_urls = 0
    return jsonify({"ok": True})


@bp.get("/requests")
def requests_log():
    """The latest Graph calls, oldest first: method, path, query parameters (secrets
    shown as ``<secret>``) and the kind of token used (USER, PAGE, APP or null)."""
    with _state().lock:
        return jsonify({"requests": list(_state().requests)})


@bp.post("/paging")
def paging():
    """``{"feed": "time"|"cursor"}``: how /feed and /posts page until reset."""
    style = _body().get("feed")
    if style not in ("time", "cursor"):
        return _fail("feed must be time or cursor")
    with _state().lock:
        _state().feed_paging = style
    return jsonify({"ok": True})


@bp.get("/seed")
def seed():
    """The seeded app, people and pages (ids, names, roles): what a demo or test needs."""
    st = _state()
    with st.lock:
        people = [{"id": p.id, "name": p.name} for p in st.world.objects.values()
                  if isinstance(p, Person) and p.can_login]
        pages = [{"id": p.id, "name": p.name, "username": p.username, "roles": {k: list(v) for k, v in p.roles.items()},
                  "posts": len(st.world.posts(p.id)),
                  "conversations": [c.id for c in st.world.conversations(p.id)]} for p in st.world.pages()]
    return jsonify({"app": {"client_id": APP_ID, "client_secret": APP_SECRET}, "people": people, "pages": pages})


@bp.get("/app")
def app_settings():
    """The app's client id and its Valid OAuth Redirect URIs (Facebook Login settings)."""
    with _state().lock:
        return jsonify({"client_id": APP_ID, "redirect_uris": list(_state().redirect_uris)})


@bp.put("/app")
def set_app_settings():
    """``{"redirect_uris": [...]}``: replace the Valid OAuth Redirect URIs until reset."""
    uris = _body().get("redirect_uris")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        return _fail("redirect_uris must be a list of URLs")
    with _state().lock:
        _state().redirect_uris = list(uris)
    return jsonify({"ok": True})


@bp.post("/tokens")
def mint():
    """A user token for ``user_id`` with ``permissions`` granted (others as declined), as if
    the person had gone through the dialog. ``lifetime`` (seconds) makes it short."""
    body = _body()
    st = _state()
    with st.lock:
        person = st.world.get(str(body.get("user_id", "")))
        if not isinstance(person, Person) or not person.can_login:
            return _fail("unknown user_id")
        grants = st.grants.setdefault(person.id, {"public_profile": "granted"})
        for permission in body.get("permissions", []):
            grants[permission] = "granted"
        for permission in body.get("declined", []):
            grants[permission] = "declined"
        lifetime = timedelta(seconds=int(body["lifetime"])) if "lifetime" in body else timedelta(seconds=5183944)
        token = st.mint_user_token(person.id, lifetime)
    return jsonify({"access_token": token.value, "token_type": "bearer", "expires_in": int(lifetime.total_seconds())})


def _kill(how: str):
    body = _body()
    st = _state()
    with st.lock:
        if body.get("token"):
            token = st.tokens.get(body["token"])
            if token is None:
                return _fail("unknown token", 404)
            token.killed, token.killed_at = how, st.now()
            return jsonify({"ok": True, "tokens": 1})
        user_id = str(body.get("user_id", ""))
        if how == "revoked":
            st.removed.add(user_id)  # the person removed the app in Business integrations
        # Expiry hits the person's user tokens; page tokens from them never expire.
        hit = [t for t in st.tokens.values() if t.user_id == user_id and (how != "expired" or t.kind == "USER")]
        for token in hit:
            token.killed, token.killed_at = how, st.now()
    return jsonify({"ok": True, "tokens": len(hit)})


@bp.post("/tokens/expire")
def expire():
    """Expire a token (``token``) or every token of ``user_id``: Graph then answers 190/463."""
    return _kill("expired")


@bp.post("/tokens/revoke")
def revoke():
    """Revoke a token, or remove the app for ``user_id``: Graph then answers 190/458."""
    return _kill("revoked")


@bp.post("/tokens/logout")
def logout():
    """Invalidate a token (``token``) or every session of ``user_id`` as if the person
    logged out: Graph then answers 190/467 (page tokens from those sessions die too)."""
    return _kill("invalid")


@bp.post("/people/<user_id>/password")
def change_password(user_id):
    """The person changed their password: every session dies with 190/460."""
    st = _state()
    with st.lock:
        person = st.world.get(user_id)
        if not isinstance(person, Person):
            return _fail("unknown user", 404)
        person.password_epoch += 1
    return jsonify({"ok": True})


@bp.post("/permissions/revoke")
def revoke_permission():
    """The person switched ``permission`` off in Business integrations."""
    body = _body()
    st = _state()
    with st.lock:
        st.grants.setdefault(str(body.get("user_id")), {})[str(body.get("permission"))] = "declined"
    return jsonify({"ok": True})


@bp.post("/posts")
def add_post():
    """A new story on ``page_id`` (by the page, or by ``author_id`` as a visitor post)."""
    body = _body()
    st = _state()
    with st.lock:
        page = st.world.get(str(body.get("page_id", "")))
        if not isinstance(page, Page):
            return _fail("unknown page_id", 404)
        author = str(body.get("author_id") or page.id)
        at = _at(body.get("created_time"), st.now())
        post = Post(id=f"{page.id}_{10**15 + secrets.randbelow(9 * 10**15)}", page_id=page.id, author_id=author,
                    message=body.get("message", "A new post"), story=None,
                    status_type="mobile_status_update" if author == page.id else "wall_post",
                    created=at, updated=at)
        st.world.add(post)
        st.webhooks.feed_change(page.id, webhooks.post_value(st.world, post))
    return jsonify({"id": post.id})


#: Stories one bulk call may add: a million-story page in one call (benchmarks).
BULK_MAX = 1_000_000


@bp.post("/posts/bulk")
def add_posts_in_bulk():
    """``{"page_id", "count", "comments"?, "replies"?, "spacing"?, "newest"?}``: ``count``
    stories by the page, ``spacing`` seconds apart (default 60; under 1, several share a second) back from ``newest`` (unix
    time; default a minute ago), each with ``comments`` comments and ``replies`` replies
    under its first one — enough for a crawl that takes a while."""
    body = _body()
    st = _state()
    try:
        count, comments = int(body.get("count", 0)), int(body.get("comments", 0))
        replies, spacing = int(body.get("replies", 0)), float(body.get("spacing", 60))
    except (TypeError, ValueError):
        return _fail("count, comments, replies and spacing are numbers")
    if not (0 < count <= bulk.MAX_POSTS and 0 <= comments + replies <= bulk.MAX_COMMENTS and spacing > 0
            and count * (comments + replies) <= bulk.MAX_POSTS):
        return _fail(f"count is 1–{bulk.MAX_POSTS} (calls add up), comments + replies at most {bulk.MAX_COMMENTS} "
                     f"a story and {bulk.MAX_POSTS} a call, spacing (seconds) > 0")
    with st.lock:
        page = st.world.get(str(body.get("page_id", "")))
        if not isinstance(page, Page):
            return _fail("unknown page_id", 404)
        newest = _at(body.get("newest"), st.now() - timedelta(minutes=1))
        try:
            added = bulk.add_stories(st.world, page, newest, count, comments, replies, spacing)
        except ValueError as exc:
            return _fail(str(exc), 409)
    return jsonify(added)


@bp.get("/pages/<page_id>/content")
def page_content(page_id):
    """The ids of the page's live stories, comments and messages (what a crawl of it
    with its page token must end up holding)."""
    st = _state()
    with st.lock:
        if not isinstance(st.world.get(page_id), Page):
            return _fail("unknown page_id", 404)
        return jsonify(bulk.content_ids(st.world, page_id))


@bp.get("/posts")
def list_posts():
    """The stories of ``page_id``, newest first: id and created/updated unix times."""
    st = _state()
    with st.lock:
        page = st.world.get(request.args.get("page_id", ""))
        if not isinstance(page, Page):
            return _fail("unknown page_id", 404)
        posts = [{"id": p.id, "created": int(p.created.timestamp()), "updated": int(p.updated.timestamp())}
                 for p in st.world.posts(page.id)]
    return jsonify({"posts": posts})


@bp.get("/clock")
def clock():
    """The emulator's clock, in unix seconds."""
    with _state().lock:
        return jsonify({"now": int(_state().now().timestamp())})


@bp.post("/clock")
def move_clock():
    """``{"advance": seconds}``: move the clock forward (never back) until reset; every
    time Graph shows — ``Date`` headers, new objects, token expiry, usage windows — follows."""
    try:
        advance = float(_body().get("advance", 0))
    except (TypeError, ValueError):
        return _fail("advance is a number of seconds")
    if advance < 0:
        return _fail("the clock only moves forward")
    st = _state()
    with st.lock:
        st.clock_offset += timedelta(seconds=advance)
        return jsonify({"now": int(st.now().timestamp())})


@bp.post("/comments")
def add_comment():
    """A comment on ``post_id`` or a reply to ``parent_id`` by a fan (``author_id``)."""
    body = _body()
    st = _state()
    with st.lock:
        parent = st.world.get(str(body.get("parent_id", ""))) if body.get("parent_id") else None
        post = st.world.get(parent.post_id if isinstance(parent, Comment) else str(body.get("post_id", "")))
        if not isinstance(post, Post):
            return _fail("unknown post_id/parent_id", 404)
        fans = [p for p in st.world.objects.values() if isinstance(p, Person) and not p.can_login]
        author = str(body.get("author_id") or fans[0].id)
        at = _at(body.get("created_time"), st.now())
        comment = Comment(id=f"{post.local_id}_{10**15 + secrets.randbelow(10**15)}", post_id=post.id,
                          parent_id=(parent.parent_id or parent.id) if isinstance(parent, Comment) else None,
                          author_id=author, message=body.get("message", "A new comment"), created=at)
        st.world.add(comment)
        post.updated = max(post.updated, at)
        st.webhooks.feed_change(post.page_id, webhooks.comment_value(st.world, comment))
    return jsonify({"id": comment.id})


@bp.post("/messages")
def add_message():
    """A private message from a person to ``page_id`` (into ``conversation_id`` or a new one)."""
    body = _body()
    st = _state()
    with st.lock:
        page = st.world.get(str(body.get("page_id", "")))
        if not isinstance(page, Page):
            return _fail("unknown page_id", 404)
        convo = st.world.get(str(body.get("conversation_id", ""))) if body.get("conversation_id") else None
        if convo is None:
            fans = [p for p in st.world.objects.values() if isinstance(p, Person) and not p.can_login]
            convo = Conversation(id=f"t_{10**14 + secrets.randbelow(9 * 10**14)}", page_id=page.id,
                                 psid=str(20000000000000000 + secrets.randbelow(10**15)), person_id=fans[-1].id)
            st.world.add(convo)
        if not isinstance(convo, Conversation):
            return _fail("unknown conversation_id", 404)
        at = max(st.now(), convo.messages[-1].created) if convo.messages else st.now()
        message = Message(id="m_" + hashlib.sha256(secrets.token_bytes(16)).hexdigest()[:40], created=at,
                          from_page=bool(body.get("from_page")), text=body.get("message", "Hello!"))
        convo.messages.append(message)
        if not message.from_page:  # the page's own messages are echoes, a field of their own
            st.webhooks.message(page.id, webhooks.message_event(convo, message))
    return jsonify({"id": message.id, "conversation_id": convo.id, "psid": convo.psid})


@bp.post("/faults")
def add_fault():
    """Fail the next ``count`` Graph calls (of ``path`` only, e.g. ``/v25.0/{page}/feed``,
    when given) — or, with ``seconds``, every call for that long (a storm). ``kind``:

    * ``rate_limit`` — ``code`` 4, 17, 32, 613 or 80001–80009, with ``regain_minutes``
      in the usage header (Graph sends whole minutes; a fraction keeps a test short);
    * ``transient`` — ``code`` 1 or 2 (HTTP 500);
    * ``reduce_data`` — code 1 "Please reduce the amount of data you're asking for";
    * ``posting_too_fast`` — 368/1390008;
    * ``server`` — HTTP ``status`` with an HTML body;
    * ``error`` — any Graph error envelope: ``code``, ``subcode``, ``message`` (default:
      Graph's words for the code) and ``status`` (default: Graph's status for the code);
    * ``malformed`` — a 200 answer, damaged: ``field`` deleted (or set to ``value``) in
      each item of ``data`` (of the ``within`` edge of a node), ``next_drop`` (a list of
      parameters) removed from the ``paging.next`` link, or the whole ``body`` replaced.
    """
    body = _body()
    kind = body.get("kind", "rate_limit")
    if kind not in FAULT_KINDS:
        return _fail(f"kind must be one of {', '.join(FAULT_KINDS)}")
    if kind == "error" and body.get("code") is None:
        return _fail("an error fault needs a code")
    try:
        subcode = body.get("subcode")
        status = body.get("status", None if kind == "error" else 503)
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            return _fail("message is a string")
        fault = Fault(kind=kind, code=int(body.get("code", {"rate_limit": 4, "transient": 2}.get(kind, 0))),
                      subcode=int(subcode) if subcode is not None else None, message=message,
                      status=int(status) if status is not None else None, count=int(body.get("count", 1)),
                      regain_minutes=_minutes(body.get("regain_minutes", 0)), path=body.get("path"),
                      until=time.monotonic() + float(body["seconds"]) if "seconds" in body else None,
                      field=body.get("field"), value=body.get("value", DELETE), within=body.get("within"),
                      next_drop=tuple(body.get("next_drop") or ()), body=body.get("body", DELETE))
    except (TypeError, ValueError):
        return _fail("code, subcode, status, count, seconds and regain_minutes are numbers")
    with _state().lock:
        _state().faults.append(fault)
    return jsonify({"ok": True})


@bp.delete("/faults")
def clear_faults():
    """Drop every forced fault still queued: a storm ends now."""
    with _state().lock:
        _state().faults.clear()
    return jsonify({"ok": True})


@bp.post("/usage")
def force_usage():
    """Report these usage percentages for ``bucket`` ("app" or a page id) until reset."""
    body = _body()
    bucket = str(body.pop("bucket", "app"))
    usage = {"call_count": 0, "total_cputime": 0, "total_time": 0, "estimated_time_to_regain_access": 0}
    usage.update({k: int(v) for k, v in body.items() if k in usage})
    with _state().lock:
        _state().forced_usage[bucket] = usage
    return jsonify({"ok": True})


@bp.delete("/usage")
def clear_usage():
    """Back to usage figures computed from real calls."""
    with _state().lock:
        _state().forced_usage.clear()
    return jsonify({"ok": True})


@bp.post("/webhooks")
def subscribe_webhooks():
    """``{"callback_url", "verify_token", "fields"?: ["feed", "messages"], "pages"?: [ids]}``:
    subscribe the app's callback URL (what ``POST /{app-id}/subscriptions`` and each
    page's ``subscribed_apps`` do on Facebook; no ``pages``: every page). The URL is
    verified with a hub.challenge first; 400 with Graph's message when it fails."""
    body = _body()
    url, token = body.get("callback_url"), body.get("verify_token")
    fields = body.get("fields", sorted(webhooks.FIELDS))
    pages = body.get("pages")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(token, str):
        return _fail("callback_url (http or https) and verify_token are required")
    if not isinstance(fields, list) or not set(fields) <= webhooks.FIELDS:
        return _fail(f"fields is a list of {', '.join(sorted(webhooks.FIELDS))}")
    if pages is not None and not (isinstance(pages, list) and all(isinstance(p, str) for p in pages)):
        return _fail("pages is a list of page ids")
    try:
        _state().webhooks.subscribe(url, token, fields, pages)  # not under the lock: it calls the URL
    except webhooks.VerificationFailed as exc:
        return _fail(str(exc))
    return jsonify(_state().webhooks.status())


@bp.get("/webhooks")
def webhook_status():
    """The subscription, and deliveries pending, delivered, failed and given up."""
    return jsonify(_state().webhooks.status())


@bp.delete("/webhooks")
def unsubscribe_webhooks():
    """Remove the subscription; pending deliveries are dropped."""
    _state().webhooks.clear()
    return jsonify({"ok": True})
