"""CSV downloads streamed in constant memory, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

ROWS_PER_CHUNK = 500  # rows written into each piece of the response

# A cell starting with one of these would run as a formula in a spreadsheet (a name can
# be typed as '=HYPERLINK(...)'): it gets a leading apostrophe, which shows it as text.
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


# Any cell of a row of strings joined by NUL that starts like a formula: one search per
# row instead of a test per cell (a year of access events is a million cells).
_FORMULA_CELL = re.compile("(?:^|\x00)[=+\\-@\t\r]")


def _safe_row(row: Sequence) -> Sequence:
    try:
        if _FORMULA_CELL.search("\x00".join(row)) is None:
            return row
    except TypeError:  # numbers among the cells: look at each
        pass
    return [("'" + value if isinstance(value, str) and value[:1] in _FORMULA_START
             else value) for value in row]


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
    rows = iter(rows)
    while chunk := list(islice(rows, rows_per_chunk)):
        writer.writerows(map(_safe_row, chunk))
        yield written()
