"""`make bench`: run every benchmark and print one line per figure."""
import sys
import tempfile
from pathlib import Path

from bench import analytics, dates, emulators, exports, feed, ingest, jobs, pages, revisit, web, webhooks, worker_rss

BENCHMARKS = [dates.run, ingest.run, worker_rss.run, jobs.run, web.run, pages.run, feed.run, revisit.run,
              emulators.run, webhooks.run, webhooks.run_calls_saved, analytics.run, exports.run]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for bench in BENCHMARKS:
            print(bench(Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
