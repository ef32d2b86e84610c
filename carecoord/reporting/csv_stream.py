"""CSV downloads streamed in constant memory, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

ROWS_PER_CHUNK = 500  # rows written into each piece of the response

# A cell starting with one of these would run as a formula in a spreadsheet (a name can
# be typed as '=HYPERLINK(...)'): it gets a leading apostrophe, which shows it as text.
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


# Any cell of a row of strings, each after a NUL, that starts like a formula: one search
# per row instead of a test per cell (a year of access events is a million cells). The
# pattern starts with a plain character, which the regex engine skips to directly.
_FORMULA_CELL = re.compile("\x00[=+\\-@\t\r]")

# What makes csv.writer (the excel dialect, QUOTE_MINIMAL) quote a cell: the delimiter,
# the quote character, and the characters of its line ending.
_NEEDS_QUOTES = re.compile('[",\r\n]')


def _safe_row(row: Sequence) -> Sequence:
    try:
        if _FORMULA_CELL.search("\x00" + "\x00".join(row)) is None:
            return row
    except TypeError:  # numbers among the cells: look at each
        pass
    return [("'" + value if isinstance(value, str) and value[:1] in _FORMULA_START
             else value) for value in row]


def csv_cell(value: str) -> str:
    """One cell as `csv_stream` writes it: neutralised if it starts like a formula, then
    quoted as csv.writer quotes (tests compare the two on any text). For rows written
    from cells worked out once (`WrittenRows`)."""
    if value[:1] in _FORMULA_START:
        value = "'" + value
    if _NEEDS_QUOTES.search(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


class WrittenRows(Iterator[tuple]):
    """Rows that can also write themselves as CSV text, line by line as `csv_stream`
    would write their tuples (cells made safe by `csv_cell`). A long report (a year of a
    team's access events is 100,000 rows) then joins cells it quoted once, a name or a
    sentence met thousands of times, instead of passing every cell of every row through
    csv.writer and the formula check. Iterated, they are the tuples, for tools and tests.

    `rows()` starts the tuples; `text(rows_per_chunk)` starts the text, each piece at
    most that many lines. Only one of them is started."""

    def __init__(self, *, rows: Callable[[], Iterator[tuple]],
                 text: Callable[[int], Iterator[str]]) -> None:
        self._start_rows = rows
        self._rows: Iterator[tuple] | None = None
        self.text = text

    def __next__(self) -> tuple:
        if self._rows is None:
            self._rows = self._start_rows()
        return next(self._rows)


def csv_stream(header: list[str], rows: Iterable[tuple],
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """CSV text a few hundred rows at a time: memory stays constant however many rows
    there are, and a long download is not a hundred thousand tiny writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def written() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield "\ufeff" + written()  # the BOM makes Excel read UTF-8
    if isinstance(rows, WrittenRows):
        yield from rows.text(rows_per_chunk)
        return
    rows = iter(rows)
    while chunk := list(islice(rows, rows_per_chunk)):
        writer.writerows(map(_safe_row, chunk))
        yield written()
