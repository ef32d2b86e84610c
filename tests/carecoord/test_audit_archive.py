"""Archiving old months of the access audit trail (ADR 0027): a month is written to a file
in chain order with a manifest, checked against the database, recorded, and its partition
detached and dropped, in one transaction; the chain then verifies on from the archive's
last hash, and an archive file can be checked on its own.

An administrator must not be able to use archiving to take recent events out of reach:
only months over by AUDIT_KEEP_MONTHS_ONLINE full months (never fewer than 12), oldest
first, every event chained, never over an existing file."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from carecoord.audit import archive, partitions
from carecoord.audit.models import GENESIS_HASH, AccessEvent, AppendOnlyError, AuditArchive
from carecoord.audit.services import access_event_record, audit_chain_extend
from tests import clock
from tests.conftest import client_for

pytestmark = pytest.mark.postgresql_only  # detaching monthly partitions is PostgreSQL's


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


THIS_MONTH = clock.today().replace(day=1)
# Over by far more than the 24 months kept online by default, oldest first.
OLDEST, MIDDLE, NEWER = (_add_months(THIS_MONTH, n) for n in (-30, -29, -28))
# The newest month that may be archived today with 24 months kept online.
NEWEST_ALLOWED = _add_months(THIS_MONTH, -25)


def _record(world, target: str) -> AccessEvent:
    return access_event_record(actor=world.coordinator, service_user=world.service_user,
                               action="service_user_record.view", target=target,
                               basis="allocated care coordinator")


def _record_in(world, month: dt.date, target: str) -> AccessEvent:
    with clock.travel_to(month + dt.timedelta(days=9)):
        return _record(world, target)


@dataclass
class Trail:
    world: object
    by_month: dict[dt.date, list[int]]  # the seq numbers of each month's events


@pytest.fixture
def trail(world, settings) -> Trail:
    """Three old months with their partitions (3, 2 and 2 events, seq 1 to 7) and two
    events this month (seq 8 and 9), all chained."""
    settings.AUDIT_KEEP_MONTHS_ONLINE = 24
    partitions.audit_partitions_ensure(today=OLDEST, months_ahead=2)
    for month, count in ((OLDEST, 3), (MIDDLE, 2), (NEWER, 2)):
        for n in range(count):
            _record_in(world, month, f"service_user:{month:%Y%m}{n}")
    _record(world, "service_user:now1")
    _record(world, "service_user:now2")
    assert audit_chain_extend() == 9
    return Trail(world=world, by_month={OLDEST: [1, 2, 3], MIDDLE: [4, 5], NEWER: [6, 7],
                                        THIS_MONTH: [8, 9]})


def _archive(month: dt.date, directory: Path) -> str:
    out = StringIO()
    call_command("archive_audit_month", "--month", f"{month:%Y-%m}", "--to", str(directory),
                 stdout=out)
    return out.getvalue()


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def _verify_archive(path: Path) -> str:
    out = StringIO()
    call_command("verify_audit_archive", str(path), stdout=out)
    return out.getvalue()


def _attached(month: dt.date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partitions.partition_name(month)])
        return cursor.fetchone()[0] and month in partitions.attached_months()


def _seqs() -> list[int]:
    return list(AccessEvent.objects.chained().order_by("seq").values_list("seq", flat=True))


def _tamper(*statements: tuple[str, list]) -> None:
    """Change events behind the application's back, with the append-only trigger off."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as file:
        return [json.loads(line) for line in file]


def _rewrite(path: Path, lines: list[dict]) -> None:
    with gzip.open(path, "wb") as file:
        for line in lines:
            file.write(json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n")


# --- Archiving a month ---------------------------------------------------------------------


def test_archiving_the_oldest_month_takes_it_out_and_the_chain_still_verifies(trail, tmp_path):
    third = AccessEvent.objects.get(seq=3)
    said = _archive(OLDEST, tmp_path)

    assert f"Archived {OLDEST:%B %Y}: 3 access events, events #1 to #3" in said
    assert not _attached(OLDEST)
    assert _attached(MIDDLE)
    assert _seqs() == [4, 5, 6, 7, 8, 9]  # the month's events are out of the database
    record = AuditArchive.objects.get()
    assert (record.month, record.rows, record.first_seq, record.last_seq) == (OLDEST, 3, 1, 3)
    assert record.hash_before_first == GENESIS_HASH
    assert record.last_hash == third.hash
    assert "archive_audit_month, run by" in record.archived_by

    events_file = tmp_path / f"access-events-{OLDEST:%Y-%m}.jsonl.gz"
    manifest = json.loads((tmp_path / f"access-events-{OLDEST:%Y-%m}.manifest.json").read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [events_file.name, f"access-events-{OLDEST:%Y-%m}.manifest.json"])  # no temp files
    lines = _lines(events_file)
    assert [line["seq"] for line in lines] == [1, 2, 3]  # chain order, every column
    assert set(lines[0]) == set(archive.COLUMNS)
    assert lines[2]["hash"] == third.hash
    assert lines[2]["basis"] == third.basis
    assert manifest["rows"] == 3
    assert manifest["last_hash"] == third.hash
    assert manifest["sha256"] == record.file_sha256

    # The archiving is in the trail itself, with the file's fingerprint.
    (event,) = AccessEvent.objects.filter(action="audit.archive")
    assert event.target == f"audit_month:{OLDEST:%Y-%m} sha256:{record.file_sha256}"

    verified = _verify()
    assert f"Months up to {OLDEST:%B %Y} are archived" in verified
    assert "verified on from the archive's last hash (event #3)" in verified
    assert "OK: 7 access events, chain intact." in verified  # 6 left and the archiving
    assert "OK: " in _verify_archive(events_file)

    # The next months, oldest first: the chain's start moves forward each time.
    _archive(MIDDLE, tmp_path)
    _archive(NEWER, tmp_path)
    assert not _attached(MIDDLE)
    assert not _attached(NEWER)
    assert _seqs()[:2] == [8, 9]
    assert f"Months up to {NEWER:%B %Y} are archived" in _verify()


def test_a_month_whose_events_were_chained_among_the_next_months_archives_whole(
        world, settings, tmp_path):
    """An event whose transaction committed late is chained after the next month's first
    event (ADR 0026): the month's events are not one stretch of the chain. The archive
    records both stretches, and the chain verifies across the gap."""
    settings.AUDIT_KEEP_MONTHS_ONLINE = 24
    partitions.audit_partitions_ensure(today=OLDEST, months_ahead=1)
    _record_in(world, OLDEST, "a1")
    _record_in(world, OLDEST, "a2")
    _record_in(world, MIDDLE, "b1")
    _record_in(world, OLDEST, "a3 (committed late)")  # seq 4, between b1 and b2
    _record_in(world, MIDDLE, "b2")
    _record(world, "now")
    assert audit_chain_extend() == 6

    _archive(OLDEST, tmp_path)
    record = AuditArchive.objects.get()
    assert [run[:2] for run in record.runs] == [[1, 2], [4, 4]]
    assert "OK: 4 access events, chain intact." in _verify()
    assert _seqs() == [3, 5, 6, 7]  # 7: the archiving itself
    assert "OK: " in _verify_archive(tmp_path / f"access-events-{OLDEST:%Y-%m}.jsonl.gz")

    _archive(MIDDLE, tmp_path)
    assert [run[:2] for run in AuditArchive.objects.get(month=MIDDLE).runs] == [[3, 3],
                                                                                 [5, 5]]
    assert "OK: 3 access events, chain intact." in _verify()
    assert _seqs() == [6, 7, 8]

    # A forged stretch is still caught: here the event after the gap no longer links.
    _tamper(("UPDATE carecoord_accessevent SET prev_hash = %s WHERE seq = 6", ["f" * 64]))
    with pytest.raises(CommandError, match=r"#6\b"):
        _verify()


def test_an_empty_month_can_be_archived(world, settings, tmp_path):
    settings.AUDIT_KEEP_MONTHS_ONLINE = 24
    partitions.audit_partitions_ensure(today=OLDEST, months_ahead=0)
    _record(world, "now")
    audit_chain_extend()
    assert "0 access events" in _archive(OLDEST, tmp_path)
    assert not _attached(OLDEST)
    assert "OK: " in _verify_archive(tmp_path / f"access-events-{OLDEST:%Y-%m}.manifest.json")
    assert "chain intact" in _verify()


# --- Tampering ------------------------------------------------------------------------------


def test_tampering_with_an_event_still_in_the_database_is_named(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    _tamper(("UPDATE carecoord_accessevent SET basis = %s WHERE seq = 5", ["team manager"]))
    with pytest.raises(CommandError, match=r"#5\b.*content"):
        _verify()


def test_removing_the_first_event_after_the_archive_is_named(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    _tamper(("DELETE FROM carecoord_accessevent WHERE seq = 4", []))
    with pytest.raises(CommandError, match=r"#4\b.*missing"):
        _verify()


def test_an_archive_record_cannot_be_changed_or_removed(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    record = AuditArchive.objects.get()
    with pytest.raises(AppendOnlyError):
        AuditArchive.objects.filter(pk=record.pk).update(last_hash="f" * 64)
    with pytest.raises(AppendOnlyError):
        record.delete()
    for sql in ("UPDATE carecoord_auditarchive SET last_hash = repeat('f', 64)",
                "DELETE FROM carecoord_auditarchive"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql)
    # Changed behind the trigger's back, the record no longer links to what follows.
    _tamper(("UPDATE carecoord_auditarchive SET runs = %s",
             [json.dumps([[1, 3, GENESIS_HASH, "f" * 64]])]))
    with pytest.raises(CommandError, match=r"#4\b.*link"):
        _verify()
    # A record claiming a stretch that does not start from the chain's beginning.
    _tamper(("UPDATE carecoord_auditarchive SET runs = %s",
             [json.dumps([[1, 3, "f" * 64, record.last_hash]])]))
    with pytest.raises(CommandError, match=(
            rf"#1\b: the archive of {OLDEST:%B %Y} does not link to the event before it")):
        _verify()


def _edit_one_event(lines: list[dict]) -> list[dict]:
    lines[1]["basis"] = "team manager"
    return lines


def _drop_one_event(lines: list[dict]) -> list[dict]:
    return [lines[0], lines[2]]


def _rehash_after_an_edit(lines: list[dict]) -> list[dict]:
    """The forger rewrites event #2 and re-hashes it and the one after: the file holds
    together again, but no longer matches its manifest's last hash nor its SHA-256."""
    lines[1]["basis"] = "team manager"
    prev = lines[0]["hash"]
    for line in lines[1:]:
        line["prev_hash"] = prev
        line["hash"] = prev = archive._hash_of(line)
    return lines


TAMPERINGS = {
    "an event's content changed": (_edit_one_event, r"event #2: its content does not match"),
    "an event removed": (_drop_one_event, r"does not match its manifest"),
    "events re-hashed after an edit": (_rehash_after_an_edit, r"does not match its manifest"),
}


@pytest.mark.parametrize(("tamper", "expected"), TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_tampering_with_an_archive_file_is_caught(trail, tmp_path, tamper, expected):
    _archive(OLDEST, tmp_path)
    events_file = tmp_path / f"access-events-{OLDEST:%Y-%m}.jsonl.gz"
    _rewrite(events_file, tamper(_lines(events_file)))
    with pytest.raises(CommandError, match=expected):
        _verify_archive(events_file)


def test_any_change_to_the_file_is_caught_by_its_sha256(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    events_file = tmp_path / f"access-events-{OLDEST:%Y-%m}.jsonl.gz"
    # The same events, compressed differently: every event still checks out.
    _rewrite(events_file, _lines(events_file))
    with pytest.raises(CommandError, match="SHA-256"):
        _verify_archive(events_file)


def test_a_broken_file_or_manifest_is_reported_plainly(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    events_file = tmp_path / f"access-events-{OLDEST:%Y-%m}.jsonl.gz"
    manifest = tmp_path / f"access-events-{OLDEST:%Y-%m}.manifest.json"
    events_file.write_bytes(events_file.read_bytes()[:-20])
    with pytest.raises(CommandError, match="gzip"):
        _verify_archive(events_file)
    manifest.write_text("{")
    with pytest.raises(CommandError, match=r"manifest .* cannot be read"):
        _verify_archive(manifest)


# --- Refusals: nobody can use archiving to take recent events out of reach -----------------


def _untouched(trail: Trail, tmp_path: Path) -> None:
    assert _seqs() == [seq for seqs in trail.by_month.values() for seq in seqs]
    assert all(_attached(month) for month in (OLDEST, MIDDLE, NEWER))
    assert not AuditArchive.objects.exists()
    assert not any(tmp_path.iterdir())
    assert "OK: 9 access events, chain intact." in _verify()


@pytest.mark.parametrize("month", [THIS_MONTH, _add_months(THIS_MONTH, -1),
                                   _add_months(NEWEST_ALLOWED, 1)],
                         ids=["this month", "last month", "24 months ago"])
def test_a_month_within_the_months_kept_online_is_refused(trail, tmp_path, month):
    with pytest.raises(CommandError, match=(
            f"{month:%B %Y} cannot be archived yet: the audit trail keeps 24 full months "
            f"online .* the newest month that can be archived today is "
            f"{NEWEST_ALLOWED:%B %Y}")):
        _archive(month, tmp_path)
    _untouched(trail, tmp_path)


@pytest.mark.parametrize("keep", [0, 1, 11])
def test_the_months_kept_online_cannot_be_set_below_twelve(trail, tmp_path, settings, keep):
    settings.AUDIT_KEEP_MONTHS_ONLINE = keep
    for month in (_add_months(THIS_MONTH, -1), OLDEST):
        with pytest.raises(CommandError, match="keeps at least 12 full months online"):
            _archive(month, tmp_path)
    _untouched(trail, tmp_path)


def test_twelve_months_kept_online_still_refuses_the_last_twelve(trail, tmp_path, settings):
    settings.AUDIT_KEEP_MONTHS_ONLINE = 12
    with pytest.raises(CommandError, match="cannot be archived yet"):
        _archive(_add_months(THIS_MONTH, -12), tmp_path)
    _untouched(trail, tmp_path)


@pytest.mark.parametrize("month", [MIDDLE, NEWER])
def test_a_month_with_an_older_month_still_online_is_refused(trail, tmp_path, month):
    with pytest.raises(CommandError, match=(
            f"{OLDEST:%B %Y} is still in the database: archive the oldest month first")):
        _archive(month, tmp_path)
    _untouched(trail, tmp_path)


def test_a_month_with_older_events_outside_any_partition_is_refused(trail, tmp_path):
    # An event older than every partition went to the default partition.
    far_back = _add_months(OLDEST, -3)
    _record_in(trail.world, far_back, "service_user:default")
    audit_chain_extend()
    with pytest.raises(CommandError, match=f"{far_back:%B %Y} is still in the database"):
        _archive(OLDEST, tmp_path)
    with pytest.raises(CommandError, match="in the default partition"):
        _archive(far_back, tmp_path)
    assert _attached(OLDEST)


def test_a_month_with_events_not_yet_chained_is_refused(trail, tmp_path):
    _record_in(trail.world, OLDEST, "service_user:late")  # not chained yet
    with pytest.raises(CommandError, match=(
            f"1 access events of {OLDEST:%B %Y} or earlier are not in the hash chain yet")):
        _archive(OLDEST, tmp_path)
    assert _attached(OLDEST)
    assert not AuditArchive.objects.exists()
    assert not any(tmp_path.iterdir())
    audit_chain_extend()
    _archive(OLDEST, tmp_path)  # once chained, it goes
    assert AuditArchive.objects.get().rows == 4


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".manifest.json"])
def test_an_existing_archive_file_is_never_overwritten(trail, tmp_path, suffix):
    existing = tmp_path / f"access-events-{OLDEST:%Y-%m}{suffix}"
    existing.write_bytes(b"an older archive")
    with pytest.raises(CommandError, match="already exists: an archive file is never "
                                           "overwritten"):
        _archive(OLDEST, tmp_path)
    assert existing.read_bytes() == b"an older archive"
    existing.unlink()
    _untouched(trail, tmp_path)


def test_a_month_cannot_be_archived_twice(trail, tmp_path):
    _archive(OLDEST, tmp_path)
    with pytest.raises(CommandError, match=f"{OLDEST:%B %Y} was archived on"):
        _archive(OLDEST, tmp_path / "elsewhere")


def test_a_month_that_is_not_a_month_is_refused(trail, tmp_path):
    with pytest.raises(CommandError, match="--month must be a month like 2024-01"):
        call_command("archive_audit_month", "--month", "2024-13", "--to", str(tmp_path))


def test_without_partitions_the_command_says_it_needs_postgresql(trail, tmp_path, monkeypatch):
    # SQLite (the demo) keeps one plain table: what is_partitioned() answers there.
    monkeypatch.setattr(partitions, "is_partitioned", lambda: False)
    with pytest.raises(CommandError, match="needs the audit trail's monthly partitions, "
                                           "which only PostgreSQL has"):
        _archive(OLDEST, tmp_path)
    monkeypatch.undo()
    _untouched(trail, tmp_path)


# --- Nothing is lost when something fails ----------------------------------------------------


def test_a_failure_while_writing_the_file_leaves_the_month_in_the_database(
        trail, tmp_path, monkeypatch):
    written = []

    def disk_full(line: dict) -> bytes:
        if written:
            raise OSError(28, "No space left on device")
        written.append(line)
        return json.dumps(line).encode() + b"\n"

    monkeypatch.setattr(archive, "_encoded", disk_full)
    with pytest.raises(CommandError, match=r"could not be written .*No space left on device"):
        _archive(OLDEST, tmp_path)
    monkeypatch.undo()
    _untouched(trail, tmp_path)


def test_a_file_that_does_not_read_back_as_written_is_caught_before_detaching(
        trail, tmp_path, monkeypatch):
    write = archive.archive_write

    def write_then_corrupt(**kwargs) -> archive.WrittenArchive:
        written = write(**kwargs)
        # What a faulty disk or a meddler could do between writing and reading back; the
        # manifest's SHA-256 is made to agree, so only re-hashing each event can tell.
        lines = _lines(written.events_temporary)
        lines[0]["target"] = "service_user:forged"
        _rewrite(written.events_temporary, lines)
        written.manifest["sha256"] = archive._sha256(written.events_temporary)
        return written

    monkeypatch.setattr(archive, "archive_write", write_then_corrupt)
    with pytest.raises(CommandError, match="as written: event #1: its content does not match"):
        _archive(OLDEST, tmp_path)
    monkeypatch.undo()
    _untouched(trail, tmp_path)


def test_a_failure_after_detaching_puts_everything_back(trail, tmp_path, monkeypatch):
    def someone_else_wrote_it_first(written) -> list[Path]:
        raise archive.ArchiveFileError("the archive file already exists")

    monkeypatch.setattr(archive, "archive_publish", someone_else_wrote_it_first)
    with pytest.raises(CommandError, match="already exists"):
        _archive(OLDEST, tmp_path)
    monkeypatch.undo()
    _untouched(trail, tmp_path)


# --- The reports no longer show archived months, and say so ----------------------------------


def _report(world, start: dt.date) -> tuple[str, list[str]]:
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/reports/access-events/"
    params = {"start": start.isoformat(), "end": clock.today().isoformat()}
    page = client.get(url, params).content.decode()
    response = client.get(f"{url}csv/", params)
    lines = b"".join(response.streaming_content).decode().splitlines()
    # The CSV sets the session's time zone for its transaction, which here is the test's:
    # put it back, as the end of a request's transaction would.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', 'UTC', true)")
    return page, lines[1:]


def test_the_access_events_report_leaves_archived_months_out_and_says_so(trail, tmp_path):
    world = trail.world
    page, rows = _report(world, OLDEST)
    assert "are archived" not in page
    assert len(rows) == 9

    _archive(OLDEST, tmp_path)
    page, rows = _report(world, OLDEST)
    assert f"Events before {MIDDLE:%B %Y} are archived: they are not shown here or in the CSV" \
        in page
    assert len(rows) == 6
    # A period that starts after the archived months says nothing about them.
    page, rows = _report(world, MIDDLE)
    assert "are archived" not in page
    assert len(rows) == 6
