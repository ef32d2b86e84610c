"""Archive files of the access audit trail: one month's events, in chain order, with a
manifest (ADR 0027).

Files only, no database: `audit_month_archive` (carecoord/audit/services.py) hands the
month's rows in and takes the database part; `verify_audit_archive` checks a file on its
own, years later, with nothing but this module.

A month is two files side by side:

- `access-events-YYYY-MM.jsonl.gz`: one JSON object a line, every column of every event
  (its hashes too), in `seq` order; gzip with no time in its header, so the same rows
  always make the same bytes;
- `access-events-YYYY-MM.manifest.json`: the month, how many rows, the first and last
  `seq`, the hash before the first event, the last hash, the stretches of consecutive
  `seq` (`runs`), the SHA-256 of the events file, when and by whom.

Both are written under a temporary name in the target directory and published by a hard
link to their final name, which fails rather than replace a file already there.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

from carecoord.audit.models import AccessEvent
from carecoord.audit.partitions import next_month

FORMAT = "carecoord access events archive, version 1"
COLUMNS = ("id", "seq", "occurred_at", "actor_id", "service_user_id", "action", "target",
           "basis", "ip_address", "items", "prev_hash", "hash")
SUMMARY_FIELDS = ("rows", "first_seq", "last_seq", "hash_before_first", "last_hash", "runs")
EVENTS_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"


class ArchiveFileError(Exception):
    """An archive file is not what it should be; the message says what, in plain words."""


def events_file_name(month: dt.date) -> str:
    return f"access-events-{month:%Y-%m}{EVENTS_SUFFIX}"


def manifest_file_name(month: dt.date) -> str:
    return f"access-events-{month:%Y-%m}{MANIFEST_SUFFIX}"


def event_line(row: dict) -> dict:
    """A row of the database (AccessEvent's `COLUMNS`) as a line of the file."""
    line = {column: row[column] for column in COLUMNS}
    line["occurred_at"] = row["occurred_at"].astimezone(dt.UTC).isoformat()
    return line


def _encoded(line: dict) -> bytes:
    return json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _hash_of(line: dict) -> str:
    """The event's hash worked out again from the line, as the chainer worked it out."""
    event = AccessEvent(
        seq=line["seq"], occurred_at=dt.datetime.fromisoformat(line["occurred_at"]),
        actor_id=line["actor_id"], service_user_id=line["service_user_id"],
        action=line["action"], target=line["target"], basis=line["basis"],
        ip_address=line["ip_address"], items=line["items"], prev_hash=line["prev_hash"])
    return event.compute_hash()


@dataclass
class ChainWalk:
    """The month's events walked in `seq` order: each re-hashed, each linked to the one
    before where their numbers follow on, gathered into `runs` of consecutive numbers.
    A gap is allowed (an event of the next month chained in between, ADR 0026): the
    manifest's runs say where, and verify_audit_chain checks what fills it."""

    month: dt.date
    rows: int = 0
    runs: list[list] = field(default_factory=list)

    def add(self, line: dict) -> str | None:
        """Takes the next line; returns what is wrong with it, if anything."""
        try:
            seq, when = line["seq"], dt.datetime.fromisoformat(line["occurred_at"])
            rehashed = _hash_of(line)
        except (KeyError, TypeError, ValueError) as error:
            return f"line {self.rows + 1} is not an access event ({error.__class__.__name__})"
        if not isinstance(seq, int) or isinstance(seq, bool) or when.tzinfo is None:
            return f"line {self.rows + 1} has no place in the chain or no time zone"
        start = dt.datetime.combine(self.month, dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(next_month(self.month), dt.time.min, tzinfo=dt.UTC)
        if not start <= when < end:
            return f"event #{seq} is not from {self.month:%B %Y}"
        if rehashed != line["hash"]:
            return f"event #{seq}: its content does not match its hash"
        last = self.runs[-1] if self.runs else None
        if last is not None and seq <= last[1]:
            return f"event #{seq} is out of order (after #{last[1]})"
        if last is not None and seq == last[1] + 1:
            if line["prev_hash"] != last[3]:
                return f"event #{seq}: its link to the previous event does not match"
            last[1], last[3] = seq, line["hash"]
        else:
            self.runs.append([seq, seq, line["prev_hash"], line["hash"]])
        self.rows += 1
        return None

    @property
    def summary(self) -> dict:
        runs = self.runs
        return {
            "rows": self.rows,
            "first_seq": runs[0][0] if runs else None,
            "last_seq": runs[-1][1] if runs else None,
            "hash_before_first": runs[0][2] if runs else "",
            "last_hash": runs[-1][3] if runs else "",
            "runs": [list(run) for run in runs],
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[dict]:
    try:
        with gzip.open(path, "rb") as file:
            for number, raw in enumerate(file, start=1):
                try:
                    line = json.loads(raw)
                except ValueError:
                    raise ArchiveFileError(f"Line {number} of {path.name} is not JSON.") from None
                if not isinstance(line, dict):
                    raise ArchiveFileError(f"Line {number} of {path.name} is not an event.")
                yield line
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ArchiveFileError(f"{path.name} cannot be read as gzip: {error}.") from None


@dataclass
class WrittenArchive:
    """A month written under temporary names, not yet published."""

    directory: Path
    month: dt.date
    events_temporary: Path
    manifest_temporary: Path
    manifest: dict

    @property
    def final_paths(self) -> tuple[Path, Path]:
        return (self.directory / events_file_name(self.month),
                self.directory / manifest_file_name(self.month))


def _temporary(directory: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    return Path(path)


def archive_write(*, month: dt.date, rows: Iterable[dict], directory: Path,
                  archived_at: dt.datetime, archived_by: str) -> WrittenArchive:
    """Writes the month's rows (in `seq` order) and its manifest under temporary names in
    `directory`. Raises ArchiveFileError if the rows do not hold together as a chain."""
    directory.mkdir(parents=True, exist_ok=True)
    events_path = _temporary(directory, events_file_name(month))
    manifest_path = _temporary(directory, manifest_file_name(month))
    written = WrittenArchive(directory=directory, month=month, events_temporary=events_path,
                             manifest_temporary=manifest_path, manifest={})
    try:
        walk = ChainWalk(month)
        with events_path.open("wb") as raw, gzip.GzipFile(
                filename="", fileobj=raw, mode="wb", mtime=0) as file:
            for row in rows:
                line = event_line(row)
                problem = walk.add(line)
                if problem:
                    raise ArchiveFileError(
                        f"The database's events of {month:%B %Y} do not hold together: "
                        f"{problem}. Run verify_audit_chain; nothing was archived.")
                file.write(_encoded(line))
            file.close()
            raw.flush()
            os.fsync(raw.fileno())
        written.manifest = {
            "format": FORMAT,
            "month": f"{month:%Y-%m}",
            "file": events_file_name(month),
            **walk.summary,
            "sha256": _sha256(events_path),
            "archived_at": archived_at.astimezone(dt.UTC).isoformat(),
            "archived_by": archived_by,
        }
        with manifest_path.open("w", encoding="utf-8") as file:
            json.dump(written.manifest, file, indent=2, sort_keys=True)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        archive_discard_temporary(written)
        raise
    return written


def archive_check_against(written: WrittenArchive, rows: Iterable[dict]) -> None:
    """Reads the written file back and compares it, line by line and re-hashed, with the
    database's rows (read again). Raises ArchiveFileError at the first difference."""
    name = written.manifest["file"]
    if _sha256(written.events_temporary) != written.manifest["sha256"]:
        raise ArchiveFileError(f"{name} changed after it was written.")
    walk = ChainWalk(written.month)
    for line, row in zip_longest(_lines(written.events_temporary), rows):
        if line is None or row is None:
            raise ArchiveFileError(f"{name} does not hold the same number of events as the "
                                   "database.")
        problem = walk.add(line)
        if problem:
            raise ArchiveFileError(f"{name} as written: {problem}.")
        if line != event_line(row):
            raise ArchiveFileError(f"{name} as written: event #{line.get('seq')} differs "
                                   "from the database's.")
    if walk.summary != {key: written.manifest[key] for key in SUMMARY_FIELDS}:
        raise ArchiveFileError(f"{name} as written does not match its manifest.")


def archive_publish(written: WrittenArchive) -> list[Path]:
    """Gives the written files their final names, never replacing a file already there.
    Returns the paths published (the caller removes them if its transaction fails)."""
    published: list[Path] = []
    try:
        for temporary, final in zip(
                (written.events_temporary, written.manifest_temporary), written.final_paths,
                strict=True):
            try:
                # A hard link is atomic and refuses an existing name; a rename would
                # silently replace an older archive of the same month.
                os.link(temporary, final)
            except FileExistsError:
                raise ArchiveFileError(f"{final} already exists: an archive file is never "
                                       "overwritten.") from None
            published.append(final)
    except BaseException:
        for path in published:
            path.unlink(missing_ok=True)
        raise
    return published


def archive_discard_temporary(written: WrittenArchive) -> None:
    written.events_temporary.unlink(missing_ok=True)
    written.manifest_temporary.unlink(missing_ok=True)


def _manifest_path(path: Path) -> Path:
    if path.name.endswith(MANIFEST_SUFFIX):
        return path
    if path.name.endswith(EVENTS_SUFFIX):
        return path.with_name(path.name[:-len(EVENTS_SUFFIX)] + MANIFEST_SUFFIX)
    raise ArchiveFileError(f"{path.name} is not an archive file (…{EVENTS_SUFFIX} or "
                           f"…{MANIFEST_SUFFIX}).")


def archive_file_verify(path: Path) -> dict:
    """Checks an archive on its own: every event re-hashed and linked to the one before,
    every event from the month, the manifest's numbers and hashes, and the file's SHA-256.
    Returns the manifest; raises ArchiveFileError naming the first thing wrong."""
    manifest_path = _manifest_path(path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArchiveFileError(f"The manifest {manifest_path.name} cannot be read: "
                               f"{error}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveFileError(f"{manifest_path.name} is not a manifest of this format.")
    try:
        month = dt.date.fromisoformat(f"{manifest['month']}-01")
        name = str(manifest["file"])
        expected = {key: manifest[key] for key in (*SUMMARY_FIELDS, "sha256")}
    except (KeyError, ValueError):
        raise ArchiveFileError(f"{manifest_path.name} lacks the month, the file or its "
                               "numbers.") from None
    if name != events_file_name(month):
        raise ArchiveFileError(f"{manifest_path.name} names {name!r}, not the month's file.")
    events_path = manifest_path.with_name(name)
    walk = ChainWalk(month)
    for line in _lines(events_path):
        problem = walk.add(line)
        if problem:
            raise ArchiveFileError(f"{name}: {problem}.")
    for key in SUMMARY_FIELDS:
        if walk.summary[key] != expected[key]:
            raise ArchiveFileError(f"{name} does not match its manifest: the manifest says "
                                   f"{key} is {expected[key]!r}, the file has "
                                   f"{walk.summary[key]!r}.")
    if _sha256(events_path) != expected["sha256"]:
        raise ArchiveFileError(f"{name} does not match the SHA-256 in its manifest: the file "
                               "was changed.")
    return manifest
