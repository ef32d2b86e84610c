from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carecoord.audit.archive import ArchiveFileError, archive_file_verify


class Command(BaseCommand):
    help = ("Check archive files of the access audit trail on their own, without the "
            "database: every event re-hashed and linked, the manifest's numbers and hashes, "
            "and the file's SHA-256.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path,
                            help="An archive's events file (….jsonl.gz) or its manifest.")

    def handle(self, *args, **options) -> None:
        for path in options["files"]:
            try:
                manifest = archive_file_verify(path)
            except ArchiveFileError as error:
                raise CommandError(f"{path}: {error}") from None
            seqs = (f", events #{manifest['first_seq']} to #{manifest['last_seq']}"
                    if manifest["rows"] else "")
            self.stdout.write(self.style.SUCCESS(
                f"OK: {manifest['file']}, {manifest['month']}: {manifest['rows']} access "
                f"events{seqs}, chain intact, matches its manifest and SHA-256."))
