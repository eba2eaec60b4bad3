"""CSV downloads: the one way the app writes a CSV a spreadsheet opens cleanly.

Every download (the Activity log, the analytics exports) goes through here, so they all
are UTF-8 with a byte order mark (Excel reads UTF-8 only with it), carry ISO 8601 times
in UTC, neutralise formulas in cells, and are *streamed*: rows are read in keyset
batches and sent as they are written, so a million-row file never sits in memory.
"""
from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar
from urllib.parse import quote

from flask import Response, stream_with_context

#: Excel decides a CSV is UTF-8 only when it starts with this mark.
BOM = "\ufeff"
#: A cell starting with one of these is run as a formula by spreadsheets (a tab or a
#: return too, after they strip it): the text of a post is anybody's.
FORMULA_STARTS = "=+-@\t\r"

Row = TypeVar("Row")
Position = TypeVar("Position")


def cell(value):
    """``value`` as :mod:`csv` should write it for a spreadsheet to show it as text:
    None stays empty (never 0), times are ISO 8601 UTC (the database keeps naive UTC),
    dates ISO, and text that would start a formula gets an apostrophe in front."""
    kind = type(value)
    if kind is str:  # the common case first: an export calls this for every cell
        return "'" + value if value and value[0] in FORMULA_STARTS else value
    if value is None or kind is int:
        return value  # csv writes None as an empty cell; a number is a value, not "-cmd"
    if kind is datetime.datetime:
        return value.isoformat(timespec="seconds") + "Z"
    if kind is datetime.date:
        return value.isoformat()
    return cell(str(value))


def keyset_batches(read: Callable[[Position | None, int], list[Row]], position: Callable[[Row], Position],
                   size: int) -> Iterator[list[Row]]:
    """Rows in batches of ``size``: ``read(after, size)`` answers the next ``size`` rows
    after the position (None: from the first), ``position(row)`` is where a row stands.
    Each batch is one query bounded by the last row read (an index seek), never an OFFSET
    that re-reads what it skips, so memory stays one batch whatever the table's size."""
    after = None
    while True:
        rows = read(after, size)
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = position(rows[-1])


def csv_chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence]]) -> Iterator[str]:
    """The CSV text: the mark and the header ride with the first batch, then one chunk
    per batch of rows (each row a sequence of values, made cells by :func:`cell`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write(BOM)
    writer.writerow(header)
    sent_any = False
    for batch in batches:
        writer.writerows([cell(v) for v in row] for row in batch)
        text = out.getvalue()
        if text:
            yield text
            sent_any = True
        out.seek(0)
        out.truncate()
    if not sent_any:
        yield out.getvalue()


def slug(text: str) -> str:
    """``text`` as a file-name part: letters and digits joined by hyphens."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").lower())
    return "-".join(words)[:60].strip("-_") or "export"


def download(chunks: Iterator[str], filename: str) -> Response:
    """A streamed CSV answer named ``filename``: the rows are written while they are
    sent (the request's context stays open for the generator's queries).

    The name goes twice into Content-Disposition (RFC 6266): as ASCII for old clients
    and UTF-8 percent-encoded, so no quote, newline or non-ASCII letter of a topic's
    name can break the header.
    """
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name) or "streamdesk.csv"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": disposition})
