"""Comments on old posts found in bounded time by polling alone: a 20,000-post page
crawled every 5 simulated minutes against the emulator (real HTTP, its clock moved
forward between crawls), the crawl hook called as the core calls it."""
from bench.revisit import INTERVAL, PAGE_BUDGET_PER_HOUR, simulate


def test_comments_on_a_month_old_and_a_year_old_post_are_stored_in_time(fb):
    got = simulate(fb.url, hours=24, until_found=True)
    # Stored within an hour (30 days old) and within a day (1 year old), crawl included.
    assert got["month_seconds"] is not None and got["month_seconds"] <= 3600
    assert got["year_seconds"] is not None and got["year_seconds"] <= 24 * 3600
    # Far below what reading every page on every crawl would cost, and within Graph's budget.
    assert got["calls_per_hour"] < PAGE_BUDGET_PER_HOUR / 2
    assert got["calls_per_hour"] < 200 * 3600 / INTERVAL / 10
