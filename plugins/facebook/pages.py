"""The pages a connected person can add as authorized streams.

Facebook lists every page the person has a role on (``/me/accounts``) with their tasks
and a page token. A page can be added only by an Admin (the MANAGE task) whose link
granted every permission Streamdesk needs; otherwise it is listed with the reason, in
words that say what to do in Facebook's settings.
"""
from __future__ import annotations

from streamdesk_contract.errors import PermissionMissing
from streamdesk_contract.values import Credentials, ManagedPage, ServiceConfig

from .client import GraphClient
from .convert import PAGE_FIELDS, items, page_info, permissions
from .guard import Malformed
from .rules import ADMIN_TASK, REQUIRED, TASK_LABELS, TASK_PREFIX

BUSINESS_INTEGRATIONS = ("In Facebook, open Settings → Business integrations, make sure Streamdesk appears "
                         "and every permission listed there is enabled, then reconnect your profile.")


def reason(name: str, is_admin: bool, tasks: list[str], missing: tuple[str, ...]) -> str | None:
    """Why a page cannot be added, and what to do about it (None when it can)."""
    parts = []
    if not is_admin:
        held = ", ".join(TASK_LABELS.get(t, t.lower()) for t in tasks) or "none"
        parts.append(f"You must be an Admin of {name} to connect it (your access: {held}). "
                     "Ask an Admin of the page to give you full control, or to connect it themselves.")
    if missing:
        parts.append(f"Streamdesk is missing these Facebook permissions: {', '.join(missing)}. "
                     + BUSINESS_INTEGRATIONS)
    return " ".join(parts) or None


def managed_pages(config: ServiceConfig, credentials: Credentials) -> list[ManagedPage]:
    """Every page the person has a role on, addable or with the reason it is not."""
    client = GraphClient(config, credentials.access_token)
    granted = {name for name, status in permissions(client.get("/me/permissions")) if status == "granted"}
    if "pages_show_list" not in granted:
        # Facebook then lists no page at all: say so rather than showing an empty list.
        raise PermissionMissing("pages_show_list", "Streamdesk cannot see which pages you manage: the "
                                "permission 'pages_show_list' is off. " + BUSINESS_INTEGRATIONS)
    missing = tuple(p for p in REQUIRED if p not in granted)
    result = []
    for body in client.pages("/me/accounts", {"fields": f"{PAGE_FIELDS},tasks,access_token", "limit": 100}):
        for node in items(body):
            tasks = node.get("tasks") or []
            if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
                raise Malformed("a page's tasks that are not a list of names")
            is_admin = ADMIN_TASK in tasks
            page = page_info(node)
            token = node.get("access_token")
            if token is not None and not isinstance(token, str):
                raise Malformed("a page token that is not a string")
            # Page tokens from a long-lived user token do not expire (expires_at stays None).
            page_credentials = Credentials(
                access_token=token, scopes=tuple(sorted(granted)) + tuple(TASK_PREFIX + t for t in tasks)
            ) if token else None
            result.append(ManagedPage(page=page, is_admin=is_admin, missing_permissions=missing,
                                      reason=reason(page.name, is_admin, tasks, missing),
                                      credentials=page_credentials))
    return result
