from django.core.management.base import BaseCommand, CommandError

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_chain_extend, audit_chain_pending, audit_chain_verify


class Command(BaseCommand):
    help = ("Chain any access events still waiting for the chainer, then re-hash the whole "
            "audit trail and report the first broken link, if any.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-extend", action="store_true",
            help="Only check: do not chain the events still waiting for the chainer.")

    def handle(self, *args, **options) -> None:
        if not options["no_extend"]:
            audit_chain_extend()
        broken = audit_chain_verify()
        if broken is not None:
            raise CommandError(f"Audit chain broken at event #{broken.seq}: {broken.reason}.")
        count = AccessEvent.objects.chained().count()
        message = f"OK: {count} access events, chain intact."
        pending = audit_chain_pending()
        if pending:
            message += f" {pending} more not chained yet."
        self.stdout.write(self.style.SUCCESS(message))
