"""Revisits of old posts: polling a 20,000-post Facebook page every 5 minutes of
simulated time, against the emulator over real HTTP.

The crawl hook is called as the core calls it, with the cursor the last page carried;
between crawls the emulator's clock moves forward by the crawl interval (the plugin
reads the time from Graph's ``Date`` header). Comments are added to a 30-day-old and a
1-year-old post; the figures are how long each took to be stored and how many Graph
calls a stream costs per hour, against the page's own Graph budget (4,800 calls a day
for one engaged user: the raw limit).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import requests

POSTS = 20000
INTERVAL = 300
#: Graph's page-level limit for a page token: 4,800 calls per engaged user per 24 hours.
PAGE_BUDGET_PER_HOUR = 4800 / 24
PAGE = "104729384756102"  # Bluebird Coffee in the emulator's seed
ADMIN = "10158372947561023"


@dataclass
class Found:
    """When a comment was added and stored, in simulated seconds since polling began."""

    added: int
    stored: int | None = None


@dataclass
class Polling:
    """Polls one authorized stream, as the core would, over simulated time."""

    url: str
    plugins: object
    config: object
    credentials: object
    cursor: str | None = None
    elapsed: int = 0
    calls: int = 0
    watching: dict[str, Found] = field(default_factory=dict)

    def control(self, method: str, path: str, **body) -> dict:
        """A call to the emulator's control API."""
        response = requests.request(method, f"{self.url}/_control/{path}", json=body or None, timeout=60)
        response.raise_for_status()
        return response.json()

    def crawl(self) -> None:
        """One crawl, its calls counted, its comments checked off the watch list."""
        from streamdesk_contract.values import StreamRef

        self.control("DELETE", "calls")
        for page in self.plugins.call("streamdesk_crawl", "facebook", self.config,
                                      stream=StreamRef(page_id=PAGE, authorized=True),
                                      credentials=self.credentials, cursor=self.cursor):
            for comment in page.comments:
                found = self.watching.get(comment.external_id)
                if found and found.stored is None:
                    found.stored = self.elapsed
            self.cursor = page.cursor
        self.calls += self.control("GET", "calls")["total"]

    def tick(self) -> None:
        """The crawl interval passes, then the next crawl."""
        self.control("POST", "clock", advance=INTERVAL)
        self.elapsed += INTERVAL
        self.crawl()

    def comment_on(self, age_days: float) -> str:
        """A new comment on the post closest to ``age_days`` old; watched until stored."""
        now = self.control("GET", "clock")["now"]
        story = min(self.control("GET", f"posts?page_id={PAGE}")["posts"],
                    key=lambda p: abs(now - age_days * 86400 - p["created"]))
        comment = self.control("POST", "comments", post_id=story["id"], message=f"Still valid? ({age_days} d)")["id"]
        self.watching[comment] = Found(self.elapsed)
        return comment


def start(url: str) -> Polling:
    """A 20,000-post page (one post every ~36 hours over two years, plus the seed), linked
    and crawled once in full; calls are counted from then on."""
    from emulators.facebook import sandbox_config
    from plugins.facebook import usage
    from plugins.facebook.rules import SCOPES
    from webapp.plugins import Plugins
    from streamdesk_contract.values import Credentials

    usage.forget()
    requests.post(f"{url}/_control/reset", timeout=10).raise_for_status()
    polling = Polling(url, Plugins(), sandbox_config(url), None)
    count = POSTS - len(_posts(polling))
    # two years of history, evenly spread
    polling.control("POST", "posts/bulk", page_id=PAGE, count=count, spacing=730 * 86400 // count)
    token = polling.control("POST", "tokens", user_id=ADMIN, permissions=list(SCOPES))["access_token"]
    accounts = requests.get(f"{url}/v25.0/me/accounts", params={"access_token": token}, timeout=30).json()["data"]
    page_token = next(a["access_token"] for a in accounts if a["id"] == PAGE)
    polling.credentials = Credentials(access_token=page_token, scopes=tuple(SCOPES) + ("task:MANAGE",))
    polling.crawl()
    polling.calls = 0
    return polling


def _posts(polling: Polling) -> list[dict]:
    return polling.control("GET", f"posts?page_id={PAGE}")["posts"]


def simulate(url: str, hours: int = 24, until_found: bool = False) -> dict:
    """Poll for ``hours`` simulated hours (``until_found``: or until both comments are
    stored) with comments added to a 30-day-old and a 1-year-old post after the first
    hour; returns the figures."""
    polling = start(url)
    for _ in range(3600 // INTERVAL):  # an hour to settle into the schedule
        polling.tick()
    polling.calls = 0
    begun = polling.elapsed
    month = polling.comment_on(30)
    year = polling.comment_on(365)
    while polling.elapsed - begun < hours * 3600:
        if until_found and all(f.stored is not None for f in polling.watching.values()):
            break
        polling.tick()
    per_hour = polling.calls * 3600 / (polling.elapsed - begun)
    return {"calls_per_hour": per_hour, "ratio": per_hour / PAGE_BUDGET_PER_HOUR,
            "month_seconds": _latency(polling.watching[month]), "year_seconds": _latency(polling.watching[year])}


def _latency(found: Found) -> int | None:
    return None if found.stored is None else found.stored - found.added


def run(tmp: Path) -> str:
    """The bench line."""
    import emulators

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    running = emulators.start("facebook")
    try:
        got = simulate(running.url)
    finally:
        running.stop()
    hours = {k: "never" if v is None else f"{v / 3600:.1f} h" for k, v in got.items() if k.endswith("_seconds")}
    return (f"revisit: {got['calls_per_hour']:.0f} API calls per stream-hour — ratio {got['ratio']:.2f} of the "
            f"page's Graph budget ({PAGE_BUDGET_PER_HOUR:.0f}/h); {POSTS:,}-post page polled every {INTERVAL} s: "
            f"comment on a 30-day-old post stored after {hours['month_seconds']}, "
            f"on a 1-year-old post after {hours['year_seconds']}")
