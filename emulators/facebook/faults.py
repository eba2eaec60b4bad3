"""Forced faults (queued through the control API): the error answers Graph gives when it
throttles or fails, and 200 answers whose body is damaged, to prove that clients cope.
"""
from __future__ import annotations

import copy
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import make_response

from . import errors
from .state import DELETE, Fault


def respond(fault: Fault, token):
    """The answer to a call that a failing (not malformed) fault hits; ``token`` is the
    caller's token when the emulator knows it (the usage headers name its bucket)."""
    if fault.kind == "server":
        response = make_response("<html><body><h1>Sorry, something went wrong.</h1></body></html>", fault.status)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response
    if fault.kind == "error":
        return errors.forced(fault.code, fault.subcode, fault.message, fault.status).response()
    if fault.kind == "transient":
        return errors.transient(fault.code).response()
    if fault.kind == "reduce_data":
        return errors.reduce_data().response()
    if fault.kind == "posting_too_fast":
        return errors.posting_too_fast().response()
    response = errors.rate_limited(fault.code).response()
    full = {"call_count": 100, "total_cputime": 40, "total_time": 60,
            "estimated_time_to_regain_access": fault.regain_minutes}
    if token is not None and token.kind == "PAGE":
        kind = "messenger" if fault.code == 80006 else "pages"
        response.headers["x-business-use-case-usage"] = json.dumps(
            {token.page_id: [{"type": kind, **full}]}, separators=(",", ":"))
    else:
        response.headers["x-app-usage"] = json.dumps(
            {k: full[k] for k in ("call_count", "total_cputime", "total_time")}, separators=(",", ":"))
    return response


def malform(fault: Fault, payload):
    """``payload`` (a route's JSON answer) damaged as ``fault`` says."""
    if fault.body is not DELETE:
        return copy.deepcopy(fault.body)
    out = copy.deepcopy(payload)
    holder = out.get(fault.within) if fault.within and isinstance(out, dict) else out
    if not isinstance(holder, dict):
        return out
    if fault.field:
        data = holder.get("data")
        for item in data if isinstance(data, list) else [holder]:
            if not isinstance(item, dict):
                continue
            if fault.value is DELETE:
                item.pop(fault.field, None)
            else:
                item[fault.field] = copy.deepcopy(fault.value)
    paging = holder.get("paging")
    if fault.next_drop and isinstance(paging, dict) and paging.get("next"):
        parts = urlsplit(paging["next"])
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in fault.next_drop]
        paging["next"] = urlunsplit(parts._replace(query=urlencode(query)))
    return out
