from django.core.management.base import BaseCommand, CommandError

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import (
    audit_archive_latest,
    audit_chain_extend,
    audit_chain_pending,
    audit_chain_verify,
)


class Command(BaseCommand):
    help = ("Chain any access events still waiting for the chainer, then re-hash the whole "
            "audit trail and report the first broken link, if any. Months archived to files "
            "(archive_audit_month) are taken from their archive records: the chain is "
            "verified on from the archive's last hash.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-extend", action="store_true",
            help="Only check: do not chain the events still waiting for the chainer.")

    def handle(self, *args, **options) -> None:
        if not options["no_extend"]:
            audit_chain_extend()
        latest = audit_archive_latest()
        if latest is not None:
            self.stdout.write(
                f"Months up to {latest.month:%B %Y} are archived to files; the chain is "
                f"verified on from the archive's last hash"
                + (f" (event #{latest.last_seq})." if latest.last_seq else "."))
        broken = audit_chain_verify()
        if broken is not None:
            raise CommandError(f"Audit chain broken at event #{broken.seq}: {broken.reason}.")
        count = AccessEvent.objects.chained().count()
        message = f"OK: {count} access events, chain intact."
        pending = audit_chain_pending()
        if pending:
            message += f" {pending} more not chained yet."
        self.stdout.write(self.style.SUCCESS(message))
