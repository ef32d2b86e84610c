import datetime as dt
import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carecoord.audit.services import ArchiveRefusedError, audit_month_archive


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month must be a month like 2024-01, not {value!r}.") from None


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this process's user (some containers)
        return "an unnamed system user"


class Command(BaseCommand):
    help = ("Write one month of the access audit trail to an archive file (gzip JSON lines "
            "and a manifest), check the file against the database, then take the month's "
            "partition out of the database (PostgreSQL). Oldest month first; only months "
            "older than AUDIT_KEEP_MONTHS_ONLINE full months.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="The month, e.g. 2024-01 (UTC).")
        parser.add_argument("--to", required=True, type=Path,
                            help="The directory the archive files are written to.")

    def handle(self, *args, **options) -> None:
        month = _month(options["month"])
        try:
            record = audit_month_archive(
                month=month, directory=options["to"],
                archived_by=f"archive_audit_month, run by {_operator()}")
        except ArchiveRefusedError as error:
            raise CommandError(str(error)) from None
        seqs = (f", events #{record.first_seq} to #{record.last_seq}"
                if record.rows else "")
        self.stdout.write(self.style.SUCCESS(
            f"Archived {month:%B %Y}: {record.rows} access events{seqs}, to "
            f"{options['to'] / record.file_name} (SHA-256 {record.file_sha256}); "
            f"its partition was taken out of the database."))
