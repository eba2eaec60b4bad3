"""`make bench`: run every benchmark and print one line per figure."""
import sys
import tempfile
from pathlib import Path

from bench import dates, emulators, feed, ingest, jobs, revisit, web

BENCHMARKS = [dates.run, ingest.run, jobs.run, web.run, revisit.run, emulators.run, feed.run]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for bench in BENCHMARKS:
            print(bench(Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
