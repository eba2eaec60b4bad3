"""A bounded fuzz of every route: generated path parameters, form fields and query
arguments (Unicode, NUL and other control characters, huge numbers, Unicode digits,
very long strings, markup) must never end in a 500, on SQLite or PostgreSQL.

Routes come from ``app.url_map`` and field names from the templates and views, so a
new route or form is fuzzed as soon as it exists. Hypothesis runs derandomized (the
same examples every run) and a fixed number of examples per route, so CI stays stable.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import PASSWORD, ROOT, csrf_token, login
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.db import database
from webapp.models import LoginAttempt, Stream, Topic, User
from factories import new_stream

#: Examples per route and method (each role); the whole test stays well under a minute.
EXAMPLES = 30
#: Routes that call a provider over HTTP take longer per example.
SLOW_EXAMPLES = 12
#: A route that turns the role away before reading any input (403, or the login page).
REFUSED_EXAMPLES = 5
#: Read by authlib at the OAuth callback rather than by our views.
OAUTH_ARGS = ("code", "state", "error", "error_description")
#: Answers a route may give on purpose when a provider fails (502) or is away (503).
DESIGNED_5XX = (502, 503)


def field_names() -> list[str]:
    """Every form field and query argument the app reads (templates and views)."""
    names = set(OAUTH_ARGS)
    for template in (ROOT / "webapp" / "templates").rglob("*.html"):
        names |= set(re.findall(r'<(?:input|select|textarea|button)\b[^>]*?\bname="([a-z_]+)"',
                                template.read_text(), re.S))
    for view in (ROOT / "webapp" / "views").glob("*.py"):
        names |= set(re.findall(r'(?:form|args)\.get(?:list)?\("([a-z_]+)"', Path(view).read_text()))
    return sorted(names - {"csrf_token"})


FIELDS = field_names()
MARKUP = ['<script>alert(1)</script>', '"><b hx-get="/logout" hx-trigger="load">', "{{ 7*7 }}", "{% raw %}",
          "javascript:alert(1)", "../../etc/passwd", "' OR 1=1 --", "%s%n%x", "\\x00", "&#0;", "\u202e\u200b"]
NUMBERS = ["١", "٢٣", "２", "𝟏", "1.0", "1e3", "0x1", " 1", "01", "-1", "0", "9223372036854775807",
           "9223372036854775808", "18446744073709551616", "NaN", "inf"]


def values(plausible: list[str]):
    """Generated text for a field or path segment; ``plausible`` values reach deeper code."""
    return st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.integers(min_value=2**63 - 2, max_value=2**64 + 2).map(str),  # around the id range's end
        st.tuples(st.text(min_size=1, max_size=4), st.integers(64, 700)).map(lambda t: t[0] * t[1]),  # past every column
        st.text(max_size=8).map(lambda s: f"{s}\x00{s}"),
        st.sampled_from(MARKUP + NUMBERS),
        st.sampled_from(plausible),
    )


class World:
    """The rows the fuzz works on, put back before each example (a fuzzed request may
    delete a topic, demote a user or log the client out)."""

    def __init__(self, app, account, role: str):
        self.app, self.account, self.role = app, account, role
        self.users = {name: User.create(account=account, email=f"{name}@acme.test", role=name,
                                        password_hash=_hash()) for name in ("admin", "member")}
        self.rows = {name: user.__data__.copy() for name, user in self.users.items()}
        self.topic = Topic.create(account=account, name="Brand")
        self.stream = new_stream(self.topic, service="facebook", page_id="104729384756102",
                                    name="Bluebird Coffee", authorized=False, status="expired")
        self.saved = [(Topic, self.topic.__data__.copy()), (Stream, self.stream.__data__.copy())]
        self.client = app.test_client()
        self.token = None
        self.dirty = True

    def plausible(self) -> list[str]:
        return [str(self.topic.id), str(self.stream.id), str(self.users["member"].id), "facebook", "twitter",
                "owned", "public", "admin", "member", "new@acme.test", "Brand", "@globexcoffee", "1"]

    def restore(self) -> None:
        """Put back the users, the topic and the stream; log in again when logged out.
        Only after a POST: a GET changes nothing (the house rule the fuzz relies on)."""
        if self.dirty:
            with database.atomic():
                LoginAttempt.delete().execute()  # no rate limit on our own logins
                for model, row in [(User, r) for r in self.rows.values()] + self.saved:
                    fields = {k: v for k, v in row.items() if k != "id"}
                    if not model.update(**fields).where(model.id == row["id"]).execute():
                        model.insert(**row).execute()
            self.dirty = False
        if self.token is None or (self.role != "anonymous" and not self.logged_in()):
            self.client = self.app.test_client()
            if self.role != "anonymous":
                assert login(self.client, f"{self.role}@acme.test").status_code == 302
            self.token = csrf_token(self.client, "/login" if self.role == "anonymous" else "/personal/")


    def logged_in(self) -> bool:
        with self.client.session_transaction() as session:
            return "_user_id" in session


def _hash() -> str:
    from werkzeug.security import generate_password_hash

    # Cheap to check: a fuzzed logout costs a login, and these are throwaway users.
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def routes(app):
    """(rule, method) of every route but static files."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def path_of(rule, segments: dict[str, str]) -> str:
    """The rule's path with each parameter replaced by its (quoted) generated value."""
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: quote(segments[m.group(1)], safe=""), rule.rule)


def refused(world: World, rule, method: str, real: dict) -> bool:
    """True when the route turns this role away whatever the input (403, login page)."""
    world.restore()
    world.dirty = True
    path = path_of(rule, {name: str(real.get(name, "facebook")) for name in rule.arguments})
    response = world.client.open(path, method=method, data={"csrf_token": world.token})
    return response.status_code == 403 or (
        response.status_code in (302, 401) and response.headers.get("Location", "").startswith("/login"))


def fuzz_route(world: World, rule, method: str, failures: list) -> None:
    """Hypothesis over one route and method; a 500 or a raised error is recorded."""
    real = {"topic_id": world.topic.id, "stream_id": world.stream.id, "user_id": world.users["member"].id}
    examples = SLOW_EXAMPLES if any(word in rule.rule for word in ("/add/", "/streams", "/connected-profiles/")) \
        else EXAMPLES
    if world.role != "admin" and refused(world, rule, method, real):
        examples = REFUSED_EXAMPLES
    plausible = world.plausible()
    # Half the time a real id or service, so the view gets past its lookup.
    segments = {name: st.one_of(st.just(str(real[name])) if name in real else st.sampled_from(["facebook", "twitter"]),
                                st.sampled_from(NUMBERS), values(plausible))
                for name in sorted(rule.arguments)}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(segments=st.fixed_dictionaries(segments),
           # Every field in every request (views read what they need), or none at all.
           fields=st.one_of(st.fixed_dictionaries({name: values(plausible) for name in FIELDS}), st.just({})),
           htmx=st.booleans())
    def one(segments, fields, htmx):
        world.restore()
        path = path_of(rule, segments)
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            response = world.client.open(path, method=method, query_string=fields, headers=headers)
        else:
            world.dirty = True
            response = world.client.open(path, method=method, data={**fields, "csrf_token": world.token},
                                         headers=headers)
        status = response.status_code
        assert status < 500 or status in DESIGNED_5XX, f"{status} for {method} {path} {fields!r}"

    try:
        one()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, route by route
        failures.append(f"{world.role} {method} {rule.rule}: {type(exc).__name__}: {str(exc)[:500]}")


@pytest.mark.parametrize("role", ["admin", "member", "anonymous"])
def test_no_generated_input_makes_a_500(app, account, emulator, role):
    world = World(app, account, role)
    started, failures = time.monotonic(), []
    covered = list(routes(app))
    assert len(covered) > 20
    for rule, method in covered:
        fuzz_route(world, rule, method, failures)
    assert not failures, "\n".join(failures)
    print(f"{role}: {len(covered)} routes fuzzed in {time.monotonic() - started:.1f} s")
