"""CSV downloads streamed in constant memory, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator


class _Echo:
    """A file-like object that hands back what it is given: csv.writer writes one row
    into it and the generator yields that row at once. Nothing accumulates."""

    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> object:
    """Keep spreadsheets from running a cell as a formula (a name can be typed as
    '=HYPERLINK(...)')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_stream(header: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    """CSV text one row at a time: memory stays constant however many rows there are."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow([_safe(value) for value in row])
