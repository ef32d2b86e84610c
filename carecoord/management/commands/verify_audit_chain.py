from django.core.management.base import BaseCommand, CommandError

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Re-hash the access audit trail and report the first broken link, if any."

    def handle(self, *args, **options) -> None:
        broken = audit_chain_verify()
        if broken is not None:
            raise CommandError(f"Audit chain broken at event #{broken.seq}: {broken.reason}.")
        count = AccessEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"OK: {count} access events, chain intact."))
