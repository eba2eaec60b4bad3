"""Graph API routes under ``/v25.0/…``: the request pipeline (call counting, forced
faults, token checks, usage headers) and the reads; writes live in :mod:`.actions`.
"""
from __future__ import annotations

import json
import re
from functools import wraps

from flask import Blueprint, current_app, jsonify, make_response, request

from . import actions, errors, faults, versions
from .errors import GraphError
from .fields import FieldSpec, parse
from .model import Page, Person, Post
from .paging import cursor_page
from .render import Ctx, edge, render
from .state import USAGE_HEADERS_FROM

bp = Blueprint("graph", __name__)
SEARCH_FIELDS = {"id", "name", "location", "link", "verification_status", "is_eligible_for_branded_content",
                 "is_unclaimed"}


def state():
    """The emulator state of the current app."""
    return current_app.config["FB_STATE"]


def params() -> dict:
    """Graph reads parameters from the query, a form body or a JSON body alike."""
    merged = dict(request.args)
    if request.method in ("POST", "DELETE"):
        merged.update(request.form)
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                merged.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return merged


def token_value(args: dict) -> str | None:
    """The access token of the request: parameter first, then the Authorization header."""
    if args.get("access_token"):
        return args["access_token"]
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("oauth", "bearer") and value.strip():
        return value.strip()
    return None


def _usage_headers(response, token) -> None:
    """Add the usage header of the call's bucket — only once the bucket has made enough
    calls to be considered for rate limiting (or the control API forced its figures):
    Meta sends none before, so a client must not read a missing header as 0 %."""
    st = state()
    bucket = st.bucket_of(token)
    usage = st.usage(bucket)
    if bucket not in st.forced_usage and max(usage["call_count"], usage["total_cputime"],
                                             usage["total_time"]) < USAGE_HEADERS_FROM:
        return
    if bucket != "app":
        response.headers["x-business-use-case-usage"] = json.dumps(
            {token.page_id: [{"type": "pages", **usage}]}, separators=(",", ":"))
    else:
        response.headers["x-app-usage"] = json.dumps(
            {k: usage[k] for k in ("call_count", "total_cputime", "total_time")}, separators=(",", ":"))


def graph_endpoint(needs_token: bool = True):
    """Wrap a Graph route: count and log it, serve a forced fault if one is queued,
    resolve the token, turn GraphError into the envelope and add the headers Graph sends."""
    def decorate(fn):
        @wraps(fn)
        def wrapper(version, *args, **kwargs):
            st = state()
            with st.lock:
                entry = st.count(request.method, request.path, dict(request.args))
                asked, version = version, versions.served(version, st.now().date())
                if version is None:
                    return GraphError(f"Unknown path components: /{asked}", 2500).response()
                merged = params()
                fault = st.next_fault(request.path)
                if fault is not None and fault.kind != "malformed":
                    known = st.peek(token_value(merged))
                    entry["token"] = known.kind if known else None
                    st.use(st.bucket_of(known))
                    return faults.respond(fault, known)
                token = None
                try:
                    if needs_token:
                        token = st.resolve(token_value(merged), merged.get("appsecret_proof"))
                        entry["token"] = token.kind
                    ctx = Ctx(state=st, token=token, query_token=request.args.get("access_token"),
                              base=f"{current_app.config['FB_BASE_URL']}/{version}")
                    payload = fn(ctx, merged, *args, **kwargs)
                    if fault is not None:
                        payload = faults.malform(fault, payload)
                    response = make_response(jsonify(payload))
                except GraphError as exc:
                    response = exc.response()
                st.use(st.bucket_of(token))
                response.headers["facebook-api-version"] = version
                response.headers["x-fb-trace-id"] = errors.fbtrace_id()
                response.headers["x-fb-rev"] = "1029384756"
                _usage_headers(response, token)
                return response
        return wrapper
    return decorate


def lookup(ctx: Ctx, ident: str):
    """The node called ``ident`` (an id, ``me`` or a page username)."""
    st = ctx.state
    if ident == "me":
        if ctx.token.kind == "USER":
            return st.world.objects[ctx.token.user_id]
        if ctx.token.kind == "PAGE":
            return st.world.objects[ctx.token.page_id]
        raise GraphError("An active access token must be used to query information about the current user.", 2500)
    node = st.world.get(ident)
    if node is None:
        if re.fullmatch(r"[0-9_]+|t_[0-9]+", ident):
            raise errors.unknown_object(ident, request.method.lower())
        node = st.world.page_by_username(ident)
        if node is None:
            raise errors.unknown_alias(ident)
    if isinstance(node, Post) and not (node.is_published or ctx.is_page_token_of(node.page_id)):
        raise errors.unknown_object(ident, request.method.lower())
    return node


@bp.route("/<version>/", methods=["GET", "POST", "DELETE"])
@graph_endpoint()
def root(ctx: Ctx, args: dict):
    """``GET /?ids=a,b&fields=…``: several nodes in one call, keyed by the ids asked."""
    ids = [i.strip() for i in (args.get("ids") or "").split(",") if i.strip()]
    if not ids:
        raise GraphError("(#100) Missing required parameter: ids", 100)
    if len(ids) > 50:
        raise GraphError(f"(#100) Too many IDs. Maximum: 50. Provided: {len(ids)}.", 100)
    specs = parse(args.get("fields"))
    out = {}
    for ident in ids:
        try:
            out[ident] = render(ctx, lookup(ctx, ident), specs)
        except GraphError as exc:
            if exc.code in (100, 803) and exc.subcode in (None, 33):
                raise errors.unknown_alias(ident) from None
            raise
    return out


@bp.route("/<version>/pages/search", methods=["GET"])
@graph_endpoint()
def pages_search(ctx: Ctx, args: dict):
    """``GET /pages/search?q=…``: public pages, most relevant first."""
    query = (args.get("q") or "").strip()
    if not query:
        raise GraphError("(#100) The parameter q is required", 100)
    specs = parse(args.get("fields")) or [FieldSpec(n) for n in ("id", "name", "location", "link")]
    for spec in specs:
        if spec.name not in SEARCH_FIELDS:
            raise errors.nonexisting_field(spec.name, "Page")
    ranked = sorted(((score(page, query), page) for page in ctx.state.world.pages()),
                    key=lambda sp: (-sp[0], -sp[1].fan_count, sp[1].id))
    hits = [page for s, page in ranked if s > 0]
    page_items, paging = cursor_page(hits, lambda p: p.id, args, ctx.base, "pages/search", ctx.keep(args, specs))
    out = {"data": [render(ctx, p, specs) for p in page_items]}
    if paging:
        out["paging"] = paging
    return out


def score(page: Page, query: str) -> int:
    """How well ``page`` matches a search: exact name or username first, then prefixes,
    then every word present, then any word."""
    q = query.casefold()
    name = page.name.casefold()
    words = re.findall(r"\w+", name)
    terms = re.findall(r"\w+", q)
    if not terms:
        return 0
    if q == name or (page.username and q.replace(" ", "") == page.username.casefold()):
        return 100
    if name.startswith(q):
        return 80
    if all(any(w.startswith(t) for w in words) for t in terms):
        return 60
    if page.username and q.replace(" ", "") in page.username.casefold():
        return 40
    hits = sum(1 for t in terms if any(w.startswith(t) for w in words))
    return 20 * hits // len(terms)


@bp.route("/<version>/me/accounts", methods=["GET"])
@graph_endpoint()
def me_accounts(ctx: Ctx, args: dict):
    """The pages the person has a role on, each with its tasks and a page token."""
    if ctx.token.kind != "USER":
        raise GraphError("(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100)
    st = ctx.state
    if "pages_show_list" not in st.granted(ctx.token.user_id):
        return {"data": []}  # Graph lists nothing rather than failing
    specs = parse(args.get("fields")) or [FieldSpec(n) for n in
                                          ("access_token", "category", "category_list", "name", "id", "tasks")]
    pages = [p for p in st.world.pages() if ctx.token.user_id in p.roles]
    page_items, paging = cursor_page(pages, lambda p: p.id, args, ctx.base, "me/accounts", ctx.keep(args, specs))
    data = []
    for page in page_items:
        tasks = [s for s in specs if s.name == "tasks"]
        row = render(ctx, page, [s for s in specs if s.name != "tasks"])
        if tasks:
            row["tasks"] = list(page.roles[ctx.token.user_id])
        data.append(row)
    out = {"data": data}
    if paging:
        out["paging"] = paging
    return out


@bp.route("/<version>/me/permissions", methods=["GET"])
@graph_endpoint()
def me_permissions(ctx: Ctx, args: dict):
    """Every permission the person was asked for, granted or declined."""
    if ctx.token.kind != "USER":
        raise GraphError("(#100) Tried accessing nonexisting field (permissions) on node type (Page)", 100)
    grants = ctx.state.grants.get(ctx.token.user_id, {})
    return {"data": [{"permission": p, "status": s} for p, s in grants.items()]}


@bp.route("/<version>/<ident>", methods=["GET", "POST", "DELETE"])
@graph_endpoint()
def node(ctx: Ctx, args: dict, ident: str):
    """``/{id}``: read (GET), update (POST) or delete (DELETE) one node."""
    obj = lookup(ctx, ident)
    if request.method == "GET":
        return render(ctx, obj, parse(args.get("fields")))
    if request.method == "DELETE":
        return actions.delete(ctx, obj)
    return actions.update(ctx, obj, args)


@bp.route("/<version>/<ident>/<edge_name>", methods=["GET", "POST", "DELETE"])
@graph_endpoint()
def node_edge(ctx: Ctx, args: dict, ident: str, edge_name: str):
    """``/{id}/{edge}``: read a list edge, or write to it."""
    obj = lookup(ctx, ident)
    if request.method == "GET":
        if isinstance(obj, Person):
            raise errors.nonexisting_field(edge_name, "User")
        return edge(ctx, obj, edge_name, args, parse(args.get("fields")))
    return actions.edge_write(ctx, obj, edge_name, args, request.method)


@bp.route("/<version>/<ident>/<edge_name>/<path:rest>", methods=["GET", "POST", "DELETE"])
@graph_endpoint(needs_token=False)
def too_deep(ctx: Ctx, args: dict, ident: str, edge_name: str, rest: str):
    """Deeper paths do not exist in the subset emulated."""
    raise errors.unknown_path(f"{ident}/{edge_name}/{rest}")

