from django.core.management.base import BaseCommand, CommandError

from plans.services import signed_versions_verify


class Command(BaseCommand):
    help = "Re-hash every signed plan version and report any that no longer match."

    def handle(self, *args, **options) -> None:
        checked, mismatches = signed_versions_verify()
        for mismatch in mismatches:
            self.stderr.write(f"MISMATCH: {mismatch}")
        if mismatches:
            raise CommandError(f"{len(mismatches)} signed version(s) do not match their hash.")
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} signed versions match their "
                                             "signatures."))
