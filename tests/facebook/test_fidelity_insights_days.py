"""Insights days are Pacific days: ``end_time`` is the Pacific midnight that ended the day,
T08:00:00+0000 in winter and T07:00:00+0000 in summer."""
from datetime import UTC, date, datetime, timedelta

from emulators.facebook.insights import PACIFIC
from plugins.facebook.convert import insights_day

from .conftest import BLUEBIRD, authorized

def _day_values(fb, since: str, until: str) -> list[str]:
    body = fb.get(f"{BLUEBIRD}/insights", fb.page_token(), metric="page_media_view", period="day",
                  since=since, until=until).json()
    return [v["end_time"] for v in body["data"][0]["values"]]


def test_end_times_follow_pacific_midnight_across_daylight_saving(fb):
    """Graph reference, Page Insights (developers.facebook.com/docs/graph-api/reference/
    page/insights): a daily value covers the day that ends at ``end_time``, days being
    counted in Pacific time; captured values read ``"end_time": "…T08:00:00+0000"`` in
    winter and ``"…T07:00:00+0000"`` in summer (docs/provider-apis A7, "Daily values end
    at Pacific midnight")."""
    spring = _day_values(fb, "2026-03-05", "2026-03-12")  # DST starts on 8 March 2026
    assert spring[0].endswith("T08:00:00+0000") and spring[-1].endswith("T07:00:00+0000")
    assert "2026-03-08T08:00:00+0000" in spring and "2026-03-09T07:00:00+0000" in spring
    autumn = _day_values(fb, "2026-10-29", "2026-11-05")  # DST ends on 1 November 2026
    assert "2026-11-01T07:00:00+0000" in autumn and "2026-11-02T08:00:00+0000" in autumn
    for end_time in spring + autumn:
        local = datetime.strptime(end_time, "%Y-%m-%dT%H:%M:%S%z").astimezone(PACIFIC)
        assert (local.hour, local.minute) == (0, 0)


def test_plugin_stores_each_value_on_the_day_it_covers(fb):
    """The day a value covers is the Pacific day that ended at ``end_time``: consecutive
    days across both changes, never a gap or a day counted twice (reading the UTC date,
    or adding a fixed 7 hours, would shift or repeat a day)."""
    values = _day_values(fb, "2026-03-05", "2026-03-12") + _day_values(fb, "2026-10-29", "2026-11-05")
    days = [insights_day(v) for v in values]
    spring, autumn = days[:len(days) // 2], days[len(days) // 2:]
    assert date(2026, 3, 8) in spring and date(2026, 11, 1) in autumn
    for run in (spring, autumn):
        assert run == [run[0] + timedelta(days=n) for n in range(len(run))]
    assert insights_day("2026-03-08T08:00:00+0000") == date(2026, 3, 7)
    assert insights_day("2026-03-09T07:00:00+0000") == date(2026, 3, 8)


def test_page_figures_name_the_pacific_day(fb, fb_plugins, config, page_credentials):
    figures = fb_plugins.call("streamdesk_metrics", "facebook", config, stream=authorized(),
                              credentials=page_credentials(), story_ids=[], history_since=None)
    page = next(f for f in figures if f.name == "impressions" and f.level == "page")
    yesterday = fb.state.now().astimezone(PACIFIC).date() - timedelta(days=1)
    assert f"to {yesterday:%Y-%m-%d}" in page.note
    assert fb.state.now().tzinfo == UTC
