"""``/{page-id}/subscribed_apps``: which apps receive a page's webhooks.

Graph (Page reference, "Subscribed Apps" edge): ``GET`` lists the apps with their
``subscribed_fields``; ``POST ?subscribed_fields=feed,messages`` subscribes the app that
owns the token; ``DELETE`` unsubscribes it. All three need the page's own access token;
the writes need ``pages_manage_metadata`` and the MANAGE task (else ``(#200)``), and a
write answers ``{"success": true}``. The emulator then delivers only those fields of
only subscribed pages (:mod:`.webhooks`).
"""
from __future__ import annotations

from . import errors
from .model import Page
from .render import Ctx
from .seed import APP_ID
from .webhooks import FIELDS

APP_NAME = "Streamdesk"
#: What subscribing and unsubscribing need, as on Facebook.
NEEDS = ("pages_manage_metadata",)
TASKS = ("MANAGE",)


def _own_token(ctx: Ctx, page: Page) -> None:
    if not ctx.is_page_token_of(page.id):
        raise errors.page_token_required()


def read(ctx: Ctx, page: Page, args: dict, children) -> dict:
    """``GET``: the app, when subscribed, with its fields."""
    _own_token(ctx, page)
    fields = ctx.state.webhooks.page_fields.get(page.id)
    if not fields:
        return {"data": []}
    return {"data": [{"category": "Business", "link": "https://streamdesk.example/", "name": APP_NAME,
                      "id": APP_ID, "subscribed_fields": sorted(fields)}]}


def write(ctx: Ctx, page: Page, args: dict, method: str) -> dict:
    """``POST`` (subscribe, ``subscribed_fields`` required) or ``DELETE`` (unsubscribe)."""
    _own_token(ctx, page)
    granted = ctx.state.granted(ctx.token.user_id)
    for permission in NEEDS:
        if permission not in granted:
            raise errors.permission_missing(permission)
    if not set(TASKS) & set(ctx.state.tasks(ctx.token, page.id)):
        raise errors.task_missing(TASKS[0])
    if method == "DELETE":
        ctx.state.webhooks.page_fields.pop(page.id, None)
        return {"success": True}
    raw = args.get("subscribed_fields")
    if not raw:
        raise errors.invalid_parameter("The parameter subscribed_fields is required")
    fields = [f.strip() for f in str(raw).split(",") if f.strip()]
    for i, name in enumerate(fields):
        if name not in FIELDS:
            raise errors.invalid_parameter(f'Param subscribed_fields[{i}] must be one of '
                                           f'{{{", ".join(sorted(FIELDS))}}} - got "{name[:40]}"')
    ctx.state.webhooks.page_fields[page.id] = frozenset(fields)
    return {"success": True}
