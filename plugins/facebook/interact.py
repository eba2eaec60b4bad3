"""Interactions sent as an authorized Facebook stream (with the page's token).

Before calling, an interaction the person's tasks on the page do not allow is refused
with PermissionMissing (the tasks travel in the page credentials' scopes); Facebook
checks again and its refusal maps to the same error.
"""
from __future__ import annotations

import json

from streamdesk_contract.errors import InvalidQuery, PermissionMissing, ProviderUnavailable, TokenExpired
from streamdesk_contract.values import (INTERACTIONS, Credentials, Interaction, InteractionResult, ServiceConfig,
                                        StreamRef)

from .client import GraphClient
from .rules import INTERACTION_RULES, TASK_LABELS, tasks_of

TEXT_KINDS = {"publish", "comment", "reply", "message"}
ACTIONS = {"publish": "publish", "comment": "comment", "reply": "reply", "like": "like", "hide": "hide",
           "delete": "delete", "delete_story": "delete posts", "message": "send private messages"}


def _rule_key(stream: StreamRef, interaction: Interaction) -> str:
    if interaction.kind == "delete" and (interaction.target_id or "").startswith(f"{stream.page_id}_"):
        return "delete_story"  # story ids start with the page id; comment ids do not
    return interaction.kind


def check_tasks(stream: StreamRef, credentials: Credentials, interaction: Interaction) -> None:
    """Refuse what the person's tasks on the page do not allow (when they are known)."""
    key = _rule_key(stream, interaction)
    tasks, _ = INTERACTION_RULES[key]
    held = tasks_of(credentials.scopes)
    if held is not None and not held & set(tasks):
        needed = " or ".join(TASK_LABELS[t] for t in tasks)
        raise PermissionMissing(tasks[0], f"Your role on this Facebook page does not allow you to {ACTIONS[key]}: "
                                          f"it needs {needed} access. Ask an Admin of the page for it.")


def _recipient(client: GraphClient, stream: StreamRef, target: str) -> str:
    """A Messenger recipient id (PSID) from a PSID or a conversation id."""
    if not target.startswith("t_"):
        return target
    participants = client.get(f"/{target}", {"fields": "participants"}).get("participants", {}).get("data", [])
    for person in participants:
        if str(person.get("id")) != stream.page_id:
            return str(person["id"])
    raise InvalidQuery("This conversation has nobody to answer.")


def interact(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
             interaction: Interaction) -> InteractionResult:
    """Send ``interaction`` as the page; returns the created object's id where there is one."""
    kind = interaction.kind
    if kind not in INTERACTIONS:
        raise InvalidQuery(f"Unknown interaction {kind!r}.")
    if not stream.authorized or credentials is None or not credentials.access_token:
        raise TokenExpired("Interactions need an authorized stream with a page token: reconnect the page.")
    check_tasks(stream, credentials, interaction)
    text = (interaction.text or "").strip()
    if kind in TEXT_KINDS and not text:
        raise InvalidQuery("Write something first: Facebook does not accept an empty text.")
    target = interaction.target_id
    if kind != "publish" and not target:
        raise InvalidQuery(f"A {kind} needs the story, comment or conversation it is about.")
    _, permission = INTERACTION_RULES[_rule_key(stream, interaction)]
    needs = (permission, "pages_read_engagement")
    client = GraphClient(config, credentials.access_token, bucket=stream.page_id)
    if kind == "publish":
        body = client.post(f"/{stream.page_id}/feed", {"message": text}, needs=needs)
        return InteractionResult(ok=True, external_id=body.get("id"))
    if kind in ("comment", "reply"):
        body = client.post(f"/{target}/comments", {"message": text}, needs=needs)
        return InteractionResult(ok=True, external_id=body.get("id"))
    if kind == "like":
        body = client.delete(f"/{target}/likes", needs=needs) if interaction.undo else \
            client.post(f"/{target}/likes", needs=needs)
        return InteractionResult(ok=bool(body.get("success")), external_id=target)
    if kind == "hide":
        body = client.post(f"/{target}", {"is_hidden": "false" if interaction.undo else "true"}, needs=needs)
        return InteractionResult(ok=bool(body.get("success")), external_id=target)
    if kind == "delete":
        body = client.delete(f"/{target}", needs=needs)
        return InteractionResult(ok=bool(body.get("success")), external_id=target)
    if kind == "message":
        recipient = _recipient(client, stream, target)
        body = client.post(f"/{stream.page_id}/messages", {
            "recipient": json.dumps({"id": recipient}), "message": json.dumps({"text": text}),
            "messaging_type": "RESPONSE"}, needs=needs)
        return InteractionResult(ok=True, external_id=body.get("message_id"))
    raise ProviderUnavailable(f"Interaction {kind!r} is not supported by Facebook.")
