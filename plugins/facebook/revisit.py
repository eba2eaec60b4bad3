"""When an authorized crawl looks again at older posts: the revisit schedule by age.

Graph pages a feed by creation time, and a new comment moves a post's ``updated_time``
but not its place, so a change on an old post is found only by reading the feed page
that holds it again. Reading every page on every crawl would cost a 20,000-post page
200 calls per crawl; reading one page per crawl finds a change on a 30-day-old post
after up to 16 hours. So the feed beyond the newest page is cut by age into bands, each
swept in *rounds* (asking only ``id`` and the two times, 100 posts a call), on its own
period:

========  ==================  =====================================================
band      posts aged          a round starts
========  ==================  =====================================================
week      under 7 days        on every crawl, and reads the whole band at once
month     7 to 30 days        every 45 minutes, paced over that time
older     over 30 days        every 20 hours, paced over that time
========  ==================  =====================================================

A change is found by the next round that reaches its post, so within one period plus
a crawl interval: under an hour for the month band, under a day for older posts, on the
target of polling every 5 minutes. A paced round reads as many pages per crawl as keep
it on time with the page count its last round took (at least one), so a bigger page
reads more per crawl instead of falling behind, and a small one costs little. Age is
measured on Facebook's clock (the ``Date`` of its answers), the same clock as the
posts' times, so a machine whose clock is off does not shift the bands.

While Graph's usage for the page is high the paced bands wait (their rounds take
longer); the week band and new stories go on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DAY = 86400
#: At most this many pages of one band in one crawl: a huge week band still ends.
MAX_PAGES = 50


@dataclass(frozen=True)
class Band:
    """Posts created between ``oldest_days`` (None: the beginning) and ``newest_days`` ago,
    swept in rounds that start ``period`` seconds apart (0: on every crawl, all at once)."""

    name: str
    newest_days: int
    oldest_days: int | None
    period: int

    def upper(self, now: int) -> int:
        """The newest creation time in the band (unix seconds)."""
        return now - self.newest_days * DAY

    def lower(self, now: int) -> int | None:
        """The oldest creation time in the band (None: down to the first post)."""
        return None if self.oldest_days is None else now - self.oldest_days * DAY

    def start(self, now: int, read_to: int, next_query: dict[str, str]) -> dict[str, str] | None:
        """The feed query a round starts from. The crawl read in full every post down to
        creation time ``read_to``, ``next_query`` being the page after it: the round starts
        there when that reaches into the band, else at Graph's ``until`` of the band's newest
        time. None when the crawl's full reads cover the whole band (nothing to revisit)."""
        lower = self.lower(now)
        if lower is not None and read_to < lower:
            return None
        if read_to <= self.upper(now) or "until" not in next_query:
            # Cursor-paged feeds (not Graph's /feed, but a link may say so) cannot jump by time.
            return dict(next_query)
        return {"until": str(self.upper(now))}

    def ends_at(self, now: int, oldest_read: int) -> bool:
        """Whether a page whose oldest post was created at ``oldest_read`` ends the round."""
        lower = self.lower(now)
        return lower is not None and oldest_read < lower

    def due(self, now: int, started: int) -> bool:
        """Whether a new round starts now (the last one started at ``started``)."""
        return not started or now >= started + self.period

    def budget(self, now: int, started: int, read: int, last_pages: int) -> int:
        """Pages to read in this crawl: the whole band for ``period`` 0, else what keeps the
        round on pace with the last one's ``last_pages``, at least one."""
        if not self.period:
            return MAX_PAGES
        on_pace = math.ceil(last_pages * max(0, now - started) / self.period)
        return max(1, min(MAX_PAGES, on_pace - read))


BANDS = (
    Band("week", 0, 7, 0),
    Band("month", 7, 30, 45 * 60),
    Band("older", 30, None, 20 * 3600),
)
